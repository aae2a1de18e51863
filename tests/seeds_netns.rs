//! The configurations the project's seed documents show (../shared/seeds/), with their
//! keywords and our addresses and interfaces, running as the documents describe. The nginx
//! check of seed 001 is in tests/hooks_netns.rs (`failing_check_script_...`), its mail in
//! `smtp_alerts_...`.
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

const RS: Daemon = Daemon::Rs;
const VIP2: &str = "192.0.2.101";

/// `notify.sh WORD`: appends WORD to `log`, as the seeds' notify scripts log transitions.
fn notify_script(dir: &Path, node: &str) -> (String, std::path::PathBuf) {
    let script = dir.join(format!("{node}-notify.sh"));
    let log = dir.join(format!("{node}-notify.log"));
    write_script(
        &script,
        &format!(
            "#!/bin/sh
echo \"$1\" >> {}
",
            log.display()
        ),
    );
    (script.display().to_string(), log)
}

/// Seed 000's "dual master" example: two instances, each router master of one, VIPs with a
/// `label`, notify_master/backup/fault scripts told the state as an argument, tracked eth0.
fn dual_master(node: &str, mine: u8, notify: &str) -> String {
    let (p1, p2) = if mine == 1 { (100, 98) } else { (98, 100) };
    let (s1, s2) = if mine == 1 {
        ("MASTER", "BACKUP")
    } else {
        ("BACKUP", "MASTER")
    };
    let inst = |name: &str, state: &str, vrid: u8, prio: u8, pass: &str, vip: &str, label: &str| {
        format!(
            "vrrp_instance {name} {{\n    state {state}\n    interface eth0\n    virtual_router_id {vrid}\n    \
             priority {prio}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        \
             auth_pass {pass}\n    }}\n    virtual_ipaddress {{\n        {vip}/24 dev eth0 label {label}\n    }}\n    \
             track_interface {{\n        eth0\n    }}\n    notify_master \"{notify} master\"\n    \
             notify_backup \"{notify} backup\"\n    notify_fault \"{notify} fault\"\n}}\n"
        )
    };
    format!(
        "! Configuration File for keepalived\nglobal_defs {{\n    notification_email {{\n        root@localhost\n    }}\n    \
         notification_email_from keepalived@localhost\n    smtp_connect_timeout 30\n    router_id {node}\n}}\n\
         {}{}",
        inst("VI_1", s1, 6, p1, "571f97b2", VIP, "eth0:1"),
        inst("VI_2", s2, 8, p2, "578f07b2", VIP2, "eth0:2"),
    )
}

#[test]
fn seed000_dual_master_each_router_serves_one_vip_and_takes_both_on_failure() {
    let Some(mut lab) = Lab::new("seed000", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let (n1s, n1log) = notify_script(&dir, "n1");
    let (n2s, _) = notify_script(&dir, "n2");
    lab.start("n1", RS, &dual_master("node1", 1, &n1s));
    lab.start("n2", RS, &dual_master("node2", 2, &n2s));
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(8), "node1 serves VI_1");
    lab.wait_holders(VIP2, &["n2"], Duration::from_secs(8), "node2 serves VI_2");
    let addrs = std::process::Command::new("ip")
        .args(["-n", &lab.netns("n1"), "-o", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    let addrs = String::from_utf8_lossy(&addrs.stdout).to_string();
    assert!(
        addrs.contains("eth0:1"),
        "the VIP carries its label: {addrs}"
    );
    // node1's link fails: FAULT there, node2 serves both.
    lab.cut("n1");
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(6), "node2 takes VI_1");
    lab.restore("n1");
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "node1 takes VI_1 back",
    );
    lab.wait_holders(VIP2, &["n2"], Duration::from_secs(1), "VI_2 stays on node2");
    lab.stop("n1");
    // notify_* got the word the seed's script switches on, in order, for both instances.
    let got = lines(&n1log);
    for w in ["master", "backup", "fault"] {
        assert!(got.iter().any(|l| l == w), "{w} in {got:?}");
    }
    let vi1_fault = got.iter().position(|l| l == "fault").unwrap();
    assert!(
        got[vi1_fault..].iter().any(|l| l == "master"),
        "master again after the fault: {got:?}"
    );
}

/// Seed 004's unicast master/slave for a cloud VPC: unicast peers, nopreempt, notify_* with
/// the state as argument (and notify_stop), garp_master_delay 1, garp_master_refresh 5,
/// track_interface eth0, vrrp_garp_interval 0 and vrrp_gna_interval 0.
fn vpc(me: &str, peer: &str, prio: u8, notify: &str) -> String {
    format!(
        "global_defs {{\n    notification_email {{\n    }}\n    notification_email_from Alexandre.Cassen@firewall.loc\n    \
         smtp_connect_timeout 30\n    router_id LVS_DEVEL\n    vrrp_garp_interval 0\n    vrrp_gna_interval 0\n}}\n\
         vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    nopreempt\n    \
         priority {prio}\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n    \
         unicast_src_ip {me}\n    unicast_peer {{\n        {peer}\n    }}\n    virtual_ipaddress {{\n        {VIP}\n    }}\n    \
         notify_master \"{notify} MASTER\"\n    notify_backup \"{notify} BACKUP\"\n    notify_fault \"{notify} FAULT\"\n    \
         notify_stop \"{notify} STOP\"\n    garp_master_delay 1\n    garp_master_refresh 5\n    track_interface {{\n        eth0\n    }}\n}}\n"
    )
}

#[test]
fn seed004_unicast_nopreempt_pair_keeps_the_new_master_when_the_old_one_returns() {
    let Some(mut lab) = Lab::new("seed004", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let (n1s, n1log) = notify_script(&dir, "n1");
    let (n2s, n2log) = notify_script(&dir, "n2");
    let (a1, a2) = (lab.addr("n1"), lab.addr("n2"));
    lab.start("n1", RS, &vpc(&a1, &a2, 50, &n1s));
    lab.start("n2", RS, &vpc(&a2, &a1, 30, &n2s));
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "the higher priority wins",
    );
    lab.wait_client_ping(VIP, Duration::from_secs(3), "the client reaches the VIP");
    lab.stop("n1");
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(3),
        "the backup takes over",
    );
    // Non-preemptive: the master that comes back stays BACKUP.
    lab.start("n1", RS, &vpc(&a1, &a2, 50, &n1s));
    lab.hold_holders(
        VIP,
        &["n2"],
        Duration::from_secs(5),
        "nopreempt: n2 keeps the VIP",
    );
    lab.stop("n1");
    lab.stop("n2");
    assert_eq!(
        lines(&n1log),
        ["BACKUP", "MASTER", "STOP", "BACKUP", "STOP"],
        "n1's notify scripts"
    );
    assert_eq!(
        lines(&n2log),
        ["BACKUP", "MASTER", "STOP"],
        "n2's notify scripts"
    );
}
