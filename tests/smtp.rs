//! The SMTP alert client against a real SMTP server (Debian's python3-aiosmtpd), a refused
//! connect and a server that never speaks, each in a network namespace of its own (needs
//! root; fails without it unless KEEPALIVED_RS_SKIP_NETNS=1).
//!
//! The client runs on a test thread that entered the namespace with setns(2), over a std
//! `TcpStream`: the driver below is the I/O edge, the client decides everything else.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use common::{netns_tests_enabled, poll_until, read_lossy, Netns};
use keepalived_rs::notify::smtp::{
    instance_alert, AlertState, Failure, Message, Outcome, Rfc5322Date, Settings, SmtpClient, Step,
};
use keepalived_rs::time::Instant;
use nix::sched::{setns, CloneFlags};

const PYTHON: &str = "/usr/bin/python3";
const SERVER: &str = "127.0.0.1:2525";

/// A namespace with its loopback up, named for this process and `tag`.
fn netns(tag: &str) -> Netns {
    let name = format!("kts{}{tag}", std::process::id());
    let ns = Netns(name.clone());
    for args in [
        vec!["netns", "add", &name],
        vec!["-n", &name, "link", "set", "lo", "up"],
    ] {
        let st = Command::new("ip").args(&args).status().expect("run ip");
        assert!(st.success(), "ip {args:?} failed");
    }
    ns
}

/// Runs `f` on a thread inside namespace `ns`; sockets it creates live there.
fn in_netns<T: Send>(ns: &Netns, f: impl FnOnce() -> T + Send) -> T {
    let path = format!("/run/netns/{}", ns.0);
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            setns(file, CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// A directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("kts-smtp-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// aiosmtpd storing every mail it accepts in a Maildir; killed when dropped (before the
/// namespace: declare it after the `Netns`).
struct Aiosmtpd {
    child: Child,
    maildir: PathBuf,
    log: PathBuf,
}

impl Aiosmtpd {
    fn start(ns: &Netns, dir: &Path) -> Aiosmtpd {
        let has_it = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            has_it,
            "{PYTHON} has no aiosmtpd: apt-get install -y python3-aiosmtpd"
        );
        let maildir = dir.join("Maildir");
        let log = dir.join("aiosmtpd.log");
        let out = fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args([
                "netns", "exec", &ns.0, PYTHON, "-m", "aiosmtpd", "-n", "-l", SERVER,
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start aiosmtpd");
        let mut server = Aiosmtpd {
            child,
            maildir,
            log,
        };
        let up = poll_until(Duration::from_secs(30), || {
            in_netns(ns, || TcpStream::connect(SERVER).is_ok())
                || server.child.try_wait().unwrap().is_some()
        });
        let exited = server.child.try_wait().unwrap();
        assert!(
            up && exited.is_none(),
            "aiosmtpd did not start (exit {exited:?}): {}",
            read_lossy(&server.log)
        );
        server
    }

    /// The mails received so far, oldest first.
    fn mails(&self) -> Vec<String> {
        let mut files: Vec<(SystemTime, PathBuf)> = fs::read_dir(self.maildir.join("new"))
            .map(|d| {
                d.flatten()
                    .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.iter().map(|(_, p)| read_lossy(p)).collect()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn settings(server: &str, timeout: Duration) -> Settings {
    Settings {
        server: server.parse().unwrap(),
        helo_name: "lb1.example.org".into(),
        from: "keepalived@lb1.example.org".into(),
        recipients: vec!["ops@example.org".into(), "noc@example.org".into()],
        timeout,
    }
}

/// The I/O edge for one alert, blocking for simplicity: connect, write what the client
/// queues, read with the client's deadline as the timeout, until it has an outcome.
/// Returns it with the time the dialogue took.
fn deliver(settings: &Settings, message: &Message) -> (Outcome, Duration) {
    let origin = std::time::Instant::now();
    let now = || Instant::from_micros(origin.elapsed().as_micros() as u64);
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    let date = Rfc5322Date {
        unix_secs: unix.as_secs() as i64,
        utc_offset_secs: 0,
    };
    let mut c = SmtpClient::new(settings, message, date, now()).expect("settings");
    let wait = |c: &SmtpClient| c.poll_timeout().unwrap().saturating_since(now());
    let mut sock = match TcpStream::connect_timeout(&settings.server, wait(&c)) {
        Ok(s) => {
            c.handle_connected(now());
            Some(s)
        }
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            c.handle_timeout(now());
            None
        }
        Err(_) => {
            c.handle_closed(now());
            None
        }
    };
    let mut buf = [0u8; 256];
    while c.outcome().is_none() {
        let s = sock.as_mut().expect("an open connection until the outcome");
        while !c.poll_transmit().is_empty() {
            match s.write(c.poll_transmit()) {
                Ok(n) if n > 0 => c.transmitted(n),
                _ => {
                    c.handle_closed(now());
                    break;
                }
            }
        }
        if c.outcome().is_some() {
            break;
        }
        let w = wait(&c);
        if w.is_zero() {
            c.handle_timeout(now());
            continue;
        }
        s.set_read_timeout(Some(w)).unwrap();
        match s.read(&mut buf) {
            Ok(0) => c.handle_closed(now()),
            Ok(n) => c.handle_input(&buf[..n], now()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                c.handle_timeout(now())
            }
            Err(_) => c.handle_closed(now()),
        }
    }
    (c.outcome().unwrap(), origin.elapsed())
}

/// The value of header `name` in a stored mail.
fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let head = mail.split("\n\n").next().unwrap_or("");
    head.lines().find_map(|l| {
        l.strip_prefix(name)
            .and_then(|r| r.strip_prefix(':'))
            .map(str::trim)
    })
}

#[test]
fn alert_reaches_a_real_smtp_server() {
    if !netns_tests_enabled("alert_reaches_a_real_smtp_server") {
        return;
    }
    let ns = netns("m");
    let dir = TempDir::new("m");
    let server = Aiosmtpd::start(&ns, &dir.0);
    let settings = settings(SERVER, Duration::from_secs(10));

    let alert = instance_alert("lb1", "VI_1", AlertState::Master);
    let (outcome, _) = in_netns(&ns, || deliver(&settings, &alert));
    assert_eq!(
        outcome,
        Outcome::Sent,
        "{}\nserver log:\n{}",
        outcome.log_line(settings.server),
        read_lossy(&server.log)
    );
    // A body line that starts with '.' arrives as written, not as the end of the mail.
    let dotted = Message {
        subject: "dots".into(),
        body: "first\n.second starts with a dot\n.\nlast".into(),
    };
    let (outcome, _) = in_netns(&ns, || deliver(&settings, &dotted));
    assert_eq!(outcome, Outcome::Sent);

    let mails = server.mails();
    assert_eq!(mails.len(), 2, "{mails:#?}\n{}", read_lossy(&server.log));
    let m = &mails[0];
    assert_eq!(header(m, "From"), Some("keepalived@lb1.example.org"), "{m}");
    assert_eq!(header(m, "To"), Some("ops@example.org, noc@example.org"));
    assert_eq!(
        header(m, "Subject"),
        Some("[lb1] VRRP Instance VI_1 - Entering MASTER state")
    );
    assert_eq!(header(m, "X-Mailer"), Some("Keepalived"));
    // The envelope, as aiosmtpd's Mailbox records it.
    assert_eq!(header(m, "X-MailFrom"), Some("keepalived@lb1.example.org"));
    assert_eq!(
        header(m, "X-RcptTo"),
        Some("ops@example.org, noc@example.org")
    );
    let date = header(m, "Date").expect("a Date header");
    assert!(date.ends_with(" +0000") && date.len() == 31, "{date}");
    let body = m.split_once("\n\n").unwrap().1;
    assert_eq!(
        body.trim_end(),
        "=> VRRP Instance is now owning VRRP VIPs <="
    );

    let body = mails[1].split_once("\n\n").unwrap().1;
    assert_eq!(
        body.trim_end(),
        "first\n.second starts with a dot\n.\nlast",
        "{}",
        mails[1]
    );
}

#[test]
fn nothing_listening_is_refused() {
    if !netns_tests_enabled("nothing_listening_is_refused") {
        return;
    }
    let ns = netns("r");
    let settings = settings("127.0.0.1:2526", Duration::from_secs(5));
    let alert = instance_alert("lb1", "VI_1", AlertState::Backup);
    let (outcome, took) = in_netns(&ns, || deliver(&settings, &alert));
    assert_eq!(outcome, Outcome::Failed(Failure::Refused));
    assert!(
        took < Duration::from_secs(1),
        "a refusal is immediate: {took:?}"
    );
    assert_eq!(
        outcome.log_line(settings.server).to_string(),
        "SMTP connection ERROR to [127.0.0.1]:2526."
    );
}

#[test]
fn a_silent_server_stalls_the_greeting() {
    if !netns_tests_enabled("a_silent_server_stalls_the_greeting") {
        return;
    }
    let ns = netns("s");
    let timeout = Duration::from_secs(1);
    let alert = instance_alert("lb1", "VI_1", AlertState::Fault);
    let (outcome, took, heard) = in_netns(&ns, || {
        // Listens and accepts (the kernel completes the handshake) but never writes.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let settings = settings(&addr.to_string(), timeout);
        let (outcome, took) = deliver(&settings, &alert);
        // What the client said before it gave up (it has closed its end by now).
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut heard = String::new();
        let _ = conn.read_to_string(&mut heard);
        (outcome, took, heard)
    });
    assert_eq!(outcome, Outcome::Failed(Failure::Stalled(Step::Greeting)));
    assert_eq!(heard, "QUIT\r\n", "keepalived says QUIT after the timeout");
    // One timeout for the greeting, one for the QUIT reply.
    assert!(
        took >= 2 * timeout && took < 2 * timeout + Duration::from_secs(2),
        "{took:?}"
    );
}
