//! Command-line behaviour shared with keepalived: `-t` (config check) exit codes, `-v`, `-h`,
//! long option names, grouped flags, `--signum`, unknown options.
//! No root needed. `KEEPALIVED_RS_BIN=/usr/sbin/keepalived` runs these against keepalived.

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
