//! IPVS against a real kernel through `io::ipvs`: program services and destinations, read the
//! kernel's table back, reconcile to nothing, 10,000 destinations timed, errors explained.
//!
//! The host kernel has no IPVS: these tests are ignored there, and
//! `board/qemu-x86_64/scenarios/ipvs.sh` runs them as root inside the lab VM
//! (`--ignored --test-threads=1`: they share the kernel's one table and each starts by
//! flushing it).
#![cfg(feature = "lb")]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use keepalived_rs::io::ipvs::{Ipvs, OpenError};
use keepalived_rs::ipvs::{
    reconcile, teardown, Dest, FwdMethod, Op, Protocol, Service, ServiceKey, Table, VirtualService,
};
use keepalived_rs::netlink::ipvs::{SVC_F_PERSISTENT, SVC_F_SCHED1, SVC_F_SCHED2};

const NEEDS_IPVS: &str =
    "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM";

fn open_flushed() -> Ipvs {
    let mut ipvs = match Ipvs::open() {
        Ok(i) => i,
        Err(e) => panic!("{e} ({NEEDS_IPVS})"),
    };
    let failures = ipvs.apply(&[Op::Flush]).unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(ipvs.dump().unwrap().is_empty());
    ipvs
}

fn vip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))
}

fn tcp(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: vip(),
        port,
    }
}

fn dest(last: u8, port: u16, fwd: FwdMethod, weight: i32) -> Dest {
    Dest {
        addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
        port,
        fwd,
        weight,
        u_thresh: 0,
        l_thresh: 0,
    }
}

/// Four services of every kind with NAT, DR and TUN destinations.
fn lab_table() -> Vec<VirtualService> {
    let web = VirtualService {
        service: Service::new(tcp(80), "wlc").unwrap(),
        dests: vec![
            dest(1, 8080, FwdMethod::Masq, 1),
            dest(2, 80, FwdMethod::DirectRoute, 2),
            dest(3, 80, FwdMethod::Tunnel, 3),
            Dest {
                u_thresh: 100,
                l_thresh: 10,
                ..dest(4, 8080, FwdMethod::Masq, 0)
            },
        ],
    };
    let fwm = VirtualService {
        service: Service::new(
            ServiceKey::Fwmark {
                ipv6: false,
                mark: 7,
            },
            "rr",
        )
        .unwrap(),
        dests: vec![
            dest(5, 0, FwdMethod::DirectRoute, 1),
            dest(6, 0, FwdMethod::DirectRoute, 1),
        ],
    };
    let mut dns_svc = Service::new(
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: vip(),
            port: 53,
        },
        "rr",
    )
    .unwrap();
    dns_svc.flags = SVC_F_PERSISTENT;
    dns_svc.timeout = 300;
    dns_svc.netmask = Service::ipv4_netmask(Ipv4Addr::new(255, 255, 255, 0));
    let dns = VirtualService {
        service: dns_svc,
        dests: vec![dest(7, 53, FwdMethod::Masq, 1)],
    };
    let mut v6_svc = Service::new(
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "2001:db8::100".parse().unwrap(),
            port: 443,
        },
        "sh",
    )
    .unwrap();
    v6_svc.flags = SVC_F_SCHED1 | SVC_F_SCHED2; // sh-fallback, sh-port
    let v6 = VirtualService {
        service: v6_svc,
        dests: vec![Dest {
            addr: "2001:db8::7".parse().unwrap(),
            ..dest(0, 443, FwdMethod::Masq, 1)
        }],
    };
    vec![web, fwm, dns, v6]
}

fn apply_ok(ipvs: &mut Ipvs, ops: &[Op]) {
    let failures = ipvs.apply(ops).unwrap();
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
#[ignore = "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM"]
fn program_read_back_and_reconcile() {
    let mut ipvs = open_flushed();
    let desired = Table::new(lab_table()).unwrap();
    let none = Table::default();

    let ops = reconcile(&desired, &none, &ipvs.dump().unwrap());
    assert_eq!(ops.len(), 4 + 8);
    apply_ok(&mut ipvs, &ops);
    assert_eq!(
        ipvs.dump().unwrap(),
        desired,
        "the kernel holds what we asked"
    );
    assert_eq!(
        reconcile(&desired, &none, &ipvs.dump().unwrap()),
        vec![],
        "second reconcile: nothing to do"
    );

    // A reload that changes one weight: one op, and the kernel has it.
    let mut services = lab_table();
    services[0].dests[1].weight = 9;
    let reweighted = Table::new(services).unwrap();
    let ops = reconcile(&reweighted, &desired, &ipvs.dump().unwrap());
    assert_eq!(
        ops,
        vec![Op::SetDest(tcp(80), reweighted.services()[0].dests[1])]
    );
    apply_ok(&mut ipvs, &ops);
    assert_eq!(
        ipvs.dests(&tcp(80)).unwrap(),
        reweighted.services()[0].dests
    );

    // A reload that removes a real server: one DEL_DEST.
    let mut services = lab_table();
    services[0].dests[1].weight = 9;
    let gone = services[0].dests.remove(0);
    let smaller = Table::new(services).unwrap();
    let ops = reconcile(&smaller, &reweighted, &ipvs.dump().unwrap());
    assert_eq!(ops, vec![Op::DelDest(tcp(80), gone)]);
    apply_ok(&mut ipvs, &ops);
    assert_eq!(ipvs.dump().unwrap(), smaller);

    // A service someone else made survives our reloads and our stop.
    let foreign = Service::new(tcp(22), "rr").unwrap();
    apply_ok(&mut ipvs, &[Op::NewService(foreign.clone())]);
    assert_eq!(reconcile(&smaller, &smaller, &ipvs.dump().unwrap()), vec![]);
    let ops = teardown(&smaller, &ipvs.dump().unwrap());
    assert_eq!(ops.len(), 4);
    apply_ok(&mut ipvs, &ops);
    let left = ipvs.dump().unwrap();
    assert_eq!(left.services().len(), 1);
    assert_eq!(left.services()[0].service, foreign);
    apply_ok(&mut ipvs, &[Op::Flush]);
}

#[test]
#[ignore = "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM"]
fn stale_dump_is_handled() {
    let mut ipvs = open_flushed();
    let s = Service::new(tcp(80), "rr").unwrap();
    let d1 = dest(1, 80, FwdMethod::Masq, 1);
    let d2 = dest(2, 80, FwdMethod::Masq, 1);
    apply_ok(
        &mut ipvs,
        &[Op::NewService(s.clone()), Op::NewDest(tcp(80), d2)],
    );
    // Ops made from a dump that is out of date: a New of what exists becomes a Set, a Set of
    // what is missing becomes a New, deletes of what is gone succeed.
    apply_ok(
        &mut ipvs,
        &[
            Op::NewService(s.clone()),
            Op::SetDest(tcp(80), d1),
            Op::NewDest(tcp(80), Dest { weight: 4, ..d2 }),
            Op::DelDest(tcp(80), dest(3, 80, FwdMethod::Masq, 1)),
            Op::DelService(tcp(81)),
        ],
    );
    assert_eq!(
        ipvs.dests(&tcp(80)).unwrap(),
        vec![d1, Dest { weight: 4, ..d2 }]
    );
    apply_ok(&mut ipvs, &[Op::Flush]);
}

#[test]
#[ignore = "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM"]
fn unknown_scheduler_is_explained() {
    let mut ipvs = open_flushed();
    let s = Service::new(tcp(80), "nosuchsched").unwrap();
    let ops = [
        Op::NewService(s),
        Op::NewDest(tcp(80), dest(1, 80, FwdMethod::Masq, 1)),
    ];
    let failures = ipvs.apply(&ops).unwrap();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0].errno, libc::ENOENT);
    let msg = failures[0].to_string();
    println!("{msg}\n{}", failures[1]);
    assert!(msg.contains("no scheduler \"nosuchsched\""), "{msg}");
    assert!(failures[1].to_string().contains("not in the kernel"));
    assert!(ipvs.dump().unwrap().is_empty());
}

#[test]
#[ignore = "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM"]
fn ten_thousand_dests_timed() {
    // 100 services of 100 destinations, then one service of 10,000. The kernel looks a new
    // destination up in its service's list (and wrr recomputes its weights over the list), so
    // the second shape costs it O(n) per destination.
    let many = (0..100u16)
        .map(|s| VirtualService {
            service: Service::new(tcp(1000 + s), "wrr").unwrap(),
            dests: (1..=100u8)
                .map(|a| dest(a, 80, FwdMethod::Masq, 1))
                .collect(),
        })
        .collect();
    let hundred_services = time_programming("100 services x 100 dests", many);
    // 250 addresses x 40 ports in 198.51.100.0/24 (nothing is sent to them).
    let one = vec![VirtualService {
        service: Service::new(tcp(80), "wrr").unwrap(),
        dests: (1..=250u8)
            .flat_map(|a| (0..40u16).map(move |p| dest(a, 10_000 + p, FwdMethod::Masq, 1)))
            .collect(),
    }];
    time_programming("1 service x 10000 dests", one);
    // Well under a second on x86_64, even under TCG (451 ms measured). The aarch64 lab VM
    // emulates a foreign CPU under TCG, about 3 times slower here (1285 ms measured).
    let budget = if cfg!(target_arch = "x86_64") {
        1.0
    } else {
        3.0
    };
    assert!(
        hundred_services < budget,
        "programming 10,000 destinations took {hundred_services} s"
    );
}

/// Programs `services` into an empty table, checks the result, prints the times; returns
/// the programming time in seconds.
fn time_programming(what: &str, services: Vec<VirtualService>) -> f64 {
    let mut ipvs = open_flushed();
    let desired = Table::new(services).unwrap();
    assert_eq!(desired.dest_count(), 10_000);
    let ops = reconcile(&desired, &Table::default(), &ipvs.dump().unwrap());
    let t = Instant::now();
    apply_ok(&mut ipvs, &ops);
    let program = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let kernel = ipvs.dump().unwrap();
    let dump = t.elapsed().as_secs_f64();
    assert_eq!(kernel, desired);
    let t = Instant::now();
    assert_eq!(reconcile(&desired, &desired, &kernel), vec![]);
    let diff = t.elapsed().as_secs_f64();
    // One check result: one op.
    let vs = &desired.services()[0];
    let d = Dest {
        weight: 0,
        ..vs.dests[vs.dests.len() / 2]
    };
    let t = Instant::now();
    apply_ok(&mut ipvs, &[Op::SetDest(vs.service.key, d)]);
    let one = t.elapsed().as_secs_f64();
    println!(
        "IPVS 10000 dests, {what}: program {:.1} ms ({} ops), dump {:.1} ms, reconcile {:.1} ms, one SET_DEST {:.3} ms",
        program * 1e3,
        ops.len(),
        dump * 1e3,
        diff * 1e3,
        one * 1e3
    );
    apply_ok(&mut ipvs, &[Op::Flush]);
    program
}

/// Not ignored: on a kernel without IPVS (the host), `open` says so with its own error.
#[test]
fn no_ipvs_is_a_typed_error() {
    match Ipvs::open() {
        Err(OpenError::NoIpvs) => {
            assert!(!std::path::Path::new("/proc/net/ip_vs").exists());
            println!("{}", OpenError::NoIpvs);
        }
        Ok(_) => assert!(std::path::Path::new("/proc/net/ip_vs").exists()),
        Err(e) => panic!("{e}"),
    }
}

/// Programs the lab table and leaves it in the kernel: `scenarios/ipvs.sh` runs it alone
/// (`--exact`), then reads `/proc/net/ip_vs`.
#[test]
#[ignore = "needs a kernel with IPVS: board/qemu-x86_64/scenarios/ipvs.sh runs it in the VM"]
fn leave_lab_table_for_proc() {
    let mut ipvs = open_flushed();
    let desired = Table::new(lab_table()).unwrap();
    apply_ok(
        &mut ipvs,
        &reconcile(&desired, &Table::default(), &Table::default()),
    );
    assert_eq!(ipvs.dump().unwrap(), desired);
}
