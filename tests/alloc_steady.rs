//! No heap allocation in steady state: while adverts go in and out at 10 ms and timers fire,
//! the daemon's loop must not call the allocator at all.
//!
//! How: this test binary installs a counting `#[global_allocator]`, so every allocation made by
//! the library (the real daemon, `keepalived_rs::io::run`) is counted; allocations are also
//! attributed to the thread that makes them, and the daemon runs on one marked thread.
//! The test process (root namespace) builds a lab: namespace `<p>sw` with a bridge, `<p>n1` and
//! `<p>n2` on it (192.0.2.1 and .2). In n2 it starts the keepalived-rs binary as the peer; then it
//! runs itself again under `ip netns exec <p>n1` (phase "daemon"). That child runs
//! `io::run` on its test thread with four VRRPv3 instances at advert_int 0.01: two it wins
//! (it sends adverts), two the peer wins (it receives adverts and re-arms its master-down timer);
//! the garp_master_delay timer of its master instances fires inside the window too.
//! A helper thread, after a warm-up, takes a SIGUSR2 stats snapshot, reads the counters, waits
//! WINDOW, reads them again, takes a second snapshot and stops the daemon with SIGTERM (all
//! signals go to the daemon thread with pthread_kill, which is where the daemon blocks them
//! and reads its signalfd). A window in which an instance changed state (a late advert on a
//! loaded machine) is reported and taken again, at most ATTEMPTS times. The child then checks
//! that the last window was steady (no state change, adverts sent and received at the
//! configured rate) and that neither the daemon thread nor anything else in the process
//! allocated in it.
//!
//! Needs root; fails without it unless KEEPALIVED_RS_SKIP_NETNS=1.

mod common;

use common::{netns_tests_enabled, Netns};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal};

/// The calling thread (nix's pthread module is not among the crate's nix features).
fn pthread_self() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// Sends `sig` to one thread of this process.
fn pthread_kill(thread: libc::pthread_t, sig: Signal) -> Result<(), nix::errno::Errno> {
    // SAFETY: `thread` is the daemon thread, alive until the helper that calls this is joined.
    match unsafe { libc::pthread_kill(thread, sig as libc::c_int) } {
        0 => Ok(()),
        e => Err(nix::errno::Errno::from_raw(e)),
    }
}

const TEST_NAME: &str = "no_allocation_in_steady_state";
const PHASE: &str = "KARS_ALLOC_PHASE";
const DIR: &str = "KARS_ALLOC_DIR";
/// Warm-up before the window: every instance has settled (the peer was master before we start).
const WARMUP: Duration = Duration::from_secs(2);
/// The measured window; longer than garp_master_delay (5 s), so that timer fires inside it.
const WINDOW: Duration = Duration::from_secs(10);
const ADVERT_INT: Duration = Duration::from_millis(10);
/// A window in which an instance changed state (a missed advert on a loaded machine) is not
/// steady state; it is reported and the window is taken again, this many times at most.
const ATTEMPTS: u32 = 3;

// ------------------------------------------------------------------ the counting allocator

/// Every allocation (alloc, alloc_zeroed, realloc) in the process, and those made on a thread
/// that set `COUNTED` (the daemon thread).
static ALL: AtomicU64 = AtomicU64::new(0);
static ON_DAEMON: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // const-initialised and without a destructor: usable inside the allocator.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

struct Counting;

impl Counting {
    fn count() {
        ALL.fetch_add(1, Relaxed);
        if COUNTED.with(|c| c.get()) {
            ON_DAEMON.fetch_add(1, Relaxed);
        }
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy, Debug)]
struct Counts {
    all: u64,
    daemon: u64,
}

fn counts() -> Counts {
    Counts {
        all: ALL.load(Relaxed),
        daemon: ON_DAEMON.load(Relaxed),
    }
}

// ------------------------------------------------------------------ configurations

/// VRIDs 1 and 2: we win (priority 150 against 100); 3 and 4: the peer wins.
fn conf(router_id: &str, we_win: &[u8], they_win: &[u8]) -> String {
    let mut s = format!("global_defs {{\n    router_id {router_id}\n    vrrp_version 3\n}}\n");
    for (vrids, state, prio) in [(we_win, "MASTER", 150), (they_win, "BACKUP", 100)] {
        for vrid in vrids {
            s += &format!(
                "vrrp_instance VI_{vrid} {{\n    state {state}\n    interface eth0\n    \
                 virtual_router_id {vrid}\n    priority {prio}\n    advert_int 0.01\n    \
                 virtual_ipaddress {{\n        192.0.2.{}/32\n    }}\n}}\n",
                100 + vrid
            );
        }
    }
    s
}

// ------------------------------------------------------------------ stats file

/// `name -> (Received, Sent, Became master, Released master)` from keepalived.stats.
fn parse_stats(text: &str) -> Vec<(String, [u64; 4])> {
    let mut out: Vec<(String, [u64; 4])> = Vec::new();
    let mut section = "";
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("VRRP Instance: ") {
            out.push((name.to_string(), [0; 4]));
            section = "";
            continue;
        }
        if t.ends_with(':') {
            section = if t == "Advertisements:" { "adv" } else { "" };
            continue;
        }
        let Some((key, val)) = t.split_once(": ") else {
            continue;
        };
        let Ok(v) = val.parse::<u64>() else { continue };
        let Some(last) = out.last_mut() else { continue };
        match (section, key) {
            ("adv", "Received") => last.1[0] = v,
            ("adv", "Sent") => last.1[1] = v,
            (_, "Became master") => last.1[2] = v,
            (_, "Released master") => last.1[3] = v,
            _ => {}
        }
    }
    out
}

/// Asks the daemon thread for a stats file and reads it (then moves it aside, so the next
/// request is seen as a new file).
fn snapshot(daemon: libc::pthread_t, dir: &Path, keep_as: &str) -> String {
    let path = dir.join("keepalived.stats");
    pthread_kill(daemon, Signal::SIGUSR2).expect("SIGUSR2 to the daemon thread");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !path.exists() {
        assert!(Instant::now() < deadline, "no stats file after SIGUSR2");
        std::thread::sleep(Duration::from_millis(10));
    }
    // The daemon writes it with one write(2); give it a moment to finish and free its buffer.
    std::thread::sleep(Duration::from_millis(100));
    let text = std::fs::read_to_string(&path).expect("read stats");
    std::fs::rename(&path, dir.join(keep_as)).expect("move stats aside");
    text
}

// ------------------------------------------------------------------ phase "daemon" (in n1)

fn phase_daemon() {
    let dir = PathBuf::from(std::env::var(DIR).expect("KARS_ALLOC_DIR"));
    let conf_path = dir.join("n1.conf");
    keepalived_rs::io::log::init(true, false, None, false);
    let config = keepalived_rs::config::load(&conf_path).expect("configuration");

    // The daemon thread blocks these before io::run does (it blocks them again there), so the
    // helper thread spawned below inherits the mask; signals go to the daemon thread only.
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGCHLD,
    ] {
        set.add(s);
    }
    set.thread_block().expect("block signals");

    COUNTED.with(|c| c.set(true));
    // The counter must see this thread's allocations, or a zero below would prove nothing.
    let before = counts();
    let probe = std::hint::black_box(vec![1u8; 64]);
    assert!(counts().daemon > before.daemon && counts().all > before.all);
    drop(probe);

    let me = pthread_self();
    let helper_dir = dir.clone();
    let helper = std::thread::spawn(move || {
        std::thread::sleep(WARMUP);
        let mut windows = Vec::new();
        for attempt in 1..=ATTEMPTS {
            let s1 = snapshot(me, &helper_dir, &format!("stats.{attempt}.before"));
            std::thread::sleep(Duration::from_millis(100));
            let c1 = counts();
            let t1 = Instant::now();
            std::thread::sleep(WINDOW);
            let c2 = counts();
            let elapsed = t1.elapsed();
            let s2 = snapshot(me, &helper_dir, &format!("stats.{attempt}.after"));
            let w = Window::new(attempt, c1, c2, elapsed, &s1, &s2);
            let steady = w.steady();
            windows.push(w);
            if steady {
                break;
            }
        }
        pthread_kill(me, Signal::SIGTERM).expect("SIGTERM to the daemon thread");
        windows
    });

    let pid = dir.join("n1.pid");
    let pidfiles = keepalived_rs::io::PidFiles {
        main: &pid,
        vrrp: None,
        checkers: None,
    };
    let all = keepalived_rs::io::Subsystems::ALL;
    let code = keepalived_rs::io::run(config, &conf_path, &pidfiles, all, false);
    COUNTED.with(|c| c.set(false));
    let windows = helper.join().expect("helper thread");
    assert_eq!(code, 0, "io::run exit code");

    for w in &windows {
        eprintln!("{w}");
    }
    let w = windows.last().unwrap();
    assert!(
        w.steady(),
        "no steady window in {ATTEMPTS} tries of {WINDOW:?}: an instance changed state in each"
    );
    // Each instance sends (or receives) one advert per ADVERT_INT; ask for half of that.
    let expected = (w.elapsed.as_micros() / ADVERT_INT.as_micros()) as u64 / 2;
    for (name, d) in &w.deltas {
        let we_win = name == "VI_1" || name == "VI_2";
        if we_win {
            assert!(d[1] >= expected, "{name} sent {} < {expected}", d[1]);
        } else {
            assert!(d[0] >= expected, "{name} received {} < {expected}", d[0]);
        }
    }
    assert_eq!(
        w.daemon_allocs, 0,
        "the daemon allocated in steady state ({} adverts sent, {} received)",
        w.sent, w.received
    );
    assert_eq!(
        w.all_allocs, 0,
        "something in the process allocated in steady state"
    );
}

/// One measured window: allocation counts and the per-instance stats deltas
/// `[Received, Sent, Became master, Released master]`.
struct Window {
    attempt: u32,
    elapsed: Duration,
    daemon_allocs: u64,
    all_allocs: u64,
    deltas: Vec<(String, [u64; 4])>,
    sent: u64,
    received: u64,
}

impl Window {
    fn new(attempt: u32, c1: Counts, c2: Counts, elapsed: Duration, s1: &str, s2: &str) -> Self {
        let (before, after) = (parse_stats(s1), parse_stats(s2));
        assert_eq!(before.len(), 4, "stats before the window:\n{s1}");
        assert_eq!(after.len(), 4, "stats after the window:\n{s2}");
        let mut deltas = Vec::new();
        for ((name, b), (name2, a)) in before.iter().zip(&after) {
            assert_eq!(name, name2);
            deltas.push((name.clone(), core::array::from_fn(|k| a[k] - b[k])));
        }
        Window {
            attempt,
            elapsed,
            daemon_allocs: c2.daemon - c1.daemon,
            all_allocs: c2.all - c1.all,
            sent: deltas.iter().map(|d| d.1[1]).sum(),
            received: deltas.iter().map(|d| d.1[0]).sum(),
            deltas,
        }
    }

    /// No instance changed state while the window was open.
    fn steady(&self) -> bool {
        self.deltas.iter().all(|(_, d)| d[2] == 0 && d[3] == 0)
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "window {} ({:?}, {}): allocations on the daemon thread {}, in the process {}; \
             {} adverts sent, {} received",
            self.attempt,
            self.elapsed,
            if self.steady() {
                "steady"
            } else {
                "NOT steady"
            },
            self.daemon_allocs,
            self.all_allocs,
            self.sent,
            self.received
        )?;
        for (name, d) in &self.deltas {
            writeln!(
                f,
                "  {name}: received {}, sent {}, became master {}, released master {}",
                d[0], d[1], d[2], d[3]
            )?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ the lab (root namespace)

/// The peer daemon: SIGTERM, then SIGKILL after 3 s, however the test ends.
struct Peer(Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn vips(ns: &str) -> usize {
    ip(&["-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"])
        .lines()
        .filter(|l| l.contains("/32 "))
        .count()
}

#[test]
fn no_allocation_in_steady_state() {
    if std::env::var(PHASE).as_deref() == Ok("daemon") {
        phase_daemon();
        return;
    }
    if !netns_tests_enabled("no_allocation_in_steady_state") {
        return;
    }
    let p = format!("kalloc{}", std::process::id());
    let sw = Netns(format!("{p}sw"));
    let n1 = Netns(format!("{p}n1"));
    let n2 = Netns(format!("{p}n2"));
    for ns in [&sw, &n1, &n2] {
        ip(&["netns", "add", &ns.0]);
    }
    ip(&["-n", &sw.0, "link", "add", "br0", "type", "bridge"]);
    ip(&["-n", &sw.0, "link", "set", "br0", "up"]);
    for (k, ns) in [(1, &n1), (2, &n2)] {
        let v = format!("v{k}");
        ip(&[
            "-n", &sw.0, "link", "add", &v, "type", "veth", "peer", "name", "eth0", "netns", &ns.0,
        ]);
        ip(&["-n", &sw.0, "link", "set", &v, "master", "br0", "up"]);
        ip(&["-n", &ns.0, "link", "set", "lo", "up"]);
        ip(&[
            "-n",
            &ns.0,
            "addr",
            "add",
            &format!("192.0.2.{k}/24"),
            "dev",
            "eth0",
        ]);
        ip(&["-n", &ns.0, "link", "set", "eth0", "up"]);
    }
    let dir = TempDir(std::env::temp_dir().join(&p));
    std::fs::create_dir_all(dir.0.join("n2")).unwrap();
    std::fs::write(dir.0.join("n1.conf"), conf("n1", &[1, 2], &[3, 4])).unwrap();
    std::fs::write(dir.0.join("n2.conf"), conf("n2", &[3, 4], &[1, 2])).unwrap();

    // The peer first, and master of its two instances before the daemon under test starts.
    let peer_log = std::fs::File::create(dir.0.join("n2.log")).unwrap();
    let _peer = Peer(
        Command::new("ip")
            .args(["netns", "exec", &n2.0, env!("CARGO_BIN_EXE_keepalived-rs")])
            .args(["-n", "-l", "-G", "-f"])
            .arg(dir.0.join("n2.conf"))
            .arg("-p")
            .arg(dir.0.join("n2.pid"))
            .env("TMPDIR", dir.0.join("n2"))
            .stdout(peer_log.try_clone().unwrap())
            .stderr(peer_log)
            .spawn()
            .expect("start the peer"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while vips(&n2.0) < 2 {
        assert!(
            Instant::now() < deadline,
            "peer not master of VI_3 and VI_4 after 10 s:\n{}",
            std::fs::read_to_string(dir.0.join("n2.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let mut child = Command::new("ip")
        .args(["netns", "exec", &n1.0])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(PHASE, "daemon")
        .env(DIR, &dir.0)
        .env("TMPDIR", &dir.0)
        .spawn()
        .expect("run the daemon phase");
    let deadline = Instant::now() + WARMUP + WINDOW + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("daemon phase timed out");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "daemon phase failed: {status}");
}
