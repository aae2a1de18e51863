//! The load balancer in the daemon, as an operator sees it on a host without IPVS (this
//! machine's kernel has none; the VM tests program the real IPVS): the daemon says once that
//! there is no IPVS and keeps VRRP and the checkers running; a real server that stops
//! answering is removed after its retry budget and `notify_down` runs; when it answers again
//! it is added back and `notify_up` runs; a reload keeps a failed server failed.
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it.

mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A script named `name` in `dir` that appends its own name to `log` each time it runs; its
/// path.
fn recorder(dir: &std::path::Path, name: &str, log: &std::path::Path) -> String {
    let p = dir.join(name);
    write_script(
        &p,
        &format!("#!/bin/sh\necho {name} >> {}\n", log.display()),
    );
    p.display().to_string()
}

/// A process the test started; killed and reaped when dropped, also when the test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP listener on the client host, a real process, that accepts and closes every
/// connection.
fn listener(lab: &Lab, port: u16) -> Killed {
    python_listener(lab, port, "")
}

/// A TCP listener on the client host that appends a line to `accepts` for each connection.
fn counting_listener(lab: &Lab, port: u16, accepts: &std::path::Path) -> Killed {
    let note = format!("    open('{}','a').write(a[0]+'\\n')\n", accepts.display());
    python_listener(lab, port, &note)
}

/// A python3 TCP listener on 192.0.2.3:`port` in the client namespace, running `on_accept`
/// (lines indented by four spaces, `a` the peer's address) before closing each connection;
/// returns once it listens.
fn python_listener(lab: &Lab, port: u16, on_accept: &str) -> Killed {
    let code = format!(
        "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('192.0.2.3',{port}))\ns.listen(64)\nwhile True:\n    c,a=s.accept()\n\
         {on_accept}    c.close()\n"
    );
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.netns("c"),
            "/usr/bin/python3",
            "-c",
            &code,
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 runs");
    let up = poll_until(Duration::from_secs(5), || {
        Command::new("ip")
            .args(["netns", "exec", &lab.netns("c"), "ss", "-ltn"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&format!(":{port}")))
    });
    assert!(up, "the listener on port {port} is up");
    Killed(child)
}

/// The pid in the file `-r` (`what` "vrrp") or `-c` ("check") named for the latest router of
/// `node` (tests/common's `Lab::start` passes both), None when there is no such file.
fn child_pidfile(lab: &Lab, node: &str, what: &str) -> Option<i32> {
    let path = lab.conf_path(node).with_extension(format!("{what}.pid"));
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `-P`: VRRP runs (the router becomes master) and the virtual servers are ignored: the real
/// server sees no checker connection, IPVS is not looked for, and the log says why, once,
/// also across a reload. The VRRP pidfile holds the daemon's pid, the checker one is absent.
#[test]
fn vrrp_only_runs_no_checker_and_touches_no_ipvs() {
    let Some(mut lab) = Lab::new("lb_vrrp_only", 1) else {
        return;
    };
    let accepts = lab.dir().join("accepts");
    let _server = counting_listener(&lab, 8080, &accepts);
    let conf = format!(
        "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_kind NAT\n    \
         protocol TCP\n    real_server 192.0.2.3 8080 {{\n        TCP_CHECK {{\n            \
         connect_timeout 1\n        }}\n    }}\n}}\n",
        Vrrp::v3(100, "0.2").conf()
    );
    lab.start_with("n1", Daemon::Rs, &conf, &["-P"]);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    // delay_loop 1: a checker would have connected twice by now.
    std::thread::sleep(Duration::from_millis(2500));
    lab.signal("n1", nix::sys::signal::Signal::SIGHUP);
    assert!(poll_until(Duration::from_secs(3), || lab
        .log("n1")
        .contains("Reload done")));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        lines(&accepts).is_empty(),
        "checker connections: {:?}\n{}",
        lines(&accepts),
        lab.log("n1")
    );
    let log = lab.log("n1");
    assert_eq!(
        lab.log_count("n1", "-P: the health checkers are not run"),
        1,
        "{log}"
    );
    // Without -P this kernel (no IPVS) makes the daemon say so (the test above).
    assert_eq!(lab.log_count("n1", "The kernel has no IPVS"), 0, "{log}");
    assert_eq!(child_pidfile(&lab, "n1", "vrrp"), Some(lab.pid("n1")));
    assert_eq!(child_pidfile(&lab, "n1", "check"), None);
    assert_eq!(lab.holders_now(VIP), ["n1"]);
    lab.check_alive();
}

/// `-C`: no VRRP instance runs (no advert: a lower-priority peer becomes and stays master; no
/// multicast group joined), and the checkers run; `ha_suspend` follows whether the virtual
/// server's address is on the host, as in keepalived's checker process. The checker pidfile
/// holds the daemon's pid, the VRRP one is absent.
#[test]
fn check_only_runs_checkers_and_no_vrrp() {
    let Some(mut lab) = Lab::new("lb_check_only", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let check = dir.join("check");
    let runs = dir.join("runs");
    write_script(&check, "#!/bin/sh\necho run >> \"$1\"\nexit 0\n");
    let conf = format!(
        "{}\nvirtual_server 192.0.2.200 80 {{\n    delay_loop 1\n    lb_kind DR\n    \
         protocol TCP\n    ha_suspend\n    real_server 192.0.2.3 80 {{\n        \
         MISC_CHECK {{\n            misc_path \"{} {}\"\n        }}\n    }}\n}}\n",
        Vrrp::v3(100, "0.2").conf(),
        check.display(),
        runs.display()
    );
    lab.start_with("n1", Daemon::Rs, &conf, &["-C"]);
    lab.start("n2", Daemon::Rs, &Vrrp::v3(90, "0.2").conf());
    // n1's priority 100 would preempt n2 if it sent anything.
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(10), "n2 is master");
    lab.hold_holders(VIP, &["n2"], Duration::from_secs(2), "n1 sends no advert");
    let maddr = lab.ip_in("n1", &["maddr", "show", "dev", "eth0"]);
    assert!(
        !maddr.contains("224.0.0.18"),
        "n1 joined VRRP's group:\n{maddr}"
    );
    // ha_suspend: 192.0.2.200 is not on n1, its checker waits.
    assert!(lines(&runs).is_empty(), "{}", lab.log("n1"));
    lab.ip_in("n1", &["addr", "add", "192.0.2.200/32", "dev", "eth0"]);
    assert!(
        poll_until(Duration::from_secs(5), || lines(&runs).len() >= 2),
        "the checker runs once the address is local: {}",
        lab.log("n1")
    );
    assert!(
        lab.log("n1").contains("Activating healthcheckers for VS"),
        "{}",
        lab.log("n1")
    );
    lab.ip_in("n1", &["addr", "del", "192.0.2.200/32", "dev", "eth0"]);
    assert!(
        poll_until(Duration::from_secs(3), || lab
            .log("n1")
            .contains("Deactivating healthcheckers for VS")),
        "{}",
        lab.log("n1")
    );
    assert_eq!(
        lab.log_count("n1", "-C: VRRP is not run"),
        1,
        "{}",
        lab.log("n1")
    );
    assert_eq!(lab.log_count("n1", "Entering"), 0, "{}", lab.log("n1"));
    assert_eq!(child_pidfile(&lab, "n1", "check"), Some(lab.pid("n1")));
    assert_eq!(child_pidfile(&lab, "n1", "vrrp"), None);
    lab.check_alive();
}

#[test]
fn tcp_check_removes_and_restores_a_real_server_without_ipvs() {
    let Some(mut lab) = Lab::new("lb_tcp", 1) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let log = dir.join("notify.log");
    let script = |name: &str| recorder(&dir, name, &log);
    let (up, down) = (script("up"), script("down"));
    // The lvs_notify_fifo's lines, copied out by its fifo script (which gets the FIFO's path).
    let fifo = dir.join("lvs.fifo");
    let fifo_log = dir.join("fifo.log");
    let reader = dir.join("reader");
    write_script(
        &reader,
        &format!(
            "#!/bin/sh
exec cat \"$1\" >> {}\n",
            fifo_log.display()
        ),
    );
    let server = listener(&lab, 8080);
    let conf = format!(
        "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_algo rr\n    \
         lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.3 8080 {{\n        weight 1\n        \
         notify_up {up}\n        notify_down {down}\n        TCP_CHECK {{\n            \
         connect_timeout 1\n            retry 2\n            delay_before_retry 0.5\n        }}\n    \
         }}\n}}\n",
        Vrrp::v3(100, "0.2").conf().replacen(
            "global_defs {\n",
            &format!(
                "global_defs {{\n    lvs_notify_fifo {}\n    lvs_notify_fifo_script {}\n",
                fifo.display(),
                reader.display()
            ),
            1
        )
    );
    lab.start("n1", Daemon::Rs, &conf);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    assert_eq!(
        lab.log_count("n1", "The kernel has no IPVS"),
        1,
        "{}",
        lab.log("n1")
    );
    // The server stops: down after 1 + retry (2) failed attempts spaced 0.5 s, not before.
    std::thread::sleep(Duration::from_secs(2));
    drop(server);
    let killed = Instant::now();
    let removed = poll_until(Duration::from_secs(8), || {
        lab.log("n1")
            .contains("Removing service [192.0.2.3]:8080 from VS")
    });
    assert!(removed, "{}", lab.log("n1"));
    let took = killed.elapsed();
    assert!(
        took >= Duration::from_millis(1000),
        "down after {took:?}, before its retry budget"
    );
    assert!(
        poll_until(Duration::from_secs(3), || lines(&log) == ["down"]),
        "{:?}",
        lines(&log)
    );
    // Back: added at the next check (delay_loop 1 s), notify_up runs.
    let server = listener(&lab, 8080);
    let added = poll_until(Duration::from_secs(5), || {
        lab.log("n1")
            .contains("Adding service [192.0.2.3]:8080 to VS")
    });
    assert!(added, "{}", lab.log("n1"));
    assert!(
        poll_until(Duration::from_secs(3), || lines(&log) == ["down", "up"]),
        "{:?}",
        lines(&log)
    );
    // A reload while the server is down keeps it down: no "Adding" until it answers.
    drop(server);
    assert!(poll_until(Duration::from_secs(8), || lines(&log).len() == 3));
    lab.signal("n1", nix::sys::signal::Signal::SIGHUP);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        lab.log_count("n1", "Adding service"),
        1,
        "{}",
        lab.log("n1")
    );
    assert_eq!(lines(&log), ["down", "up", "down"]);
    // The same transitions on the FIFO, in keepalived's words; the only server's changes are
    // the virtual server's quorum changes too (quorum 1).
    let rs = "RS [192.0.2.3]:8080 [192.0.2.100]:tcp:80";
    let vs = "VS [192.0.2.100]:tcp:80";
    let want = [
        format!("{rs} DOWN"),
        format!("{vs} DOWN"),
        format!("{rs} UP"),
        format!("{vs} UP"),
        format!("{rs} DOWN"),
        format!("{vs} DOWN"),
    ];
    assert!(
        poll_until(Duration::from_secs(3), || lines(&fifo_log) == want),
        "{:?}",
        lines(&fifo_log)
    );
    // SIGUSR1 also writes keepalived_check.data, as keepalived's checker process does.
    lab.signal("n1", nix::sys::signal::Signal::SIGUSR1);
    let data = lab.tmpdir("n1").join("keepalived_check.data");
    assert!(poll_until(Duration::from_secs(3), || data.exists()));
    let text = std::fs::read_to_string(&data).unwrap();
    for want in [
        " VS VIP = 192.0.2.100, VPORT = 80",
        "   RIP = 192.0.2.3, RPORT = 8080, WEIGHT = 1",
        "   alive = 0",
        "   TCP_CHECK -> 192.0.2.3:8080",
        "     Up = no",
    ] {
        assert!(text.lines().any(|l| l == want), "{want:?} in\n{text}");
    }
    // When it answers again after the reload, the new checkers bring it back.
    let _server = listener(&lab, 8080);
    assert!(
        poll_until(Duration::from_secs(8), || lab
            .log_count("n1", "Adding service")
            == 2),
        "{}",
        lab.log("n1")
    );
    assert!(
        poll_until(Duration::from_secs(3), || lines(&log)
            == ["down", "up", "down", "up"]),
        "{:?}",
        lines(&log)
    );
    // Down, then a reload, and the server answers again before the new checker's first run
    // (1 s after the reload): that first success brings it back. The new checkers start
    // failed, as the old pool had it; before, they started up, saw nothing new, and the
    // server stayed out of the pool for good.
    drop(_server);
    assert!(poll_until(Duration::from_secs(8), || lines(&log).len() == 5));
    lab.signal("n1", nix::sys::signal::Signal::SIGHUP);
    let _server = listener(&lab, 8080);
    assert!(
        poll_until(Duration::from_secs(8), || lab
            .log_count("n1", "Adding service")
            == 3),
        "{}",
        lab.log("n1")
    );
    assert!(
        poll_until(Duration::from_secs(3), || lines(&log)
            == ["down", "up", "down", "up", "down", "up"]),
        "{:?}",
        lines(&log)
    );
    // VRRP never noticed.
    assert_eq!(lab.holders_now(VIP), ["n1"]);
    lab.check_alive();
}

#[test]
fn ha_suspend_checks_only_on_the_router_holding_the_virtual_address() {
    let Some(mut lab) = Lab::new("lb_ha_suspend", 2) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let check = dir.join("check");
    write_script(&check, "#!/bin/sh\necho run >> \"$1\"\nexit 0\n");
    let runs = |node: &str| dir.join(format!("{node}.runs"));
    let conf = |node: &str, prio: u8| {
        format!(
            "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_kind DR\n    \
             protocol TCP\n    ha_suspend\n    real_server 192.0.2.3 80 {{\n        \
             MISC_CHECK {{\n            misc_path \"{} {}\"\n        }}\n    }}\n}}\n",
            Vrrp::v3(prio, "0.2").conf(),
            check.display(),
            runs(node).display()
        )
    };
    lab.start("n1", Daemon::Rs, &conf("n1", 100));
    lab.start("n2", Daemon::Rs, &conf("n2", 90));
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    // The master checks every second; the backup not at all.
    assert!(
        poll_until(Duration::from_secs(6), || lines(&runs("n1")).len() >= 3),
        "the master's checker runs: {:?}\n{}",
        lines(&runs("n1")),
        lab.log("n1")
    );
    assert!(
        lines(&runs("n2")).is_empty(),
        "the backup checked: {}",
        lab.log("n2")
    );
    // The master stops: the new master starts checking.
    lab.stop("n1");
    lab.wait_holders(VIP, &["n2"], Duration::from_secs(5), "n2 takes over");
    assert!(
        poll_until(Duration::from_secs(6), || lines(&runs("n2")).len() >= 2),
        "the new master's checker runs: {}",
        lab.log("n2")
    );
    assert!(
        lab.log("n2").contains("Activating healthcheckers for VS"),
        "{}",
        lab.log("n2")
    );
    lab.check_alive();
}

/// Every mail in a Maildir's `new/`, as text.
fn maildir_mails(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir.join("new"))
        .map(|rd| {
            rd.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn real_server_and_quorum_changes_are_mailed() {
    let Some(mut lab) = Lab::new("lb_smtp", 1) else {
        return;
    };
    let maildir = lab.dir().join("Maildir");
    // A real SMTP server (aiosmtpd) on the client host, beside the real server.
    let _smtpd = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.netns("c"),
            "/usr/bin/python3",
            "-m",
            "aiosmtpd",
        ])
        .args([
            "-n",
            "-l",
            "192.0.2.3:2525",
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd runs (apt-get install python3-aiosmtpd)");
    let _smtpd = Killed(_smtpd);
    let server = listener(&lab, 8080);
    assert!(poll_until(Duration::from_secs(10), || {
        Command::new("ip")
            .args(["netns", "exec", &lab.netns("c"), "ss", "-ltn"])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(":2525"))
    }));
    let conf = format!(
        "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_kind NAT\n    \
         protocol TCP\n    real_server 192.0.2.3 8080 {{\n        TCP_CHECK {{\n            \
         connect_timeout 1\n            retry 0\n        }}\n    }}\n}}\n",
        Vrrp::v3(100, "0.2").conf().replacen(
            "global_defs {\n",
            "global_defs {\n    notification_email {\n        ops@example.com\n    }\n    \
             notification_email_from kr@example.com\n    smtp_server 192.0.2.3 2525\n    \
             smtp_alert_checker\n",
            1
        )
    );
    lab.start("n1", Daemon::Rs, &conf);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    std::thread::sleep(Duration::from_secs(2));
    drop(server);
    let subject = |what: &str| {
        let m = maildir_mails(&maildir);
        m.iter().any(|t| t.contains(what))
    };
    let rs_down = "Realserver [192.0.2.3]:8080 of virtual server [192.0.2.100]:tcp:80 - DOWN";
    let vs_down = "Virtualserver [192.0.2.100]:tcp:80 - DOWN";
    assert!(
        poll_until(Duration::from_secs(10), || subject(rs_down)
            && subject(vs_down)),
        "{:?}\n{}",
        maildir_mails(&maildir),
        lab.log("n1")
    );
    assert!(
        subject("=> Lost quorum 1-0=1 <= 0 <="),
        "{:?}",
        maildir_mails(&maildir)
    );
    lab.check_alive();
}

#[test]
fn omega_tells_the_scripts_at_stop() {
    let Some(mut lab) = Lab::new("lb_omega", 1) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let log = dir.join("notify.log");
    let script = |name: &str| recorder(&dir, name, &log);
    let (down, qdown) = (script("down"), script("quorum_down"));
    let server = listener(&lab, 8080);
    let conf = format!(
        "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_kind NAT\n    \
         protocol TCP\n    omega\n    quorum_down {qdown}\n    real_server 192.0.2.3 8080 {{\n        \
         notify_down {down}\n        TCP_CHECK {{\n            connect_timeout 1\n        }}\n    \
         }}\n}}\n",
        Vrrp::v3(100, "0.2").conf()
    );
    lab.start("n1", Daemon::Rs, &conf);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    std::thread::sleep(Duration::from_secs(2));
    assert!(lines(&log).is_empty(), "{:?}", lines(&log));
    let status = lab.stop("n1");
    assert!(status.success(), "{status:?}");
    // The real server's notify_down, then the virtual server's quorum_down, before the exit.
    drop(server);
    assert_eq!(lines(&log), ["down", "quorum_down"], "{}", lab.log("n1"));
}
