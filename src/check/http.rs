//! HTTP_GET (keepalived 2.2.7 check/check_http.c, lib/html.c): one GET over one connected TCP
//! stream, for one url of the checker.
//!
//! The request is keepalived's, byte for byte:
//!
//! ```text
//! GET <path> HTTP/1.<0|1>\r\n
//! User-Agent: KeepAliveClient\r\n
//! Connection: close\r\n            (HTTP/1.1, and 1.0C)
//! Host: <host>\r\n
//! \r\n
//! ```
//!
//! The response passes when its status code is accepted by the url's `status_code` and, when
//! the url has a `digest`, the MD5 of its body is that digest. The digest is taken over the
//! body bytes as they arrive on the wire, as keepalived and `genhash` take it: up to
//! Content-Length when there is one, else everything up to the close, so a chunked body is
//! hashed with its chunk framing (neither keepalived nor genhash 2.2.7 decodes chunks).
//!
//! Unlike keepalived, which reads until the server closes, the verdict comes as soon as it is
//! known: at a refused status line, or at the end of the body (Content-Length reached, the last
//! chunk and its trailers read, or the close). A close before an announced end fails
//! ([`Failure::Truncated`]); keepalived only logs a length mismatch there, and fails it only
//! through the digest.

use super::{Failure, Step};
use crate::config::{HttpCheck, StatusCodes};
use md5::{Digest, Md5};

/// The longest request: keepalived's GET_BUFFER_LENGTH. Longer `path` + Host values are
/// refused ([`request_fits`] tells the config loader).
pub const MAX_REQUEST: usize = 2048;
/// The status line and header section of the response (each interim 1xx response included).
/// keepalived fails a response whose headers do not fit its 4 KiB read buffer.
pub const MAX_HEADER_SECTION: usize = 8 * 1024;
/// One chunk-size line, with its chunk extensions.
pub const MAX_CHUNK_LINE: usize = 1024;
/// The trailer section after the last chunk.
pub const MAX_TRAILERS: usize = 8 * 1024;
/// The body as sent (with chunk framing): a health check page, not a download.
pub const MAX_BODY: u64 = 16 * 1024 * 1024;
/// The bytes kept of each header line: enough for the status line's version and code, and for
/// any Content-Length or Transfer-Encoding header; longer lines are skipped (those two fail).
const KEEP_LINE: usize = 128;

const REQUEST_HEAD: &[u8] = b"GET ";
const USER_AGENT: &[u8] = b"User-Agent: KeepAliveClient\r\n";
const CONNECTION_CLOSE: &[u8] = b"Connection: close\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading a chunk-size line.
    Size,
    /// Inside a chunk's data: the bytes left.
    Data(u64),
    /// After a chunk's data: expecting CR then LF.
    DataCr,
    DataLf,
    /// After the last chunk: trailer lines up to an empty one.
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StatusLine,
    Headers,
    /// A body of Content-Length: the bytes left.
    Length(u64),
    Chunked(Chunk),
    /// A body delimited by the close.
    UntilClose,
    Done,
}

/// One HTTP_GET attempt against one url.
#[derive(Clone)]
pub struct HttpDialogue {
    request: heapless::Vec<u8, MAX_REQUEST>,
    accepted: StatusCodes,
    digest: Option<[u8; 16]>,
    md5: Option<Md5>,
    state: State,
    verdict: Result<(), Failure>,
    /// The first bytes of the current line, its length, and the section's length so far.
    line: heapless::Vec<u8, KEEP_LINE>,
    line_len: usize,
    section_len: usize,
    status: u16,
    content_length: Option<u64>,
    /// A Transfer-Encoding header was seen, and whether its last coding is `chunked`.
    transfer_encoding: bool,
    chunked: bool,
    body_len: u64,
}

impl core::fmt::Debug for HttpDialogue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HttpDialogue")
            .field("state", &self.state)
            .field("status", &self.status)
            .field("body_len", &self.body_len)
            .field("verdict", &self.verdict)
            .finish_non_exhaustive()
    }
}

/// The Host header's value: the url's `virtualhost`, else `host`.
fn host_of<'a>(check: &'a HttpCheck, url_index: usize, host: &'a str) -> &'a str {
    check
        .urls
        .get(url_index)
        .and_then(|u| u.virtualhost.as_deref())
        .unwrap_or(host)
}

fn build_request(
    buf: &mut heapless::Vec<u8, MAX_REQUEST>,
    path: &str,
    check: &HttpCheck,
    host: &str,
) -> Result<(), ()> {
    let version: &[u8] = if check.http11 {
        b" HTTP/1.1\r\n"
    } else {
        b" HTTP/1.0\r\n"
    };
    let connection: &[u8] = if check.connection_close {
        CONNECTION_CLOSE
    } else {
        b""
    };
    for part in [
        REQUEST_HEAD,
        path.as_bytes(),
        version,
        USER_AGENT,
        connection,
        b"Host: ",
        host.as_bytes(),
        b"\r\n\r\n",
    ] {
        buf.extend_from_slice(part).map_err(drop)?;
    }
    Ok(())
}

/// Whether the request for url `url_index` fits in [`MAX_REQUEST`] bytes with this Host; for
/// the config loader, so that a long path is refused when it is read.
pub fn request_fits(check: &HttpCheck, url_index: usize, host: &str) -> bool {
    let Some(url) = check.urls.get(url_index) else {
        return false;
    };
    let mut buf = heapless::Vec::new();
    build_request(&mut buf, &url.path, check, host_of(check, url_index, host)).is_ok()
}

impl HttpDialogue {
    /// `host` is the Host header when the url has no `virtualhost`: the server's address as
    /// `ip:port`, `[ip6]:port` for IPv6 (what `SocketAddr`'s Display writes).
    pub fn new(check: &HttpCheck, url_index: usize, host: &str) -> Self {
        let url = check.urls.get(url_index);
        let mut d = HttpDialogue {
            request: heapless::Vec::new(),
            accepted: url.map(|u| u.status).unwrap_or_default(),
            digest: url.and_then(|u| u.digest),
            md5: url.and_then(|u| u.digest).map(|_| Md5::new()),
            state: State::StatusLine,
            verdict: Ok(()),
            line: heapless::Vec::new(),
            line_len: 0,
            section_len: 0,
            status: 0,
            content_length: None,
            transfer_encoding: false,
            chunked: false,
            body_len: 0,
        };
        match url {
            None => d.finish(Err(Failure::Malformed("no such url in HTTP_GET"))),
            Some(url) => {
                let host = host_of(check, url_index, host);
                if build_request(&mut d.request, &url.path, check, host).is_err() {
                    d.request.clear();
                    d.finish(Err(Failure::Limit("HTTP request over 2048 bytes")));
                }
            }
        }
        d
    }

    /// The request bytes, written into `tx` (a caller-owned buffer, cleared by the caller).
    /// Nothing when the attempt failed before it started (see [`HttpDialogue::verdict`]).
    pub fn request(&self, tx: &mut Vec<u8>) {
        tx.extend_from_slice(&self.request);
    }

    /// The verdict, once known (at once for a request that cannot be built).
    pub fn verdict(&self) -> Option<Result<(), Failure>> {
        (self.state == State::Done).then(|| self.verdict.clone())
    }

    /// The status code read, 0 before the status line.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Bytes received; `Step::Done` when the verdict is known.
    pub fn received(&mut self, data: &[u8]) -> Step {
        let mut rest = data;
        while !rest.is_empty() && self.state != State::Done {
            let used =
                match self.state {
                    State::StatusLine
                    | State::Headers
                    | State::Chunked(Chunk::Size | Chunk::Trailers) => self.line_bytes(rest),
                    State::Length(left) => {
                        let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                        self.hash(&rest[..n]);
                        let left = left - n as u64;
                        self.state = State::Length(left);
                        if left == 0 {
                            self.finish_body();
                        }
                        n
                    }
                    State::UntilClose => {
                        self.hash(rest);
                        self.count_body(rest.len());
                        rest.len()
                    }
                    State::Chunked(Chunk::Data(left)) => {
                        let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                        self.hash(&rest[..n]);
                        self.count_body(n);
                        let left = left - n as u64;
                        if self.state != State::Done {
                            self.state = State::Chunked(if left == 0 {
                                Chunk::DataCr
                            } else {
                                Chunk::Data(left)
                            });
                        }
                        n
                    }
                    State::Chunked(Chunk::DataCr) => {
                        self.hash(&rest[..1]);
                        self.count_body(1);
                        match rest[0] {
                            b'\r' => self.state = State::Chunked(Chunk::DataLf),
                            b'\n' => self.state = State::Chunked(Chunk::Size),
                            _ => self
                                .finish(Err(Failure::Malformed("chunk data not followed by CRLF"))),
                        }
                        1
                    }
                    State::Chunked(Chunk::DataLf) => {
                        self.hash(&rest[..1]);
                        self.count_body(1);
                        match rest[0] {
                            b'\n' => self.state = State::Chunked(Chunk::Size),
                            _ => self
                                .finish(Err(Failure::Malformed("chunk data not followed by CRLF"))),
                        }
                        1
                    }
                    State::Done => break,
                };
            rest = &rest[used..];
        }
        match self.state {
            State::Done => Step::Done(self.verdict.clone()),
            _ => Step::More,
        }
    }

    /// The peer closed the connection (EOF): the verdict (a close-delimited body ends here).
    pub fn closed(&mut self) -> Result<(), Failure> {
        match self.state {
            State::Done => {}
            State::UntilClose => self.finish_body(),
            State::StatusLine | State::Headers => self.finish(Err(Failure::Closed)),
            State::Length(_) | State::Chunked(_) => self.finish(Err(Failure::Truncated)),
        }
        self.verdict.clone()
    }

    fn finish(&mut self, verdict: Result<(), Failure>) {
        self.state = State::Done;
        self.verdict = verdict;
    }

    /// The whole body has arrived (the status was accepted already): check the digest.
    fn finish_body(&mut self) {
        let verdict = match (self.digest, self.md5.take()) {
            (Some(expected), Some(md5)) => {
                if md5.finalize().as_slice() == expected {
                    Ok(())
                } else {
                    Err(Failure::BadDigest)
                }
            }
            _ => Ok(()),
        };
        self.finish(verdict);
    }

    fn hash(&mut self, bytes: &[u8]) {
        if let Some(md5) = &mut self.md5 {
            md5.update(bytes);
        }
    }

    /// Counts raw body bytes (close-delimited and chunked bodies) against [`MAX_BODY`].
    fn count_body(&mut self, n: usize) {
        self.body_len = self.body_len.saturating_add(n as u64);
        if self.body_len > MAX_BODY {
            self.finish(Err(Failure::Limit("HTTP body over 16 MiB")));
        }
    }

    /// Takes line bytes from `data` up to and including an LF; returns how many were used.
    fn line_bytes(&mut self, data: &[u8]) -> usize {
        let (part, complete) = match data.iter().position(|&b| b == b'\n') {
            Some(i) => (&data[..i], true),
            None => (data, false),
        };
        let keep = part.len().min(KEEP_LINE - self.line.len());
        // Cannot fail: `keep` is what is left of the capacity.
        let _ = self.line.extend_from_slice(&part[..keep]);
        self.line_len += part.len() + usize::from(complete);
        self.section_len += part.len() + usize::from(complete);
        if self.chunked_body_state() {
            self.hash(&data[..part.len() + usize::from(complete)]);
            self.count_body(part.len() + usize::from(complete));
        }
        let over = match self.state {
            State::StatusLine | State::Headers => {
                (self.section_len > MAX_HEADER_SECTION).then_some("HTTP header section over 8 KiB")
            }
            State::Chunked(Chunk::Size) => {
                (self.line_len > MAX_CHUNK_LINE).then_some("HTTP chunk-size line over 1 KiB")
            }
            State::Chunked(Chunk::Trailers) => {
                (self.section_len > MAX_TRAILERS).then_some("HTTP trailers over 8 KiB")
            }
            _ => None,
        };
        if let Some(what) = over {
            self.finish(Err(Failure::Limit(what)));
        } else if complete && self.state != State::Done {
            self.end_of_line();
            self.line.clear();
            self.line_len = 0;
        }
        part.len() + usize::from(complete)
    }

    fn chunked_body_state(&self) -> bool {
        matches!(self.state, State::Chunked(_))
    }

    /// A whole line is in (its first [`KEEP_LINE`] bytes in `line`, without the LF).
    fn end_of_line(&mut self) {
        let truncated = self.line_len - 1 > self.line.len();
        let mut line: heapless::Vec<u8, KEEP_LINE> = core::mem::take(&mut self.line);
        if !truncated && line.last() == Some(&b'\r') {
            line.pop();
        }
        match self.state {
            State::StatusLine => self.status_line(&line, truncated),
            State::Headers if line.is_empty() => self.end_of_headers(),
            State::Headers => self.header(&line, truncated),
            State::Chunked(Chunk::Size) => self.chunk_size(&line, truncated),
            State::Chunked(Chunk::Trailers) if line.is_empty() => self.finish_body(),
            _ => {}
        }
    }

    /// RFC 9112 4: `HTTP/1.x SP 3DIGIT SP reason`. keepalived takes the three digits after the
    /// first space; we also want the version's `HTTP/` (so garbage is named as such).
    fn status_line(&mut self, line: &[u8], truncated: bool) {
        let Some(code) = parse_status_line(line, truncated) else {
            self.finish(Err(Failure::Malformed("no HTTP status line")));
            return;
        };
        self.status = code;
        // An interim response (RFC 9110 15.2), e.g. 100 Continue: its headers are skipped.
        let interim = (100..200).contains(&code) && code != 101;
        if !interim && !self.accepted.accepts(code) {
            self.finish(Err(Failure::BadStatus(code)));
            return;
        }
        self.state = State::Headers;
    }

    fn header(&mut self, line: &[u8], truncated: bool) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            // A line without a name (or a name over KEEP_LINE bytes): nothing we read.
            return;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"content-length") {
            if truncated {
                self.finish(Err(Failure::Malformed("over-long Content-Length")));
                return;
            }
            match parse_decimal(value) {
                Some(n) if self.content_length.is_none_or(|m| m == n) => {
                    self.content_length = Some(n);
                }
                Some(_) => self.finish(Err(Failure::Malformed("conflicting Content-Length"))),
                None => self.finish(Err(Failure::Malformed("bad Content-Length"))),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if truncated {
                self.finish(Err(Failure::Malformed("over-long Transfer-Encoding")));
                return;
            }
            // RFC 9112 6.3: chunked when it is the last coding, else the body runs to the close.
            let last = value.rsplit(|&b| b == b',').next().map(trim).unwrap_or(b"");
            self.transfer_encoding = true;
            self.chunked = last.eq_ignore_ascii_case(b"chunked");
        }
    }

    /// RFC 9112 6.3: how the body is delimited.
    fn end_of_headers(&mut self) {
        if (100..200).contains(&self.status) && self.status != 101 {
            self.state = State::StatusLine;
            self.content_length = None;
            self.transfer_encoding = false;
            self.chunked = false;
            return;
        }
        self.section_len = 0;
        if self.status == 204 || self.status == 304 {
            self.finish_body();
        } else if self.transfer_encoding {
            self.state = if self.chunked {
                State::Chunked(Chunk::Size)
            } else {
                State::UntilClose
            };
        } else {
            match self.content_length {
                Some(n) if n > MAX_BODY => {
                    self.finish(Err(Failure::Limit("HTTP body over 16 MiB")))
                }
                Some(0) => self.finish_body(),
                Some(n) => self.state = State::Length(n),
                None => self.state = State::UntilClose,
            }
        }
    }

    /// RFC 9112 7.1: `chunk-size [ chunk-ext ] CRLF`, the size in hex.
    fn chunk_size(&mut self, line: &[u8], truncated: bool) {
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let after = trim(&line[digits..]);
        // Nothing, or extensions after `;` (with optional whitespace before it).
        let ends_well = match after.first() {
            None => !truncated,
            Some(b';') => true,
            Some(_) => false,
        };
        let size = (digits > 0 && digits <= 15 && ends_well).then(|| {
            line[..digits]
                .iter()
                .fold(0u64, |n, &b| n * 16 + u64::from(hex_value(b)))
        });
        match size {
            None => self.finish(Err(Failure::Malformed("bad chunk size"))),
            Some(0) => {
                self.section_len = 0;
                self.state = State::Chunked(Chunk::Trailers);
            }
            Some(n) if self.body_len.saturating_add(n) > MAX_BODY => {
                self.finish(Err(Failure::Limit("HTTP body over 16 MiB")))
            }
            Some(n) => self.state = State::Chunked(Chunk::Data(n)),
        }
    }
}

fn parse_status_line(line: &[u8], truncated: bool) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let sp = rest.iter().position(|&b| b == b' ')?;
    let rest = &rest[sp + 1..];
    let digits = rest.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    match rest.get(3) {
        Some(b' ') => {}
        None if !truncated => {}
        _ => return None,
    }
    Some(digits.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0')))
}

/// RFC 9110 8.6: `1*DIGIT`, refused past u64.
fn parse_decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Strips optional whitespace (RFC 9110 5.6.3 OWS) from both ends.
fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Url;

    /// md5("hello world\n"), as `genhash` prints it.
    const HELLO_MD5: &str = "6f5902ac237024bdd0c176cb93063dc4";
    /// md5 of CHUNKED_BODY as it is on the wire (framing included).
    const CHUNKED_RAW_MD5: &str = "9791101f6c6ac40f6ea7524058c90756";
    const CHUNKED_BODY: &[u8] = b"5;name=v\r\nhello\r\n7\r\n world\n\r\n0\r\nX-T: 1\r\n\r\n";

    fn hex16(s: &str) -> [u8; 16] {
        let mut out = [0; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn check(codes: &[u16], digest: Option<&str>, http11: bool) -> HttpCheck {
        let mut status = StatusCodes::default();
        for &c in codes {
            status.insert(c);
        }
        HttpCheck {
            urls: vec![Url {
                path: "/health".into(),
                status,
                digest: digest.map(hex16),
                virtualhost: None,
            }],
            http11,
            connection_close: http11,
        }
    }

    fn dialogue(c: &HttpCheck) -> HttpDialogue {
        HttpDialogue::new(c, 0, "192.0.2.1:80")
    }

    /// Feeds `bytes` whole, then one byte at a time; both must give `expect` exactly at the
    /// last byte (`Step::More` before it).
    fn feed_both_ways(c: &HttpCheck, bytes: &[u8], expect: Step) {
        assert_eq!(dialogue(c).received(bytes), expect, "whole");
        let mut d = dialogue(c);
        for (i, b) in bytes.iter().enumerate() {
            let step = d.received(&[*b]);
            if i + 1 < bytes.len() {
                assert_eq!(step, Step::More, "early verdict at byte {i} of {bytes:?}");
            } else {
                assert_eq!(step, expect, "byte by byte");
            }
        }
    }

    fn response(head: &str, body: &[u8]) -> Vec<u8> {
        let mut r = head.as_bytes().to_vec();
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn request_bytes_as_keepalived() {
        let mut tx = Vec::new();
        dialogue(&check(&[], None, false)).request(&mut tx);
        assert_eq!(
            tx,
            b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.1:80\r\n\r\n"
        );
        tx.clear();
        dialogue(&check(&[], None, true)).request(&mut tx);
        assert_eq!(
            tx,
            &b"GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n\
               Host: 192.0.2.1:80\r\n\r\n"[..]
        );
        // The url's virtualhost replaces the address (and its port).
        let mut c = check(&[], None, false);
        c.urls[0].virtualhost = Some("www.example.com".into());
        tx.clear();
        HttpDialogue::new(&c, 0, "[2001:db8::1]:8080").request(&mut tx);
        assert_eq!(
            tx,
            b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: www.example.com\r\n\r\n"
        );
        assert_eq!(dialogue(&c).verdict(), None);
    }

    #[test]
    fn over_long_request_or_missing_url() {
        let mut c = check(&[], None, true);
        c.urls[0].path = format!("/{}", "p".repeat(MAX_REQUEST));
        assert!(!request_fits(&c, 0, "h:80"));
        let mut d = dialogue(&c);
        let mut tx = Vec::new();
        d.request(&mut tx);
        assert!(tx.is_empty());
        let f = Failure::Limit("HTTP request over 2048 bytes");
        assert_eq!(d.verdict(), Some(Err(f.clone())));
        assert_eq!(
            d.received(b"HTTP/1.0 200 OK\r\n\r\n"),
            Step::Done(Err(f.clone()))
        );
        assert_eq!(d.closed(), Err(f));

        let c = check(&[], None, true);
        assert!(request_fits(&c, 0, "h:80"));
        assert!(!request_fits(&c, 1, "h:80"));
        let d = HttpDialogue::new(&c, 1, "h:80");
        assert_eq!(
            d.verdict(),
            Some(Err(Failure::Malformed("no such url in HTTP_GET")))
        );
    }

    #[test]
    fn content_length_body() {
        let c = check(&[], None, false);
        let r = response(
            "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n",
            b"hello world\n",
        );
        feed_both_ways(&c, &r, Step::Done(Ok(())));
        // Header names are case-insensitive; bytes past Content-Length are not looked at.
        let r = response(
            "HTTP/1.1 200 OK\r\ncontent-LENGTH:  12 \r\n\r\n",
            b"hello world\nJUNK",
        );
        let mut d = dialogue(&c);
        assert_eq!(d.received(&r), Step::Done(Ok(())));
        assert_eq!(d.status(), 200);
        // A close after the verdict changes nothing.
        assert_eq!(d.closed(), Ok(()));
    }

    #[test]
    fn status_codes() {
        // Default: any 2xx.
        let r = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        let mut d = dialogue(&check(&[], None, true));
        // The verdict comes with the status line, before the headers.
        assert_eq!(
            d.received(b"HTTP/1.1 500 Internal Server Error\r\n"),
            Step::Done(Err(Failure::BadStatus(500)))
        );
        assert_eq!(
            Failure::BadStatus(500).to_string(),
            "HTTP status 500 not accepted"
        );
        // Accepted when configured.
        feed_both_ways(&check(&[500], None, true), r, Step::Done(Ok(())));
        // 200 refused when only 302 is configured.
        let mut d = dialogue(&check(&[302], None, true));
        assert_eq!(
            d.received(b"HTTP/1.0 200 OK\r\n"),
            Step::Done(Err(Failure::BadStatus(200)))
        );
        // A status line without a reason phrase.
        feed_both_ways(
            &check(&[], None, true),
            b"HTTP/1.1 204\r\n\r\n",
            Step::Done(Ok(())),
        );
    }

    #[test]
    fn digest_match_and_mismatch() {
        let r = response(
            "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n",
            b"hello world\n",
        );
        feed_both_ways(&check(&[], Some(HELLO_MD5), false), &r, Step::Done(Ok(())));
        let other = "00000000000000000000000000000000";
        feed_both_ways(
            &check(&[], Some(other), false),
            &r,
            Step::Done(Err(Failure::BadDigest)),
        );
        // Only Content-Length bytes are hashed.
        let r = response(
            "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n",
            b"hello world\nmore",
        );
        let mut d = dialogue(&check(&[], Some(HELLO_MD5), false));
        assert_eq!(d.received(&r), Step::Done(Ok(())));
        // The status is checked before the digest.
        let r = response(
            "HTTP/1.0 404 Not Found\r\nContent-Length: 12\r\n\r\n",
            b"hello world\n",
        );
        let mut d = dialogue(&check(&[], Some(HELLO_MD5), false));
        assert_eq!(d.received(&r), Step::Done(Err(Failure::BadStatus(404))));
    }

    #[test]
    fn close_delimited_body() {
        let r = response("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", b"hello world\n");
        for digest in [Some(HELLO_MD5), None] {
            let c = check(&[], digest, false);
            let mut d = dialogue(&c);
            for b in &r {
                assert_eq!(d.received(&[*b]), Step::More);
            }
            assert_eq!(d.closed(), Ok(()));
        }
        let mut d = dialogue(&check(&[], Some("ffffffffffffffffffffffffffffffff"), false));
        assert_eq!(d.received(&r), Step::More);
        assert_eq!(d.closed(), Err(Failure::BadDigest));
        // An empty close-delimited body.
        let mut d = dialogue(&check(&[], None, false));
        assert_eq!(d.received(b"HTTP/1.0 200 OK\r\n\r\n"), Step::More);
        assert_eq!(d.closed(), Ok(()));
    }

    #[test]
    fn chunked_body_hashed_as_sent() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let r = response(head, CHUNKED_BODY);
        feed_both_ways(&check(&[], None, true), &r, Step::Done(Ok(())));
        // keepalived and genhash hash the body with its chunk framing, not the decoded body.
        feed_both_ways(
            &check(&[], Some(CHUNKED_RAW_MD5), true),
            &r,
            Step::Done(Ok(())),
        );
        feed_both_ways(
            &check(&[], Some(HELLO_MD5), true),
            &r,
            Step::Done(Err(Failure::BadDigest)),
        );
        // Transfer-Encoding wins over Content-Length; codings end with chunked.
        let r = response(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
            b"0\r\n\r\n",
        );
        feed_both_ways(&check(&[], None, true), &r, Step::Done(Ok(())));
        // A transfer coding other than chunked last: the body runs to the close.
        let mut d = dialogue(&check(&[], None, true));
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n";
        assert_eq!(d.received(r), Step::More);
        assert_eq!(d.closed(), Ok(()));
        // Bare LF line ends and upper-case hex.
        let r = b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nA\nhello worl\n0\n\n";
        feed_both_ways(&check(&[], None, true), r, Step::Done(Ok(())));
    }

    #[test]
    fn truncated_bodies() {
        let c = check(&[], None, true);
        let mut d = dialogue(&c);
        assert_eq!(
            d.received(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello"),
            Step::More
        );
        assert_eq!(d.closed(), Err(Failure::Truncated));
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let r = response(head, CHUNKED_BODY);
        // A close anywhere before the last byte of the chunked body.
        for cut in head.len()..r.len() {
            let mut d = dialogue(&c);
            assert_eq!(d.received(&r[..cut]), Step::More, "cut {cut}");
            assert_eq!(d.closed(), Err(Failure::Truncated), "cut {cut}");
        }
        // A close inside the headers, or before anything.
        for cut in 0..head.len() {
            let mut d = dialogue(&c);
            assert_eq!(d.received(&r[..cut]), Step::More, "cut {cut}");
            assert_eq!(d.closed(), Err(Failure::Closed), "cut {cut}");
        }
    }

    #[test]
    fn garbage_instead_of_a_status_line() {
        let c = check(&[], None, false);
        let bad = Step::Done(Err(Failure::Malformed("no HTTP status line")));
        for line in [
            &b"SSH-2.0-OpenSSH_9.2\r\n"[..],
            b"\r\n",
            b"HTTP/1.1\r\n",
            b"HTTP/1.1 20 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"HTTP/1.1 2x0 OK\r\n",
            b"http/1.1 200 OK\r\n",
            b"\x00\xff\x16\x03\x01\n",
        ] {
            assert_eq!(dialogue(&c).received(line), bad, "{line:?}");
        }
        // A status line that never ends is bounded by the header section.
        let mut d = dialogue(&c);
        let junk = [b'A'; 1000];
        let mut step = Step::More;
        for _ in 0..20 {
            step = d.received(&junk);
            if step != Step::More {
                break;
            }
        }
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP header section over 8 KiB")))
        );
    }

    #[test]
    fn endless_headers() {
        let c = check(&[], None, false);
        let mut d = dialogue(&c);
        assert_eq!(d.received(b"HTTP/1.0 200 OK\r\n"), Step::More);
        let mut sent = 17;
        loop {
            match d.received(b"X-Padding: aaaaaaaaaaaaaaaa\r\n") {
                Step::More => sent += 29,
                step => {
                    assert_eq!(
                        step,
                        Step::Done(Err(Failure::Limit("HTTP header section over 8 KiB")))
                    );
                    break;
                }
            }
            assert!(sent <= MAX_HEADER_SECTION);
        }
        // One endless header line.
        let mut d = dialogue(&c);
        d.received(b"HTTP/1.0 200 OK\r\nX-Long: ");
        let step = d.received(&[b'z'; MAX_HEADER_SECTION]);
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP header section over 8 KiB")))
        );
        // Long headers that are not framing headers are fine while the section fits.
        let mut r = b"HTTP/1.0 200 OK\r\nX-Long: ".to_vec();
        r.extend_from_slice(&[b'z'; 4000]);
        r.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        feed_both_ways(&c, &r, Step::Done(Ok(())));
    }

    #[test]
    fn endless_bodies() {
        let c = check(&[], None, false);
        // Announced too long.
        let mut d = dialogue(&c);
        let step = d.received(b"HTTP/1.0 200 OK\r\nContent-Length: 16777217\r\n\r\n");
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP body over 16 MiB")))
        );
        let mut d = dialogue(&c);
        let step =
            d.received(b"HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert_eq!(
            step,
            Step::Done(Err(Failure::Malformed("bad Content-Length")))
        );
        // A chunk announced too long.
        let mut d = dialogue(&c);
        let step =
            d.received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFF\r\n");
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP body over 16 MiB")))
        );
        // A close-delimited body that never ends.
        let mut d = dialogue(&c);
        assert_eq!(d.received(b"HTTP/1.0 200 OK\r\n\r\n"), Step::More);
        let block = vec![b'b'; 64 * 1024];
        let mut fed = 0u64;
        let step = loop {
            match d.received(&block) {
                Step::More => fed += block.len() as u64,
                step => break step,
            }
        };
        assert_eq!(fed, MAX_BODY);
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP body over 16 MiB")))
        );
        // Endless small chunks.
        let mut d = dialogue(&c);
        d.received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let mut chunks = Vec::new();
        for _ in 0..1024 {
            chunks.extend_from_slice(b"3ff\r\n");
            chunks.extend_from_slice(&[b'c'; 0x3ff]);
            chunks.extend_from_slice(b"\r\n");
        }
        let step = loop {
            match d.received(&chunks) {
                Step::More => {}
                step => break step,
            }
        };
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP body over 16 MiB")))
        );
        // Endless trailers.
        let mut d = dialogue(&c);
        d.received(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
        let step = loop {
            match d.received(b"X-Trailer: t\r\n") {
                Step::More => {}
                step => break step,
            }
        };
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("HTTP trailers over 8 KiB")))
        );
    }

    #[test]
    fn bad_chunks() {
        let c = check(&[], None, true);
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        let bad_size = Step::Done(Err(Failure::Malformed("bad chunk size")));
        for body in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"1x\r\n",
            b"-1\r\n",
            b" 5\r\n",
            b"10000000000000000\r\n",
        ] {
            feed_both_ways(&c, &response(head, body), bad_size.clone());
        }
        // Extensions (with whitespace before the `;`) are skipped.
        feed_both_ways(
            &c,
            &response(head, b"3 ; a=\"b\"\r\nabc\r\n0;last\r\n\r\n"),
            Step::Done(Ok(())),
        );
        // A chunk-size line that never ends.
        let mut d = dialogue(&c);
        d.received(&response(head, b"5;"));
        assert_eq!(
            d.received(&[b'e'; MAX_CHUNK_LINE]),
            Step::Done(Err(Failure::Limit("HTTP chunk-size line over 1 KiB")))
        );
        // Chunk data longer than announced.
        feed_both_ways(
            &c,
            &response(head, b"3\r\nabcd"),
            Step::Done(Err(Failure::Malformed("chunk data not followed by CRLF"))),
        );
        feed_both_ways(
            &c,
            &response(head, b"3\r\nabc\rX"),
            Step::Done(Err(Failure::Malformed("chunk data not followed by CRLF"))),
        );
    }

    #[test]
    fn framing_headers() {
        let c = check(&[], None, true);
        feed_both_ways(
            &c,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n",
            Step::Done(Err(Failure::Malformed("conflicting Content-Length"))),
        );
        feed_both_ways(
            &c,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            Step::Done(Ok(())),
        );
        feed_both_ways(
            &c,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n",
            Step::Done(Err(Failure::Malformed("bad Content-Length"))),
        );
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Length: ".to_vec();
        r.extend_from_slice(&[b'0'; 200]);
        r.extend_from_slice(b"\r\n");
        feed_both_ways(
            &c,
            &r,
            Step::Done(Err(Failure::Malformed("over-long Content-Length"))),
        );
        // 204 and 304 have no body, whatever the headers say.
        feed_both_ways(
            &check(&[304], None, true),
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
            Step::Done(Ok(())),
        );
    }

    #[test]
    fn interim_100_continue() {
        let r = response(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n\
             HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
            b"hello world\n",
        );
        feed_both_ways(&check(&[], Some(HELLO_MD5), true), &r, Step::Done(Ok(())));
        // The interim response's framing headers do not carry over.
        let r = b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
        let mut d = dialogue(&check(&[], None, true));
        assert_eq!(d.received(r), Step::More);
        assert_eq!(d.closed(), Ok(()));
    }

    #[test]
    fn verdict_is_kept() {
        let c = check(&[], None, true);
        let mut d = dialogue(&c);
        let r = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Oops\r\n\r\n";
        assert_eq!(d.received(r), Step::Done(Ok(())));
        assert_eq!(d.received(b"garbage"), Step::Done(Ok(())));
        assert_eq!(d.verdict(), Some(Ok(())));
        assert_eq!(d.closed(), Ok(()));
    }

    #[test]
    fn pseudo_random_bytes_never_panic() {
        let mut seed = 0xdead_beef_cafe_f00d_u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u32
        };
        // Pieces of real responses, spliced at random, and random bytes.
        const PIECES: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\n",
            b"HTTP/1.0 100 Continue\r\n",
            b"Content-Length: 5\r\n",
            b"Transfer-Encoding: chunked\r\n",
            b"\r\n",
            b"5\r\nhello\r\n",
            b"0\r\n",
            b"FFFFFFFF;x\r\n",
            b"\n",
            b"\r",
            b": ",
        ];
        let mut data = Vec::new();
        let mut oks = 0;
        for round in 0..3000 {
            let c = check(&[], (round % 2 == 0).then_some(HELLO_MD5), round % 3 == 0);
            let mut d = dialogue(&c);
            let mut step = Step::More;
            for _ in 0..12 {
                data.clear();
                for _ in 0..(next() % 6) {
                    let r = next();
                    if r % 3 == 0 {
                        data.extend((0..r % 17).map(|_| next() as u8));
                    } else {
                        data.extend_from_slice(PIECES[(r as usize / 3) % PIECES.len()]);
                    }
                }
                step = d.received(&data);
                assert!(d.line.len() <= KEEP_LINE);
                assert!(d.section_len <= MAX_HEADER_SECTION.max(MAX_TRAILERS) + data.len());
                assert!(d.body_len <= MAX_BODY);
                if step != Step::More {
                    break;
                }
            }
            let verdict = match step {
                Step::Done(v) => v,
                Step::More => d.closed(),
            };
            oks += usize::from(verdict.is_ok());
            assert_eq!(d.closed(), verdict);
        }
        assert!(oks > 0);
    }
}
