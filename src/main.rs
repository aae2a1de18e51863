//! keepalived-rs: command line, logging, build the daemon, run it. Nothing else.

use getopts::Options;
use keepalived_rs::{config, io};
use std::path::PathBuf;
use std::process::ExitCode;

// print!/println!/eprintln! through io::log::print: std's stdout and stderr machinery is 1.5 KB.
macro_rules! print {
    ($($t:tt)*) => { io::log::print(false, format_args!($($t)*)) };
}
macro_rules! println {
    ($($t:tt)*) => { io::log::print(false, format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! eprintln {
    ($($t:tt)*) => { io::log::print(true, format_args!("{}\n", format_args!($($t)*))) };
}

const DEFAULT_CONF: &str = "/etc/keepalived/keepalived.conf";
const DEFAULT_PIDFILE: &str = "/run/keepalived.pid";

/// keepalived's exit codes (lib/utils.h KEEPALIVED_EXIT_*).
const EXIT_OK: u8 = 0;
const EXIT_FATAL: u8 = 1;
const EXIT_CONFIG: u8 = 5;
/// `-t`: scripts would run without `enable_script_security` (KEEPALIVED_CHK_EXIT_CONFIG_TEST_SECURITY).
const EXIT_CONFIG_SECURITY: u8 = 6;

/// The first line of `-h`, above getopts' list of options.
const BRIEF: &str = "Usage: keepalived-rs [OPTION...]";

/// The options of keepalived 2.2.7 (core/main.c `long_options`) that keepalived-rs knows, with
/// keepalived's short and long names. getopts parses them: `-fFILE`, `-f FILE`,
/// `--use-file=FILE`, `--use-file FILE`, grouped flags `-nlD`, a one-letter long name is the
/// short option, words that are not options are ignored, `--` ends the options, and an option
/// given twice is an error.
fn options() -> Options {
    let mut o = Options::new();
    o.optopt(
        "f",
        "use-file",
        "use the specified configuration file",
        "FILE",
    )
    .optflag(
        "P",
        "vrrp",
        "only run with VRRP subsystem (no checker, no IPVS)",
    )
    .optflag(
        "C",
        "check",
        "only run with health-checker subsystem (no VRRP)",
    )
    .optflag("l", "log-console", "log messages to local console")
    .optflag("D", "log-detail", "detailed log messages")
    .optopt(
        "S",
        "log-facility",
        "0-7 set syslog facility to LOG_LOCAL[0-7]",
        "N",
    )
    .optflag("G", "no-syslog", "don't log via syslog")
    .optflag("n", "dont-fork", "don't fork the daemon process")
    .optopt(
        "p",
        "pid",
        "use specified pidfile for parent process",
        "FILE",
    )
    // keepalived's VRRP and checker children write their ids to these; our one process
    // writes its own id to each while that subsystem runs.
    .optopt(
        "r",
        "vrrp_pid",
        "also write the pid to FILE while VRRP runs",
        "FILE",
    )
    .optopt(
        "c",
        "checkers_pid",
        "also write the pid to FILE while checkers run",
        "FILE",
    )
    // `-tFILE`, `-t FILE` (FILE not starting with '-') or `--config-test=FILE`: the file to
    // check. (keepalived 2.2.7 writes its messages to that FILE and checks -f's.)
    .optflagopt(
        "t",
        "config-test",
        "check the configuration for obvious errors",
        "FILE",
    )
    .optopt(
        "",
        "signum",
        "report signal number for STOP, RELOAD, DATA, STATS, JSON",
        "NAME",
    )
    .optflag("v", "version", "display the version number")
    .optflag("h", "help", "display this help message");
    o
}

fn main() -> ExitCode {
    let mut args: Vec<String> = Vec::new();
    for a in std::env::args_os().skip(1) {
        match a.into_string() {
            Ok(a) => args.push(a),
            // env::args() would abort (SIGABRT) on such an argument.
            Err(a) => {
                eprintln!(
                    "keepalived-rs: argument '{}' is not valid UTF-8",
                    a.to_string_lossy()
                );
                return ExitCode::from(EXIT_FATAL);
            }
        }
    }
    let opts = options();
    let m = match opts.parse(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("keepalived-rs: {e}");
            eprintln!("{}", opts.usage(BRIEF));
            return ExitCode::from(EXIT_FATAL);
        }
    };
    if m.opt_present("help") {
        print!("{}", opts.usage(BRIEF));
        return ExitCode::from(EXIT_OK);
    }
    if m.opt_present("version") {
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
    let facility = match m.opt_str("log-facility").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(n)) if n <= 7 => Some(n as u8),
        Some(_) => {
            eprintln!("keepalived-rs: -S takes a facility number 0-7");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    let test_only = m.opt_present("config-test");
    let conf = PathBuf::from(
        m.opt_str("config-test")
            .or_else(|| m.opt_str("use-file"))
            .unwrap_or_else(|| DEFAULT_CONF.to_string()),
    );
    let console = m.opt_present("log-console") || test_only;
    io::log::init(
        console,
        !m.opt_present("no-syslog") && !test_only,
        facility,
        m.opt_present("log-detail"),
    );

    let config = match config::load(&conf) {
        Ok(c) => c,
        Err(e) => {
            keepalived_rs::logf::error(format_args!("{e}"));
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    if test_only {
        // keepalived -t fails on words it does not know; its own keywords we do not act on yet
        // were only warned about. It exits with its worst finding: a script security
        // violation outranks a configuration error.
        let unknown = config.unhandled.iter().any(|u| !u.known) || !config.mistakes.is_empty();
        let (_, scripts) = io::security::enforce(config);
        let code = if scripts.violation {
            EXIT_CONFIG_SECURITY
        } else if unknown || scripts.config_error {
            EXIT_CONFIG
        } else {
            EXIT_OK
        };
        return ExitCode::from(code);
    }
    // -P and -C as keepalived: each turns the other subsystem off (both: nothing runs). -t
    // checks the whole file whatever they say, as keepalived's does.
    let only = io::Subsystems {
        vrrp: !m.opt_present("check"),
        checkers: !m.opt_present("vrrp"),
    };
    if only.vrrp && config.instances.is_empty() {
        keepalived_rs::logf::warn(format_args!(
            "No VRRP instances configured in {}",
            conf.display()
        ));
    }
    let pidfile = PathBuf::from(
        m.opt_str("pid")
            .unwrap_or_else(|| DEFAULT_PIDFILE.to_string()),
    );
    let (vrrp_pid, checkers_pid) = (m.opt_str("vrrp_pid"), m.opt_str("checkers_pid"));
    let pidfiles = io::PidFiles {
        main: &pidfile,
        vrrp: vrrp_pid.as_deref().map(std::path::Path::new),
        checkers: checkers_pid.as_deref().map(std::path::Path::new),
    };
    let code = io::run(config, &conf, &pidfiles, only, !m.opt_present("dont-fork"));
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use getopts::Matches;

    fn parse(args: &[&str]) -> Result<Matches, String> {
        options().parse(args).map_err(|e| e.to_string())
    }

    #[test]
    fn values_glued_separate_and_long() {
        for args in [
            &["-f/a"][..],
            &["-f", "/a"],
            &["--use-file=/a"],
            &["--use-file", "/a"],
            &["--f=/a"],
        ] {
            let m = parse(args).unwrap();
            assert_eq!(m.opt_str("use-file").as_deref(), Some("/a"), "{args:?}");
        }
        // A required value may start with '-'.
        let m = parse(&["-p", "-x"]).unwrap();
        assert_eq!(m.opt_str("pid").as_deref(), Some("-x"));
    }

    #[test]
    fn keepalived_long_names() {
        let m = parse(&[
            "--use-file=/a",
            "--vrrp",
            "--check",
            "--log-console",
            "--log-detail",
            "--log-facility=3",
            "--no-syslog",
            "--dont-fork",
            "--pid=/p",
            "--vrrp_pid=/r",
            "--checkers_pid=/c",
            "--config-test",
        ])
        .unwrap();
        for (short, long) in [
            ("f", "use-file"),
            ("P", "vrrp"),
            ("C", "check"),
            ("l", "log-console"),
            ("D", "log-detail"),
            ("S", "log-facility"),
            ("G", "no-syslog"),
            ("n", "dont-fork"),
            ("p", "pid"),
            ("r", "vrrp_pid"),
            ("c", "checkers_pid"),
            ("t", "config-test"),
        ] {
            assert!(m.opt_present(short), "{long}");
        }
        assert_eq!(m.opt_str("S").as_deref(), Some("3"));
        assert_eq!(m.opt_str("p").as_deref(), Some("/p"));
    }

    #[test]
    fn grouped_flags_and_a_value_at_the_end_of_a_group() {
        let m = parse(&["-nlDf/a", "-G"]).unwrap();
        for o in [
            "dont-fork",
            "log-console",
            "log-detail",
            "use-file",
            "no-syslog",
        ] {
            assert!(m.opt_present(o), "{o}");
        }
        assert!(!m.opt_present("config-test"));
        assert_eq!(m.opt_str("use-file").as_deref(), Some("/a"));
    }

    #[test]
    fn config_test_takes_an_optional_value() {
        let m = parse(&["-t", "-f", "/a"]).unwrap();
        assert!(m.opt_present("config-test"));
        assert_eq!(m.opt_str("config-test"), None);
        assert_eq!(m.opt_str("use-file").as_deref(), Some("/a"));
        for (args, want) in [
            (&["-t", "/b"][..], Some("/b")),
            (&["-t/b"], Some("/b")),
            (&["--config-test=/b"], Some("/b")),
            (&["--config-test", "/b"], None),
            (&["-nt", "/b"], Some("/b")),
            (&["-t"], None),
        ] {
            let m = parse(args).unwrap();
            assert!(m.opt_present("config-test"), "{args:?}");
            assert_eq!(m.opt_str("config-test").as_deref(), want, "{args:?}");
        }
    }

    #[test]
    fn free_words_are_ignored_and_double_dash_ends_options() {
        let m = parse(&["word", "-", "-n", "--", "-x", "-t"]).unwrap();
        assert!(m.opt_present("dont-fork"));
        assert!(!m.opt_present("config-test"));
    }

    #[test]
    fn errors_are_getopts_messages() {
        for (args, want) in [
            (&["-x"][..], "Unrecognized option: 'x'"),
            (&["-nlx"], "Unrecognized option: 'x'"),
            (&["--use"], "Unrecognized option: 'use'"),
            (&["--foo=1"], "Unrecognized option: 'foo'"),
            (&["-f"], "Argument to option 'f' missing"),
            (&["--use-file"], "Argument to option 'use-file' missing"),
            (&["--signum"], "Argument to option 'signum' missing"),
            (
                &["--version=1"],
                "Option 'version' does not take an argument",
            ),
            (
                &["-n", "--dont-fork"],
                "Option 'dont-fork' given more than once",
            ),
            (
                &["-f", "a", "-fb"],
                "Option 'use-file' given more than once",
            ),
        ] {
            assert_eq!(parse(args).err().as_deref(), Some(want), "{args:?}");
        }
    }
}
