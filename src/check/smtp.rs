//! SMTP_CHECK (keepalived 2.2.7 check/check_smtp.c): over one connected TCP stream,
//!
//! ```text
//! S: 220 greeting          (anything else fails)
//! C: HELO <helo_name>\r\n
//! S: 250 ...               (anything else fails)
//! C: QUIT\r\n
//! S: any line              (success; a close before it fails)
//! ```
//!
//! Replies may span lines (RFC 5321 4.2.1: `220-first`, `220 last`); the code is read from the
//! last line. keepalived reads only the first line of a reply and so fails a multi-line
//! greeting; we accept it.

use super::{Failure, Step};
use crate::config::SmtpCheck;

/// RFC 5321 4.5.3.1.5: a reply line is at most 512 bytes with its CRLF (keepalived's
/// SMTP_BUFF_MAX is 512 too).
pub const MAX_LINE: usize = 512;
/// All the lines of one reply together.
pub const MAX_REPLY: usize = 16 * 1024;
/// RFC 1035 2.3.4: a domain name is at most 255 bytes; longer `helo_name`s are refused.
pub const MAX_HELO_NAME: usize = 255;
/// The most one dialogue appends to `tx` (HELO and QUIT): the capacity the executor reserves.
pub const MAX_TX: usize = b"HELO \r\n".len() + MAX_HELO_NAME + b"QUIT\r\n".len();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Helo,
    Quit,
    Done,
}

/// One SMTP_CHECK attempt.
#[derive(Debug, Clone)]
pub struct SmtpDialogue {
    helo_name: heapless::Vec<u8, MAX_HELO_NAME>,
    /// `helo_name` is over [`MAX_HELO_NAME`]: the attempt fails at the first bytes.
    helo_too_long: bool,
    state: State,
    verdict: Result<(), Failure>,
    /// The first bytes of the current line: the code and its separator.
    head: [u8; 4],
    line_len: usize,
    reply_len: usize,
    /// The code of the reply's earlier lines (`250-...`), which the last line must repeat.
    continued: Option<u16>,
}

impl SmtpDialogue {
    pub fn new(check: &SmtpCheck) -> Self {
        let mut helo_name = heapless::Vec::new();
        let helo_too_long = helo_name
            .extend_from_slice(check.helo_name.as_bytes())
            .is_err();
        SmtpDialogue {
            helo_name,
            helo_too_long,
            state: State::Greeting,
            verdict: Ok(()),
            head: [0; 4],
            line_len: 0,
            reply_len: 0,
            continued: None,
        }
    }

    /// Bytes received; bytes to send are appended to `tx` (the executor writes them).
    pub fn received(&mut self, data: &[u8], tx: &mut Vec<u8>) -> Step {
        if self.helo_too_long && self.state != State::Done {
            return self.finish(Err(Failure::Limit("helo_name over 255 bytes")));
        }
        for &b in data {
            if self.state == State::Done {
                break;
            }
            if b != b'\n' {
                if self.line_len < self.head.len() {
                    self.head[self.line_len] = b;
                }
                self.line_len += 1;
                self.reply_len += 1;
                if self.line_len >= MAX_LINE {
                    return self.finish(Err(Failure::Limit("SMTP reply line over 512 bytes")));
                }
                if self.reply_len > MAX_REPLY {
                    return self.finish(Err(Failure::Limit("SMTP reply over 16 KiB")));
                }
                continue;
            }
            self.line(tx);
            self.line_len = 0;
            self.head = [0; 4];
        }
        match self.state {
            State::Done => Step::Done(self.verdict.clone()),
            _ => Step::More,
        }
    }

    /// The peer closed the connection: a failure unless the verdict was already known.
    pub fn closed(&mut self) -> Result<(), Failure> {
        if self.state != State::Done {
            self.finish(Err(Failure::Closed));
        }
        self.verdict.clone()
    }

    fn finish(&mut self, verdict: Result<(), Failure>) -> Step {
        self.state = State::Done;
        self.verdict = verdict;
        Step::Done(self.verdict.clone())
    }

    /// A whole line (without its LF) has arrived; its first bytes are in `head`.
    fn line(&mut self, tx: &mut Vec<u8>) {
        if self.state == State::Quit {
            // keepalived takes any line after QUIT as the end of a good dialogue.
            self.finish(Ok(()));
            return;
        }
        let n = self.line_len.min(self.head.len());
        let head = &self.head[..n];
        let code = match head {
            [a, b, c, rest @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
                let last = match rest.first() {
                    None | Some(b' ') | Some(b'\r') => true,
                    Some(b'-') => false,
                    Some(_) => {
                        self.finish(Err(Failure::Malformed("SMTP reply code not 3 digits")));
                        return;
                    }
                };
                let code =
                    u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
                if self.continued.is_some_and(|c| c != code) {
                    self.finish(Err(Failure::Malformed(
                        "SMTP reply lines with different codes",
                    )));
                    return;
                }
                if !last {
                    self.continued = Some(code);
                    return;
                }
                code
            }
            _ => {
                self.finish(Err(Failure::Malformed("SMTP reply without a code")));
                return;
            }
        };
        self.continued = None;
        self.reply_len = 0;
        match (self.state, code) {
            (State::Greeting, 220) => {
                tx.extend_from_slice(b"HELO ");
                tx.extend_from_slice(&self.helo_name);
                tx.extend_from_slice(b"\r\n");
                self.state = State::Helo;
            }
            (State::Greeting, code) => {
                self.finish(Err(Failure::Smtp {
                    step: "greeting",
                    code,
                    expected: 220,
                }));
            }
            (State::Helo, 250) => {
                tx.extend_from_slice(b"QUIT\r\n");
                self.state = State::Quit;
            }
            (State::Helo, code) => {
                self.finish(Err(Failure::Smtp {
                    step: "HELO",
                    code,
                    expected: 250,
                }));
            }
            (State::Quit | State::Done, _) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialogue(name: &str) -> SmtpDialogue {
        SmtpDialogue::new(&SmtpCheck {
            helo_name: name.into(),
        })
    }

    #[test]
    fn good_dialogue() {
        let mut d = dialogue("lb1.example.net");
        let mut tx = Vec::new();
        assert_eq!(
            d.received(b"220 mx.example.net ESMTP ready\r\n", &mut tx),
            Step::More
        );
        assert_eq!(tx, b"HELO lb1.example.net\r\n");
        tx.clear();
        assert_eq!(d.received(b"250 mx.example.net\r\n", &mut tx), Step::More);
        assert_eq!(tx, b"QUIT\r\n");
        tx.clear();
        assert_eq!(
            d.received(b"221 2.0.0 Bye\r\n", &mut tx),
            Step::Done(Ok(()))
        );
        assert!(tx.is_empty());
        assert_eq!(d.closed(), Ok(()));
    }

    #[test]
    fn multi_line_replies_byte_by_byte() {
        let mut d = dialogue("h");
        let mut tx = Vec::new();
        let greeting = b"220-mx.example.net ESMTP\r\n220-no UCE\r\n220 ready\r\n";
        for (i, b) in greeting.iter().enumerate() {
            assert_eq!(d.received(&[*b], &mut tx), Step::More);
            if i + 1 < greeting.len() {
                assert!(tx.is_empty(), "HELO sent early at byte {i}");
            }
        }
        assert_eq!(tx, b"HELO h\r\n");
        tx.clear();
        // An EHLO-style multi-line 250 (bare LF line ends are read too).
        assert_eq!(
            d.received(b"250-mx\n250-PIPELINING\n250 8BITMIME\n", &mut tx),
            Step::More
        );
        assert_eq!(tx, b"QUIT\r\n");
        tx.clear();
        assert_eq!(d.received(b"221 bye\r\n", &mut tx), Step::Done(Ok(())));
    }

    #[test]
    fn code_alone_on_a_line() {
        let mut d = dialogue("h");
        let mut tx = Vec::new();
        assert_eq!(d.received(b"220\r\n250\r\n", &mut tx), Step::More);
        assert_eq!(tx, b"HELO h\r\nQUIT\r\n");
    }

    #[test]
    fn bad_greeting() {
        let mut d = dialogue("h");
        let mut tx = Vec::new();
        let step = d.received(b"554 no service\r\n", &mut tx);
        let f = Failure::Smtp {
            step: "greeting",
            code: 554,
            expected: 220,
        };
        assert_eq!(step, Step::Done(Err(f.clone())));
        assert_eq!(f.to_string(), "SMTP greeting reply 554, expected 220");
        assert!(tx.is_empty());
        // Bytes after the verdict change nothing.
        assert_eq!(
            d.received(b"220 ok\r\n", &mut tx),
            Step::Done(Err(f.clone()))
        );
        assert_eq!(d.closed(), Err(f));
    }

    #[test]
    fn bad_helo_reply() {
        let mut d = dialogue("h");
        let mut tx = Vec::new();
        d.received(b"220 hi\r\n", &mut tx);
        tx.clear();
        assert_eq!(
            d.received(b"501 syntax\r\n", &mut tx),
            Step::Done(Err(Failure::Smtp {
                step: "HELO",
                code: 501,
                expected: 250
            }))
        );
        assert!(tx.is_empty());
    }

    #[test]
    fn garbage_and_mixed_codes() {
        let mut tx = Vec::new();
        let malformed = |s: &'static str| Step::Done(Err(Failure::Malformed(s)));
        assert_eq!(
            dialogue("h").received(b"HTTP/1.1 400 Bad Request\r\n", &mut tx),
            malformed("SMTP reply without a code")
        );
        assert_eq!(
            dialogue("h").received(b"2200 hi\r\n", &mut tx),
            malformed("SMTP reply code not 3 digits")
        );
        assert_eq!(
            dialogue("h").received(b"220-a\r\n250 b\r\n", &mut tx),
            malformed("SMTP reply lines with different codes")
        );
        assert_eq!(
            dialogue("h").received(b"\r\n", &mut tx),
            malformed("SMTP reply without a code")
        );
        assert!(tx.is_empty());
    }

    #[test]
    fn closes() {
        let mut tx = Vec::new();
        let mut d = dialogue("h");
        assert_eq!(d.closed(), Err(Failure::Closed));
        // A close after QUIT but before its reply fails, as in keepalived.
        let mut d = dialogue("h");
        d.received(b"220 a\r\n250 b\r\n", &mut tx);
        assert_eq!(d.received(b"221 partial", &mut tx), Step::More);
        assert_eq!(d.closed(), Err(Failure::Closed));
    }

    #[test]
    fn bounds() {
        let mut tx = Vec::new();
        let mut d = dialogue("h");
        let long = [b'x'; MAX_LINE];
        assert_eq!(
            d.received(&long, &mut tx),
            Step::Done(Err(Failure::Limit("SMTP reply line over 512 bytes")))
        );
        // Endless continuation lines.
        let mut d = dialogue("h");
        let mut step = Step::More;
        for _ in 0..2000 {
            step = d.received(b"220-more and more text\r\n", &mut tx);
            if step != Step::More {
                break;
            }
        }
        assert_eq!(
            step,
            Step::Done(Err(Failure::Limit("SMTP reply over 16 KiB")))
        );
        // A helo_name that cannot be sent.
        let mut d = dialogue(&"n".repeat(MAX_HELO_NAME + 1));
        assert_eq!(
            d.received(b"220 hi\r\n", &mut tx),
            Step::Done(Err(Failure::Limit("helo_name over 255 bytes")))
        );
        assert!(tx.is_empty());
        let mut d = dialogue(&"n".repeat(MAX_HELO_NAME));
        d.received(b"220 hi\r\n", &mut tx);
        assert_eq!(tx.len(), 5 + MAX_HELO_NAME + 2);
        d.received(b"250 ok\r\n", &mut tx);
        assert_eq!(tx.len(), MAX_TX);
    }

    #[test]
    fn pseudo_random_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u32
        };
        // Pieces of real replies, spliced at random, and random bytes.
        const PIECES: &[&[u8]] = &[
            b"220 mx ready\r\n",
            b"220-",
            b"250 ok\r\n",
            b"250-",
            b"221 bye\r\n",
            b"\r\n",
            b"\n",
            b"554 ",
        ];
        let mut tx = Vec::with_capacity(1024);
        let mut data = Vec::new();
        let mut passes = 0;
        for _ in 0..3000 {
            let mut d = dialogue("probe");
            tx.clear();
            let mut step = Step::More;
            for _ in 0..8 {
                data.clear();
                for _ in 0..(next() % 4) {
                    let r = next();
                    if r % 4 == 0 {
                        data.extend((0..r % 9).map(|_| next() as u8));
                    } else {
                        data.extend_from_slice(PIECES[(r as usize / 4) % PIECES.len()]);
                    }
                }
                step = d.received(&data, &mut tx);
                assert!(d.line_len < MAX_LINE && d.reply_len <= MAX_REPLY);
                assert!(tx.len() <= b"HELO probe\r\nQUIT\r\n".len());
                if step != Step::More {
                    break;
                }
            }
            if step == Step::Done(Ok(())) {
                passes += 1;
                assert_eq!(tx, b"HELO probe\r\nQUIT\r\n");
            }
            let _ = d.closed();
        }
        assert!(passes > 0);
    }
}
