//! The load balancer in the daemon with input that is wrong or hostile, as an operator meets
//! it: a virtual server on an address the router does not have, duplicate real servers, an
//! SSL_GET this build cannot run, and real servers that accept and never answer or answer
//! garbage while VRRP runs at advert_int 0.1 beside 50 checkers. The daemon keeps running, VRRP
//! never notices, and `-t` names the file and line of each mistake.
//!
//! The real servers live on the client host c (192.0.2.3): one python3 process serving several
//! ports, each of one kind (`close`: accept and close; `silent`: accept, read, never answer;
//! `garbage`: answer each request with bytes that are not HTTP).
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it.

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const SERVERS: &str = r#"
import selectors, socket, sys
ip = sys.argv[1]
sel = selectors.DefaultSelector()
for spec in sys.argv[2:]:
    port, kind = spec.split(":")
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, int(port))); s.listen(128); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ("listen", kind))
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        what, kind = key.data
        if what == "listen":
            try:
                c, _ = key.fileobj.accept()
            except BlockingIOError:
                continue
            if kind == "close":
                c.close()
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, ("conn", kind))
            continue
        c = key.fileobj
        try:
            data = c.recv(4096)
        except OSError:
            data = b""
        if not data:
            sel.unregister(c); c.close()
        elif kind == "garbage":
            try:
                c.send(b"\x15\x03\x01\x00\x02\x02\x28 this is not HTTP\r\n")
            except OSError:
                pass
"#;

/// The servers' process on c, killed when dropped (before the lab, which is declared first).
struct Servers(Child);

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `ports` (`(port, kind)`) on the client's address; returns once they listen.
fn servers(lab: &Lab, name: &str, ports: &[(u16, &str)]) -> Servers {
    let log = lab.dir().join(format!("{name}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let mut args: Vec<String> = vec![
        "netns".into(),
        "exec".into(),
        lab.netns("c"),
        "/usr/bin/python3".into(),
        "-c".into(),
        SERVERS.into(),
        CLIENT_ADDR.into(),
    ];
    args.extend(ports.iter().map(|(p, k)| format!("{p}:{k}")));
    let child = Command::new("ip")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("python3 runs");
    let mut s = Servers(child);
    let up = poll_until(Duration::from_secs(10), || {
        read_lossy(&log).contains("ready") || s.0.try_wait().unwrap().is_some()
    });
    assert!(
        up && s.0.try_wait().unwrap().is_none(),
        "the servers did not start: {}",
        read_lossy(&log)
    );
    s
}

/// A notify script that appends its name to `log`.
fn notify(dir: &Path, log: &Path, name: &str) -> String {
    let p = dir.join(name);
    write_script(
        &p,
        &format!("#!/bin/sh\necho {name} >> {}\n", log.display()),
    );
    p.display().to_string()
}

/// `keepalived-rs -t -f FILE` in the router's namespace (which has the eth0 the file names).
fn config_check(lab: &Lab, node: &str, path: &Path) -> Output {
    Command::new("ip")
        .args(["netns", "exec", &lab.netns(node)])
        .arg(Daemon::Rs.program())
        .args(["-t", "-f"])
        .arg(path)
        .output()
        .expect("run the config check")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The 1-based line of the `n`-th (0-based) line of `conf` that contains `needle`.
fn line_of(conf: &str, needle: &str, n: usize) -> usize {
    conf.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n)
        .unwrap_or_else(|| panic!("no {needle} #{n} in the config"))
        .0
        + 1
}

/// A virtual server on 198.51.100.10, which no host of the lab has: the daemon starts, VRRP
/// elects it, and its checkers run (a real server that refuses goes down, then comes up when
/// it listens, and the notify scripts say so; the one that answers is never notified).
#[test]
fn virtual_server_on_an_address_the_router_does_not_have() {
    let Some(mut lab) = Lab::new("lb_not_local", 1) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let log = dir.join("notify.log");
    let n = |name: &str| notify(&dir, &log, name);
    let conf = format!(
        "{}\nvirtual_server 198.51.100.10 80 {{\n    delay_loop 1\n    lb_algo rr\n    \
         lb_kind NAT\n    protocol TCP\n    real_server 192.0.2.3 8080 {{\n        \
         notify_up {}\n        notify_down {}\n        TCP_CHECK {{\n            \
         connect_timeout 1\n        }}\n    }}\n    real_server 192.0.2.3 8081 {{\n        \
         notify_up {}\n        notify_down {}\n        TCP_CHECK {{\n            \
         connect_timeout 1\n        }}\n    }}\n}}\n",
        Vrrp::v3(100, "0.2").conf(),
        n("up8080"),
        n("down8080"),
        n("up8081"),
        n("down8081"),
    );
    let _open = servers(&lab, "servers", &[(8080, "close")]);
    lab.start("n1", Daemon::Rs, &conf);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    assert!(
        poll_until(Duration::from_secs(5), || lines(&log) == ["down8081"]),
        "the refused real server goes down: {:?}\n{}",
        lines(&log),
        lab.log("n1")
    );
    let _late = servers(&lab, "late", &[(8081, "close")]);
    assert!(
        poll_until(Duration::from_secs(5), || lines(&log)
            == ["down8081", "up8081"]),
        "and up once it listens: {:?}\n{}",
        lines(&log),
        lab.log("n1")
    );
    lab.hold_holders(VIP, &["n1"], Duration::from_secs(1), "n1 stays master");
    assert_eq!(lines(&log), ["down8081", "up8081"]);
    lab.check_alive();
}

/// Duplicate real servers: `-t` exits 5 (keepalived 2.2.7 too) naming the file and line of the
/// copy and of the original; the daemon keeps one copy, so the failing server goes down once
/// (one notify_down, one "Removing"). SSL_GET: `-t` warns with its file and line and exits 0
/// (keepalived 2.2.7, which has TLS, accepts it); the daemon leaves that server up, unchecked.
#[test]
fn duplicate_real_servers_and_ssl_get_in_check_mode_and_running() {
    let Some(mut lab) = Lab::new("lb_dup_ssl", 1) else {
        return;
    };
    let dir = lab.dir().to_path_buf();
    let log = dir.join("notify.log");
    let n = |name: &str| notify(&dir, &log, name);
    let rs = |port: u16, weight: u16, checker: &str| {
        format!(
            "    real_server 192.0.2.3 {port} {{\n        weight {weight}\n        \
             notify_up {}\n        notify_down {}\n        {checker} {{\n            \
             connect_timeout 1\n        }}\n    }}\n",
            n(&format!("up{port}w{weight}")),
            n(&format!("down{port}w{weight}")),
        )
    };
    let vs = |body: &str| {
        format!(
            "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    lb_algo rr\n    \
             lb_kind NAT\n    protocol TCP\n{body}}}\n",
            Vrrp::v3(100, "0.2").conf()
        )
    };
    // 8081 refuses; 8443 refuses too, but an SSL_GET is never run.
    let dup = vs(&(rs(8081, 1, "TCP_CHECK") + &rs(8081, 2, "TCP_CHECK")));
    let ssl = vs(&rs(8443, 1, "SSL_GET"));
    let both =
        vs(&(rs(8081, 1, "TCP_CHECK") + &rs(8081, 2, "TCP_CHECK") + &rs(8443, 1, "SSL_GET")));
    let path = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (dup_path, ssl_path) = (path("dup.conf", &dup), path("ssl.conf", &ssl));

    let o = config_check(&lab, "n1", &dup_path);
    let at = |p: &Path, conf: &str, needle: &str, k: usize| {
        format!("{}:{}", p.display(), line_of(conf, needle, k))
    };
    let copy = at(&dup_path, &dup, "real_server 192.0.2.3 8081", 1);
    let first = at(&dup_path, &dup, "real_server 192.0.2.3 8081", 0);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "{copy}: real server 192.0.2.3:8081 is a duplicate"
        )) && text(&o).contains(&format!("of the one at {first}")),
        "-t names {copy} and {first}: {}",
        text(&o)
    );

    let o = config_check(&lab, "n1", &ssl_path);
    let ssl_at = at(&ssl_path, &ssl, "SSL_GET", 0);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("{ssl_at}: SSL_GET")),
        "-t warns at {ssl_at}: {}",
        text(&o)
    );

    // Running: one copy of 8081 (the first, weight 1), checked and failing; 8443 untouched.
    lab.start("n1", Daemon::Rs, &both);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    assert!(
        poll_until(Duration::from_secs(5), || !lines(&log).is_empty()),
        "8081 goes down: {}",
        lab.log("n1")
    );
    // Three more delay_loops: a second copy would have gone down by now too.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(lines(&log), ["down8081w1"], "{}", lab.log("n1"));
    assert_eq!(
        lab.log_count("n1", "Removing service [192.0.2.3]:8081"),
        1,
        "{}",
        lab.log("n1")
    );
    assert_eq!(
        lab.log_count("n1", "Removing service [192.0.2.3]:8443"),
        0,
        "{}",
        lab.log("n1")
    );
    lab.check_alive();
}

/// 50 checkers (TCP_CHECK and HTTP_GET, alternately) at delay_loop 1 against real servers
/// that accept and never answer and that answer garbage, on a master at advert_int 0.1 with
/// a backup at lower priority: for 20 s the backup hears every advert and never takes over,
/// the master keeps the VIP, and the daemon stays up. The checkers did run: each HTTP_GET
/// removed its server (silent: timeout; garbage: not HTTP), each TCP_CHECK kept its own.
#[test]
fn checkers_against_silent_and_garbage_servers_leave_vrrp_alone() {
    let Some(mut lab) = Lab::new("lb_bad_servers", 2) else {
        return;
    };
    const N: u16 = 50;
    let ports: Vec<(u16, &str)> = (0..N)
        .map(|k| (9000 + k, if k % 4 < 2 { "silent" } else { "garbage" }))
        .collect();
    let mut body = String::new();
    for (k, (port, _)) in ports.iter().enumerate() {
        let checker = if k % 2 == 0 {
            "TCP_CHECK {\n            connect_timeout 2\n        }".to_string()
        } else {
            "HTTP_GET {\n            url {\n                path /health\n            }\n            \
             connect_timeout 2\n        }"
                .to_string()
        };
        body.push_str(&format!(
            "    real_server 192.0.2.3 {port} {{\n        {checker}\n    }}\n"
        ));
    }
    let (master, backup) = (Vrrp::v3(100, "0.1"), Vrrp::v3(90, "0.1"));
    let conf = format!(
        "{}\nvirtual_server 192.0.2.100 80 {{\n    delay_loop 1\n    retry 1\n    \
         delay_before_retry 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n{body}}}\n",
        master.conf()
    );
    let _servers = servers(&lab, "servers", &ports);
    lab.start("n1", Daemon::Rs, &conf);
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    lab.start("n2", Daemon::Rs, &backup.conf());
    // n2 has heard n1 (it would take over after Master_Down, 0.3 s + skew, if not).
    std::thread::sleep(Duration::from_secs(1));
    const SENT: &str = "Advertisements/Sent";
    const RECEIVED: &str = "Advertisements/Received";
    let sent_before = lab.stats("n1").get("VI_1", SENT).unwrap_or(0);
    let heard_before = lab.stats("n2").get("VI_1", RECEIVED).unwrap_or(0);
    let t0 = std::time::Instant::now();
    let window = Duration::from_secs(20);
    lab.hold_holders(
        VIP,
        &["n1"],
        window,
        "n1 keeps the VIP beside 50 bad checkers",
    );
    let s2 = lab.stats("n2");
    let s1 = lab.stats("n1");
    let took = t0.elapsed();
    let heard = s2.get("VI_1", RECEIVED).unwrap_or(0) - heard_before;
    let sent = s1.get("VI_1", SENT).unwrap_or(0) - sent_before;
    eprintln!("in {took:?}: n1 sent {sent} adverts, n2 heard {heard}");
    assert_eq!(s2.get("VI_1", "Became master"), Some(0), "{}", s2.text);
    // 10 a second: at most 5 % late over the window, and none lost.
    let due = (took.as_millis() / 100) as u64;
    assert!(
        sent * 100 >= due * 95,
        "n1 sent {sent} adverts in {took:?}:\n{}",
        s1.text
    );
    assert!(
        heard + 2 >= sent,
        "n2 heard {heard} of {sent} adverts:\n{}",
        s2.text
    );
    lab.assert_never_two_holders(VIP, &["n1", "n2"], Duration::ZERO);
    assert_eq!(s1.get("VI_1", "Became master"), Some(1), "{}", s1.text);
    let removed = lab.log_count("n1", "Removing service [192.0.2.3]:");
    assert_eq!(
        removed,
        usize::from(N / 2),
        "every HTTP_GET (and no TCP_CHECK) removed its server:\n{}",
        lab.log("n1")
    );
    for (k, (port, _)) in ports.iter().enumerate() {
        let gone = lab.log_count("n1", &format!("Removing service [192.0.2.3]:{port} ")) > 0;
        assert_eq!(gone, k % 2 == 1, "port {port}:\n{}", lab.log("n1"));
    }
    lab.check_alive();
}
