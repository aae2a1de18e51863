//! The integration-test lab: network namespaces, VRRP routers, and questions a user would ask
//! ("who holds the VIP?", "can the client reach it?", "how long did failover take?").
//!
//! Topology of one [`Lab`] (every name carries a prefix unique to the process and the lab):
//!
//! ```text
//! netns <p>sw:  bridge br0 ── <p>n1 ── netns <p>n1 (eth0 192.0.2.1/24)   router
//!                         ├── <p>n2 ── netns <p>n2 (eth0 192.0.2.2/24)   router
//!                         ├── <p>n3 ── netns <p>n3 (eth0 192.0.2.4/24)   optional third router
//!                         └── <p>c  ── netns <p>c  (eth0 192.0.2.3/24)   client
//! ```
//!
//! One `ip -o monitor address` per router namespace records every address added or deleted with
//! the time the test saw it, so waits cost no polling and failover times and "two holders at
//! once" are measured from events, not from samples.
//!
//! Environment:
//! - `KEEPALIVED_RS_SKIP_NETNS=1`: every netns test prints that it was skipped and passes.
//! - `KEEPALIVED_RS_BIN=/path`: the program run as "keepalived-rs" (default: the binary Cargo
//!   built). `KEEPALIVED_RS_BIN=/usr/sbin/keepalived` runs every scenario with real keepalived
//!   on all sides: the proof that the harness and the scenarios are right.
//! - `KEEPALIVED_RS_TEST_DEBUG=1`: start the daemons with `-D` (detailed log).
//!
//! Drop kills every process the lab started (and anything else left in its namespaces) and
//! deletes the namespaces, also when the test panics; on a panic it first prints the routers' logs.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use nix::sys::signal::kill;
pub use nix::sys::signal::Signal;
use nix::unistd::Pid;

/// The virtual address every scenario moves around.
pub const VIP: &str = "192.0.2.100";
/// The client's address.
pub const CLIENT_ADDR: &str = "192.0.2.3";

static LAB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which implementation a router runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    /// keepalived-rs (or whatever `KEEPALIVED_RS_BIN` names).
    Rs,
    /// Real keepalived from the system.
    Keepalived,
}

impl Daemon {
    pub fn program(self) -> PathBuf {
        match self {
            Daemon::Rs => match std::env::var_os("KEEPALIVED_RS_BIN") {
                Some(p) if !p.is_empty() => PathBuf::from(p),
                _ => PathBuf::from(env!("CARGO_BIN_EXE_keepalived-rs")),
            },
            Daemon::Keepalived => {
                find_tool("keepalived").unwrap_or_else(|| PathBuf::from("/usr/sbin/keepalived"))
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Daemon::Rs => {
                if std::env::var_os("KEEPALIVED_RS_BIN").is_some_and(|p| !p.is_empty()) {
                    format!("keepalived-rs(={})", self.program().display())
                } else {
                    "keepalived-rs".to_string()
                }
            }
            Daemon::Keepalived => "keepalived".to_string(),
        }
    }
}

/// True in a baseline run (`tests/run.sh --baseline`): real keepalived stands in for
/// keepalived-rs.
pub fn baseline() -> bool {
    Daemon::Rs
        .program()
        .file_name()
        .is_some_and(|n| n == "keepalived")
}

/// True when `KEEPALIVED_RS_SKIP_NETNS=1`.
pub fn skip_netns() -> bool {
    std::env::var("KEEPALIVED_RS_SKIP_NETNS").is_ok_and(|v| v == "1")
}

/// For tests that build their own namespaces (not a [`Lab`]): false, after saying so, when
/// `KEEPALIVED_RS_SKIP_NETNS=1`; otherwise panics unless we are root.
pub fn netns_tests_enabled(test: &str) -> bool {
    if skip_netns() {
        eprintln!("SKIPPED {test}: KEEPALIVED_RS_SKIP_NETNS=1 (network-namespace test)");
        return false;
    }
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root for network namespaces (set KEEPALIVED_RS_SKIP_NETNS=1 to skip)"
    );
    true
}

/// A network namespace, deleted (with what is left in it) when dropped.
pub struct Netns(pub String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

/// `name` in PATH or the sbin directories (cargo may run with a PATH without them).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

fn tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| panic!("{name} is not installed (see preflight)"))
}

/// Panics with a clear message unless we are root and have every tool the lab runs.
pub fn preflight() {
    let hint = "the netns tests need root and ip, keepalived, ping, tcpdump \
                (apt-get install -y iproute2 keepalived iputils-ping tcpdump); \
                set KEEPALIVED_RS_SKIP_NETNS=1 to skip them";
    if !nix::unistd::geteuid().is_root() {
        panic!("not running as root: {hint}");
    }
    for t in ["ip", "keepalived", "ping", "tcpdump"] {
        if find_tool(t).is_none() {
            panic!("`{t}` not found: {hint}");
        }
    }
    let rs = Daemon::Rs.program();
    if !rs.is_file() {
        panic!("the daemon under test {} does not exist", rs.display());
    }
}

/// Runs a command, panics with its output if it fails.
fn run(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    if !out.status.success() {
        panic!(
            "`{} {}` failed ({}): {}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command, returns whether it succeeded (output discarded).
fn run_ok(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The text of a file, or "" if it cannot be read.
pub fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The lines of a file (none when it does not exist yet).
pub fn lines(p: &Path) -> Vec<String> {
    fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Writes an executable script (mode 0755).
pub fn write_script(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Polls `cond` every 5 ms until it holds or `timeout` passes. Returns whether it held.
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// One VRRP instance `VI_1` on `eth0`, as keepalived.conf text.
#[derive(Debug, Clone)]
pub struct Vrrp {
    pub version: u8,
    /// As written in the file: "1", "0.2".
    pub advert_int: String,
    pub priority: u8,
    pub vrid: u8,
    pub auth_pass: Option<String>,
    pub nopreempt: bool,
    /// `unicast_src_ip` and `unicast_peer`s.
    pub unicast: Option<(String, Vec<String>)>,
    pub vip: String,
}

impl Vrrp {
    /// VRRPv2, advert_int 1.
    pub fn v2(priority: u8) -> Vrrp {
        Vrrp {
            version: 2,
            advert_int: "1".into(),
            priority,
            vrid: 51,
            auth_pass: None,
            nopreempt: false,
            unicast: None,
            vip: VIP.into(),
        }
    }

    /// VRRPv3 with the given advert_int ("0.2").
    pub fn v3(priority: u8, advert_int: &str) -> Vrrp {
        Vrrp {
            version: 3,
            advert_int: advert_int.into(),
            ..Vrrp::v2(priority)
        }
    }

    pub fn auth(mut self, pass: &str) -> Vrrp {
        self.auth_pass = Some(pass.into());
        self
    }

    pub fn nopreempt(mut self) -> Vrrp {
        self.nopreempt = true;
        self
    }

    pub fn unicast(mut self, src: &str, peers: &[&str]) -> Vrrp {
        self.unicast = Some((src.into(), peers.iter().map(|p| p.to_string()).collect()));
        self
    }

    pub fn advert(&self) -> Duration {
        Duration::from_secs_f64(self.advert_int.parse().expect("advert_int is a number"))
    }

    /// Skew_Time: v2 (256-prio)/256 s (RFC 3768), v3 (256-prio) x advert/256 (RFC 5798).
    pub fn skew(&self) -> Duration {
        let f = f64::from(256 - u32::from(self.priority)) / 256.0;
        if self.version == 2 {
            Duration::from_secs_f64(f)
        } else {
            self.advert().mul_f64(f)
        }
    }

    /// Master_Down_Interval = 3 x advert + skew.
    pub fn master_down(&self) -> Duration {
        self.advert() * 3 + self.skew()
    }

    pub fn conf(&self) -> String {
        let mut s = String::new();
        s.push_str("global_defs {\n    router_id test\n}\n\n");
        s.push_str("vrrp_instance VI_1 {\n");
        s.push_str("    state BACKUP\n    interface eth0\n");
        s.push_str(&format!("    virtual_router_id {}\n", self.vrid));
        s.push_str(&format!("    priority {}\n", self.priority));
        s.push_str(&format!("    advert_int {}\n", self.advert_int));
        if self.version == 3 {
            s.push_str("    version 3\n");
        }
        if self.nopreempt {
            s.push_str("    nopreempt\n");
        }
        if let Some(p) = &self.auth_pass {
            s.push_str(&format!(
                "    authentication {{\n        auth_type PASS\n        auth_pass {p}\n    }}\n"
            ));
        }
        if let Some((src, peers)) = &self.unicast {
            s.push_str(&format!("    unicast_src_ip {src}\n    unicast_peer {{\n"));
            for p in peers {
                s.push_str(&format!("        {p}\n"));
            }
            s.push_str("    }\n");
        }
        s.push_str(&format!(
            "    virtual_ipaddress {{\n        {}/24\n    }}\n}}\n",
            self.vip
        ));
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics file

/// keepalived's statistics file (SIGUSR2 -> `$TMPDIR/keepalived.stats`):
///
/// ```text
/// VRRP Instance: VI_1
///   Advertisements:
///     Received: 0
///     Sent: 2
///   Became master: 1
///   ...
///   Authentication Errors:
///     Invalid Type: 0
///     Type Mismatch: 0
///     Failure: 0
/// ```
#[derive(Debug, Clone)]
pub struct Stats {
    pub text: String,
}

impl Stats {
    /// Counter `key` ("Became master", or "Section/Key" such as "Authentication Errors/Failure").
    pub fn get(&self, instance: &str, key: &str) -> Option<u64> {
        self.counters(instance)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Every counter of an instance as ("Section/Key" or "Key", value).
    pub fn counters(&self, instance: &str) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut inside = false;
        let mut section = String::new();
        for line in self.text.lines() {
            if let Some(name) = line.strip_prefix("VRRP Instance:") {
                inside = name.trim() == instance;
                section.clear();
                continue;
            }
            if !inside {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let t = line.trim();
            if let Some(head) = t.strip_suffix(':') {
                section = head.to_string();
                continue;
            }
            let Some((k, v)) = t.split_once(':') else {
                continue;
            };
            let Ok(v) = v.trim().parse::<u64>() else {
                continue;
            };
            if indent <= 2 {
                section.clear();
                out.push((k.trim().to_string(), v));
            } else {
                out.push((format!("{section}/{}", k.trim()), v));
            }
        }
        out
    }

    /// Sum of the "Packet Errors" and "Authentication Errors" counters.
    pub fn receive_errors(&self, instance: &str) -> u64 {
        self.counters(instance)
            .iter()
            .filter(|(k, _)| {
                k.starts_with("Packet Errors/") || k.starts_with("Authentication Errors/")
            })
            .map(|(_, v)| v)
            .sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Address monitor

/// An address added to or deleted from a router namespace, as `ip monitor` reported it.
#[derive(Debug, Clone)]
pub struct AddrEvent {
    pub at: Instant,
    pub node: String,
    pub addr: String,
    pub added: bool,
}

type Events = Arc<Mutex<Vec<AddrEvent>>>;

struct Monitor {
    child: Child,
    reader: Option<JoinHandle<()>>,
}

impl Monitor {
    fn start(netns: &str, node: &str, events: Events) -> Monitor {
        let mut child = Command::new(tool("ip"))
            .args(["-o", "-n", netns, "monitor", "address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ip monitor");
        let stdout = child.stdout.take().expect("monitor stdout");
        let node = node.to_string();
        let reader = thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let at = Instant::now();
                if let Some((added, addr)) = parse_addr_event(&line) {
                    events.lock().unwrap().push(AddrEvent {
                        at,
                        node: node.clone(),
                        addr,
                        added,
                    });
                }
            }
        });
        Monitor {
            child,
            reader: Some(reader),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// `[Deleted ]3: eth0    inet 192.0.2.100/24 scope global secondary eth0\ ...`
pub fn parse_addr_event(line: &str) -> Option<(bool, String)> {
    let added = !line.starts_with("Deleted");
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == "inet" || w == "inet6" {
            let a = words.next()?;
            return Some((added, a.split('/').next()?.to_string()));
        }
    }
    None
}

/// Longest time two or more of `nodes` held `vip` at once, from the events after `since`
/// (everyone is assumed not to hold it before the first event; the lab starts monitors before
/// any daemon). Also returns a readable timeline.
fn overlap(events: &[AddrEvent], vip: &str, nodes: &[&str], since: Instant) -> (Duration, String) {
    let mut evs: Vec<&AddrEvent> = events
        .iter()
        .filter(|e| e.addr == vip && nodes.contains(&e.node.as_str()))
        .collect();
    evs.sort_by_key(|e| e.at);
    let mut holding: Vec<&str> = Vec::new();
    let mut start: Option<Instant> = None;
    let mut worst = Duration::ZERO;
    let mut timeline = String::new();
    for e in &evs {
        if e.added {
            if !holding.contains(&e.node.as_str()) {
                holding.push(&e.node);
            }
        } else {
            holding.retain(|n| *n != e.node);
        }
        if e.at >= since {
            timeline.push_str(&format!(
                "  +{:>8.3}s {} {} {vip}  -> holders {:?}\n",
                e.at.duration_since(since).as_secs_f64(),
                e.node,
                if e.added { "added" } else { "deleted" },
                holding
            ));
        }
        if holding.len() >= 2 {
            start.get_or_insert(e.at.max(since));
        } else if let Some(s) = start.take() {
            worst = worst.max(e.at.saturating_duration_since(s));
        }
    }
    if let Some(s) = start {
        worst = worst.max(Instant::now().saturating_duration_since(s));
    }
    (worst, timeline)
}

// ---------------------------------------------------------------------------------------------
// The lab

struct Node {
    name: String,
    netns: String,
    /// The veth end in the switch namespace (cut it to cut the node's link).
    veth: String,
    addr: String,
    is_router: bool,
}

struct Proc {
    node: String,
    daemon: Daemon,
    child: Child,
    log: PathBuf,
    tmpdir: PathBuf,
    conf: PathBuf,
    /// Set when the test asked it to stop; otherwise an exit is a failure.
    expect_exit: bool,
    exited: Option<ExitStatus>,
}

/// A running tcpdump in the switch namespace on one node's veth.
pub struct Capture {
    child: Child,
    out: PathBuf,
}

impl Capture {
    /// Stops the capture and returns what tcpdump printed (one line per packet, `-v`).
    pub fn finish(mut self) -> String {
        // Let packets in flight be printed.
        thread::sleep(Duration::from_millis(100));
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
        if !poll_until(Duration::from_secs(3), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        read_lossy(&self.out)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Network namespaces with routers and a client; see the module documentation.
pub struct Lab {
    test: String,
    prefix: String,
    dir: PathBuf,
    sw: String,
    nodes: Vec<Node>,
    netns: Vec<String>,
    procs: Vec<Proc>,
    monitors: Vec<Monitor>,
    events: Events,
    ip: PathBuf,
    started: Instant,
}

impl Lab {
    /// A lab with `routers` routers (n1, n2, n3: 192.0.2.1, .2, .4) and a client c (192.0.2.3).
    /// Returns None (after saying so) when `KEEPALIVED_RS_SKIP_NETNS=1`.
    pub fn new(test: &str, routers: usize) -> Option<Lab> {
        if skip_netns() {
            eprintln!("SKIPPED {test}: KEEPALIVED_RS_SKIP_NETNS=1 (network-namespace test)");
            return None;
        }
        preflight();
        assert!((1..=3).contains(&routers), "1 to 3 routers");
        let n = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let prefix = format!("kt{}x{}", std::process::id(), n);
        let dir = std::env::temp_dir().join(format!("{prefix}-{test}"));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the lab directory");
        let mut lab = Lab {
            test: test.to_string(),
            sw: format!("{prefix}sw"),
            prefix,
            dir,
            nodes: Vec::new(),
            netns: Vec::new(),
            procs: Vec::new(),
            monitors: Vec::new(),
            events: Arc::new(Mutex::new(Vec::new())),
            ip: tool("ip"),
            started: Instant::now(),
        };
        let sw = lab.sw.clone();
        lab.add_netns(&sw);
        lab.ipc(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
        lab.ipc(&[
            "-n",
            &sw,
            "link",
            "set",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        lab.ipc(&["-n", &sw, "link", "set", "br0", "up"]);
        let mut names: Vec<(String, String, bool)> = Vec::new();
        for i in 1..=routers {
            let last = if i <= 2 { i } else { i + 1 };
            names.push((format!("n{i}"), format!("192.0.2.{last}"), true));
        }
        names.push(("c".to_string(), CLIENT_ADDR.to_string(), false));
        for (name, addr, is_router) in names {
            lab.add_node(&name, &addr, is_router);
        }
        // The monitors are running: wait until each saw its router's own address appear.
        let events = lab.events.clone();
        let want: Vec<(String, String)> = lab
            .nodes
            .iter()
            .filter(|n| n.is_router)
            .map(|n| (n.name.clone(), n.addr.clone()))
            .collect();
        let ok = poll_until(Duration::from_secs(5), || {
            let ev = events.lock().unwrap();
            want.iter()
                .all(|(n, a)| ev.iter().any(|e| &e.node == n && &e.addr == a && e.added))
        });
        assert!(
            ok,
            "the address monitors did not report the routers' addresses"
        );
        lab.started = Instant::now();
        Some(lab)
    }

    fn ipc(&self, args: &[&str]) -> String {
        run(&self.ip, args)
    }

    /// `ip -n <node's netns> ARGS`, which must succeed; its output.
    pub fn ip_in(&self, node: &str, args: &[&str]) -> String {
        let ns = self.netns(node);
        let all: Vec<&str> = ["-n", ns.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        self.ipc(&all)
    }

    fn add_netns(&mut self, name: &str) {
        self.ipc(&["netns", "add", name]);
        self.netns.push(name.to_string());
        self.ipc(&["-n", name, "link", "set", "lo", "up"]);
    }

    fn add_node(&mut self, name: &str, addr: &str, is_router: bool) {
        let netns = format!("{}{name}", self.prefix);
        let veth = netns.clone();
        assert!(veth.len() <= 15, "interface name {veth} too long");
        self.add_netns(&netns);
        let sw = self.sw.clone();
        self.ipc(&[
            "-n", &sw, "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns",
            &netns,
        ]);
        self.ipc(&["-n", &sw, "link", "set", &veth, "master", "br0", "up"]);
        if is_router {
            self.monitors
                .push(Monitor::start(&netns, name, self.events.clone()));
            self.wait_monitor_ready(&netns, name);
        }
        let cidr = format!("{addr}/24");
        self.ipc(&["-n", &netns, "addr", "add", &cidr, "dev", "eth0"]);
        self.ipc(&["-n", &netns, "link", "set", "eth0", "up"]);
        self.nodes.push(Node {
            name: name.to_string(),
            netns,
            veth,
            addr: addr.to_string(),
            is_router,
        });
    }

    /// `ip monitor` gives no sign when it has subscribed: add and delete a probe address on
    /// `lo` until the monitor reports it.
    fn wait_monitor_ready(&self, netns: &str, node: &str) {
        const PROBE: &str = "198.51.100.254";
        let cidr = format!("{PROBE}/32");
        for _ in 0..50 {
            self.ipc(&["-n", netns, "addr", "add", &cidr, "dev", "lo"]);
            let events = self.events.clone();
            let seen = poll_until(Duration::from_millis(100), || {
                events
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|e| e.node == node && e.addr == PROBE)
            });
            self.ipc(&["-n", netns, "addr", "del", &cidr, "dev", "lo"]);
            if seen {
                return;
            }
        }
        panic!("the address monitor of {netns} never started");
    }

    fn node(&self, name: &str) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name} in this lab"))
    }

    /// The node's address on the LAN ("192.0.2.1").
    pub fn addr(&self, node: &str) -> String {
        self.node(node).addr.clone()
    }

    /// The network namespace name of a node.
    pub fn netns(&self, node: &str) -> String {
        self.node(node).netns.clone()
    }

    /// The MAC address of a node's eth0.
    pub fn mac(&self, node: &str) -> String {
        let out = self.ipc(&["-n", &self.node(node).netns, "-o", "link", "show", "eth0"]);
        let mut w = out.split_whitespace();
        while let Some(x) = w.next() {
            if x == "link/ether" {
                return w.next().unwrap_or_default().to_string();
            }
        }
        panic!("no MAC in {out}")
    }

    /// Directory holding the lab's configs and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    // ----- routers

    /// Starts `daemon` in `node` with this configuration:
    /// `<daemon> -n -l -f CONF -p PID -r VRRP_PID -c CHECK_PID`, TMPDIR its own directory,
    /// stdout and stderr to the node's log.
    pub fn start(&mut self, node: &str, daemon: Daemon, conf: &str) {
        self.start_with(node, daemon, conf, &[]);
    }

    /// [`Lab::start`] with `extra` added to the command line (`-P`, `-C`, ...).
    pub fn start_with(&mut self, node: &str, daemon: Daemon, conf: &str, extra: &[&str]) {
        let netns = self.node(node).netns.clone();
        assert!(self.running(node).is_none(), "{node} already runs a router");
        let k = self.procs.iter().filter(|p| p.node == node).count();
        let base = self.dir.join(format!("{node}.{k}"));
        let conf_path = base.with_extension(format!("{k}.conf"));
        let log = base.with_extension(format!("{k}.log"));
        let tmpdir = base.with_extension(format!("{k}.tmp"));
        fs::create_dir_all(&tmpdir).unwrap();
        fs::write(&conf_path, conf).unwrap();
        let pid = |what: &str| base.with_extension(format!("{k}.{what}.pid"));
        let logf = fs::File::create(&log).unwrap();
        let program = daemon.program();
        let mut args: Vec<String> = vec![
            "netns".into(),
            "exec".into(),
            netns,
            program.display().to_string(),
            "-n".into(),
            "-l".into(),
        ];
        if std::env::var("KEEPALIVED_RS_TEST_DEBUG").is_ok_and(|v| v == "1") {
            args.push("-D".into());
        }
        for (flag, val) in [
            ("-f", conf_path.clone()),
            ("-p", pid("main")),
            ("-r", pid("vrrp")),
            ("-c", pid("check")),
        ] {
            args.push(flag.into());
            args.push(val.display().to_string());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let child = Command::new(&self.ip)
            .args(&args)
            .env("TMPDIR", &tmpdir)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        self.procs.push(Proc {
            node: node.to_string(),
            daemon,
            child,
            log,
            tmpdir,
            conf: conf_path,
            expect_exit: false,
            exited: None,
        });
    }

    fn running(&self, node: &str) -> Option<usize> {
        self.procs
            .iter()
            .rposition(|p| p.node == node && p.exited.is_none())
    }

    fn proc(&self, node: &str) -> &Proc {
        let i = self
            .procs
            .iter()
            .rposition(|p| p.node == node)
            .unwrap_or_else(|| panic!("no router was started in {node}"));
        &self.procs[i]
    }

    /// The configuration file the router in `node` was started with (rewrite it, then SIGHUP).
    pub fn conf_path(&self, node: &str) -> PathBuf {
        self.proc(node).conf.clone()
    }

    /// The process id of the router running in `node`.
    pub fn pid(&self, node: &str) -> i32 {
        let i = self
            .running(node)
            .unwrap_or_else(|| panic!("no router running in {node}"));
        self.procs[i].child.id() as i32
    }

    /// Sends a signal to the router of `node`. SIGTERM/SIGINT mark it as expected to exit.
    pub fn signal(&mut self, node: &str, sig: Signal) {
        let i = self
            .running(node)
            .unwrap_or_else(|| panic!("no router running in {node}"));
        if matches!(sig, Signal::SIGTERM | Signal::SIGINT | Signal::SIGKILL) {
            self.procs[i].expect_exit = true;
        }
        let pid = Pid::from_raw(self.procs[i].child.id() as i32);
        kill(pid, sig).unwrap_or_else(|e| panic!("kill {sig:?} {node}: {e}"));
    }

    /// Waits (bounded) for the router of `node` to exit after it was told to; returns its status.
    pub fn wait_exit(&mut self, node: &str, timeout: Duration) -> ExitStatus {
        let i = self
            .procs
            .iter()
            .rposition(|p| p.node == node)
            .unwrap_or_else(|| panic!("no router was started in {node}"));
        self.procs[i].expect_exit = true;
        let end = Instant::now() + timeout;
        loop {
            if let Some(s) = self.procs[i].exited {
                return s;
            }
            if let Ok(Some(s)) = self.procs[i].child.try_wait() {
                self.procs[i].exited = Some(s);
                return s;
            }
            if Instant::now() >= end {
                panic!(
                    "{node} ({}) did not exit within {timeout:?}",
                    self.procs[i].daemon.label(),
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM and wait (5 s) for the exit status.
    pub fn stop(&mut self, node: &str) -> ExitStatus {
        self.signal(node, Signal::SIGTERM);
        self.wait_exit(node, Duration::from_secs(5))
    }

    /// Panics (with the logs) if a router exited without being asked to.
    pub fn check_alive(&mut self) {
        let mut dead = Vec::new();
        for p in &mut self.procs {
            if p.exited.is_none() {
                if let Ok(Some(s)) = p.child.try_wait() {
                    p.exited = Some(s);
                    if !p.expect_exit {
                        dead.push(format!("{} ({}) exited with {s}", p.node, p.daemon.label()));
                    }
                }
            }
        }
        if !dead.is_empty() {
            panic!("router exited unexpectedly: {}", dead.join("; "));
        }
    }

    /// The log of the latest router started in `node`.
    pub fn log(&self, node: &str) -> String {
        read_lossy(&self.proc(node).log)
    }

    /// How many lines of the latest router's log in `node` contain `needle`.
    pub fn log_count(&self, node: &str, needle: &str) -> usize {
        self.log(node)
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Every router log, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for p in &self.procs {
            let text = read_lossy(&p.log);
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(60);
            s.push_str(&format!(
                "----- {} {} ({}) log {}:\n",
                self.test,
                p.node,
                p.daemon.label(),
                p.log.display()
            ));
            for l in &lines[from..] {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }

    /// Asks the router of `node` for its statistics (SIGUSR2) and reads
    /// `$TMPDIR/keepalived.stats` (its own TMPDIR) once it is complete.
    pub fn stats(&mut self, node: &str) -> Stats {
        let i = self
            .running(node)
            .unwrap_or_else(|| panic!("no router running in {node}"));
        let file = self.procs[i].tmpdir.join("keepalived.stats");
        let _ = fs::remove_file(&file);
        self.signal(node, Signal::SIGUSR2);
        let mut last = String::new();
        let mut stable = 0;
        let ok = poll_until(Duration::from_secs(5), || {
            let now = read_lossy(&file);
            if !now.is_empty() && now == last && now.ends_with('\n') {
                stable += 1;
            } else {
                stable = 0;
            }
            last = now;
            stable >= 4
        });
        if !ok {
            panic!(
                "{node}: no statistics file {} within 5 s of SIGUSR2",
                file.display()
            );
        }
        Stats { text: last }
    }

    /// The TMPDIR of the router running in `node` (its statistics and dump files).
    pub fn tmpdir(&self, node: &str) -> PathBuf {
        let i = self
            .running(node)
            .unwrap_or_else(|| panic!("no router running in {node}"));
        self.procs[i].tmpdir.clone()
    }

    // ----- links

    /// Cuts the node's link: its veth end in the switch goes down (the node sees NO-CARRIER).
    pub fn cut(&self, node: &str) {
        let n = self.node(node);
        self.ipc(&["-n", &self.sw, "link", "set", &n.veth, "down"]);
    }

    /// Restores the node's link.
    pub fn restore(&self, node: &str) {
        let n = self.node(node);
        self.ipc(&["-n", &self.sw, "link", "set", &n.veth, "up"]);
    }

    // ----- who holds the VIP

    /// The routers that hold `vip` right now, asked with `ip -n NS -o addr show`.
    pub fn holders_now(&self, vip: &str) -> Vec<String> {
        let needle = format!(" {vip}/");
        self.nodes
            .iter()
            .filter(|n| n.is_router)
            .filter(|n| {
                self.ipc(&["-n", &n.netns, "-o", "addr", "show"])
                    .lines()
                    .any(|l| l.contains(&needle))
            })
            .map(|n| n.name.clone())
            .collect()
    }

    /// The routers that hold `vip` according to the address monitors.
    pub fn holders(&self, vip: &str) -> Vec<String> {
        let ev = self.events.lock().unwrap();
        let mut out: Vec<String> = Vec::new();
        for n in self.nodes.iter().filter(|n| n.is_router) {
            let last = ev
                .iter()
                .filter(|e| e.node == n.name && e.addr == vip)
                .max_by_key(|e| e.at);
            if last.is_some_and(|e| e.added) {
                out.push(n.name.clone());
            }
        }
        out
    }

    /// Waits until exactly `expected` (among all routers) hold `vip`; panics after `timeout`
    /// with the timeline and logs. Returns when the last change that made it true was seen.
    /// The answer is confirmed with `ip addr` before returning.
    pub fn wait_holders(
        &mut self,
        vip: &str,
        expected: &[&str],
        timeout: Duration,
        what: &str,
    ) -> Instant {
        let t0 = Instant::now();
        let end = t0 + timeout;
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        loop {
            self.check_alive();
            let mut h = self.holders(vip);
            h.sort();
            if h == want {
                let mut confirm = self.holders_now(vip);
                confirm.sort();
                if confirm == want {
                    let ev = self.events.lock().unwrap();
                    let last = ev
                        .iter()
                        .filter(|e| e.addr == vip)
                        .map(|e| e.at)
                        .max()
                        .unwrap_or(t0);
                    return last;
                }
            }
            if Instant::now() >= end {
                panic!(
                    "{}: {what}: expected {vip} held by {want:?} within {timeout:?}, \
                     monitors say {h:?}, ip addr says {:?}\ntimeline:\n{}",
                    self.test,
                    self.holders_now(vip),
                    self.timeline(vip, self.started),
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asserts that exactly `expected` hold `vip` during the whole of `duration` (monitor events
    /// in that window and `ip addr` at its end).
    pub fn hold_holders(&mut self, vip: &str, expected: &[&str], duration: Duration, what: &str) {
        let t0 = Instant::now();
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        let end = t0 + duration;
        while Instant::now() < end {
            self.check_alive();
            let mut h = self.holders(vip);
            h.sort();
            if h != want {
                panic!(
                    "{}: {what}: {vip} should stay with {want:?}, but is held by {h:?} \
                     after {:?}\ntimeline:\n{}",
                    self.test,
                    t0.elapsed(),
                    self.timeline(vip, self.started),
                );
            }
            thread::sleep(Duration::from_millis(10));
        }
        let mut now = self.holders_now(vip);
        now.sort();
        assert_eq!(now, want, "{}: {what}: ip addr disagrees", self.test);
    }

    /// When `vip` was last added on `node` after `since` (monitor time).
    pub fn added_at(&self, node: &str, vip: &str, since: Instant) -> Option<Instant> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.node == node && e.addr == vip && e.added && e.at >= since)
            .map(|e| e.at)
            .min()
    }

    /// When `node` first lost `vip` at or after `since`, as its address monitor saw it.
    pub fn deleted_at(&self, node: &str, vip: &str, since: Instant) -> Option<Instant> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.node == node && e.addr == vip && !e.added && e.at >= since)
            .map(|e| e.at)
            .min()
    }

    /// All changes of `vip` since `since`, one per line.
    pub fn timeline(&self, vip: &str, since: Instant) -> String {
        let names: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.is_router)
            .map(|n| n.name.as_str())
            .collect();
        let ev = self.events.lock().unwrap();
        overlap(&ev, vip, &names, since).1
    }

    /// Longest time two or more of `nodes` held `vip` at once since `since`.
    pub fn max_overlap(&self, vip: &str, nodes: &[&str], since: Instant) -> Duration {
        let ev = self.events.lock().unwrap();
        overlap(&ev, vip, nodes, since).0
    }

    /// Panics if two of `nodes` held `vip` at the same time for longer than `allowed`
    /// (a preempting master and the master it replaces overlap by one advert's flight).
    pub fn assert_never_two_holders(&self, vip: &str, nodes: &[&str], allowed: Duration) {
        let worst = self.max_overlap(vip, nodes, self.started);
        eprintln!(
            "{}: longest time {nodes:?} both held {vip}: {worst:?}",
            self.test
        );
        assert!(
            worst <= allowed,
            "{}: two masters: {nodes:?} held {vip} at the same time for {worst:?} \
             (allowed {allowed:?})\ntimeline:\n{}",
            self.test,
            self.timeline(vip, self.started),
        );
    }

    /// The lab's start (after set-up), the origin of timelines.
    pub fn started(&self) -> Instant {
        self.started
    }

    // ----- the client

    /// One ping from the client to `addr` (1 s timeout).
    pub fn client_ping(&self, addr: &str) -> bool {
        let c = self.node("c").netns.clone();
        run_ok(
            &self.ip,
            &[
                "netns", "exec", &c, "ping", "-n", "-q", "-c", "1", "-W", "1", addr,
            ],
        )
    }

    /// Pings until one reply arrives or `timeout` passes.
    pub fn wait_client_ping(&mut self, addr: &str, timeout: Duration, what: &str) {
        let end = Instant::now() + timeout;
        loop {
            self.check_alive();
            if self.client_ping(addr) {
                return;
            }
            if Instant::now() >= end {
                panic!(
                    "{}: {what}: the client got no reply from {addr} within {timeout:?}",
                    self.test,
                );
            }
        }
    }

    /// The MAC the client's neighbour table has for `addr`, if any.
    pub fn client_neigh(&self, addr: &str) -> Option<String> {
        let c = &self.node("c").netns;
        let out = self.ipc(&["-n", c, "neigh", "show", addr]);
        let mut w = out.split_whitespace();
        while let Some(x) = w.next() {
            if x == "lladdr" {
                return w.next().map(|s| s.to_string());
            }
        }
        None
    }

    // ----- packets

    /// Starts tcpdump on `node`'s veth end in the switch (every VRRP packet to or from it).
    pub fn capture(&self, node: &str) -> Capture {
        self.capture_with(node, &["proto", "112"])
    }

    /// tcpdump `-l -n -v` on `node`'s switch port with this capture filter.
    pub fn capture_with(&self, node: &str, filter: &[&str]) -> Capture {
        let n = self.node(node);
        let k = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let out = self.dir.join(format!("capture-{node}-{k}.txt"));
        let err = self.dir.join(format!("capture-{node}-{k}.err"));
        let child = Command::new(&self.ip)
            .args(["netns", "exec", &self.sw])
            .arg(tool("tcpdump"))
            .args(["-l", "-n", "-v", "-i", &n.veth])
            .args(filter)
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(&err).unwrap())
            .spawn()
            .expect("start tcpdump");
        let mut cap = Capture { child, out };
        let ready = poll_until(Duration::from_secs(5), || {
            read_lossy(&err).contains("listening on")
        });
        if !ready {
            let _ = cap.child.kill();
            panic!("tcpdump did not start: {}", read_lossy(&err));
        }
        cap
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "{}: lab {} failed; router logs follow\n{}",
                self.test,
                self.prefix,
                self.logs()
            );
        }
        // Ask politely, then insist.
        for p in &mut self.procs {
            if p.exited.is_none() {
                if let Ok(None) = p.child.try_wait() {
                    let _ = kill(Pid::from_raw(p.child.id() as i32), Signal::SIGTERM);
                }
            }
        }
        let _ = poll_until(Duration::from_secs(3), || {
            self.procs
                .iter_mut()
                .all(|p| p.exited.is_some() || matches!(p.child.try_wait(), Ok(Some(_))))
        });
        for p in &mut self.procs {
            if let Ok(None) = p.child.try_wait() {
                let _ = p.child.kill();
                let _ = p.child.wait();
            }
        }
        for m in &mut self.monitors {
            m.stop();
        }
        // Anything else still inside our namespaces (keepalived's children, tcpdump, ping).
        for ns in self.netns.iter().rev() {
            let pids = Command::new(&self.ip)
                .args(["netns", "pids", ns])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        for ns in self.netns.iter().rev() {
            let mut deleted = false;
            for _ in 0..20 {
                if run_ok(&self.ip, &["netns", "del", ns]) {
                    deleted = true;
                    break;
                }
                thread::sleep(Duration::from_millis(50));
            }
            if !deleted {
                eprintln!("warning: could not delete network namespace {ns}");
            }
        }
        if std::env::var("KEEPALIVED_RS_KEEP_LOGS").is_ok_and(|v| v == "1") {
            eprintln!("{}: logs kept in {}", self.test, self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios shared by the test files

/// Allowed overlap when a preempting master replaces another: one advert's flight and handling
/// (keepalived: under 6 ms here). A real split brain lasts seconds.
pub const OVERLAP_ALLOWED: Duration = Duration::from_millis(100);

/// Margin for scheduling, netlink and the monitors on a busy 2-core machine.
pub const MARGIN: Duration = Duration::from_millis(400);

/// Generous bound for an election or a takeover by timeout: Master_Down_Interval of the
/// slower router, plus the start-up of the daemons, plus margin.
pub fn takeover_bound(cfg: &Vrrp) -> Duration {
    cfg.master_down() + Duration::from_secs(2)
}

/// Two routers: n1 (priority 100, `a`) and n2 (priority 90, `b`), started in that order; waits
/// for n1 to hold the VIP alone and the client to reach it.
pub fn elect(lab: &mut Lab, a: Daemon, b: Daemon, n1: &Vrrp, n2: &Vrrp) {
    lab.start("n1", a, &n1.conf());
    lab.start("n2", b, &n2.conf());
    lab.wait_holders(
        VIP,
        &["n1"],
        takeover_bound(n2) + Duration::from_secs(1),
        "election: n1 (priority 100) becomes master",
    );
    lab.wait_client_ping(VIP, Duration::from_secs(3), "the client reaches the VIP");
}

/// Cuts n1's link: n2 must take the VIP within Master_Down_Interval (+ margin), tell the
/// client with gratuitous ARP, and n1 must drop it (FAULT, as keepalived). Then restores the
/// link: n1 (higher priority, preempt) must take the VIP back and n2 drop it.
pub fn cut_and_restore(lab: &mut Lab, n2: &Vrrp) {
    let n2_mac = lab.mac("n2");
    let n1_mac = lab.mac("n1");
    let t = Instant::now();
    lab.cut("n1");
    let moved = lab.wait_holders(
        VIP,
        &["n2"],
        n2.master_down() + Duration::from_secs(2),
        "after cutting n1's link, n2 holds the VIP and n1 dropped it",
    );
    let took = moved.saturating_duration_since(t);
    eprintln!("cut: VIP on n2 alone {took:?} after the cut");
    // n1's last advert left up to one interval before the cut.
    let earliest = n2
        .master_down()
        .saturating_sub(n2.advert() + Duration::from_millis(50));
    assert!(
        took >= earliest,
        "n2 took over {took:?} after the cut, before Master_Down_Interval {:?} (minus one \
         advert interval) could have run out",
        n2.master_down()
    );
    // The client learns the new owner from the gratuitous ARPs, without waiting for its entry
    // to go stale.
    let ok = poll_until(Duration::from_secs(2), || {
        lab.client_neigh(VIP).as_deref() == Some(n2_mac.as_str())
    });
    assert!(
        ok,
        "the client's ARP entry for the VIP is {:?}, not n2's MAC {n2_mac} (no gratuitous ARP?)",
        lab.client_neigh(VIP)
    );
    lab.wait_client_ping(VIP, Duration::from_secs(2), "the client reaches n2");

    lab.restore("n1");
    lab.wait_holders(
        VIP,
        &["n1"],
        n2.master_down() + Duration::from_secs(4),
        "after restoring n1's link, n1 (higher priority) preempts",
    );
    let ok = poll_until(Duration::from_secs(2), || {
        lab.client_neigh(VIP).as_deref() == Some(n1_mac.as_str())
    });
    assert!(
        ok,
        "after preemption the client's ARP entry is {:?}, not n1's MAC {n1_mac}",
        lab.client_neigh(VIP)
    );
    lab.wait_client_ping(VIP, Duration::from_secs(2), "the client reaches n1 again");
}

/// SIGTERMs n1 (the master): it must exit 0 and drop the VIP, and n2 must take the VIP after
/// Skew_Time (it heard priority 0), well before Master_Down_Interval. Returns the time from
/// the signal to the VIP on n2.
pub fn sigterm_failover(lab: &mut Lab, n2: &Vrrp) -> Duration {
    let t = Instant::now();
    lab.signal("n1", Signal::SIGTERM);
    lab.wait_holders(
        VIP,
        &["n2"],
        n2.master_down() + Duration::from_secs(2),
        "after SIGTERM to n1, n2 holds the VIP and n1 dropped it",
    );
    let on_n2 = lab
        .added_at("n2", VIP, t)
        .expect("the monitor saw the VIP added on n2");
    let took = on_n2.duration_since(t);
    let skew = n2.skew();
    eprintln!(
        "SIGTERM: VIP on n2 {took:?} after the signal (Skew_Time {skew:?}, \
         Master_Down_Interval {:?})",
        n2.master_down()
    );
    assert!(
        took <= skew + MARGIN,
        "n2 took the VIP {took:?} after SIGTERM to n1; with priority 0 it should be Skew_Time \
         {skew:?} (+{MARGIN:?}); Master_Down_Interval is {:?}",
        n2.master_down(),
    );
    assert!(
        took >= skew / 2,
        "n2 took the VIP {took:?} after SIGTERM, before Skew_Time {skew:?}"
    );
    let status = lab.wait_exit("n1", Duration::from_secs(5));
    assert!(status.success(), "n1 exited with {status} after SIGTERM");
    took
}
