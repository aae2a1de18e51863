//! The health checkers' executor against real servers in network namespaces (needs root;
//! passes with a note when KEEPALIVED_RS_SKIP_NETNS=1).
//!
//! ```text
//! netns <p>lb (eth0 192.0.2.1/24) ── veth ── netns <p>rs (eth0 192.0.2.2/24)
//!   the executor, on a test thread          servers: one python3 process (TCP, UDP), nftables
//!   that entered <p>lb with setns(2)         192.0.2.9 is nobody (ARP goes unanswered)
//! ```
//!
//! Some scenarios add servers of their own in <p>rs: python3's http.server, aiosmtpd, HTTP
//! servers that misbehave (BAD_HTTP), dnsmasq.
//!
//! The test drives `io::checks::CheckExecutor` in a small poll loop of its own and records each
//! event with the time it came, so up/down and the spacing of retries are measured, not slept.

#![cfg(feature = "lb")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::{netns_tests_enabled, poll_until, read_lossy, write_script, Netns};
use keepalived_rs::check::Event;
use keepalived_rs::config::{
    CheckKind, Checker, Command as ConfCommand, Conn, DnsCheck, Forward, HttpCheck, Location,
    MiscCheck, RealServer, Scheduler, SmtpCheck, StatusCodes, UdpCheck, Url, VirtualServer, VsKey,
};
use keepalived_rs::io::checks::CheckExecutor;
use keepalived_rs::io::children::{Children, Job};
use keepalived_rs::io::clock;
use keepalived_rs::io::poller::{Poller, Token};
use keepalived_rs::time::Instant;
use nix::sched::{setns, CloneFlags};

const PYTHON: &str = "/usr/bin/python3";
const LB: &str = "192.0.2.1";
const RS: &str = "192.0.2.2";
const NOBODY: &str = "192.0.2.9";

/// The executor's child reaping is `waitpid(-1)`: one scenario at a time in this process.
static SERIAL: Mutex<()> = Mutex::new(());

/// The servers, in one process: a TCP listener that accepts and closes (8001), UDP echo
/// (9001), a 64-byte reply (9002), a 1-byte reply (9003), a socket that never answers (9004).
const SERVERS: &str = r#"
import socket, selectors, sys
ip = sys.argv[1]
sel = selectors.DefaultSelector()
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((ip, 8001)); t.listen(64); t.setblocking(False)
sel.register(t, selectors.EVENT_READ, "tcp")
for port, kind in ((9001, "echo"), (9002, "long"), (9003, "short"), (9004, "silent")):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((ip, port))
    sel.register(u, selectors.EVENT_READ, kind)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        s, kind = key.fileobj, key.data
        if kind == "tcp":
            c, _ = s.accept(); c.close(); continue
        data, peer = s.recvfrom(2048)
        if kind == "echo": s.sendto(data, peer)
        elif kind == "long": s.sendto(b"p" * 64, peer)
        elif kind == "short": s.sendto(b"p", peer)
"#;

struct Lab {
    // Fields drop in order: processes before namespaces.
    servers: Option<Child>,
    dir: PathBuf,
    lb: Netns,
    rs: Netns,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut c) = self.servers.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
        // Then the Netns fields delete the namespaces (and anything left in them).
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let p = format!("kc{}{tag}", std::process::id());
        let (lb, rs) = (format!("{p}lb"), format!("{p}rs"));
        ip(&["netns", "add", &lb]);
        let lb = Netns(lb);
        ip(&["netns", "add", &rs]);
        let rs = Netns(rs);
        let dir = std::env::temp_dir().join(format!("kts-checks-{p}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            servers: None,
            dir,
            lb,
            rs,
        };
        // The veth is made inside the lb namespace and its peer moved to rs: nothing in ours.
        ip(&[
            "-n", &lab.lb.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0",
            "netns", &lab.rs.0,
        ]);
        for (ns, addr) in [(&lab.lb.0, LB), (&lab.rs.0, RS)] {
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                "eth0",
            ]);
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        lab.start_servers();
        lab
    }

    fn start_servers(&mut self) {
        let log = self.dir.join("servers.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.rs.0, PYTHON, "-c", SERVERS, RS])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start python3");
        self.servers = Some(child);
        let up = poll_until(Duration::from_secs(20), || {
            read_lossy(&log).contains("ready")
        });
        assert!(up, "the servers did not start: {}", read_lossy(&log));
    }

    fn stop_servers(&mut self) {
        if let Some(mut c) = self.servers.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `nft` in the servers' namespace; a test that needs it fails loudly without it.
    fn nft(&self, rules: &str) {
        let nft =
            common::find_tool("nft").expect("nft is not installed: apt-get install -y nftables");
        let path = self.dir.join("rules.nft");
        fs::write(&path, rules).unwrap();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.rs.0])
            .arg(nft)
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nft: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `f` on a thread inside namespace `ns`; sockets and processes it creates live there.
fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            setns(file, CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

// ---------------------------------------------------------------------------------------------
// Configuration in code

fn loc() -> Location {
    Location {
        file: PathBuf::from("checks_netns.conf").into(),
        line: 1,
    }
}

fn checker(kind: CheckKind, dst: &str) -> Checker {
    Checker {
        at: loc(),
        kind,
        conn: Conn {
            dst: dst.parse().unwrap(),
            bind_ip: None,
            bind_port: None,
            timeout: Duration::from_millis(500),
        },
        delay_loop: Duration::from_secs(1),
        retry: 1,
        delay_before_retry: Duration::from_millis(300),
        warmup: Duration::ZERO,
        alpha: false,
        log_all_failures: true,
    }
}

fn udp(payload: &[u8], reply: Option<&[u8]>, min: usize, max: usize) -> CheckKind {
    CheckKind::Udp(Box::new(UdpCheck {
        payload: payload.to_vec(),
        require_reply: reply.map(<[u8]>::to_vec),
        min_reply_length: min,
        max_reply_length: max,
    }))
}

fn misc(line: &str, timeout_ms: u64, dynamic: bool) -> CheckKind {
    CheckKind::Misc(Box::new(MiscCheck {
        path: ConfCommand {
            line: line.to_string(),
            at: loc(),
        },
        timeout: Duration::from_millis(timeout_ms),
        dynamic,
        user: None,
    }))
}

/// One virtual server; one real server per checker, so each verdict shows on its own.
fn one_per_server(checkers: Vec<Checker>) -> Vec<VirtualServer> {
    let real_servers = checkers
        .into_iter()
        .enumerate()
        .map(|(k, c)| RealServer {
            at: loc(),
            addr: format!("{RS}:{}", 10_000 + k).parse().unwrap(),
            weight: 1,
            method: Forward::Nat,
            uthreshold: 0,
            lthreshold: 0,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            alpha: false,
            smtp_alert: None,
            checkers: vec![c],
        })
        .collect();
    vec![VirtualServer {
        at: loc(),
        key: VsKey::Addr("203.0.113.10:80".parse().unwrap()),
        protocol: None,
        sched: Scheduler::default(),
        flags: 0,
        method: Forward::Nat,
        persistence_timeout: 0,
        persistence_granularity: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        ha_suspend: false,
        omega: false,
        smtp_alert: None,
        real_servers,
    }]
}

// ---------------------------------------------------------------------------------------------
// The loop

/// The executor in a loop of its own, as the daemon will run it.
struct Driver {
    exec: CheckExecutor,
    /// The configuration the executor runs (it borrows it at each call, as the daemon's does).
    vss: Vec<VirtualServer>,
    poller: Poller,
    children: Children,
    start: Instant,
    /// Every event with its time since the start.
    events: Vec<(Duration, Event)>,
}

impl Driver {
    fn new(vss: &[VirtualServer]) -> Driver {
        let now = clock::now();
        let exec = CheckExecutor::new(vss, now, None, |u, _| {
            panic!("no MISC_CHECK user in these tests ({u})")
        })
        .expect("load the checkers");
        Driver {
            exec,
            vss: vss.to_vec(),
            poller: Poller::default(),
            children: Children::default(),
            start: now,
            events: Vec::new(),
        }
    }

    fn elapsed(&self) -> Duration {
        clock::now().saturating_since(self.start)
    }

    /// Runs until `until` after the start, or until `stop` holds (checked after each turn).
    fn run_until(&mut self, until: Duration, mut stop: impl FnMut(&Driver) -> bool) {
        let end = self.start + until;
        let mut ready = Vec::new();
        for _turn in 0..1_000_000 {
            let now = clock::now();
            if now >= end || stop(self) {
                return;
            }
            self.exec
                .handle_timeout(&self.vss, now, &mut self.poller, &mut self.children);
            self.children.handle_timeout(now);
            let (exec, vss) = (&mut self.exec, &self.vss);
            self.children.reap(|job, exit| {
                if let Job::Check(id) = job {
                    exec.handle_child_exit(vss, id, exit, now);
                }
            });
            self.drain(now);
            // No signalfd here: children are reaped at least every 10 ms.
            let deadline = [
                self.exec.poll_timeout(),
                self.children.poll_timeout(),
                Some(now + Duration::from_millis(10)),
                Some(end),
            ]
            .into_iter()
            .flatten()
            .min();
            self.poller.wait(now, deadline).expect("ppoll");
            ready.clear();
            ready.extend(self.poller.ready());
            let now = clock::now();
            for &t in &ready {
                if let Token::Check(_) = t {
                    self.exec.handle_ready(&self.vss, t, &mut self.poller, now);
                }
            }
            self.drain(now);
        }
        panic!("the loop did not end");
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.exec.poll_event() {
            self.events.push((now.saturating_since(self.start), e));
        }
    }

    fn events_of(&self, rs: usize) -> Vec<(Duration, Event)> {
        self.events
            .iter()
            .filter(|(_, e)| match e {
                Event::RealServerUp { rs: r, .. }
                | Event::RealServerDown { rs: r, .. }
                | Event::WeightChanged { rs: r, .. } => *r == rs,
            })
            .copied()
            .collect()
    }

    fn show(&self) -> String {
        self.events
            .iter()
            .map(|(t, e)| format!("{:>6} ms {e:?}\n", t.as_millis()))
            .collect()
    }
}

fn skip() -> bool {
    !netns_tests_enabled("checks_netns")
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// Every checker kind against a server that answers, and against each way of failing: the
/// healthy ones stay up without a word, each failing one goes down at its first attempt (one
/// failure is enough at start, keepalived's `retry_it = retry`), after the 1 s bootstrap delay.
#[test]
fn verdicts_of_tcp_udp_ping_misc() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("v");
    // Silent TCP: the SYNs to 8003 are dropped.
    lab.nft("table inet t {\n chain c {\n type filter hook input priority 0;\n tcp dport 8003 drop\n }\n}\n");
    let scripts = lab.dir.join("scripts");
    fs::create_dir_all(&scripts).unwrap();
    let script = |name: &str, body: &str| -> String {
        let p = scripts.join(name);
        write_script(&p, &format!("#!/bin/sh\n{body}\n"));
        p.display().to_string()
    };
    let cases: Vec<(&str, Checker, bool)> = vec![
        (
            "tcp listening",
            checker(CheckKind::Tcp, &format!("{RS}:8001")),
            true,
        ),
        (
            "tcp refused",
            checker(CheckKind::Tcp, &format!("{RS}:8002")),
            false,
        ),
        (
            "tcp silent",
            checker(CheckKind::Tcp, &format!("{RS}:8003")),
            false,
        ),
        (
            "udp echo, reply required",
            checker(udp(b"ping", Some(b"ping"), 4, 16), &format!("{RS}:9001")),
            true,
        ),
        (
            "udp echo, wrong reply",
            checker(udp(b"ping", Some(b"pong"), 0, 16), &format!("{RS}:9001")),
            false,
        ),
        (
            "udp reply too long",
            checker(udp(b"x", Some(b"p"), 0, 32), &format!("{RS}:9002")),
            false,
        ),
        (
            "udp reply too short",
            checker(udp(b"x", Some(b"p"), 2, 32), &format!("{RS}:9003")),
            false,
        ),
        (
            "udp silent, no reply required",
            checker(udp(b"x", None, 0, 255), &format!("{RS}:9004")),
            true,
        ),
        (
            "udp silent, reply required",
            checker(udp(b"x", Some(b"p"), 0, 255), &format!("{RS}:9004")),
            false,
        ),
        (
            "udp port unreachable",
            checker(udp(b"x", None, 0, 255), &format!("{RS}:9009")),
            false,
        ),
        (
            "ping host",
            checker(CheckKind::Ping, &format!("{RS}:0")),
            true,
        ),
        (
            "ping nobody",
            checker(CheckKind::Ping, &format!("{NOBODY}:0")),
            false,
        ),
        (
            "misc exit 0",
            checker(misc(&script("ok", "exit 0"), 2000, false), "0.0.0.0:0"),
            true,
        ),
        (
            "misc exit 1",
            checker(misc(&script("ko", "exit 1"), 2000, false), "0.0.0.0:0"),
            false,
        ),
        (
            "misc timeout",
            checker(misc(&script("slow", "sleep 10"), 300, false), "0.0.0.0:0"),
            false,
        ),
        (
            "misc dynamic exit 7",
            checker(misc(&script("dyn", "exit 7"), 2000, true), "0.0.0.0:0"),
            true,
        ),
    ];
    let vss = one_per_server(cases.iter().map(|(_, c, _)| c.clone()).collect());
    let d = in_netns(&lab.lb.0.clone(), || {
        let mut d = Driver::new(&vss);
        // Every checker has run once by 1 s + 0.5 s timeout (+ the misc TERM grace); run
        // through a second round too.
        d.run_until(Duration::from_millis(3500), |_| false);
        d
    });
    let log = d.show();
    for (k, (name, _, up)) in cases.iter().enumerate() {
        let ev = d.events_of(k);
        assert_eq!(d.exec.checks().is_up(0, k), *up, "{name}: events\n{log}");
        let downs: Vec<_> = ev
            .iter()
            .filter(|(_, e)| matches!(e, Event::RealServerDown { .. }))
            .collect();
        if *up {
            assert!(downs.is_empty(), "{name} went down:\n{log}");
        } else {
            assert_eq!(downs.len(), 1, "{name}: one down event\n{log}");
            let at = downs[0].0;
            // The first attempt starts at 1 s (bootstrap delay); its verdict comes within its
            // timeout (misc: 0.3 s + up to the 2 s TERM grace for `sleep`, which exits on TERM).
            assert!(
                at >= Duration::from_secs(1) && at < Duration::from_millis(1700),
                "{name}: down at {at:?}\n{log}"
            );
        }
    }
    // misc_dynamic: exit 7 is weight 5.
    assert_eq!(d.exec.checks().weight(0, 15), 5);
    assert!(d.events_of(15).iter().any(|(_, e)| *e
        == Event::WeightChanged {
            vs: 0,
            rs: 15,
            weight: 5
        }));
}

/// PING_CHECK on both kinds of ICMP socket: raw (net.ipv4.ping_group_range "1 0", the
/// default, allows no datagram ICMP socket) and datagram (the range opened in the namespace).
#[test]
fn ping_on_datagram_and_raw_sockets() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("p");
    let vss = one_per_server(vec![
        checker(CheckKind::Ping, &format!("{RS}:0")),
        checker(CheckKind::Ping, &format!("{NOBODY}:0")),
    ]);
    for range in ["1 0", "0 2147483647"] {
        let st = Command::new("ip")
            .args(["netns", "exec", &lab.lb.0, "sysctl", "-q", "-w"])
            .arg(format!("net.ipv4.ping_group_range={range}"))
            .status()
            .unwrap();
        assert!(st.success(), "sysctl ping_group_range");
        let d = in_netns(&lab.lb.0.clone(), || {
            let mut d = Driver::new(&vss);
            d.run_until(Duration::from_millis(2500), |_| false);
            d
        });
        let log = d.show();
        assert!(d.exec.checks().is_up(0, 0), "range {range}: {log}");
        assert!(!d.exec.checks().is_up(0, 1), "range {range}: {log}");
        assert_eq!(
            d.events.len(),
            1,
            "range {range}: only the unreachable host goes down: {log}"
        );
    }
}

/// The retry budget with exact attempt times: a MISC_CHECK script notes when it runs and
/// answers what a file says. Up, then failing: down only at the (retry+1)-th failure, the
/// failures delay_before_retry apart; failing while down, once a delay_loop; then up again at
/// the first success.
#[test]
fn retry_budget_spacing_and_recovery() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("r");
    let state = lab.dir.join("state");
    let runs = lab.dir.join("runs");
    fs::write(&state, "0").unwrap();
    let script = lab.dir.join("check.sh");
    write_script(
        &script,
        &format!(
            // Builtins only (no fork to slow a run down on a busy machine); each run notes
            // when it ran and what it answered.
            "#!/bin/sh\nread s < {state}\nread t _ < /proc/uptime\necho \"$t $s\" >> {runs}\nexit $s\n",
            runs = runs.display(),
            state = state.display()
        ),
    );
    let mut c = checker(
        misc(&script.display().to_string(), 1000, false),
        "0.0.0.0:0",
    );
    c.retry = 3;
    c.delay_loop = Duration::from_millis(1500);
    c.delay_before_retry = Duration::from_millis(400);
    let vss = one_per_server(vec![c]);
    // (uptime, exit status) of each run.
    let run_times = |path: &Path| -> Vec<(f64, u8)> {
        common::lines(path)
            .iter()
            .map(|l| {
                let mut w = l.split_whitespace();
                let t = w.next().unwrap().parse().unwrap();
                (t, w.next().unwrap().parse().unwrap())
            })
            .collect()
    };
    let d = in_netns(&lab.lb.0.clone(), || {
        let mut d = Driver::new(&vss);
        // Two healthy runs (1 s and 2.5 s), then the script starts failing.
        d.run_until(Duration::from_millis(2700), |_| false);
        assert!(d.events.is_empty(), "healthy: {}", d.show());
        fs::write(&state, "1").unwrap();
        d.run_until(Duration::from_secs(8), |d| !d.events.is_empty());
        assert_eq!(d.events.len(), 1, "{}", d.show());
        // Down for a while (failing once a delay_loop), then healthy again.
        let down_at = d.elapsed();
        d.run_until(down_at + Duration::from_millis(3200), |_| false);
        fs::write(&state, "0").unwrap();
        let n = d.events.len();
        d.run_until(down_at + Duration::from_secs(8), |d| d.events.len() > n);
        d
    });
    let log = d.show();
    let times = run_times(&runs);
    // The runs from the first failing one on (a run that started as the file changed counts
    // by what it answered).
    let first = times
        .iter()
        .position(|&(_, s)| s == 1)
        .unwrap_or(times.len());
    let failing: Vec<f64> = times[first..].iter().map(|&(t, _)| t).collect();
    // Runs after the switch: 4 failures (1 + retry 3) before down, then the down-state runs.
    assert!(failing.len() >= 4 + 2, "runs {failing:?}\n{log}");
    let gaps: Vec<f64> = failing.windows(2).map(|w| w[1] - w[0]).collect();
    // A run notes its time once its shell has started, which a busy machine delays by up to a
    // few hundred ms; the executor times runs from their spawn. So each gap is bounded loosely
    // (retries, not delay_loop 1.5 s apart) and their sum tightly (3 x 0.4 s).
    for (k, g) in gaps.iter().take(3).enumerate() {
        assert!(
            (0.1..1.0).contains(g),
            "retry {k} came {g:.3} s after the previous failure, not delay_before_retry 0.4 s: {failing:?}"
        );
    }
    let retries: f64 = gaps.iter().take(3).sum();
    assert!(
        (1.1..1.5).contains(&retries),
        "3 retries in {retries:.3} s, not 3 x delay_before_retry 0.4 s: {failing:?}"
    );
    // Down came with the 4th failure.
    let (down_at, down) = d.events[0];
    assert_eq!(down, Event::RealServerDown { vs: 0, rs: 0 }, "{log}");
    // While down: once a delay_loop (1.5 s), no retries.
    let down_gaps = &gaps[3..gaps.len() - 1];
    for g in down_gaps {
        assert!(
            (1.1..1.9).contains(g),
            "down-state runs {g:.3} s apart: {failing:?}"
        );
    }
    let mean = down_gaps.iter().sum::<f64>() / down_gaps.len() as f64;
    assert!(
        (1.4..1.65).contains(&mean),
        "down-state runs {mean:.3} s apart on average: {failing:?}"
    );
    let up = d.events.last().unwrap();
    assert_eq!(up.1, Event::RealServerUp { vs: 0, rs: 0 }, "{log}");
    assert!(up.0 > down_at + Duration::from_secs(3), "{log}");
    assert_eq!(d.events.len(), 2, "{log}");
}

/// The retry budget on a real socket: a TCP checker whose server goes away goes down no sooner
/// than retry x delay_before_retry after, and no later than a delay_loop more.
#[test]
fn tcp_down_after_retries_when_the_server_stops() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut lab = Lab::new("t");
    let mut c = checker(CheckKind::Tcp, &format!("{RS}:8001"));
    c.retry = 2;
    c.delay_loop = Duration::from_secs(1);
    c.delay_before_retry = Duration::from_millis(500);
    let vss = one_per_server(vec![c]);
    let lb = lab.lb.0.clone();
    let (d, stopped_at) = in_netns(&lb, || {
        let mut d = Driver::new(&vss);
        d.run_until(Duration::from_millis(2200), |_| false);
        assert!(d.events.is_empty(), "{}", d.show());
        lab.stop_servers();
        let stopped_at = d.elapsed();
        d.run_until(stopped_at + Duration::from_secs(5), |d| {
            !d.events.is_empty()
        });
        (d, stopped_at)
    });
    let log = d.show();
    assert_eq!(d.events.len(), 1, "{log}");
    let (at, e) = d.events[0];
    assert_eq!(e, Event::RealServerDown { vs: 0, rs: 0 });
    let after = at - stopped_at;
    assert!(
        after >= Duration::from_millis(1000) && after < Duration::from_millis(2300),
        "down {after:?} after the server stopped (retry 2 x 0.5 s .. + delay_loop 1 s): {log}"
    );
}

/// A background server in the servers' namespace, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(lab: &Lab, name: &str, args: &[&str], port: u16) -> Server {
    let log = lab.dir.join(format!("{name}.log"));
    let out = fs::File::create(&log).unwrap();
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.rs.0])
        .args(args)
        .current_dir(&lab.dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let mut server = Server(child);
    let addr = format!("{RS}:{port}");
    let lb = lab.lb.0.clone();
    let up = poll_until(Duration::from_secs(30), || {
        in_netns(&lb, || std::net::TcpStream::connect(&addr).is_ok())
            || server.0.try_wait().unwrap().is_some()
    });
    assert!(
        up && server.0.try_wait().unwrap().is_none(),
        "{name} did not start: {}",
        read_lossy(&log)
    );
    server
}

fn url(path: &str, status: Option<u16>, digest: Option<[u8; 16]>) -> Url {
    let mut codes = StatusCodes::default();
    if let Some(c) = status {
        codes.insert(c);
    }
    Url {
        path: path.to_string(),
        status: codes,
        digest,
        virtualhost: None,
    }
}

fn http(urls: Vec<Url>) -> CheckKind {
    CheckKind::Http(HttpCheck {
        urls,
        http11: false,
        connection_close: false,
    })
}

/// The MD5 of a file as `md5sum` prints it, as bytes.
fn md5sum(path: &Path) -> [u8; 16] {
    let out = Command::new("md5sum").arg(path).output().expect("md5sum");
    let hex = String::from_utf8(out.stdout).unwrap();
    let hex = hex.split_whitespace().next().unwrap();
    let mut d = [0u8; 16];
    for (k, b) in d.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap();
    }
    d
}

/// HTTP_GET against python3's http.server (status, digest, several urls) and SMTP_CHECK
/// against aiosmtpd, and against a server that accepts and closes.
#[test]
fn http_get_and_smtp_check_against_real_servers() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("h");
    let has_aiosmtpd = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_aiosmtpd,
        "{PYTHON} has no aiosmtpd: apt-get install -y python3-aiosmtpd"
    );
    let page = lab.dir.join("index.html");
    fs::write(
        &page,
        "<html>keepalived-rs health check page</html>\n".repeat(50),
    )
    .unwrap();
    let digest = md5sum(&page);
    let mut wrong = digest;
    wrong[0] ^= 1;
    let _http = serve(
        &lab,
        "http",
        &[PYTHON, "-m", "http.server", "--bind", RS, "8080"],
        8080,
    );
    let _smtp = serve(
        &lab,
        "smtp",
        &[PYTHON, "-m", "aiosmtpd", "-n", "-l", &format!("{RS}:2525")],
        2525,
    );
    let web = format!("{RS}:8080");
    let smtp = CheckKind::Smtp(SmtpCheck {
        helo_name: "lb.example".into(),
    });
    let cases: Vec<(&str, Checker, bool)> = vec![
        (
            "http status and digest",
            checker(
                http(vec![url("/index.html", Some(200), Some(digest))]),
                &web,
            ),
            true,
        ),
        (
            "http wrong digest",
            checker(http(vec![url("/index.html", Some(200), Some(wrong))]), &web),
            false,
        ),
        (
            "http wrong status",
            checker(http(vec![url("/missing.html", None, None)]), &web),
            false,
        ),
        (
            "http 404 accepted",
            checker(http(vec![url("/missing.html", Some(404), None)]), &web),
            true,
        ),
        (
            "http two urls",
            checker(
                http(vec![
                    url("/index.html", None, Some(digest)),
                    url("/missing.html", Some(404), None),
                ]),
                &web,
            ),
            true,
        ),
        (
            "http second url fails",
            checker(
                http(vec![
                    url("/index.html", None, Some(digest)),
                    url("/missing.html", None, None),
                ]),
                &web,
            ),
            false,
        ),
        (
            "http refused",
            checker(http(vec![url("/", None, None)]), &format!("{RS}:8002")),
            false,
        ),
        ("smtp", checker(smtp.clone(), &format!("{RS}:2525")), true),
        (
            "smtp to a server that closes",
            checker(smtp, &format!("{RS}:8001")),
            false,
        ),
    ];
    let vss = one_per_server(cases.iter().map(|(_, c, _)| c.clone()).collect());
    let d = in_netns(&lab.lb.0.clone(), || {
        let mut d = Driver::new(&vss);
        d.run_until(Duration::from_millis(3500), |_| false);
        d
    });
    let log = d.show();
    for (k, (name, _, up)) in cases.iter().enumerate() {
        assert_eq!(d.exec.checks().is_up(0, k), *up, "{name}: events\n{log}");
        let downs = d
            .events_of(k)
            .iter()
            .filter(|(_, e)| matches!(e, Event::RealServerDown { .. }))
            .count();
        assert_eq!(downs, usize::from(!*up), "{name}: events\n{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// Servers that misbehave

/// HTTP servers that misbehave, one port each, in one python3 process (a thread per
/// connection). Each reads the request first, then:
const BAD_HTTP: &str = r#"
import socket, struct, sys, threading, time
ip = sys.argv[1]
held = []
def head(c, extra=b""):
    c.sendall(b"HTTP/1.0 200 OK\r\n" + extra + b"\r\n")
def truncated(c):   # announces 1000 bytes, sends 100, closes
    head(c, b"Content-Length: 1000\r\n"); c.sendall(b"t" * 100)
def slow(c):        # a byte every 2 s
    head(c, b"Content-Length: 100\r\n")
    for _ in range(100):
        c.sendall(b"s"); time.sleep(2)
def endless(c):     # close-delimited, never closes
    head(c)
    while True: c.sendall(b"e" * 65536)
def endless_chunked(c):
    c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    while True: c.sendall(b"10000\r\n" + b"c" * 65536 + b"\r\n")
def huge_length(c): # 1 TB announced
    head(c, b"Content-Length: 1000000000000\r\n")
    while True: c.sendall(b"h" * 65536)
def endless_headers(c):
    c.sendall(b"HTTP/1.0 200 OK\r\n")
    while True: c.sendall(b"X-Pad: " + b"p" * 100 + b"\r\n")
def reset(c):       # 100 of 1000 bytes, then an RST (SO_LINGER 0)
    head(c, b"Content-Length: 1000\r\n"); c.sendall(b"r" * 100); time.sleep(0.05)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
def silent(c):      # never answers, never closes
    held.append(c); time.sleep(3600)
def garbage(c):     # another protocol's greeting, connection kept open
    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"); time.sleep(3600)
def binary(c):      # bytes with no line end at all, then silence
    c.sendall(bytes(b for b in range(256) if b != 10) * 4); time.sleep(3600)
def steady(c):      # 12 bytes, one every 0.25 s: 3 s in all, never 1.5 s of silence
    head(c, b"Content-Length: 12\r\n")
    for _ in range(12):
        time.sleep(0.25); c.sendall(b"p")
def chunked(c):
    c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
def close_delimited(c):
    head(c, b"Content-Type: text/plain\r\n"); c.sendall(b"close-delimited body\n" * 20)
handlers = {8101: truncated, 8102: slow, 8103: endless, 8104: endless_chunked,
            8105: huge_length, 8106: endless_headers, 8107: reset, 8108: silent,
            8109: garbage, 8110: binary, 8111: chunked, 8112: close_delimited,
            8113: steady}
def run(handler, c):
    try:
        c.settimeout(5); data = b""
        while b"\r\n\r\n" not in data:
            d = c.recv(4096)
            if not d: return
            data += d
        c.settimeout(None); handler(c)
    except OSError: pass
    finally:
        if c not in held: c.close()
def accept(s, handler):
    while True:
        c, _ = s.accept()
        threading.Thread(target=run, args=(handler, c), daemon=True).start()
for port, handler in handlers.items():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port)); s.listen(64)
    threading.Thread(target=accept, args=(s, handler), daemon=True).start()
print("ready", flush=True)
while True: time.sleep(3600)
"#;

/// The chunked body BAD_HTTP sends on 8111, and the close-delimited one on 8112: the bytes
/// after the header section, chunk framing included, are what keepalived hashes.
const CHUNKED_RAW: &[u8] = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
const CHUNKED_DECODED: &[u8] = b"hello world";

fn md5_of(bytes: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(bytes).into()
}

/// The test process's resident set, in KiB (`VmRSS` in /proc/self/status).
fn rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A MISC_CHECK that appends the time (/proc/uptime) to `runs` each time it runs: its runs
/// show whether the loop serves the other checkers on time.
fn clock_script(lab: &Lab, runs: &Path) -> CheckKind {
    let script = lab.dir.join("tick.sh");
    write_script(
        &script,
        &format!("#!/bin/sh\ncat /proc/uptime >> {}\n", runs.display()),
    );
    misc(&script.display().to_string(), 1000, false)
}

fn uptimes(path: &Path) -> Vec<f64> {
    common::lines(path)
        .iter()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// HTTP_GET against servers that misbehave: each attempt ends within its timeout with the
/// verdict keepalived gives (a read error, a timeout, a body that does not hash to the digest),
/// bodies that never end are cut at the body limit or the timeout with bounded memory, and a
/// MISC_CHECK every 200 ms keeps running on time while the bad servers trickle and flood.
#[test]
fn http_get_against_servers_that_misbehave() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("b");
    let _bad = serve(&lab, "bad_http", &[PYTHON, "-c", BAD_HTTP, RS], 8112);
    let at = |port: u16| format!("{RS}:{port}");
    let with_digest = |d: [u8; 16]| http(vec![url("/", Some(200), Some(d))]);
    let plain = || http(vec![url("/", Some(200), None)]);
    let full_truncated = md5_of(&[b't'; 1000]);
    let close_body = b"close-delimited body\n".repeat(20);
    let mut cases: Vec<(&str, Checker, bool)> = vec![
        // keepalived fails it through the digest only (it logs the length mismatch); we also
        // fail it without one (src/check/http.rs: Failure::Truncated).
        (
            "truncated body, digest",
            checker(with_digest(full_truncated), &at(8101)),
            false,
        ),
        ("truncated body", checker(plain(), &at(8101)), false),
        // The timeout is per read, as keepalived's: a byte every 2 s fails with a 1.5 s
        // timeout (and a body sent steadily passes however long it takes: the last case).
        ("a byte every 2 s", checker(plain(), &at(8102)), false),
        ("endless body", checker(plain(), &at(8103)), false),
        (
            "endless body, digest",
            checker(with_digest([0; 16]), &at(8103)),
            false,
        ),
        ("endless chunks", checker(plain(), &at(8104)), false),
        ("1 TB Content-Length", checker(plain(), &at(8105)), false),
        ("endless headers", checker(plain(), &at(8106)), false),
        ("reset mid-body", checker(plain(), &at(8107)), false),
        ("accepts, never answers", checker(plain(), &at(8108)), false),
        ("SSH greeting", checker(plain(), &at(8109)), false),
        ("binary, no line end", checker(plain(), &at(8110)), false),
        (
            "chunked, digest of the raw body",
            checker(with_digest(md5_of(CHUNKED_RAW)), &at(8111)),
            true,
        ),
        (
            "chunked, digest of the decoded body",
            checker(with_digest(md5_of(CHUNKED_DECODED)), &at(8111)),
            false,
        ),
        (
            "HTTP/1.0 close-delimited, digest",
            checker(with_digest(md5_of(&close_body)), &at(8112)),
            true,
        ),
        (
            "HTTP/1.0 close-delimited, wrong digest",
            checker(with_digest(md5_of(b"close-delimited body\n")), &at(8112)),
            false,
        ),
        // Twice the timeout in all, never silent for long: up. It starts down (alpha), so
        // only an attempt that ends well brings it up.
        (
            "a byte every 0.25 s for 3 s",
            Checker {
                alpha: true,
                ..checker(with_digest(md5_of(&[b'p'; 12])), &at(8113))
            },
            true,
        ),
    ];
    // Shorter than the slow server's 2 s between bytes, long enough for the floods to reach the
    // 16 MiB limit on a busy machine.
    for (_, c, _) in &mut cases {
        c.conn.timeout = Duration::from_millis(1500);
        c.delay_loop = Duration::from_secs(2);
    }
    let runs = lab.dir.join("runs");
    let mut tick = checker(clock_script(&lab, &runs), "0.0.0.0:0");
    tick.delay_loop = Duration::from_millis(200);
    let tick_index = cases.len();
    let mut all: Vec<Checker> = cases.iter().map(|(_, c, _)| c.clone()).collect();
    all.push(tick);
    let vss = one_per_server(all);
    let (d, rss_before, rss_max, window) = in_netns(&lab.lb.0.clone(), || {
        let mut d = Driver::new(&vss);
        // Before the first attempts (1 s bootstrap): the baseline.
        d.run_until(Duration::from_millis(900), |_| false);
        let rss_before = rss_kib();
        let mut rss_max = rss_before;
        let mut sampled = Duration::ZERO;
        let from = d.elapsed();
        // Two rounds of every checker (at 1 s and 3 s, each up to 1.5 s).
        d.run_until(Duration::from_millis(5500), |d| {
            let t = d.elapsed();
            if t >= sampled + Duration::from_millis(50) {
                sampled = t;
                rss_max = rss_max.max(rss_kib());
            }
            false
        });
        let to = d.elapsed();
        (d, rss_before, rss_max, (from, to))
    });
    let log = d.show();
    for (k, (name, _, up)) in cases.iter().enumerate() {
        assert_eq!(d.exec.checks().is_up(0, k), *up, "{name}: events\n{log}");
        let ev = d.events_of(k);
        if *up && cases[k].1.alpha {
            assert!(
                matches!(ev[..], [(_, Event::RealServerUp { .. })]),
                "{name}: one up event\n{log}"
            );
        } else if *up {
            assert!(ev.is_empty(), "{name}: events\n{log}");
        } else {
            assert_eq!(ev.len(), 1, "{name}: one down event\n{log}");
            // The first attempt starts at 1 s and ends within its 1.5 s timeout.
            let at = ev[0].0;
            assert!(
                at >= Duration::from_secs(1) && at <= Duration::from_millis(2700),
                "{name}: down at {at:?}\n{log}"
            );
        }
    }
    // The slow, silent and garbage-then-silent servers are the timeouts: down at 2.5 s.
    for k in [2, 9, 11] {
        let at = d.events_of(k)[0].0;
        assert!(
            at >= Duration::from_millis(2450),
            "{}: down at {at:?}, before its timeout\n{log}",
            cases[k].0
        );
    }
    // The reset, the SSH greeting and the truncated bodies are known at once.
    for k in [0, 1, 8, 10] {
        let at = d.events_of(k)[0].0;
        assert!(
            at < Duration::from_millis(1500),
            "{}: down at {at:?}, not at once\n{log}",
            cases[k].0
        );
    }
    assert!(d.exec.checks().is_up(0, tick_index));
    // The tick ran every 200 ms (+ its fork and exit) all along: no gap over 600 ms, where a
    // loop blocked on the trickling server would show 2 s, on a silent one 1.5 s.
    let times = uptimes(&runs);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let worst = gaps.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "tick: {} runs in {:?}..{:?}, gaps max {worst:.3} s; RSS {rss_before} KiB -> max \
         {rss_max} KiB",
        times.len(),
        window.0,
        window.1
    );
    assert!(times.len() >= 20, "the tick ran {} times", times.len());
    assert!(worst < 0.6, "the tick was late: gaps {gaps:?}");
    // Three floods of 16 MiB each round, read through the executor's 1500-byte buffer.
    assert!(
        rss_max < rss_before + 4 * 1024,
        "RSS grew from {rss_before} KiB to {rss_max} KiB"
    );
}

/// DNS_CHECK against dnsmasq (authoritative for `example`, no upstream): keepalived's rule is
/// the RCODE alone, so NOERROR passes with or without an answer, and NXDOMAIN (a name in the
/// zone that does not exist) and REFUSED (a name outside it, and the default `SOA .`) fail.
/// Killed, dnsmasq's port is unreachable: the checker that passed goes down after its retry.
#[test]
fn dns_check_against_dnsmasq() {
    if skip() {
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dnsmasq = common::find_tool("dnsmasq")
        .expect("dnsmasq is not installed: apt-get install -y dnsmasq-base (tests/setup.sh)");
    let lab = Lab::new("d");
    let dnsmasq = dnsmasq.display().to_string();
    let listen = format!("--listen-address={RS}");
    let server = serve(
        &lab,
        "dnsmasq",
        &[
            &dnsmasq,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--port=53",
            &listen,
            "--bind-interfaces",
            "--auth-server=ns.example",
            "--auth-zone=example",
            "--host-record=www.example,192.0.2.80",
            "--log-queries",
            "--log-facility=-",
        ],
        53,
    );
    let dns = |qtype: u16, name: &str| {
        CheckKind::Dns(DnsCheck {
            qtype,
            name: name.into(),
        })
    };
    const A: u16 = 1;
    const SOA: u16 = 6;
    let ns = format!("{RS}:53");
    let cases: Vec<(&str, Checker, bool)> = vec![
        ("A www.example", checker(dns(A, "www.example"), &ns), true),
        ("SOA example", checker(dns(SOA, "example."), &ns), true),
        (
            "SOA www.example: NOERROR, no answer",
            checker(dns(SOA, "www.example"), &ns),
            true,
        ),
        (
            "A nothing.example: NXDOMAIN",
            checker(dns(A, "nothing.example"), &ns),
            false,
        ),
        (
            "A www.test: REFUSED",
            checker(dns(A, "www.test"), &ns),
            false,
        ),
        (
            "the default, SOA .: REFUSED",
            checker(dns(SOA, "."), &ns),
            false,
        ),
        (
            "a host that is not there",
            checker(dns(A, "www.example"), &format!("{NOBODY}:53")),
            false,
        ),
    ];
    let vss = one_per_server(cases.iter().map(|(_, c, _)| c.clone()).collect());
    let n = cases.len();
    let (d, before, killed_at) = in_netns(&lab.lb.0.clone(), move || {
        let mut d = Driver::new(&vss);
        // Two rounds (1 s and 2 s).
        d.run_until(Duration::from_millis(2500), |_| false);
        let before: Vec<bool> = (0..n).map(|k| d.exec.checks().is_up(0, k)).collect();
        drop(server);
        let killed_at = d.elapsed();
        d.run_until(killed_at + Duration::from_secs(4), |d| {
            (0..3).all(|k| !d.exec.checks().is_up(0, k))
        });
        (d, before, killed_at)
    });
    let log = d.show();
    let queries = read_lossy(&lab.dir.join("dnsmasq.log"));
    for (k, (name, _, up)) in cases.iter().enumerate() {
        assert_eq!(before[k], *up, "{name}: events\n{log}dnsmasq:\n{queries}");
    }
    // Each passing checker goes down once dnsmasq is gone (ICMP port unreachable: refused):
    // the failure, then the retry 300 ms later, within a delay_loop (1 s) of the kill.
    let mut after = Duration::ZERO;
    for (k, (name, _, _)) in cases.iter().enumerate().take(3) {
        let ev = d.events_of(k);
        assert_eq!(ev.len(), 1, "{name}: {log}dnsmasq:\n{queries}");
        assert_eq!(ev[0].1, Event::RealServerDown { vs: 0, rs: k });
        after = after.max(ev[0].0 - killed_at);
    }
    eprintln!("DNS_CHECK down {after:?} after dnsmasq was killed");
    assert!(after <= Duration::from_millis(1600), "{after:?}\n{log}");
    // dnsmasq was asked each question the checkers sent.
    for q in [
        "query[A] www.example",
        "query[SOA] example",
        "query[A] www.test",
    ] {
        assert!(queries.contains(q), "dnsmasq never saw {q}:\n{queries}");
    }
}
