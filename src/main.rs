//! keepalived-rs: command line, logging, build the daemon, run it. Nothing else.

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

/// `-h` text, also printed after a command-line error.
const USAGE: &str = concat!(
    "Usage: keepalived-rs [OPTION...]\n",
    "\n",
    "Options:\n",
    "    -f, --use-file FILE use the specified configuration file\n",
    "    -P, --vrrp          only run with VRRP subsystem (the only one here)\n",
    "    -C, --check         only run with health-checker subsystem (accepted, not\n",
    "                        built yet)\n",
    "    -l, --log-console   log messages to local console\n",
    "    -D, --log-detail    detailed log messages\n",
    "    -S, --log-facility N\n",
    "                        0-7 set syslog facility to LOG_LOCAL[0-7]\n",
    "    -G, --no-syslog     don't log via syslog\n",
    "    -n, --dont-fork     don't fork the daemon process\n",
    "    -p, --pid FILE      use specified pidfile for parent process\n",
    "    -r, --vrrp_pid FILE use specified pidfile for VRRP child process\n",
    "                        (accepted)\n",
    "    -c, --checkers_pid FILE\n",
    "                        use specified pidfile for checkers child process\n",
    "                        (accepted)\n",
    "    -t, --config-test [FILE]\n",
    "                        check the configuration for obvious errors\n",
    "        --signum NAME   report signal number for STOP, RELOAD, DATA, STATS,\n",
    "                        JSON\n",
    "    -v, --version       display the version number\n",
    "    -h, --help          display this help message\n",
);

/// Whether an option takes a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HasArg {
    No,
    Yes,
    /// `-tFILE`, `-t FILE` (when FILE does not start with `-`) or `--config-test=FILE`.
    Maybe,
}

/// One option: short letter (0 for none), long name, value.
struct Opt(u8, &'static str, HasArg);

const OPTS: [Opt; 15] = [
    Opt(b'f', "use-file", HasArg::Yes),
    Opt(b'P', "vrrp", HasArg::No),
    Opt(b'C', "check", HasArg::No),
    Opt(b'l', "log-console", HasArg::No),
    Opt(b'D', "log-detail", HasArg::No),
    Opt(b'S', "log-facility", HasArg::Yes),
    Opt(b'G', "no-syslog", HasArg::No),
    Opt(b'n', "dont-fork", HasArg::No),
    Opt(b'p', "pid", HasArg::Yes),
    Opt(b'r', "vrrp_pid", HasArg::Yes),
    Opt(b'c', "checkers_pid", HasArg::Yes),
    Opt(b't', "config-test", HasArg::Maybe),
    Opt(0, "signum", HasArg::Yes),
    Opt(b'v', "version", HasArg::No),
    Opt(b'h', "help", HasArg::No),
];

// Indices in OPTS of the options main acts on.
const USE_FILE: usize = 0;
const LOG_CONSOLE: usize = 3;
const LOG_DETAIL: usize = 4;
const LOG_FACILITY: usize = 5;
const NO_SYSLOG: usize = 6;
const DONT_FORK: usize = 7;
const PID: usize = 8;
const CONFIG_TEST: usize = 11;
const SIGNUM: usize = 12;
const VERSION: usize = 13;
const HELP: usize = 14;

/// The parsed command line: how often each option of [`OPTS`] was given, and its first value.
struct Matches<'a> {
    count: [u8; OPTS.len()],
    val: [Option<&'a str>; OPTS.len()],
}

impl<'a> Matches<'a> {
    fn present(&self, i: usize) -> bool {
        self.count[i] > 0
    }

    fn value(&self, i: usize) -> Option<&'a str> {
        self.val[i]
    }
}

/// getopts-style parsing (what this program always accepted): `-fFILE`, `-f FILE`,
/// `--use-file=FILE`, `--use-file FILE`, grouped flags `-nlD`, a one-letter long name is the
/// short option, words that are not options are ignored, `--` ends the options, and an option
/// given twice is an error. Errors are the messages getopts printed.
fn parse_args(args: &[String]) -> Result<Matches<'_>, String> {
    let mut m = Matches {
        count: [0; OPTS.len()],
        val: [None; OPTS.len()],
    };
    let is_opt = |a: &str| a.len() > 1 && a.starts_with('-');
    let mut args = args.iter().map(String::as_str).peekable();
    while let Some(cur) = args.next() {
        if !is_opt(cur) {
            continue;
        }
        if cur == "--" {
            break;
        }
        // The option that may take a value, as the user named it, and a value glued to it.
        let (name, glued, long) = if let Some(tail) = cur.strip_prefix("--") {
            let (n, v) = match tail.bytes().position(|b| b == b'=') {
                Some(i) => (&tail[..i], Some(&tail[i + 1..])),
                None => (tail, None),
            };
            (n, v, true)
        } else {
            let mut found = None;
            for (j, ch) in cur.char_indices().skip(1) {
                let (name, rest) = cur[j..].split_at(ch.len_utf8());
                let id = find(name)?;
                if OPTS[id].2 != HasArg::No {
                    found = Some((name, Some(rest).filter(|r| !r.is_empty())));
                    break;
                }
                m.count[id] = m.count[id].saturating_add(1);
            }
            let Some((n, v)) = found else { continue };
            (n, v, false)
        };
        let id = find(name)?;
        let val = match (OPTS[id].2, glued) {
            (HasArg::No, Some(_)) => {
                return Err(format!("Option '{name}' does not take an argument"))
            }
            (_, Some(v)) => Some(v),
            (HasArg::No, None) => None,
            (HasArg::Maybe, None) if long => None,
            (HasArg::Maybe, None) => args.next_if(|a| !is_opt(a)),
            (HasArg::Yes, None) => match args.next() {
                None => return Err(format!("Argument to option '{name}' missing")),
                v => v,
            },
        };
        if m.count[id] == 0 {
            m.val[id] = val;
        }
        m.count[id] = m.count[id].saturating_add(1);
    }
    match m.count.iter().position(|&c| c > 1) {
        Some(id) => Err(format!("Option '{}' given more than once", OPTS[id].1)),
        None => Ok(m),
    }
}

/// The index in [`OPTS`] of a short (one byte) or long option name.
fn find(name: &str) -> Result<usize, String> {
    let short = match name.as_bytes() {
        &[c] => c,
        _ => 0,
    };
    OPTS.iter()
        .position(|o| {
            if short != 0 {
                o.0 == short
            } else {
                o.1 == name
            }
        })
        .ok_or_else(|| format!("Unrecognized option: '{name}'"))
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
    let m = match parse_args(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("keepalived-rs: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    if m.present(HELP) {
        print!("{USAGE}");
        return ExitCode::from(EXIT_OK);
    }
    if m.present(VERSION) {
        println!(
            "keepalived-rs {} (keepalived 2.2.7 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::from(EXIT_OK);
    }
    if let Some(name) = m.value(SIGNUM) {
        return match io::signals::signum(name) {
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
    let facility = match m.value(LOG_FACILITY).map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(n)) if n <= 7 => Some(n as u8),
        Some(_) => {
            eprintln!("keepalived-rs: -S takes a facility number 0-7");
            return ExitCode::from(EXIT_FATAL);
        }
    };
    let test_only = m.present(CONFIG_TEST);
    let conf = PathBuf::from(
        m.value(CONFIG_TEST)
            .or_else(|| m.value(USE_FILE))
            .unwrap_or(DEFAULT_CONF),
    );
    let console = m.present(LOG_CONSOLE) || test_only;
    io::log::init(
        console,
        !m.present(NO_SYSLOG) && !test_only,
        facility,
        m.present(LOG_DETAIL),
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
        // were only warned about.
        if config.unhandled.iter().any(|u| !u.known) {
            return ExitCode::from(EXIT_CONFIG);
        }
        return ExitCode::from(EXIT_OK);
    }
    if config.instances.is_empty() {
        keepalived_rs::logf::warn(format_args!(
            "No VRRP instances configured in {}",
            conf.display()
        ));
    }
    let pidfile = PathBuf::from(m.value(PID).unwrap_or(DEFAULT_PIDFILE));
    let code = io::run(config, &conf, &pidfile, !m.present(DONT_FORK));
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Matches<'static>, String> {
        let v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse_args(Vec::leak(v))
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
            assert_eq!(m.value(USE_FILE), Some("/a"), "{args:?}");
        }
        // A required value may start with '-'.
        let m = parse(&["-p", "-x"]).unwrap();
        assert_eq!(m.value(PID), Some("-x"));
    }

    #[test]
    fn grouped_flags_and_a_value_at_the_end_of_a_group() {
        let m = parse(&["-nlDf/a", "-G"]).unwrap();
        for i in [DONT_FORK, LOG_CONSOLE, LOG_DETAIL, USE_FILE, NO_SYSLOG] {
            assert!(m.present(i), "{}", OPTS[i].1);
        }
        assert!(!m.present(CONFIG_TEST));
        assert_eq!(m.value(USE_FILE), Some("/a"));
    }

    #[test]
    fn config_test_takes_an_optional_value() {
        let m = parse(&["-t", "-f", "/a"]).unwrap();
        assert!(m.present(CONFIG_TEST));
        assert_eq!(m.value(CONFIG_TEST), None);
        assert_eq!(m.value(USE_FILE), Some("/a"));
        for (args, want) in [
            (&["-t", "/b"][..], Some("/b")),
            (&["-t/b"], Some("/b")),
            (&["--config-test=/b"], Some("/b")),
            (&["--config-test", "/b"], None),
            (&["-nt", "/b"], Some("/b")),
            (&["-t"], None),
        ] {
            let m = parse(args).unwrap();
            assert!(m.present(CONFIG_TEST), "{args:?}");
            assert_eq!(m.value(CONFIG_TEST), want, "{args:?}");
        }
    }

    #[test]
    fn free_words_are_ignored_and_double_dash_ends_options() {
        let m = parse(&["word", "-", "-n", "--", "-x", "-t"]).unwrap();
        assert!(m.present(DONT_FORK));
        assert!(!m.present(CONFIG_TEST));
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

    #[test]
    fn usage_lists_every_option() {
        for o in OPTS {
            assert!(
                USAGE.contains(&format!("--{} ", o.1)) || USAGE.contains(&format!("--{}\n", o.1)),
                "{}",
                o.1
            );
            if o.0 != 0 {
                let both = format!("-{}, --{}", o.0 as char, o.1);
                assert!(USAGE.contains(&both), "{}", o.1);
            }
        }
    }
}
