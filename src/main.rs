//! keepalived-rs: command line, logging, build the daemon, run it. Nothing else.

use keepalived_rs::{config, io};
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_CONF: &str = "/etc/keepalived/keepalived.conf";
const DEFAULT_PIDFILE: &str = "/run/keepalived.pid";

/// keepalived's exit codes (lib/utils.h KEEPALIVED_EXIT_*).
const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_CONFIG: u8 = 5;

fn options() -> getopts::Options {
    let mut o = getopts::Options::new();
    o.optopt(
        "f",
        "use-file",
        "use the specified configuration file",
        "FILE",
    );
    o.optflag(
        "P",
        "vrrp",
        "only run with VRRP subsystem (the only one here)",
    );
    o.optflag(
        "C",
        "check",
        "only run with health-checker subsystem (accepted, not built yet)",
    );
    o.optflag("l", "log-console", "log messages to local console");
    o.optflag("D", "log-detail", "detailed log messages");
    o.optopt(
        "S",
        "log-facility",
        "0-7 set syslog facility to LOG_LOCAL[0-7]",
        "N",
    );
    o.optflag("G", "no-syslog", "don't log via syslog");
    o.optflag("n", "dont-fork", "don't fork the daemon process");
    o.optopt(
        "p",
        "pid",
        "use specified pidfile for parent process",
        "FILE",
    );
    o.optopt(
        "r",
        "vrrp_pid",
        "use specified pidfile for VRRP child process (accepted)",
        "FILE",
    );
    o.optopt(
        "c",
        "checkers_pid",
        "use specified pidfile for checkers child process (accepted)",
        "FILE",
    );
    o.optflagopt(
        "t",
        "config-test",
        "check the configuration for obvious errors",
        "FILE",
    );
    o.optopt(
        "",
        "signum",
        "report signal number for STOP, RELOAD, DATA, STATS, JSON",
        "NAME",
    );
    o.optflag("v", "version", "display the version number");
    o.optflag("h", "help", "display this help message");
    o
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = options();
    let m = match opts.parse(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("keepalived-rs: {e}");
            eprintln!("{}", opts.usage("Usage: keepalived-rs [OPTION...]"));
            return ExitCode::from(EXIT_FATAL);
        }
    };
    if m.opt_present("h") {
        print!("{}", opts.usage("Usage: keepalived-rs [OPTION...]"));
        return ExitCode::from(EXIT_OK);
    }
    if m.opt_present("v") {
        println!(
            "keepalived-rs {} (keepalived 2.2.7 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::from(EXIT_OK);
    }
    if let Some(name) = m.opt_str("signum") {
        return match io::signals::signum(&name) {
            Some(n) => {
                println!("{n}");
                ExitCode::from(EXIT_OK)
            }
            None => {
                eprintln!("Unknown signal name {name}");
                ExitCode::from(EXIT_FATAL)
            }
        };
    }
    let facility = match m.opt_str("S").map(|s| s.parse::<u8>()) {
        None => None,
        Some(Ok(n)) if n <= 7 => Some(n),
        Some(_) => {
            eprintln!("keepalived-rs: -S takes a facility number 0-7");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    let test_only = m.opt_present("t");
    let conf = PathBuf::from(
        m.opt_str("t")
            .or_else(|| m.opt_str("f"))
            .unwrap_or_else(|| DEFAULT_CONF.to_string()),
    );
    let console = m.opt_present("l") || test_only;
    io::log::init(
        console,
        !m.opt_present("G") && !test_only,
        facility,
        m.opt_present("D"),
    );

    let config = match config::load(&conf) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    if test_only {
        // keepalived -t fails on words it does not know; its own keywords we do not act on yet
        // were only warned about.
        if config.unhandled.iter().any(|u| !u.known) {
            return ExitCode::from(EXIT_CONFIG);
        }
        return ExitCode::from(EXIT_OK);
    }
    if config.instances.is_empty() {
        log::warn!("No VRRP instances configured in {}", conf.display());
    }
    let pidfile = PathBuf::from(
        m.opt_str("p")
            .unwrap_or_else(|| DEFAULT_PIDFILE.to_string()),
    );
    let code = io::run(config, &conf, &pidfile, !m.opt_present("n"));
    ExitCode::from(code)
}
