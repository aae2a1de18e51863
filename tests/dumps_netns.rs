//! keepalived's state dumps in a network namespace, as a user asks for them: SIGUSR1 writes
//! `$TMPDIR/keepalived.data`, the JSON signal (`--signum=JSON`, what OpenWrt's status call
//! sends) `$TMPDIR/keepalived.json`; both name the instance and its state, the JSON parses,
//! and the daemon keeps running and holding the VIP.
//!
//! Needs root (see tests/common/mod.rs); `KEEPALIVED_RS_SKIP_NETNS=1` skips it,
//! `KEEPALIVED_RS_BIN=/usr/sbin/keepalived` runs the same scenario with real keepalived.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The signal number keepalived (and keepalived-rs) gives `name`.
fn signum(name: &str) -> i32 {
    let out = Command::new(Daemon::Rs.program())
        .arg(format!("--signum={name}"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("--signum={name} printed {text:?}"))
}

/// `kill -N PID` (real-time signals are not in nix's enum).
fn kill(n: i32, pid: i32) {
    let st = Command::new("kill")
        .args([format!("-{n}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "kill -{n} {pid}");
}

/// Waits for `file` to exist with the same non-empty text on several reads in a row.
fn wait_file(file: &Path, what: &str, complete: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    let mut stable = 0;
    let ok = poll_until(Duration::from_secs(5), || {
        let now = read_lossy(file);
        if complete(&now) && now == last {
            stable += 1;
        } else {
            stable = 0;
        }
        last = now;
        stable >= 4
    });
    assert!(
        ok,
        "no complete {what} {} within 5 s: {last:?}",
        file.display()
    );
    last
}

/// `iname state effective_priority` of every instance in keepalived's JSON, read by Python's
/// json module (a real parser: a syntax error fails the test).
fn json_instances(file: &Path) -> Vec<String> {
    let script = "import json,sys\n\
                  for o in json.load(open(sys.argv[1])):\n\
                  \x20   d = o['data']\n\
                  \x20   assert isinstance(o['stats']['advert_sent'], int)\n\
                  \x20   print(d['iname'], d['state'], d['effective_priority'])\n";
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "{} is not keepalived's JSON: {}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr),
        read_lossy(file)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn data_and_json_signals_write_the_dumps_and_the_master_keeps_the_vip() {
    let Some(mut lab) = Lab::new("dumps", 1) else {
        return;
    };
    let ok = lab.dir().join("ok");
    std::fs::write(&ok, "").unwrap();
    let script = format!(
        "vrrp_script chk {{\n    script \"/usr/bin/test -e {}\"\n    interval 1\n    \
         weight 20\n}}\n",
        ok.display()
    );
    let conf = Vrrp::v3(100, "0.2").conf().replacen(
        "vrrp_instance VI_1 {\n",
        "vrrp_instance VI_1 {\n    track_script {\n        chk\n    }\n",
        1,
    );
    lab.start("n1", Daemon::Rs, &format!("{script}\n{conf}"));
    lab.wait_holders(VIP, &["n1"], Duration::from_secs(10), "n1 is master");
    // The check script's weight is in: effective priority 120.
    let dir = lab.tmpdir("n1");
    let (data, json) = (dir.join("keepalived.data"), dir.join("keepalived.json"));
    let pid = lab.pid("n1");
    let priority_in = poll_until(Duration::from_secs(5), || {
        let _ = std::fs::remove_file(&json);
        kill(signum("JSON"), pid);
        poll_until(Duration::from_secs(1), || {
            read_lossy(&json).contains("\"effective_priority\":120")
        })
    });
    assert!(priority_in, "JSON: {}", read_lossy(&json));

    let _ = std::fs::remove_file(&data);
    let _ = std::fs::remove_file(&json);
    kill(signum("DATA"), pid);
    kill(signum("JSON"), pid);
    let text = wait_file(&data, "data dump", |t| t.contains("VRRP Instance = VI_1"));
    wait_file(&json, "JSON dump", |t| t.trim_end().ends_with(']'));
    assert_eq!(json_instances(&json), ["VI_1 2 120"]);
    for line in [
        " VRRP Instance = VI_1\n",
        "   State = MASTER\n",
        "   Effective priority = 120\n",
        " VRRP Script = chk\n",
        "   Status = GOOD\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(
        text.contains(&format!("     {VIP}/24 dev eth0 scope global set\n")),
        "{text}"
    );
    lab.check_alive();
    lab.hold_holders(
        VIP,
        &["n1"],
        Duration::from_secs(1),
        "n1 still master after the dumps",
    );
    let status = lab.stop("n1");
    assert!(status.success(), "n1 exited with {status}");
}
