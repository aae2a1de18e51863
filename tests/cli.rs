//! Command-line behaviour shared with keepalived: `-t` (config check) exit codes, `-v`, `-h`,
//! long option names, grouped flags, `--signum`, unknown options.
//! No root needed. `KEEPALIVED_RS_BIN=/usr/sbin/keepalived` runs these against keepalived.
//! As root, the script security cases also run real keepalived's `-t` (in a network namespace
//! of its own with an eth0) and expect the same exit code.

mod common;

use common::Daemon;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn run(args: &[&str]) -> Output {
    let program = Daemon::Rs.program();
    Command::new(&program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn check(conf: &str) -> Output {
    check_with(conf, |path| vec!["-t".into(), "-f".into(), path.into()])
}

/// Runs the program with the arguments `args` makes from the path of a file holding `conf`.
fn check_with(conf: &str, args: impl Fn(&str) -> Vec<String>) -> Output {
    let path = std::env::temp_dir().join(format!(
        "kt-cli-{}-{}.conf",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, conf).unwrap();
    let args = args(path.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    let _ = std::fs::remove_file(&path);
    out
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const GOOD: &str = "\
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

#[test]
fn config_check_accepts_a_valid_file() {
    let o = check(GOOD);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn config_check_rejects_an_out_of_range_router_id_with_exit_5() {
    let o = check(&GOOD.replace("virtual_router_id 51", "virtual_router_id 300"));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
}

#[test]
fn config_check_rejects_an_unknown_keyword_with_exit_5() {
    let o = check(&format!("no_such_keyword 1\n{GOOD}"));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
}

#[test]
fn config_check_reports_an_unknown_state_with_exit_5_as_keepalived() {
    // keepalived reports `state SLAVE` and starts as BACKUP; its -t exits 5.
    let o = check(&GOOD.replace("state BACKUP", "state SLAVE"));
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("unknown state 'SLAVE', using BACKUP"),
        "{}",
        text(&o)
    );
}

#[test]
fn version_and_help_exit_0() {
    let v = run(&["-v"]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(all.to_lowercase().contains("keepalived"), "{}", text(&v));
    let h = run(&["-h"]);
    assert_eq!(h.status.code(), Some(0), "{}", text(&h));
}

#[test]
fn long_option_names_as_keepalived() {
    let bad = GOOD.replace("virtual_router_id 51", "virtual_router_id 300");
    for (conf, want) in [(GOOD, 0), (bad.as_str(), 5)] {
        let glued = check_with(conf, |p| {
            vec!["--config-test".into(), format!("--use-file={p}")]
        });
        assert_eq!(glued.status.code(), Some(want), "{}", text(&glued));
        let apart = check_with(conf, |p| {
            vec!["--use-file".into(), p.into(), "--config-test".into()]
        });
        assert_eq!(apart.status.code(), Some(want), "{}", text(&apart));
    }
    for args in [["--version"], ["--help"]] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o));
    }
}

#[test]
fn grouped_short_flags() {
    let o = check_with(GOOD, |p| vec!["-nlDt".into(), "-f".into(), p.into()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = check_with(GOOD, |p| vec!["-nl".into(), "-t".into(), format!("-f{p}")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn signum_prints_the_signal_number() {
    for (name, want) in [
        ("STOP", "15"),
        ("RELOAD", "1"),
        ("DATA", "10"),
        ("STATS", "12"),
    ] {
        let o = run(&[&format!("--signum={name}")]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want, "{name}");
    }
    let o = run(&["--signum=NOSUCH"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn unknown_options_and_missing_values_exit_1() {
    for args in [
        &["-x"][..],
        &["--no-such-option"],
        &["-nx"],
        &["-f"],
        &["--use-file"],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
    }
}

/// A `vrrp_script` tracked by an instance on eth0, with `global` lines in global_defs.
fn script_conf(global: &str, script: &str) -> String {
    format!(
        "global_defs {{\n{global}\n}}\nvrrp_script chk {{\n    script \"{script}\"\n}}\n\
         {}",
        GOOD.replace(
            "    advert_int 1\n",
            "    track_script {\n        chk\n    }\n"
        )
    )
}

/// A directory of its own with `mode` (0777: anyone may replace what is in it) holding an
/// executable script owned by us; removed on drop.
struct ScriptDir {
    dir: std::path::PathBuf,
    script: String,
}

impl ScriptDir {
    fn new(mode: u32) -> ScriptDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "kt-cli-sec-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir(&dir).unwrap();
        let file = dir.join("chk.sh");
        std::fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let script = file.display().to_string();
        ScriptDir { dir, script }
    }
}

impl Drop for ScriptDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Real keepalived's `-t` exit code for `conf`, run in a network namespace of its own that has
/// an eth0 (keepalived refuses `lo` for VRRP, and checks the interface exists). None when that
/// cannot run here: not root, no keepalived, unshare or ip.
fn keepalived_check(conf: &str) -> Option<i32> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let keepalived = common::find_tool("keepalived")?;
    let (unshare, ip) = (common::find_tool("unshare")?, common::find_tool("ip")?);
    let path = std::env::temp_dir().join(format!(
        "kt-cli-{}-{}.conf",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, conf).unwrap();
    let o = Command::new(unshare)
        .args(["-n", "sh", "-c"])
        .arg("\"$0\" link add eth0 type veth peer name eth1 && exec \"$1\" -t -l -f \"$2\"")
        .args([ip, keepalived, path.clone()])
        .output()
        .expect("unshare runs");
    let _ = std::fs::remove_file(&path);
    eprintln!("real keepalived -t: {}", o.status);
    Some(o.status.code().unwrap_or(-1))
}

/// keepalived's `-t` codes for script security (KEEPALIVED_CHK_EXIT_*): a script disabled as
/// unsafe is a configuration error (5); scripts that run as root without
/// `enable_script_security` are a security violation (6), insecure or not.
#[test]
fn config_check_script_security_exit_codes() {
    let ww = ScriptDir::new(0o777);
    let unsafe_line = format!("Unsafe permissions found for script '{}'", ww.script);
    let cases = [
        (
            "  script_user root\n  enable_script_security",
            ww.script.as_str(),
            5,
            vec![
                format!("{unsafe_line} - disabling."),
                "Disabling track script chk due to insecure".to_string(),
            ],
        ),
        (
            "  script_user root",
            ww.script.as_str(),
            6,
            vec![
                format!("{unsafe_line}."),
                "SECURITY VIOLATION - scripts are being executed but script_security not \
                 enabled. There are insecure scripts."
                    .to_string(),
            ],
        ),
        (
            "  script_user root\n  enable_script_security",
            "/bin/true",
            0,
            vec![],
        ),
        (
            "  script_user root",
            "/bin/true",
            6,
            vec![
                "SECURITY VIOLATION - scripts are being executed but script_security not \
                  enabled."
                    .to_string(),
            ],
        ),
    ];
    for (global, script, want, lines) in cases {
        let conf = script_conf(global, script);
        let o = check(&conf);
        assert_eq!(o.status.code(), Some(want), "{conf}\n{}", text(&o));
        for l in lines {
            assert!(text(&o).contains(&l), "{l:?} missing\n{}", text(&o));
        }
        if let Some(code) = keepalived_check(&conf) {
            assert_eq!(code, want, "real keepalived -t on\n{conf}");
        }
    }
}

/// With `enable_script_security` and no `script_user`, keepalived runs scripts as
/// `keepalived_script`, and refuses to fall back to root when that user does not exist.
#[test]
fn config_check_script_security_needs_a_script_user() {
    if nix::unistd::User::from_name("keepalived_script")
        .ok()
        .flatten()
        .is_some()
    {
        eprintln!("user keepalived_script exists here: not applicable");
        return;
    }
    let conf = script_conf("  enable_script_security", "/bin/true");
    let o = check(&conf);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("Unable to set default user keepalived_script for script"),
        "{}",
        text(&o)
    );
    if let Some(code) = keepalived_check(&conf) {
        assert_eq!(code, 5, "real keepalived -t on\n{conf}");
    }
}

/// A virtual server with a keyword nobody knows: `-t` exits 5 for it.
const BAD_VIRTUAL_SERVER: &str = "\
virtual_server 192.0.2.100 80 {
    no_such_keyword 1
    real_server 192.0.2.3 80 {
        TCP_CHECK {
        }
    }
}
";

/// `-t` checks the whole file whatever `-P` and `-C` say (keepalived's validate_config checks
/// both parts), and the exit code is the same with them.
#[test]
fn config_check_ignores_vrrp_only_and_check_only() {
    let bad_vs = format!("{GOOD}{BAD_VIRTUAL_SERVER}");
    let bad_vrrp = GOOD.replace("virtual_router_id 51", "virtual_router_id 300");
    for (conf, flags, want) in [
        (GOOD, &["-P"][..], 0),
        (GOOD, &["-C"], 0),
        (GOOD, &["-P", "-C"], 0),
        (bad_vs.as_str(), &["-P"], 5),
        (bad_vs.as_str(), &["--vrrp"], 5),
        (bad_vrrp.as_str(), &["-C"], 5),
        (bad_vrrp.as_str(), &["--check"], 5),
    ] {
        let o = check_with(conf, |p| {
            let mut a: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            a.extend(["-t".into(), "-f".into(), p.into()]);
            a
        });
        assert_eq!(o.status.code(), Some(want), "{flags:?}\n{}", text(&o));
    }
}

/// `-h` says what `-P`, `-C`, `-r` and `-c` do here (no longer "accepted").
#[test]
fn help_describes_the_subsystem_and_child_pidfile_flags() {
    if common::baseline() {
        return;
    }
    let h = run(&["-h"]);
    // getopts wraps the descriptions.
    let out = String::from_utf8_lossy(&h.stdout);
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "-P, --vrrp only run with VRRP subsystem (no checker, no IPVS)",
        "-C, --check only run with health-checker subsystem (no VRRP)",
        "-r, --vrrp_pid FILE also write the pid to FILE while VRRP runs",
        "-c, --checkers_pid FILE also write the pid to FILE while checkers run",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    assert!(!out.contains("(accepted"), "{out}");
}

/// `-P` and `-C` together turn both subsystems off: like keepalived, the daemon says it has
/// nothing to run and stays up (its pidfile written, the VRRP and checker ones not) until
/// SIGTERM, then exits 0. Runs in the current network namespace: it opens no VRRP socket.
#[test]
fn vrrp_only_and_check_only_together_run_nothing() {
    let dir = std::env::temp_dir().join(format!(
        "kt-cli-pc-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    std::fs::write(
        &conf,
        format!(
            "{GOOD}{}",
            BAD_VIRTUAL_SERVER.replace("    no_such_keyword 1\n", "")
        ),
    )
    .unwrap();
    let (main, vrrp, check) = (
        dir.join("k.pid"),
        dir.join("vrrp.pid"),
        dir.join("check.pid"),
    );
    let log = std::fs::File::create(dir.join("log")).unwrap();
    let mut child = Command::new(Daemon::Rs.program())
        .args(["-P", "-C", "-n", "-l", "-G", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(&main)
        .arg("-r")
        .arg(&vrrp)
        .arg("-c")
        .arg(&check)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let up = common::poll_until(std::time::Duration::from_secs(5), || main.exists());
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let status = child.wait().unwrap();
    let log = common::read_lossy(&dir.join("log"));
    let child_pidfiles = (vrrp.exists(), check.exists());
    let _ = std::fs::remove_dir_all(&dir);
    assert!(up, "no pidfile\n{log}");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("keepalived has no configuration to run"),
        "{log}"
    );
    assert_eq!(child_pidfiles, (false, false), "{log}");
}
