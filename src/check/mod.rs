//! Health checkers (keepalived 2.2.7 check/): one file per checker, each a pure dialogue over
//! bytes; the executor owns the sockets and the timeouts.

pub mod dns;
pub mod http;
pub mod smtp;

use core::fmt;

/// Why one check attempt failed: logged as "{vs} {rs}: {checker}: {failure}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connection was refused (or reset) by the server.
    Refused,
    /// No verdict within `connect_timeout`.
    Timeout,
    /// The server closed the connection before the reply was complete.
    Closed,
    /// The server closed the connection inside a body whose end was announced (by
    /// Content-Length or chunked framing).
    Truncated,
    /// An HTTP status code the url does not accept.
    BadStatus(u16),
    /// The MD5 of the body is not the url's `digest`.
    BadDigest,
    /// The reply breaks its protocol's syntax; the text names what.
    Malformed(&'static str),
    /// A reply over a size limit of the executor (e.g. UDP_CHECK `max_reply_length`).
    TooLong,
    /// A reply over one of the dialogues' bounds; the text names which.
    Limit(&'static str),
    /// A reply that is well formed but not the expected one; the text says why.
    Reply(&'static str),
    /// An SMTP reply code other than the one expected at this step.
    Smtp {
        step: &'static str,
        code: u16,
        expected: u16,
    },
    /// A DNS response with a non-zero RCODE.
    Rcode(u8),
    /// A datagram that is not the reply to our query (too short, another id, not a response):
    /// keepalived ignores it and keeps waiting until the timeout. See [`Failure::keep_waiting`].
    NotOurs(&'static str),
}

impl Failure {
    /// Whether the executor should ignore this datagram and keep waiting for the reply.
    pub fn keep_waiting(&self) -> bool {
        matches!(self, Failure::NotOurs(_))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused => f.write_str("connection refused"),
            Failure::Timeout => f.write_str("timeout"),
            Failure::Closed => f.write_str("connection closed before the reply was complete"),
            Failure::Truncated => f.write_str("connection closed inside the body"),
            Failure::BadStatus(code) => write!(f, "HTTP status {code} not accepted"),
            Failure::BadDigest => f.write_str("MD5 digest mismatch"),
            Failure::Malformed(what) => write!(f, "malformed reply: {what}"),
            Failure::TooLong => f.write_str("reply too long"),
            Failure::Limit(what) => write!(f, "over the limit: {what}"),
            Failure::Reply(why) => write!(f, "unexpected reply: {why}"),
            Failure::Smtp {
                step,
                code,
                expected,
            } => write!(f, "SMTP {step} reply {code}, expected {expected}"),
            Failure::Rcode(rcode) => write!(f, "DNS rcode {rcode} ({})", rcode_name(*rcode)),
            Failure::NotOurs(why) => write!(f, "stray datagram: {why}"),
        }
    }
}

/// RFC 1035 4.1.1 and RFC 2136 names of the response codes.
fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "unknown",
    }
}

/// What a stream dialogue wants after being given bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Keep reading (and write whatever was appended to `tx`).
    More,
    /// The verdict is known; the executor closes the connection.
    Done(Result<(), Failure>),
}
