//! The load-balancer benchmark's helper inside the lab VM (tests/bench/lb.sh): not a test.
//!
//! Its one test is `#[ignore]`d, so `cargo test` only compiles it; tests/bench/lb.sh builds it as
//! a static binary, copies it into the VM and runs it with `--ignored --exact helper`. What it
//! does is chosen by `LB_MODE`:
//!
//! - `serve`: the real servers and the VRRP receiver, in the servers' network namespace.
//!   Listens on every TCP port of `LB_PORTS` (`FIRST-LAST`) on 0.0.0.0, accepts and closes each
//!   connection, and notes when it accepted it, per real server: the accepted socket's local
//!   address and port. A raw IP socket of protocol 112 (joined to 224.0.0.18 on `LB_IFACE`)
//!   notes each VRRP advert's kernel receive time (SO_TIMESTAMPNS). SIGUSR1 starts the window
//!   (what came before is forgotten), SIGUSR2 ends it: it prints
//!   `checks N servers S window_ms W late_ms MEDIAN P99 MAX` (a check's lateness is the gap
//!   between two accepts of one real server minus `LB_DELAY_MS`, both accepts in the window)
//!   and `adverts N late_ms MEDIAN P99 MAX` (gap between two adverts minus `LB_ADVERT_MS`),
//!   and goes on serving (the real servers stay up) until it is killed.
//! - `start`: runs the command in `LB_CMD` (words split on blanks; output to `LB_LOG`), then
//!   polls /proc/net/ip_vs every `LB_POLL_MS` until it lists `LB_DESTS` destinations, and prints
//!   `program_ms T polls P`, the time from just before the spawn. Gives up after
//!   `LB_TIMEOUT_S` (prints `program_ms NA`).
//! - `reload`: sends SIGHUP to `LB_PID`, then polls /proc/net/ip_vs until the destination
//!   `LB_MATCH` (the kernel's hex `ADDR:PORT`) has weight `LB_WEIGHT`; prints `reload_ms T
//!   min_dests M` (the fewest destinations /proc/net/ip_vs listed while it waited).
//!
//! Everything is bounded: `serve` ends when killed or after `LB_TIMEOUT_S` (default 3600).

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn env_num(name: &str, default: u64) -> u64 {
    env(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
    })
}

/// Median, p99 (nearest rank) and max of `v` in milliseconds, or "- - -".
fn stats(v: &mut [f64]) -> String {
    if v.is_empty() {
        return "- - -".into();
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let med = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let i = ((0.99 * n as f64).ceil() as usize).clamp(1, n) - 1;
    format!("{med:.1} {:.1} {:.1}", v[i], v[n - 1])
}

static START: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGUSR1 {
        START.store(true, Ordering::SeqCst);
    } else {
        STOP.store(true, Ordering::SeqCst);
    }
}

fn realtime_ns() -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

/// A raw socket for IP protocol 112, joined to 224.0.0.18 on `iface`, with kernel receive
/// timestamps; non-blocking.
fn vrrp_socket(iface: &str) -> libc::c_int {
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, 112);
        assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
        let name = std::ffi::CString::new(iface).unwrap();
        let index = libc::if_nametoindex(name.as_ptr());
        assert!(index > 0, "no interface {iface}");
        let mreq = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from_be_bytes([224, 0, 0, 18]).to_be(),
            },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: index as libc::c_int,
        };
        let r = libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_ADD_MEMBERSHIP,
            (&mreq as *const libc::ip_mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        );
        assert!(
            r == 0,
            "IP_ADD_MEMBERSHIP: {}",
            std::io::Error::last_os_error()
        );
        let one: libc::c_int = 1;
        let r = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
        assert!(
            r == 0,
            "SO_TIMESTAMPNS: {}",
            std::io::Error::last_os_error()
        );
        fd
    }
}

/// Reads one datagram from the raw socket: its kernel receive time (realtime ns), if any.
fn recv_stamp(fd: libc::c_int) -> Option<i128> {
    let mut buf = [0u8; 2048];
    let mut cbuf = [0u64; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return None;
    }
    let mut stamp = realtime_ns();
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                stamp = i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec);
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    // Only VRRP advertisements (version 2 or 3, type 1) count.
    let ihl = usize::from(buf[0] & 0x0f) * 4;
    if (n as usize) > ihl && buf[ihl] & 0x0f == 1 {
        Some(stamp)
    } else {
        None
    }
}

fn serve() {
    let ports = env("LB_PORTS").expect("LB_PORTS=FIRST-LAST");
    let (first, last) = ports.split_once('-').expect("LB_PORTS=FIRST-LAST");
    let (first, last): (u16, u16) = (first.parse().unwrap(), last.parse().unwrap());
    let delay_ms = env_num("LB_DELAY_MS", 1000) as f64;
    let advert_ms = env_num("LB_ADVERT_MS", 100) as f64;
    let timeout = Duration::from_secs(env_num("LB_TIMEOUT_S", 3600));
    let iface = env("LB_IFACE").unwrap_or_else(|| "eth0".into());

    unsafe {
        libc::signal(libc::SIGUSR1, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGUSR2, on_signal as *const () as libc::sighandler_t);
    }
    let listeners: Vec<TcpListener> = (first..=last)
        .map(|p| {
            let l = TcpListener::bind(("0.0.0.0", p)).unwrap_or_else(|e| panic!("bind :{p}: {e}"));
            l.set_nonblocking(true).unwrap();
            // A deep backlog: thousands of checks may arrive between two wake-ups.
            unsafe { libc::listen(l.as_raw_fd(), 4096) };
            l
        })
        .collect();
    let vrrp = vrrp_socket(&iface);
    let mut fds: Vec<libc::pollfd> = listeners
        .iter()
        .map(|l| libc::pollfd {
            fd: l.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    fds.push(libc::pollfd {
        fd: vrrp,
        events: libc::POLLIN,
        revents: 0,
    });
    println!("serving {} ports, VRRP on {iface}", listeners.len());

    // Per real server (local address, port): the last accept.
    let mut last_accept: HashMap<(u32, u16), Instant> = HashMap::with_capacity(16384);
    let mut gaps: Vec<f64> = Vec::with_capacity(1 << 20);
    let mut checks = 0u64;
    let mut last_advert: Option<i128> = None;
    let mut advert_gaps: Vec<f64> = Vec::with_capacity(4096);
    let mut adverts = 0u64;
    let mut measuring = false;
    let mut window_start = Instant::now();
    let begun = Instant::now();
    loop {
        if begun.elapsed() > timeout {
            break;
        }
        if STOP.swap(false, Ordering::SeqCst) && measuring {
            measuring = false;
            let window_ms = window_start.elapsed().as_millis();
            println!(
                "checks {checks} servers {} window_ms {window_ms} late_ms {}",
                last_accept.len(),
                stats(&mut gaps)
            );
            println!("adverts {adverts} late_ms {}", stats(&mut advert_gaps));
        }
        if START.swap(false, Ordering::SeqCst) {
            measuring = true;
            window_start = Instant::now();
            last_accept.clear();
            gaps.clear();
            checks = 0;
            last_advert = None;
            advert_gaps.clear();
            adverts = 0;
        }
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if r <= 0 {
            continue;
        }
        for (i, pfd) in fds.iter().enumerate() {
            if pfd.revents == 0 {
                continue;
            }
            if i == listeners.len() {
                while let Some(t) = recv_stamp(vrrp) {
                    if measuring {
                        adverts += 1;
                        if let Some(prev) = last_advert {
                            advert_gaps.push((t - prev) as f64 / 1e6 - advert_ms);
                        }
                        last_advert = Some(t);
                    }
                }
                continue;
            }
            loop {
                let (stream, _) = match listeners[i].accept() {
                    Ok(s) => s,
                    Err(_) => break,
                };
                let now = Instant::now();
                let Ok(std::net::SocketAddr::V4(local)) = stream.local_addr() else {
                    continue;
                };
                drop(stream);
                if !measuring {
                    continue;
                }
                checks += 1;
                let key = (u32::from(*local.ip()), local.port());
                if let Some(prev) = last_accept.insert(key, now) {
                    gaps.push((now - prev).as_secs_f64() * 1000.0 - delay_ms);
                }
            }
        }
    }
}

/// Destination lines of /proc/net/ip_vs, and whether `want` (ADDR:PORT, weight) is among them.
fn read_ipvs(buf: &mut String, want: Option<(&str, &str)>) -> (usize, bool) {
    buf.clear();
    std::fs::File::open("/proc/net/ip_vs")
        .and_then(|mut f| f.read_to_string(buf))
        .expect("/proc/net/ip_vs");
    let mut dests = 0;
    let mut found = false;
    for line in buf.lines() {
        let mut w = line.split_whitespace();
        if w.next() != Some("->") {
            continue;
        }
        let addr = w.next();
        if addr.is_some_and(|a| a != "RemoteAddress:Port") {
            dests += 1;
        }
        if let Some((a, weight)) = want {
            if addr == Some(a) && w.nth(1) == Some(weight) {
                found = true;
            }
        }
    }
    (dests, found)
}

fn start() {
    let cmd = env("LB_CMD").expect("LB_CMD");
    let want = env_num("LB_DESTS", 0) as usize;
    let poll = Duration::from_millis(env_num("LB_POLL_MS", 20));
    let timeout = Duration::from_secs(env_num("LB_TIMEOUT_S", 300));
    let log = env("LB_LOG").unwrap_or_else(|| "/dev/null".into());
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let out = std::fs::File::create(&log).expect("LB_LOG");
    let t0 = Instant::now();
    // The daemon outlives this helper (it is stopped by its pid file), so it is not waited for.
    #[allow(clippy::zombie_processes)]
    std::process::Command::new(words[0])
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let mut buf = String::with_capacity(1 << 20);
    let mut polls = 0;
    loop {
        let (n, _) = read_ipvs(&mut buf, None);
        polls += 1;
        if n >= want {
            println!("program_ms {} polls {polls}", t0.elapsed().as_millis());
            return;
        }
        if t0.elapsed() > timeout {
            println!("program_ms NA polls {polls} dests {n}");
            return;
        }
        std::thread::sleep(poll);
    }
}

fn reload() {
    let pid: i32 = env("LB_PID").expect("LB_PID").parse().unwrap();
    let addr = env("LB_MATCH").expect("LB_MATCH");
    let weight = env("LB_WEIGHT").expect("LB_WEIGHT");
    let poll = Duration::from_millis(env_num("LB_POLL_MS", 20));
    let timeout = Duration::from_secs(env_num("LB_TIMEOUT_S", 300));
    let mut buf = String::with_capacity(1 << 20);
    let t0 = Instant::now();
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGHUP) },
        0,
        "kill -HUP {pid}"
    );
    let mut min = usize::MAX;
    loop {
        let (n, found) = read_ipvs(&mut buf, Some((&addr, &weight)));
        min = min.min(n);
        if found {
            println!("reload_ms {} min_dests {min}", t0.elapsed().as_millis());
            return;
        }
        if t0.elapsed() > timeout {
            println!("reload_ms NA min_dests {min}");
            return;
        }
        std::thread::sleep(poll);
    }
}

#[test]
#[ignore = "the load-balancer benchmark's helper: tests/bench/lb.sh runs it in the lab VM"]
fn helper() {
    match env("LB_MODE").as_deref() {
        Some("serve") => serve(),
        Some("start") => start(),
        Some("reload") => reload(),
        m => panic!("LB_MODE must be serve, start or reload (got {m:?})"),
    }
}
