//! Host hooks in network namespaces, as a user sees them: a failing check script hands the VIP
//! over and a recovering one takes it back, weight 0 means FAULT, a tracked interface going
//! down is FAULT, notify scripts and the FIFO are told exactly the transitions that happened in
//! order, a hanging script is killed at its timeout without a missed advert, and every signal
//! keepalived names leaves the daemon running.
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it,
//! `KEEPALIVED_RS_BIN=/usr/sbin/keepalived` runs the same scenarios with real keepalived.

mod common;

use common::*;
use std::path::Path;
use std::time::Duration;

const RS: Daemon = Daemon::Rs;

/// `conf` with a `vrrp_script` block and `extra` lines added to the instance.
fn with_hooks(conf: &str, script: &str, extra: &str) -> String {
    let conf = conf.replacen(
        "vrrp_instance VI_1 {\n",
        &format!("vrrp_instance VI_1 {{\n{extra}\n"),
        1,
    );
    format!("{script}\n{conf}")
}

/// A script that records its arguments, one line per run.
fn recorder(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let log = dir.join(format!("{name}.log"));
    write_script(
        &path,
        &format!(
            "#!/bin/sh
echo \"$*\" >> {}
",
            log.display()
        ),
    );
    path.display().to_string()
}

#[test]
fn failing_check_script_hands_the_vip_over_and_recovery_takes_it_back() {
    let Some(mut lab) = Lab::new("hooks_script", 2) else {
        return;
    };
    let ok = lab.dir().join("n1-ok");
    std::fs::write(&ok, "").unwrap();
    // keepalived's nginx check shape: a script, interval, weight -30, fall and rise.
    let script = format!(
        "vrrp_script chk_nginx {{\n    script \"/usr/bin/test -e {}\"\n    interval 1\n    \
         weight -30\n    fall 2\n    rise 2\n}}\n",
        ok.display()
    );
    let track = "    track_script {\n        chk_nginx\n    }\n";
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), &script, track));
    lab.start("n2", RS, &b.conf());
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 (100) is master");
    // The check fails: after `fall` (2) failures n1 drops to 70 and n2 (90) takes over.
    std::fs::remove_file(&ok).unwrap();
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(8),
        "the failing check hands over",
    );
    assert!(
        lab.log("n1").contains("VRRP_Script(chk_nginx) failed"),
        "{}",
        lab.log("n1")
    );
    assert!(lab
        .log("n1")
        .contains("Changing effective priority from 100 to 70"));
    // Recovers: after `rise` (2) successes back to 100; n1 preempts.
    std::fs::write(&ok, "").unwrap();
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "the recovered check takes back",
    );
    lab.assert_never_two_holders(VIP, &["n1", "n2"], Duration::from_millis(100));
}

#[test]
fn weight_zero_script_is_fault_and_notify_scripts_and_fifo_see_every_transition_in_order() {
    let Some(mut lab) = Lab::new("hooks_notify", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let ok = dir.join("n1-ok");
    std::fs::write(&ok, "").unwrap();
    let notify = recorder(&dir, "notify.sh");
    let master = recorder(&dir, "master.sh");
    let fifo = dir.join("n1.fifo");
    let script = format!(
        "global_defs {{\n    vrrp_notify_fifo {}\n}}\n\
         vrrp_script chk {{\n    script \"/usr/bin/test -e {}\"\n    interval 1\n}}\n",
        fifo.display(),
        ok.display()
    );
    let track = format!(
        "    track_script {{\n        chk\n    }}\n    notify {notify}\n    notify_master \"{master} became master\"\n"
    );
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), &script, &track));
    // A reader on the FIFO, started once the daemon created it.
    assert!(
        poll_until(Duration::from_secs(5), || fifo.exists()),
        "the FIFO is created"
    );
    let fifo_out = dir.join("fifo.out");
    let mut reader = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("cat {} > {}", fifo.display(), fifo_out.display()))
        .spawn()
        .unwrap();
    lab.start("n2", RS, &b.conf());
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    // Weight 0: a failed check is FAULT, the VIP moves at once to n2.
    std::fs::remove_file(&ok).unwrap();
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(5),
        "weight 0 failure is FAULT",
    );
    std::fs::write(&ok, "").unwrap();
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "back from FAULT, preempts",
    );
    lab.stop("n1");
    let expect = [
        "INSTANCE VI_1 BACKUP 100",
        "INSTANCE VI_1 MASTER 100",
        "INSTANCE VI_1 FAULT 100",
        "INSTANCE VI_1 BACKUP 100",
        "INSTANCE VI_1 MASTER 100",
        "INSTANCE VI_1 STOP 100",
    ];
    let log = dir.join("notify.sh.log");
    assert!(
        poll_until(Duration::from_secs(5), || lines(&log).len() >= expect.len()),
        "notify runs: {:?}",
        lines(&log)
    );
    assert_eq!(
        lines(&log),
        expect,
        "notify is told every transition, in order"
    );
    assert_eq!(
        lines(&dir.join("master.sh.log")),
        ["became master", "became master"],
        "notify_master runs as written, once per MASTER"
    );
    let _ = reader.kill();
    let _ = reader.wait();
    let fifo_lines = lines(&fifo_out);
    let want: Vec<String> = expect
        .iter()
        .map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            format!("{} \"{}\" {} {}", w[0], w[1], w[2], w[3])
        })
        .collect();
    // The reader started after the daemon: it may have missed the first BACKUP line.
    assert!(
        fifo_lines == want || fifo_lines[..] == want[1..],
        "FIFO lines: {fifo_lines:?}"
    );
}

#[test]
fn tracked_interface_down_is_fault_and_up_rejoins() {
    let Some(mut lab) = Lab::new("hooks_trackif", 2) else {
        return;
    };
    lab.ip_in(
        "n1",
        &[
            "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
        ],
    );
    lab.ip_in("n1", &["link", "set", "uplink1", "up"]);
    lab.ip_in("n1", &["link", "set", "uplink0", "up"]);
    let track = "    track_interface {\n        uplink0\n    }\n";
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), "", track));
    lab.start("n2", RS, &b.conf());
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    let t = std::time::Instant::now();
    lab.ip_in("n1", &["link", "set", "uplink0", "down"]);
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(5),
        "tracked link down: FAULT",
    );
    // FAULT follows the link event at once: the VIP leaves n1 within 100 ms of `ip link set`
    // returning (the event itself comes a little later; this bound includes it).
    let gone = lab.deleted_at("n1", VIP, t).expect("n1 gave the VIP up");
    assert!(
        gone.duration_since(t) < Duration::from_millis(100),
        "FAULT {:?} after the link went down:\n{}",
        gone.duration_since(t),
        lab.timeline(VIP, t)
    );
    assert!(
        lab.log("n1").contains("Entering FAULT STATE"),
        "{}",
        lab.log("n1")
    );
    lab.ip_in("n1", &["link", "set", "uplink0", "up"]);
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "tracked link up: rejoins",
    );
}

#[test]
fn hanging_script_is_killed_at_its_timeout_and_the_peer_misses_no_advert() {
    let Some(mut lab) = Lab::new("hooks_hang", 2) else {
        return;
    };
    let script = "vrrp_script hang {\n    script \"/bin/sleep 30\"\n    interval 1\n    \
                  timeout 1\n    weight -5\n}\n";
    let track = "    track_script {\n        hang\n    }\n";
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), script, track));
    lab.start("n2", RS, &b.conf());
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    // Over 4 s the script hangs 4 times: each is killed at 1 s, n1 stays master at 95 > 90.
    lab.hold_holders(VIP, &["n1"], Duration::from_secs(4), "n1 keeps the VIP");
    assert!(
        lab.log("n1").contains("VRRP_Script(hang) timed_out"),
        "{}",
        lab.log("n1")
    );
    let ns = lab.netns("n1");
    let out = std::process::Command::new("ip")
        .args(["netns", "pids", &ns])
        .output()
        .unwrap();
    let sleeps = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline"))
                .is_ok_and(|c| c.starts_with("/bin/sleep"))
        })
        .count();
    assert!(
        sleeps <= 1,
        "{sleeps} hanging scripts left running: killed at the timeout"
    );
    let s2 = lab.stats("n2");
    assert_eq!(s2.get("VI_1", "Became master"), Some(0), "{}", s2.text);
}

#[test]
fn every_signal_keepalived_names_leaves_the_daemon_running_with_one_vip_holder() {
    let Some(mut lab) = Lab::new("hooks_signals", 2) else {
        return;
    };
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    elect(&mut lab, RS, RS, &a, &b);
    let bin = Daemon::Rs.program();
    let signum = |name: &str| -> i32 {
        let out = std::process::Command::new(&bin)
            .arg(format!("--signum={name}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let mut sent = Vec::new();
    for name in ["DATA", "STATS", "STATS_CLEAR", "JSON", "RELOAD"] {
        sent.push((name.to_string(), signum(name)));
    }
    sent.push(("SIGALRM".into(), 14));
    sent.push(("SIGRTMIN+5".into(), 39));
    for (name, n) in &sent {
        let pid = lab.pid("n1");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::try_from(*n).ok(),
        )
        .unwrap_or_else(|e| panic!("kill -{n} ({name}): {e}"));
        if nix::sys::signal::Signal::try_from(*n).is_err() {
            // Real-time signals are not in nix's enum: send them with kill(1).
            let st = std::process::Command::new("kill")
                .args([format!("-{n}"), pid.to_string()])
                .status()
                .unwrap();
            assert!(st.success());
        }
        std::thread::sleep(Duration::from_millis(300));
        lab.check_alive();
    }
    lab.hold_holders(
        VIP,
        &["n1"],
        Duration::from_secs(1),
        "n1 still master after the signals",
    );
    // And STOP still stops it cleanly: the backup takes over.
    lab.stop("n1");
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(5), "after SIGTERM");
}

/// keepalived-rs and real keepalived in one group, each with a check script (weight -30): the
/// master's failing script hands the VIP to the other, whichever implementation fails.
fn interop_script_handover(lab_name: &str, master: Daemon, backup: Daemon) {
    let Some(mut lab) = Lab::new(lab_name, 2) else {
        return;
    };
    let conf = |node: &str, prio: u8| {
        let ok = lab.dir().join(format!("{node}-ok"));
        std::fs::write(&ok, "").unwrap();
        let script = format!(
            "vrrp_script chk {{\n    script \"/usr/bin/test -e {}\"\n    interval 1\n    \
             weight -30\n    fall 1\n    rise 1\n}}\n",
            ok.display()
        );
        let track = "    track_script {\n        chk\n    }\n";
        (
            ok,
            with_hooks(&Vrrp::v3(prio, "0.2").conf(), &script, track),
        )
    };
    let (ok1, c1) = conf("n1", 100);
    let (_ok2, c2) = conf("n2", 95);
    lab.start("n1", master, &c1);
    lab.start("n2", backup, &c2);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 (100) is master");
    std::fs::remove_file(&ok1).unwrap();
    let what = format!(
        "{}'s failing script hands over to {}",
        master.label(),
        backup.label()
    );
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(8), &what);
    std::fs::write(&ok1, "").unwrap();
    lab.wait_holders(
        VIP,
        &["n1"],
        Duration::from_secs(8),
        "recovered: n1 takes back",
    );
    lab.assert_never_two_holders(VIP, &["n1", "n2"], Duration::from_millis(100));
}

#[test]
fn interop_rs_master_script_fails_keepalived_takes_over() {
    interop_script_handover("hooks_irs", RS, Daemon::Keepalived);
}

#[test]
fn interop_keepalived_master_script_fails_rs_takes_over() {
    interop_script_handover("hooks_ika", Daemon::Keepalived, RS);
}

#[test]
fn sync_group_moves_both_vips_and_notifies_the_group() {
    let Some(mut lab) = Lab::new("hooks_sync", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let gnotify = recorder(&dir, "group.sh");
    let conf = |prio: u8, node: &str| {
        let base = Vrrp::v3(prio, "0.2").conf();
        let second = base
            .split("vrrp_instance")
            .nth(1)
            .unwrap()
            .replacen(" VI_1 {", " VI_2 {", 1)
            .replace("virtual_router_id 51", "virtual_router_id 52")
            .replace(&format!("{VIP}/24"), "192.0.2.101/24")
            .replacen(
                "{\n",
                "{\n    track_interface {\n        uplink0\n    }\n",
                1,
            );
        let notify = if node == "n1" {
            format!("    notify {gnotify}\n")
        } else {
            String::new()
        };
        format!(
            "{base}vrrp_instance{second}vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_2\n    }}\n{notify}}}\n"
        )
    };
    for node in ["n1", "n2"] {
        for args in [
            &[
                "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
            ][..],
            &["link", "set", "uplink1", "up"],
            &["link", "set", "uplink0", "up"],
        ] {
            lab.ip_in(node, args);
        }
    }
    lab.start("n1", RS, &conf(100, "n1"));
    lab.start("n2", RS, &conf(90, "n2"));
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 holds VI_1");
    lab.wait_holders(
        "192.0.2.101",
        &["n1"],
        Duration::from_secs(10),
        "n1 holds VI_2",
    );
    // VI_2's tracked interface goes down: the whole group moves to n2.
    lab.ip_in("n1", &["link", "set", "uplink0", "down"]);
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(5),
        "VI_1 follows VI_2 to n2",
    );
    lab.wait_holders("192.0.2.101", &["n2"], Duration::from_secs(5), "VI_2 on n2");
    lab.ip_in("n1", &["link", "set", "uplink0", "up"]);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(8), "the group comes back");
    lab.wait_holders("192.0.2.101", &["n1"], Duration::from_secs(8), "VI_2 back");
    lab.stop("n1");
    let log = dir.join("group.sh.log");
    let expect = [
        "GROUP G BACKUP 0",
        "GROUP G MASTER 0",
        "GROUP G FAULT 0",
        "GROUP G BACKUP 0",
        "GROUP G MASTER 0",
        "GROUP G STOP 0",
    ];
    assert!(
        poll_until(Duration::from_secs(5), || lines(&log).len() >= expect.len()),
        "group notify runs: {:?}",
        lines(&log)
    );
    assert_eq!(lines(&log), expect);
}

/// Every mail in a Maildir's `new/`, as text.
fn maildir_mails(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join("new"))
        .map(|rd| {
            rd.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn smtp_alerts_reach_a_real_server_and_a_dead_server_delays_nothing() {
    let Some(mut lab) = Lab::new("hooks_smtp", 2) else {
        return;
    };
    let maildir = lab.dir().join("Maildir");
    // A real SMTP server on the client host (192.0.2.3:2525).
    let mut server = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.netns("c"),
            "/usr/bin/python3",
            "-m",
            "aiosmtpd",
            "-n",
        ])
        .args(["-l", "192.0.2.3:2525", "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .spawn()
        .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
    let up = poll_until(Duration::from_secs(10), || {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &lab.netns("c"),
                "ss",
                "-ltn",
                "sport = :2525",
            ])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("2525"))
    });
    assert!(up, "aiosmtpd listens");
    let global = |server: &str| {
        format!(
            "global_defs {{\n    router_id test\n    notification_email {{\n        admin@example.com\n        \
             ops@example.com\n    }}\n    notification_email_from kr@example.com\n    \
             smtp_server {server}\n    smtp_connect_timeout 2\n    smtp_alert\n}}\n"
        )
    };
    let strip = |c: String| c.replacen("global_defs {\n    router_id test\n}\n", "", 1);
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start(
        "n1",
        RS,
        &format!("{}{}", global("192.0.2.3 2525"), strip(a.conf())),
    );
    // n2's server is a dead address: its alerts time out, its VRRP does not notice.
    lab.start(
        "n2",
        RS,
        &format!("{}{}", global("192.0.2.99 2525"), strip(b.conf())),
    );
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    let mastered = poll_until(Duration::from_secs(10), || {
        maildir_mails(&maildir)
            .iter()
            .any(|m| m.contains("Subject: [test] VRRP Instance VI_1 - Entering MASTER state"))
    });
    let mails = maildir_mails(&maildir);
    assert!(
        mastered,
        "the MASTER alert arrives: {mails:#?}\n{}",
        lab.log("n1")
    );
    let m = mails.iter().find(|m| m.contains("MASTER state")).unwrap();
    assert!(
        m.contains("From: kr@example.com") || m.contains("From: <kr@example.com>"),
        "{m}"
    );
    assert!(
        m.contains("admin@example.com") && m.contains("ops@example.com"),
        "{m}"
    );
    assert!(
        m.contains("=> VRRP Instance is now owning VRRP VIPs <="),
        "{m}"
    );
    // n2 is still a healthy backup, and takes over on SIGTERM of n1 while its mails fail.
    lab.stop("n1");
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(3), "n2 takes over");
    let stopping = poll_until(Duration::from_secs(5), || {
        maildir_mails(&maildir)
            .iter()
            .any(|m| m.contains("VI_1 - Stopping"))
    });
    assert!(
        stopping,
        "n1's Stopping alert went out before it exited:\n{}",
        lab.log("n1")
    );
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn a_vip_deleted_from_the_master_comes_back_within_one_advert_interval() {
    let Some(mut lab) = Lab::new("hooks_restore", 2) else {
        return;
    };
    let (a, b) = (Vrrp::v3(100, "1"), Vrrp::v3(90, "1"));
    elect(&mut lab, RS, RS, &a, &b);
    // An operator (or a network manager reconfiguring the interface) deletes the VIP.
    let t = std::time::Instant::now();
    lab.ip_in("n1", &["addr", "del", &format!("{VIP}/24"), "dev", "eth0"]);
    let back = poll_until(Duration::from_secs(1), || {
        lab.holders_now(VIP).contains(&"n1".to_string())
    });
    assert!(
        back,
        "the VIP is back on n1 within one advert interval (1 s)"
    );
    assert!(t.elapsed() < a.advert());
    assert!(lab
        .log("n1")
        .contains("was deleted while master: restoring it"));
    // And only n1 holds it: the backup was never involved.
    lab.hold_holders(VIP, &["n1"], Duration::from_millis(1500), "n1 keeps it");
    lab.wait_client_ping(
        VIP,
        Duration::from_secs(3),
        "the client reaches the VIP again",
    );
}

/// VI_1 (VRID 51, 192.0.2.100) and VI_2 (VRID 52, `vips2`), in the order given.
fn pair_conf(prio: u8, vips2: &str, notify: &str, vi2_first: bool) -> String {
    let inst = |name: &str, vrid: u8, vips: &str| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
             priority {prio}\n    advert_int 0.2\n    version 3\n    notify {notify}\n    \
             virtual_ipaddress {{\n{vips}\n    }}\n}}\n"
        )
    };
    let one = inst("VI_1", 51, "        192.0.2.100/24");
    let two = inst("VI_2", 52, vips2);
    if vi2_first {
        format!("# reordered\n{two}\n{one}")
    } else {
        format!("{one}{two}")
    }
}

#[test]
fn reload_touches_only_what_changed_refuses_a_broken_file_and_survives_a_storm() {
    let Some(mut lab) = Lab::new("hooks_reload", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let notify = recorder(&dir, "n.sh");
    let quiet = "/bin/true";
    lab.start(
        "n1",
        RS,
        &pair_conf(100, "        192.0.2.101/24", &notify, false),
    );
    lab.start(
        "n2",
        RS,
        &pair_conf(90, "        192.0.2.101/24", quiet, false),
    );
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 holds VI_1");
    lab.wait_holders(
        "192.0.2.101",
        &["n1"],
        Duration::from_secs(10),
        "n1 holds VI_2",
    );
    let log = dir.join("n.sh.log");
    assert!(poll_until(Duration::from_secs(3), || lines(&log).len() == 4));
    let conf = lab.conf_path("n1");
    let hup = |lab: &Lab| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(lab.pid("n1")),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap()
    };
    // VI_2 gains an address (excluded from adverts, so the peer's unchanged VI_2 still
    // accepts them); VI_1 is unchanged but written after it, with a comment.
    let vips2 =
        "        192.0.2.101/24\n    }\n    virtual_ipaddress_excluded {\n        192.0.2.102/24";
    std::fs::write(&conf, pair_conf(100, vips2, &notify, true)).unwrap();
    let t = std::time::Instant::now();
    hup(&lab);
    lab.wait_holders(
        "192.0.2.102",
        &["n1"],
        Duration::from_secs(3),
        "the new VIP is added",
    );
    lab.hold_holders(VIP, &["n1"], Duration::from_secs(1), "VI_1 untouched");
    lab.hold_holders(
        "192.0.2.101",
        &["n1"],
        Duration::from_millis(200),
        "VI_2 kept",
    );
    assert!(
        !lab.timeline(VIP, t).contains("deleted")
            && !lab.timeline("192.0.2.101", t).contains("deleted"),
        "no address left n1 during the reload:\n{}",
        lab.timeline(VIP, t)
    );
    assert_eq!(
        lines(&log).len(),
        4,
        "no notify for instances that did not move: {:?}",
        lines(&log)
    );
    assert!(lab.log("n1").contains("Reload done"), "{}", lab.log("n1"));

    // A broken file: refused with file:line, nothing changes.
    std::fs::write(&conf, "vrrp_instance VI_1 {\n    interface eth0\n").unwrap();
    hup(&lab);
    assert!(poll_until(Duration::from_secs(3), || lab
        .log("n1")
        .contains("Reload refused")));
    assert!(
        lab.log("n1")
            .contains(":1: vrrp_instance: block is not closed"),
        "{}",
        lab.log("n1")
    );
    lab.hold_holders(
        VIP,
        &["n1"],
        Duration::from_millis(500),
        "still master after the refusal",
    );

    // A storm: 100 SIGHUPs within a second with a good file. No transition, no notify.
    std::fs::write(&conf, pair_conf(100, vips2, &notify, false)).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..100 {
        hup(&lab);
        std::thread::sleep(Duration::from_millis(8));
    }
    lab.hold_holders(
        VIP,
        &["n1"],
        Duration::from_secs(1),
        "master through the storm",
    );
    lab.check_alive();
    assert!(!lab.timeline(VIP, t).contains("deleted"));
    assert_eq!(lines(&log).len(), 4, "{:?}", lines(&log));
    let s2 = lab.stats("n2");
    assert_eq!(s2.get("VI_1", "Became master"), Some(0), "{}", s2.text);
}

#[test]
fn track_file_value_change_moves_the_priority_and_hands_over() {
    let Some(mut lab) = Lab::new("hooks_file", 2) else {
        return;
    };
    let file = lab.dir().join("n1.prio");
    let block = format!(
        "track_file adj {{\n    file {}\n    weight 1\n    init_file 0\n}}\n",
        file.display()
    );
    let track = "    track_file {\n        adj\n    }\n";
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), &block, track));
    lab.start("n2", RS, &b.conf());
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 (100) is master");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap().trim(),
        "0",
        "init_file wrote 0"
    );
    // An operator lowers n1 by 20 for maintenance: 80 < 90, n2 takes over (no polling: inotify).
    std::fs::write(&file, "-20\n").unwrap();
    lab.wait_holders(
        VIP,
        &["n2"],
        Duration::from_secs(3),
        "the file moved the priority",
    );
    assert!(lab
        .log("n1")
        .contains("Changing effective priority from 100 to 80"));
    // The file is removed: counts as 0, n1 preempts back.
    std::fs::remove_file(&file).unwrap();
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(5), "a deleted file is 0");
}

#[test]
fn scripts_that_flood_output_or_leave_a_daemon_behind_never_stall_the_loop() {
    let Some(mut lab) = Lab::new("hooks_badscripts", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    // A check that starts a daemon keeping stdout/stderr open and exits 0 at once, and a
    // notify script that writes 64 MiB to stdout.
    let fork = dir.join("forker.sh");
    write_script(
        &fork,
        "#!/bin/sh
sleep 30 &
exit 0
",
    );
    let flood = dir.join("flood.sh");
    write_script(
        &flood,
        "#!/bin/sh
head -c 67108864 /dev/zero
",
    );
    let missing = dir.join("does-not-exist.sh");
    let script = format!(
        "vrrp_script forker {{\n    script {}\n    interval 1\n    weight 0\n}}\n\
         vrrp_script gone {{\n    script {}\n    interval 1\n    weight -5\n}}\n",
        fork.display(),
        missing.display()
    );
    let track = format!(
        "    track_script {{\n        forker\n        gone\n    }}\n    notify {}\n    notify_backup {}\n",
        flood.display(),
        missing.display()
    );
    let (a, b) = (Vrrp::v3(100, "0.2"), Vrrp::v3(90, "0.2"));
    lab.start("n1", RS, &with_hooks(&a.conf(), &script, &track));
    lab.start("n2", RS, &b.conf());
    // n1 waits in FAULT for its weight-0 check's first verdict; n2 may serve meanwhile.
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    let before = lab.stats("n2").get("VI_1", "Became master");
    lab.hold_holders(VIP, &["n1"], Duration::from_secs(4), "n1 stays master");
    let s2 = lab.stats("n2");
    assert_eq!(s2.get("VI_1", "Became master"), before, "{}", s2.text);
    // The missing script is reported (once), and the instance did not wait for it.
    let log = lab.log("n1");
    assert!(log.contains("does-not-exist.sh"), "{log}");
}
