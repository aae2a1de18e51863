//! Self-tests of the test lab (tests/common): its parsers, and that its split-brain detector
//! does see two masters. These run real keepalived only, so they pass before keepalived-rs
//! works; the netns one is skipped with `KEEPALIVED_RS_SKIP_NETNS=1`.

mod common;

use common::*;
use std::time::Duration;

/// What keepalived 2.2.7 (Debian) wrote to `$TMPDIR/keepalived.stats` on SIGUSR2.
const KEEPALIVED_STATS: &str = "\
VRRP Instance: VI_1
  Advertisements:
    Received: 0
    Sent: 6
  Became master: 1
  Released master: 0
  Packet Errors:
    Length: 0
    TTL: 0
    Invalid Type: 0
    Advertisement Interval: 0
    Address List: 0
  Authentication Errors:
    Invalid Type: 0
    Type Mismatch: 0
    Failure: 1
  Priority Zero:
    Received: 0
    Sent: 0
VRRP Instance: VI_2
  Advertisements:
    Received: 7
    Sent: 0
  Became master: 0
  Released master: 0
  Packet Errors:
    Length: 2
    TTL: 0
    Invalid Type: 0
    Advertisement Interval: 0
    Address List: 0
  Authentication Errors:
    Invalid Type: 0
    Type Mismatch: 0
    Failure: 0
  Priority Zero:
    Received: 1
    Sent: 0
";

#[test]
fn stats_parser_reads_keepalived_format() {
    let s = Stats {
        text: KEEPALIVED_STATS.to_string(),
    };
    assert_eq!(s.get("VI_1", "Advertisements/Sent"), Some(6));
    assert_eq!(s.get("VI_1", "Became master"), Some(1));
    assert_eq!(s.get("VI_1", "Authentication Errors/Failure"), Some(1));
    assert_eq!(s.get("VI_1", "Packet Errors/Invalid Type"), Some(0));
    assert_eq!(s.get("VI_1", "Authentication Errors/Invalid Type"), Some(0));
    assert_eq!(s.receive_errors("VI_1"), 1);
    assert_eq!(s.get("VI_2", "Advertisements/Received"), Some(7));
    assert_eq!(s.get("VI_2", "Priority Zero/Received"), Some(1));
    assert_eq!(s.get("VI_2", "Released master"), Some(0));
    assert_eq!(s.receive_errors("VI_2"), 2);
    assert_eq!(s.get("VI_3", "Became master"), None);
    assert_eq!(s.counters("VI_1").len(), 14);
}

#[test]
fn address_events_are_parsed_from_ip_monitor_lines() {
    let add =
        "3: eth0    inet 192.0.2.100/24 scope global secondary eth0\\       valid_lft forever";
    let del =
        "Deleted 3: eth0    inet 192.0.2.100/24 scope global secondary eth0\\       valid_lft";
    assert_eq!(parse_addr_event(add), Some((true, "192.0.2.100".into())));
    assert_eq!(parse_addr_event(del), Some((false, "192.0.2.100".into())));
    assert_eq!(
        parse_addr_event("3: eth0    inet6 2001:db8::1/64 scope global"),
        Some((true, "2001:db8::1".into()))
    );
    assert_eq!(parse_addr_event("garbage"), None);
}

#[test]
fn timers_follow_the_rfcs() {
    let v2 = Vrrp::v2(90);
    assert_eq!(v2.skew(), Duration::from_secs_f64(166.0 / 256.0));
    assert_eq!(
        v2.master_down(),
        Duration::from_secs_f64(3.0 + 166.0 / 256.0)
    );
    let v3 = Vrrp::v3(90, "0.2");
    assert_eq!(v3.skew(), Duration::from_secs_f64(0.2 * 166.0 / 256.0));
    let conf = Vrrp::v3(100, "0.2")
        .unicast("192.0.2.1", &["192.0.2.2"])
        .conf();
    assert!(conf.contains("version 3") && conf.contains("unicast_peer {\n        192.0.2.2\n"));
    assert!(Vrrp::v2(100).auth("x").conf().contains("auth_type PASS"));
}

/// Two keepalived routers on different virtual router ids cannot hear each other: both take the
/// VIP, and the detector the other tests rely on must say so.
#[test]
fn split_brain_detector_sees_two_masters() {
    let Some(mut lab) = Lab::new("harness_split", 2) else {
        return;
    };
    let a = Vrrp::v3(100, "0.2");
    let mut b = Vrrp::v3(90, "0.2");
    b.vrid = 52;
    lab.start("n1", Daemon::Keepalived, &a.conf());
    lab.start("n2", Daemon::Keepalived, &b.conf());
    lab.wait_holders(
        VIP,
        &["n1", "n2"],
        takeover_bound(&b),
        "both routers hold the VIP",
    );
    std::thread::sleep(Duration::from_millis(500));
    let both = lab.max_overlap(VIP, &["n1", "n2"], lab.started());
    assert!(both >= Duration::from_millis(450), "overlap seen: {both:?}");
    // And the detector ignores a router outside the pair it is asked about.
    assert_eq!(lab.max_overlap(VIP, &["n1"], lab.started()), Duration::ZERO);
    // Stop both: a master removes its VIP on SIGTERM and exits 0.
    assert!(lab.stop("n1").success());
    assert!(lab.stop("n2").success());
    lab.wait_holders(VIP, &[], Duration::from_secs(2), "no one holds the VIP");
}
