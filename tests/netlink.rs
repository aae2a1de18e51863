//! rtnetlink against the real kernel, in a network namespace this test creates (needs root;
//! fails without it unless KEEPALIVED_RS_SKIP_NETNS=1). The test process stays in the root namespace: it builds the namespace
//! with `ip`, then runs itself again under `ip netns exec` with KARS_NL_PHASE naming the
//! checks to run inside, and verifies the effects with `ip -n`.

mod common;

use common::{netns_tests_enabled, Netns};
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::{Duration, Instant};

use keepalived_rs::config::{Scope, VirtualAddr};
use keepalived_rs::io::rtnl::{Event, LinkMonitor, Rtnl};
use keepalived_rs::netlink::route::primary_ipv4;
use keepalived_rs::netlink::{IfAddr, LinkEvent};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

const PHASE: &str = "KARS_NL_PHASE";
const TEST_NAME: &str = "rtnetlink_in_a_namespace";
const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01];

fn vip4() -> VirtualAddr {
    VirtualAddr {
        addr: "192.0.2.100".parse().unwrap(),
        prefix_len: 32,
        broadcast: None,
        dev: None,
        scope: Scope::Global,
        label: Some("eth0:vip".into()),
    }
}

fn vip6() -> VirtualAddr {
    VirtualAddr {
        addr: "2001:db8::100".parse().unwrap(),
        prefix_len: 128,
        broadcast: None,
        dev: None,
        scope: Scope::Global,
        label: None,
    }
}

fn a4(addr: [u8; 4], prefix_len: u8, secondary: bool) -> IfAddr {
    IfAddr {
        addr: Ipv4Addr::from(addr),
        prefix_len,
        secondary,
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

/// Runs this test binary inside `ns` with the given phase; fails the test if it fails or
/// takes longer than 30 s.
fn run_phase(ns: &str, phase: &str) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(PHASE, phase)
        .spawn()
        .expect("spawn child");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "phase {phase} failed: {status}");
            return;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("phase {phase} timed out");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rtnetlink_in_a_namespace() {
    if let Ok(phase) = std::env::var(PHASE) {
        match phase.as_str() {
            "add" => phase_add(),
            "del" => phase_del(),
            "monitor" => phase_monitor(),
            other => panic!("unknown phase {other}"),
        }
        return;
    }
    if !netns_tests_enabled("rtnetlink_in_a_namespace") {
        return;
    }
    let ns = Netns(format!("kars-nl-{}", std::process::id()));
    ip(&["netns", "add", &ns.0]);
    let n = ns.0.as_str();
    ip(&[
        "-n",
        n,
        "link",
        "add",
        "eth0",
        "address",
        "02:00:5e:00:00:01",
        "type",
        "veth",
        "peer",
        "name",
        "peer0",
    ]);
    ip(&["-n", n, "link", "set", "peer0", "up"]);
    ip(&["-n", n, "link", "set", "eth0", "up"]);
    ip(&["-n", n, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
    ip(&["-n", n, "addr", "add", "192.0.2.2/24", "dev", "eth0"]);

    run_phase(n, "add");
    let v4 = ip(&["-n", n, "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert!(
        v4.contains("inet 192.0.2.100/32 scope global eth0:vip"),
        "{v4}"
    );
    let v6 = ip(&["-n", n, "-6", "-o", "addr", "show", "dev", "eth0"]);
    let vip6_line = v6.lines().find(|l| l.contains("2001:db8::100/128"));
    let vip6_line = vip6_line.unwrap_or_else(|| panic!("no IPv6 VIP in {v6}"));
    // Added without duplicate address detection: usable at once, never "dadfailed".
    assert!(vip6_line.contains("scope global nodad"), "{vip6_line}");
    assert!(!vip6_line.contains("tentative"), "{vip6_line}");

    run_phase(n, "del");
    let v4 = ip(&["-n", n, "-4", "-o", "addr", "show", "dev", "eth0"]);
    assert!(!v4.contains("192.0.2.100"), "{v4}");
    assert!(v4.contains("inet 192.0.2.1/24"), "{v4}");
    let v6 = ip(&["-n", n, "-6", "-o", "addr", "show", "dev", "eth0"]);
    assert!(!v6.contains("2001:db8::100"), "{v6}");

    run_phase(n, "monitor");
    let link = ip(&["-n", n, "-o", "link", "show", "dev", "eth0"]);
    assert!(link.contains("state UP"), "{link}");
}

/// Inside the namespace: look up eth0, read its addresses, add the VIPs (twice: the second
/// add must be accepted as already done).
fn phase_add() {
    let mut rtnl = Rtnl::open().unwrap();
    let eth0 = rtnl.link_by_name("eth0").unwrap();
    assert!(eth0.ifindex > 0);
    assert_eq!(eth0.name.as_str(), "eth0");
    assert!(eth0.up && eth0.running, "{eth0:?}");
    assert_eq!(eth0.mac, MAC);
    let err = rtnl.link_by_name("nosuch0").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");

    let addrs = rtnl.ipv4_addrs(eth0.ifindex).unwrap();
    assert_eq!(
        addrs,
        vec![a4([192, 0, 2, 1], 24, false), a4([192, 0, 2, 2], 24, true)]
    );
    assert_eq!(primary_ipv4(&addrs), Some(Ipv4Addr::new(192, 0, 2, 1)));
    // peer0 has no IPv4 address: the dump of all interfaces is filtered by index.
    let peer0 = rtnl.link_by_name("peer0").unwrap();
    assert_eq!(rtnl.ipv4_addrs(peer0.ifindex).unwrap(), vec![]);

    rtnl.add_addr(eth0.ifindex, &vip4()).unwrap();
    rtnl.add_addr(eth0.ifindex, &vip4()).unwrap();
    rtnl.add_addr(eth0.ifindex, &vip6()).unwrap();
    rtnl.add_addr(eth0.ifindex, &vip6()).unwrap();
    let addrs = rtnl.ipv4_addrs(eth0.ifindex).unwrap();
    assert!(
        addrs.contains(&a4([192, 0, 2, 100], 32, false)),
        "{addrs:?}"
    );
    assert_eq!(primary_ipv4(&addrs), Some(Ipv4Addr::new(192, 0, 2, 1)));
    // A real error still is one.
    let err = rtnl.add_addr(999_999, &vip4()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENODEV), "{err}");
}

/// Inside the namespace: delete the VIPs (twice: the second delete must be accepted).
fn phase_del() {
    let mut rtnl = Rtnl::open().unwrap();
    let eth0 = rtnl.link_by_name("eth0").unwrap();
    for _ in 0..2 {
        rtnl.del_addr(eth0.ifindex, &vip4()).unwrap();
        rtnl.del_addr(eth0.ifindex, &vip6()).unwrap();
    }
    let addrs = rtnl.ipv4_addrs(eth0.ifindex).unwrap();
    assert_eq!(
        addrs,
        vec![a4([192, 0, 2, 1], 24, false), a4([192, 0, 2, 2], 24, true)]
    );
}

/// Waits (bounded) for a link event on `ifindex` matching `want`; returns how long it took.
fn wait_event(mon: &mut LinkMonitor, ifindex: u32, want: impl Fn(&LinkEvent) -> bool) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < Duration::from_secs(3) {
        let mut fds = [PollFd::new(mon.fd(), PollFlags::POLLIN)];
        poll(&mut fds, PollTimeout::from(100u16)).unwrap();
        let mut found = false;
        let drained = mon
            .drain(&mut buf, |e| {
                if let Event::Link(e) = e {
                    eprintln!("link event: {e:?}");
                    found |= e.ifindex == ifindex && want(&e);
                }
            })
            .unwrap();
        assert!(!drained.overrun);
        if found {
            return start.elapsed();
        }
    }
    panic!("no matching link event for ifindex {ifindex} within 3 s");
}

/// Inside the namespace: the monitor must see eth0 lose carrier when its peer goes down (eth0
/// itself stays administratively up), and get it back.
fn phase_monitor() {
    let mut rtnl = Rtnl::open().unwrap();
    let mut mon = LinkMonitor::open().unwrap();
    let eth0 = rtnl.link_by_name("eth0").unwrap();
    assert!(eth0.running);
    // Nothing queued yet: drain returns at once without events.
    let mut buf = [0u8; 4096];
    let mut n = 0;
    let d = mon.drain(&mut buf, |_| n += 1).unwrap();
    assert_eq!((n, d.overrun, d.more), (0, false, false));

    assert!(Command::new("ip")
        .args(["link", "set", "peer0", "down"])
        .status()
        .unwrap()
        .success());
    let took = wait_event(&mut mon, eth0.ifindex, |e| {
        e.up && !e.running && !e.removed && e.name == "eth0"
    });
    eprintln!("carrier loss seen after {took:?}");
    let now = rtnl.link_by_name("eth0").unwrap();
    assert!(now.up && !now.running, "{now:?}");

    assert!(Command::new("ip")
        .args(["link", "set", "peer0", "up"])
        .status()
        .unwrap()
        .success());
    let took = wait_event(&mut mon, eth0.ifindex, |e| e.up && e.running);
    eprintln!("carrier back after {took:?}");
    assert!(rtnl.link_by_name("eth0").unwrap().running);
}
