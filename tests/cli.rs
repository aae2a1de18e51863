//! Command-line behaviour shared with keepalived: `-t` (config check) exit codes, `-v`, `-h`.
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
    let path = std::env::temp_dir().join(format!(
        "kt-cli-{}-{}.conf",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, conf).unwrap();
    let out = run(&["-t", "-f", path.to_str().unwrap()]);
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
