//! UDP_CHECK (keepalived 2.2.7 check_udp.c and layer4.c `udp_socket_state`): send `payload` on
//! a connected socket, then:
//! - without `require_reply`: any datagram, or silence until the timeout, is success; an error
//!   on the socket (an ICMP port unreachable arrives as ECONNREFUSED) is failure;
//! - with `require_reply`: a datagram must come within the timeout, its length within
//!   [min_reply_length, max_reply_length], and its first bytes (as many as both have) equal to
//!   the configured reply.

use super::Failure;
use crate::config::UdpCheck;

/// How big a receive buffer must be: one byte over the maximum, to tell a too-long reply.
pub fn recv_len(check: &UdpCheck) -> usize {
    check.max_reply_length + 1
}

/// What happened on the socket after the payload went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A datagram (at most [`recv_len`] bytes of it).
    Reply(&'a [u8]),
    /// A socket error (errno).
    Error(i32),
    /// The timeout passed with nothing.
    Timeout,
}

/// The verdict.
pub fn verdict(check: &UdpCheck, event: Event) -> Result<(), Failure> {
    match (event, &check.require_reply) {
        (Event::Error(e), _) => Err(Failure::from_errno(e)),
        (Event::Timeout, None) | (Event::Reply(_), None) => Ok(()),
        (Event::Timeout, Some(_)) => Err(Failure::Timeout),
        (Event::Reply(d), Some(want)) => {
            if d.len() < check.min_reply_length {
                return Err(Failure::TooShort);
            }
            if d.len() > check.max_reply_length {
                return Err(Failure::TooLong);
            }
            let n = d.len().min(want.len());
            if d[..n] != want[..n] {
                return Err(Failure::Reply("reply data mismatch"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(reply: Option<&[u8]>, min: usize, max: usize) -> UdpCheck {
        UdpCheck {
            payload: b"ping".to_vec(),
            require_reply: reply.map(<[u8]>::to_vec),
            min_reply_length: min,
            max_reply_length: max,
        }
    }

    #[test]
    fn without_require_reply_silence_is_success_and_unreachable_failure() {
        let c = check(None, 0, 255);
        assert_eq!(verdict(&c, Event::Timeout), Ok(()));
        assert_eq!(verdict(&c, Event::Reply(b"anything")), Ok(()));
        assert_eq!(
            verdict(&c, Event::Error(libc::ECONNREFUSED)),
            Err(Failure::Refused)
        );
    }

    #[test]
    fn require_reply_prefix_and_lengths() {
        let c = check(Some(b"pong"), 2, 8);
        assert_eq!(recv_len(&c), 9);
        assert_eq!(verdict(&c, Event::Timeout), Err(Failure::Timeout));
        assert_eq!(verdict(&c, Event::Reply(b"pong")), Ok(()));
        assert_eq!(
            verdict(&c, Event::Reply(b"pong!!")),
            Ok(()),
            "longer than the prefix"
        );
        assert_eq!(
            verdict(&c, Event::Reply(b"po")),
            Ok(()),
            "as many bytes as both have"
        );
        assert_eq!(verdict(&c, Event::Reply(b"p")), Err(Failure::TooShort));
        assert_eq!(
            verdict(&c, Event::Reply(b"pong12345")),
            Err(Failure::TooLong)
        );
        assert_eq!(
            verdict(&c, Event::Reply(b"pang")),
            Err(Failure::Reply("reply data mismatch"))
        );
        assert_eq!(
            verdict(&c, Event::Error(libc::ECONNREFUSED)),
            Err(Failure::Refused)
        );
    }
}
