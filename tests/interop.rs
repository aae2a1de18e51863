//! keepalived-rs and real keepalived 2.2.7 on the same LAN: either one as master, VRRPv2 and
//! v3, multicast and unicast. Each scenario fails over both ways (link cut and restore,
//! SIGTERM and restart), and the VIP holders are recorded throughout: never two masters.
//! At the end both sides' statistics must show adverts received and no receive errors.
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it.

mod common;

use common::*;
use std::time::Duration;

fn scenario(test: &str, master: Daemon, backup: Daemon, n1: Vrrp, n2: Vrrp) {
    let Some(mut lab) = Lab::new(test, 2) else {
        return;
    };
    eprintln!(
        "{test}: n1 {} (priority {}), n2 {} (priority {}), VRRPv{} advert_int {}",
        master.label(),
        n1.priority,
        backup.label(),
        n2.priority,
        n1.version,
        n1.advert_int
    );
    elect(&mut lab, master, backup, &n1, &n2);
    lab.hold_holders(VIP, &["n1"], n1.advert() * 3, "n1 stays master");

    // Master -> backup and back by link.
    cut_and_restore(&mut lab, &n2);

    // Master -> backup by stop, back by restart.
    sigterm_failover(&mut lab, &n2);
    lab.wait_client_ping(VIP, Duration::from_secs(2), "the client reaches n2");
    let s2 = lab.stats("n2");
    lab.start("n1", master, &n1.conf());
    lab.wait_holders(
        VIP,
        &["n1"],
        takeover_bound(&n1) + Duration::from_secs(1),
        "restarted n1 preempts",
    );
    lab.wait_client_ping(VIP, Duration::from_secs(2), "the client reaches n1 again");
    lab.hold_holders(VIP, &["n1"], n1.advert() * 3, "n1 stays master");

    // Both sides understood every advert the other sent.
    assert!(
        s2.get("VI_1", "Priority Zero/Received").unwrap_or(0) >= 1,
        "n2 ({}) did not count the priority 0 advert of n1 ({}):\n{}",
        backup.label(),
        master.label(),
        s2.text
    );
    for (node, d) in [("n1", master), ("n2", backup)] {
        let s = lab.stats(node);
        assert!(
            s.get("VI_1", "Advertisements/Received").unwrap_or(0) >= 1,
            "{node} ({}) received no advert:\n{}",
            d.label(),
            s.text
        );
        assert_eq!(
            s.receive_errors("VI_1"),
            0,
            "{node} ({}) rejected adverts of the other implementation:\n{}",
            d.label(),
            s.text
        );
    }
    lab.assert_never_two_holders(VIP, &["n1", "n2"], OVERLAP_ALLOWED);
}

#[test]
fn v2_rs_master_keepalived_backup() {
    scenario(
        "interop_v2_rs_ka",
        Daemon::Rs,
        Daemon::Keepalived,
        Vrrp::v2(100),
        Vrrp::v2(90),
    );
}

#[test]
fn v2_keepalived_master_rs_backup() {
    scenario(
        "interop_v2_ka_rs",
        Daemon::Keepalived,
        Daemon::Rs,
        Vrrp::v2(100),
        Vrrp::v2(90),
    );
}

#[test]
fn v2_auth_rs_master_keepalived_backup() {
    scenario(
        "interop_v2a_rs_ka",
        Daemon::Rs,
        Daemon::Keepalived,
        Vrrp::v2(100).auth("secret"),
        Vrrp::v2(90).auth("secret"),
    );
}

#[test]
fn v3_rs_master_keepalived_backup() {
    scenario(
        "interop_v3_rs_ka",
        Daemon::Rs,
        Daemon::Keepalived,
        Vrrp::v3(100, "0.2"),
        Vrrp::v3(90, "0.2"),
    );
}

#[test]
fn v3_keepalived_master_rs_backup() {
    scenario(
        "interop_v3_ka_rs",
        Daemon::Keepalived,
        Daemon::Rs,
        Vrrp::v3(100, "0.2"),
        Vrrp::v3(90, "0.2"),
    );
}

#[test]
fn v3_unicast_keepalived_master_rs_backup() {
    scenario(
        "interop_v3u_ka_rs",
        Daemon::Keepalived,
        Daemon::Rs,
        Vrrp::v3(100, "0.2").unicast("192.0.2.1", &["192.0.2.2"]),
        Vrrp::v3(90, "0.2").unicast("192.0.2.2", &["192.0.2.1"]),
    );
}

#[test]
fn v3_unicast_rs_master_keepalived_backup() {
    scenario(
        "interop_v3u_rs_ka",
        Daemon::Rs,
        Daemon::Keepalived,
        Vrrp::v3(100, "0.2").unicast("192.0.2.1", &["192.0.2.2"]),
        Vrrp::v3(90, "0.2").unicast("192.0.2.2", &["192.0.2.1"]),
    );
}
