//! keepalived's SMTP alerts (2.2.7 `core/smtp.c`): one mail per alert over its own TCP
//! connection, a plain HELO dialogue (no EHLO, TLS or AUTH), every reply judged by one code.
//!
//! [`SmtpClient`] is a pure machine. The daemon connects a non-blocking socket to
//! [`Settings::server`], then tells the client what happened (`handle_connected`,
//! `handle_input`, `handle_timeout`, `handle_closed`), writes [`SmtpClient::poll_transmit`]
//! and reports what the socket took with [`SmtpClient::transmitted`], and sleeps no later than
//! [`SmtpClient::poll_timeout`]. Once [`SmtpClient::outcome`] is `Some` it closes the socket
//! and logs [`Outcome::log_line`].
//!
//! Where we differ from keepalived, on purpose:
//! - the wait for a reply is bounded by one `smtp_connect_timeout` per reply, not per read, and
//!   a reply by [`MAX_REPLY_LINES`] lines: a server that trickles bytes or sends `220-` lines
//!   for ever ends the dialogue (keepalived would wait for ever);
//! - one QUIT at most: keepalived answers a non-221 reply to QUIT with another QUIT;
//! - body lines that start with '.' are dot-stuffed (RFC 5321 4.5.2), keepalived sends them
//!   as they are (a body line "." would end its mail early).

use core::fmt;
use core::ops::Range;
use core::time::Duration;
use std::net::SocketAddr;

use crate::time::{Civil, Instant};
use crate::vrrp::State;

/// `smtp_server ADDR` without a port.
pub const DEFAULT_PORT: u16 = 25;

/// `smtp_connect_timeout` when not set (keepalived `DEFAULT_SMTP_CONNECTION_TIMEOUT`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The HELO name when neither `smtp_helo_name` nor the host name is known (keepalived's).
pub const FALLBACK_HELO_NAME: &str = "localhost";

/// Longest reply line we read, CRLF included (keepalived `SMTP_BUFFER_MAX`; RFC 5321
/// 4.5.3.1.5 allows 512): a longer one ends the dialogue.
pub const MAX_REPLY_LINE: usize = 1024;

/// Most lines in one (multi-line) reply. A real server's EHLO/HELO reply has a dozen.
pub const MAX_REPLY_LINES: usize = 64;

/// Longest command line, CRLF included (RFC 5321 4.5.3.1.4): checked when the client is built,
/// so an over-long `notification_email` entry is an error, not a truncated address.
pub const MAX_COMMAND_LINE: usize = 512;

/// Where a To header line is folded (RFC 5322 2.1.1 recommends 78 characters).
const FOLD_AT: usize = 78;

/// The `global_defs` settings an alert is sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `smtp_server ADDR [PORT]` (port [`DEFAULT_PORT`] when omitted).
    pub server: SocketAddr,
    /// `smtp_helo_name` (keepalived default: the host name, else [`FALLBACK_HELO_NAME`]).
    pub helo_name: String,
    /// `notification_email_from` (keepalived default: `<user>@<host name>`).
    pub from: String,
    /// `notification_email`: one RCPT TO each, in this order; all of them in the To header.
    pub recipients: Vec<String>,
    /// `smtp_connect_timeout`: bounds the connect and the wait for each reply.
    pub timeout: Duration,
}

/// Why settings cannot make a mail; reported when the client is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingsError {
    /// `notification_email` is empty: keepalived sends nothing then.
    NoRecipients,
    /// The named setting contains CR or LF, which would inject commands or headers.
    LineBreak(&'static str),
    /// The named setting makes a command line longer than [`MAX_COMMAND_LINE`].
    TooLong(&'static str),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsError::NoRecipients => f.write_str("notification_email has no address"),
            SettingsError::LineBreak(s) => write!(f, "{s} contains a line break"),
            SettingsError::TooLong(s) => write!(
                f,
                "{s} makes an SMTP command longer than {MAX_COMMAND_LINE} octets"
            ),
        }
    }
}

impl Settings {
    /// Checks what would break the dialogue; the daemon may call it when loading the config.
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.recipients.is_empty() {
            return Err(SettingsError::NoRecipients);
        }
        // The longest command each setting appears in: "HELO x\r\n", "MAIL FROM:<x>\r\n",
        // "RCPT TO:<x>\r\n".
        let fields = [
            ("smtp_helo_name", self.helo_name.as_str(), 7),
            ("notification_email_from", self.from.as_str(), 14),
        ];
        let rcpts = self
            .recipients
            .iter()
            .map(|r| ("notification_email", r.as_str(), 12));
        for (name, value, overhead) in fields.into_iter().chain(rcpts) {
            if value.contains(['\r', '\n']) {
                return Err(SettingsError::LineBreak(name));
            }
            if value.len() + overhead > MAX_COMMAND_LINE {
                return Err(SettingsError::TooLong(name));
            }
        }
        Ok(())
    }
}

/// One alert: the Subject header and the body text (lines separated by '\n').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

/// The states keepalived mails about (vrrp_notify.c `vrrp_smtp_notifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Master,
    Backup,
    Fault,
    /// The instance or group stops (our `State::Initialize` after a start).
    Stopping,
    /// The instance was removed by a reload (instances only).
    Deleted,
}

impl AlertState {
    /// The alert for a state the VRRP machine entered; `Initialize` means it stopped.
    pub fn from_vrrp(state: State) -> AlertState {
        match state {
            State::Master => AlertState::Master,
            State::Backup => AlertState::Backup,
            State::Fault => AlertState::Fault,
            State::Initialize => AlertState::Stopping,
        }
    }

    /// The end of keepalived's Subject.
    fn subject(self) -> &'static str {
        match self {
            AlertState::Master => "Entering MASTER state",
            AlertState::Backup => "Entering BACKUP state",
            AlertState::Fault => "Entering FAULT state",
            AlertState::Stopping => "Stopping",
            AlertState::Deleted => "Deleted",
        }
    }
}

/// The mail keepalived sends when `vrrp_instance` `instance` enters `state`:
/// "[router_id] VRRP Instance VI_1 - Entering MASTER state".
pub fn instance_alert(router_id: &str, instance: &str, state: AlertState) -> Message {
    let body = match state {
        AlertState::Master => "=> VRRP Instance is now owning VRRP VIPs <=",
        AlertState::Backup | AlertState::Fault => {
            "=> VRRP Instance is no longer owning VRRP VIPs <="
        }
        AlertState::Stopping => "=> VRRP Instance stopping <=",
        AlertState::Deleted => "=> VRRP Deleted at reload <=",
    };
    Message {
        subject: format!(
            "[{router_id}] VRRP Instance {instance} - {}",
            state.subject()
        ),
        body: body.into(),
    }
}

/// The mail keepalived sends when a real server `rs` (`[ip]:port`) of virtual server `vs`
/// goes up or down (core/smtp.c SMTP_MSG_RS; its checkers word the body each their way, this
/// is the common form).
pub fn real_server_alert(router_id: &str, rs: &str, vs: &str, up: bool) -> Message {
    let (word, body) = match up {
        true => ("UP", "=> CHECK succeed on service <="),
        false => ("DOWN", "=> CHECK failed on service <="),
    };
    Message {
        subject: format!("[{router_id}] Realserver {rs} of virtual server {vs} - {word}"),
        body: body.into(),
    }
}

/// The mail keepalived sends when virtual server `vs` gains or loses its quorum (SMTP_MSG_VS,
/// ipwrapper.c `do_vs_notifies`).
pub fn virtual_server_alert(
    router_id: &str,
    vs: &str,
    up: bool,
    quorum: u32,
    hysteresis: u32,
    weight: u64,
) -> Message {
    let (word, what, sign) = match up {
        true => ("UP", "Gained quorum", '+'),
        false => ("DOWN", "Lost quorum", '-'),
    };
    let threshold = match up {
        true => i64::from(quorum) + i64::from(hysteresis),
        false => i64::from(quorum) - i64::from(hysteresis),
    };
    Message {
        subject: format!("[{router_id}] Virtualserver {vs} - {word}"),
        body: format!("=> {what} {quorum}{sign}{hysteresis}={threshold} <= {weight} <="),
    }
}

/// The mail keepalived sends when `vrrp_sync_group` `group` enters `state`; `None` for
/// `Deleted`, which keepalived does not mail for a group.
pub fn group_alert(router_id: &str, group: &str, state: AlertState) -> Option<Message> {
    let body = match state {
        AlertState::Master => "=> All VRRP group instances are now in MASTER state <=",
        AlertState::Backup => "=> All VRRP group instances are now in BACKUP state <=",
        AlertState::Fault => "=> All VRRP group instances are now in FAULT state <=",
        AlertState::Stopping => "=> All VRRP group instances are now stopping <=",
        AlertState::Deleted => return None,
    };
    Some(Message {
        subject: format!("[{router_id}] VRRP Group {group} - {}", state.subject()),
        body: body.into(),
    })
}

/// A Date header value (RFC 5322 3.3), "Mon, 01 Mar 2021 09:44:08 +0000", from wall-clock
/// time the I/O edge read: keepalived writes local time with its offset (`strftime %z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc5322Date {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub unix_secs: i64,
    /// Local time minus UTC, in seconds (`tm_gmtoff`); 0 writes UTC.
    pub utc_offset_secs: i32,
}

impl fmt::Display for Rfc5322Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = self.utc_offset_secs;
        let c = Civil::from_secs(self.unix_secs.saturating_add(i64::from(off)));
        let sign = if off < 0 { '-' } else { '+' };
        let off_min = off.unsigned_abs() / 60;
        write!(
            f,
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} {sign}{:02}{:02}",
            c.day_name(),
            c.day,
            c.month_name(),
            c.year,
            c.hour,
            c.minute,
            c.second,
            off_min / 60,
            off_min % 60
        )
    }
}

/// The point of the dialogue, named as keepalived logs it (`SMTP_FSM[].cmd_name`): the
/// command whose reply we wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The TCP connect.
    Connect,
    /// The server's greeting.
    Greeting,
    Helo,
    Mail,
    Rcpt,
    Data,
    /// The mail content and its final ".".
    Body,
    Quit,
}

impl Step {
    /// The one reply code that lets the dialogue go on (keepalived `expected_code`).
    fn expected_code(self) -> u16 {
        match self {
            Step::Connect => 0,
            Step::Greeting => 220,
            Step::Helo | Step::Mail | Step::Rcpt | Step::Body => 250,
            Step::Data => 354,
            Step::Quit => 221,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Greeting => "(E)SMTP",
            Step::Helo => "HELO",
            Step::Mail => "MAIL",
            Step::Rcpt => "RCPT",
            Step::Data => "DATA",
            Step::Body => "BODY",
            Step::Quit => "QUIT",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an alert was not delivered: the first thing that went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connect failed (refused, unreachable, reset before it completed).
    Refused,
    /// No complete reply (or no connect, at [`Step::Connect`]) within `smtp_connect_timeout`.
    Stalled(Step),
    /// The server answered with a code other than the one expected at this step.
    Rejected { code: u16, step: Step },
    /// The server closed the connection before the mail was accepted.
    ClosedEarly(Step),
    /// A reply without a 3-digit code, a line over [`MAX_REPLY_LINE`] octets, more than
    /// [`MAX_REPLY_LINES`] lines, or a reply before our command was written.
    BadReply(Step),
}

/// How one alert ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server accepted the mail (250 after the final ".").
    Sent,
    Failed(Failure),
}

impl Outcome {
    /// keepalived's log line for this outcome (all at LOG_INFO), the server written as
    /// keepalived does ("[192.0.2.25]:25"); we add the step where keepalived names none.
    pub fn log_line(self, server: SocketAddr) -> impl fmt::Display {
        LogLine {
            outcome: self,
            server,
        }
    }
}

struct LogLine {
    outcome: Outcome,
    server: SocketAddr,
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ip, port) = (self.server.ip(), self.server.port());
        match self.outcome {
            Outcome::Sent => f.write_str("SMTP alert successfully sent."),
            Outcome::Failed(Failure::Refused) => {
                write!(f, "SMTP connection ERROR to [{ip}]:{port}.")
            }
            Outcome::Failed(Failure::Stalled(Step::Connect)) => {
                write!(f, "Timeout connecting SMTP server [{ip}]:{port}.")
            }
            Outcome::Failed(Failure::Stalled(step)) => write!(
                f,
                "Timeout reading data to remote SMTP server [{ip}]:{port}. (at {step})"
            ),
            Outcome::Failed(Failure::Rejected { code, step }) => write!(
                f,
                "Error processing {step} cmd on SMTP server [{ip}]:{port}. \
                 SMTP status code = {code}"
            ),
            Outcome::Failed(Failure::ClosedEarly(step)) => write!(
                f,
                "Remote SMTP server [{ip}]:{port} has closed the connection. (at {step})"
            ),
            Outcome::Failed(Failure::BadReply(step)) => write!(
                f,
                "Unreadable reply from remote SMTP server [{ip}]:{port}. (at {step})"
            ),
        }
    }
}

/// Reads reply lines one octet at a time, keeping only what judging them needs: the first
/// four octets of the current line and counts. Memory does not grow with what the server sends.
#[derive(Debug, Clone, Default)]
struct ReplyReader {
    head: [u8; 4],
    /// Octets of the current line so far, LF excluded.
    line_len: usize,
    /// Continuation ("250-") lines of the current reply so far.
    lines: usize,
}

/// What one octet completed.
enum Read {
    More,
    /// The last line of a reply, with its code.
    Reply(u16),
    Bad,
}

impl ReplyReader {
    fn push(&mut self, byte: u8) -> Read {
        if byte != b'\n' {
            if self.line_len < self.head.len() {
                self.head[self.line_len] = byte;
            }
            self.line_len += 1;
            // The LF still to come counts toward the limit.
            return if self.line_len >= MAX_REPLY_LINE {
                self.reset();
                Read::Bad
            } else {
                Read::More
            };
        }
        // RFC 5321 4.2: "code SP text CRLF" or "code-text CRLF" for all but the last line;
        // a bare LF is taken as the line end too.
        let len = self.line_len - usize::from(self.line_len > 0 && self.last_is_cr());
        let line = &self.head[..len.min(4)];
        self.line_len = 0;
        if len < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
            self.reset();
            return Read::Bad;
        }
        let code = line[..3]
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        match line.get(3) {
            None | Some(b' ') => {
                self.lines = 0;
                Read::Reply(code)
            }
            Some(b'-') => {
                self.lines += 1;
                if self.lines >= MAX_REPLY_LINES {
                    self.reset();
                    Read::Bad
                } else {
                    Read::More
                }
            }
            Some(_) => {
                self.reset();
                Read::Bad
            }
        }
    }

    /// Whether the octet before the LF was CR. Only known when the line is at most 4 long;
    /// longer lines have their code in `head` and the CR does not matter.
    fn last_is_cr(&self) -> bool {
        self.line_len <= self.head.len() && self.head[self.line_len - 1] == b'\r'
    }

    fn reset(&mut self) {
        *self = ReplyReader::default();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    /// A command (or the connect) is done or queued; its reply is awaited.
    Awaiting(Step),
    Done,
}

/// One alert's SMTP dialogue. Everything it sends is built in [`SmtpClient::new`]; after that
/// it allocates nothing.
#[derive(Debug, Clone)]
pub struct SmtpClient {
    /// The octets of every command and of the mail content, back to back.
    script: Vec<u8>,
    /// The commands in order (HELO, MAIL, RCPT..., DATA, content, QUIT) as ranges of
    /// `script`, with the step their reply answers. QUIT is last.
    commands: Vec<(Step, Range<usize>)>,
    /// The command sent after the next expected reply.
    next: usize,
    /// The part of `script` queued for the socket and not yet written.
    out: Range<usize>,
    phase: Phase,
    /// When the connect or the awaited reply is overdue.
    deadline: Option<Instant>,
    timeout: Duration,
    reader: ReplyReader,
    /// The first thing that went wrong; the dialogue still ends with QUIT, as keepalived's.
    failure: Option<Failure>,
    /// The server took the mail (250 after the final ".").
    delivered: bool,
}

impl SmtpClient {
    /// A client for one alert, waiting for the daemon's connect to `settings.server`, which
    /// must complete within `settings.timeout` of `now`.
    pub fn new(
        settings: &Settings,
        message: &Message,
        date: Rfc5322Date,
        now: Instant,
    ) -> Result<SmtpClient, SettingsError> {
        settings.check()?;
        let mut script = Vec::new();
        let mut commands = Vec::with_capacity(settings.recipients.len() + 5);
        let mut add = |step: Step, parts: &[&str]| {
            let start = script.len();
            for p in parts {
                script.extend_from_slice(p.as_bytes());
            }
            commands.push((step, start..script.len()));
        };
        add(Step::Helo, &["HELO ", &settings.helo_name, "\r\n"]);
        add(Step::Mail, &["MAIL FROM:<", &settings.from, ">\r\n"]);
        for r in &settings.recipients {
            add(Step::Rcpt, &["RCPT TO:<", r, ">\r\n"]);
        }
        add(Step::Data, &["DATA\r\n"]);
        let content = mail_content(settings, message, date);
        add(Step::Body, &[&content]);
        add(Step::Quit, &["QUIT\r\n"]);
        Ok(SmtpClient {
            script,
            commands,
            next: 0,
            out: 0..0,
            phase: Phase::Connecting,
            deadline: Some(now + settings.timeout),
            timeout: settings.timeout,
            reader: ReplyReader::default(),
            failure: None,
            delivered: false,
        })
    }

    /// The connect completed: the server's greeting is due within the timeout.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.phase == Phase::Connecting {
            self.phase = Phase::Awaiting(Step::Greeting);
            self.deadline = Some(now + self.timeout);
        }
    }

    /// Octets the server sent, split anywhere. Ignored once the dialogue is over.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        for &byte in data {
            let Phase::Awaiting(step) = self.phase else {
                return;
            };
            match self.reader.push(byte) {
                Read::More => {}
                Read::Reply(code) => self.on_reply(step, Some(code), now),
                Read::Bad => self.on_reply(step, None, now),
            }
        }
    }

    /// Call when [`SmtpClient::poll_timeout`] has passed (early calls do nothing).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        match self.phase {
            Phase::Connecting => {
                self.note(Failure::Stalled(Step::Connect));
                self.finish();
            }
            Phase::Awaiting(step) => {
                self.note(Failure::Stalled(step));
                // keepalived says QUIT after a timeout, unless that is what went unanswered
                // or the server is not even taking our octets.
                if step == Step::Quit || !self.out.is_empty() {
                    self.finish();
                } else {
                    self.queue(self.commands.len() - 1, now);
                }
            }
            Phase::Done => {}
        }
    }

    /// The connection is gone: the connect failed, the server closed it, or a read or write
    /// failed.
    pub fn handle_closed(&mut self, _now: Instant) {
        match self.phase {
            Phase::Connecting => self.note(Failure::Refused),
            Phase::Awaiting(step) => self.note(Failure::ClosedEarly(step)),
            Phase::Done => return,
        }
        self.finish();
    }

    /// Octets to write to the socket now (empty: nothing to send).
    pub fn poll_transmit(&self) -> &[u8] {
        &self.script[self.out.clone()]
    }

    /// The socket took the first `n` octets of [`SmtpClient::poll_transmit`].
    pub fn transmitted(&mut self, n: usize) {
        self.out.start = self.out.start.saturating_add(n).min(self.out.end);
    }

    /// When to call [`SmtpClient::handle_timeout`]; `None` once the dialogue is over.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// `Some` once the dialogue is over: close the socket and log the outcome.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::Done if self.delivered => Some(Outcome::Sent),
            Phase::Done => Some(Outcome::Failed(
                self.failure.unwrap_or(Failure::ClosedEarly(Step::Quit)),
            )),
            _ => None,
        }
    }

    /// Judges a complete reply (`None`: unreadable) to the command of `step`.
    fn on_reply(&mut self, step: Step, code: Option<u16>, now: Instant) {
        if !self.out.is_empty() {
            // The server answered a command we have not finished writing.
            self.note(Failure::BadReply(step));
            self.finish();
            return;
        }
        match code {
            Some(c) if c == step.expected_code() => {
                if step == Step::Quit {
                    self.finish();
                    return;
                }
                if step == Step::Body {
                    self.delivered = true;
                }
                self.queue(self.next, now);
            }
            _ if step == Step::Quit => self.finish(),
            _ => {
                self.note(match code {
                    Some(code) => Failure::Rejected { code, step },
                    None => Failure::BadReply(step),
                });
                self.queue(self.commands.len() - 1, now);
            }
        }
    }

    /// Queues command `i` and waits for its reply.
    fn queue(&mut self, i: usize, now: Instant) {
        let (step, ref range) = self.commands[i];
        self.out = range.clone();
        // A line left unfinished by a timeout belongs to the old reply.
        self.reader.reset();
        self.next = i + 1;
        self.phase = Phase::Awaiting(step);
        self.deadline = Some(now + self.timeout);
    }

    /// Keeps the first failure; none counts once the mail was accepted.
    fn note(&mut self, failure: Failure) {
        if !self.delivered && self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    fn finish(&mut self) {
        self.phase = Phase::Done;
        self.deadline = None;
        self.out = 0..0;
    }
}

/// What follows DATA: keepalived's headers (Date, From, Subject, X-Mailer, To), a blank line,
/// the body, a blank line and the final ".", each line dot-stuffed (RFC 5321 4.5.2).
fn mail_content(settings: &Settings, message: &Message, date: Rfc5322Date) -> String {
    use core::fmt::Write as _;
    let mut s = String::new();
    // A CR or LF in the subject would end the header early: they become spaces.
    let subject = message.subject.replace(['\r', '\n'], " ");
    let _ = write!(
        s,
        "Date: {date}\r\nFrom: {}\r\nSubject: {subject}\r\nX-Mailer: Keepalived\r\nTo: ",
        settings.from
    );
    let mut line_len = "To: ".len();
    for (i, r) in settings.recipients.iter().enumerate() {
        if i > 0 {
            if line_len + 2 + r.len() > FOLD_AT {
                s.push_str(",\r\n ");
                line_len = 1;
            } else {
                s.push_str(", ");
                line_len += 2;
            }
        }
        s.push_str(r);
        line_len += r.len();
    }
    s.push_str("\r\n\r\n");
    for line in message.body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('.') {
            s.push('.');
        }
        s.push_str(line);
        s.push_str("\r\n");
    }
    s.push_str("\r\n.\r\n");
    s
}

#[cfg(test)]
mod tests;
