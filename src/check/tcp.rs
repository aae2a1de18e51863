//! TCP_CHECK: a connection established within `connect_timeout` is success (keepalived 2.2.7
//! check_tcp.c closes it at once). The executor reports how the non-blocking connect ended.

use super::{Failure, Outcome};

/// How a non-blocking connect ended, as `SO_ERROR` said (0: connected), or `None` when the
/// deadline passed first.
pub fn outcome(so_error: Option<i32>) -> Outcome {
    match so_error {
        Some(0) => Outcome::Up(None),
        Some(e) => Outcome::Down(Failure::from_errno(e)),
        None => Outcome::Down(Failure::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_results() {
        assert_eq!(outcome(Some(0)), Outcome::Up(None));
        assert_eq!(
            outcome(Some(libc::ECONNREFUSED)),
            Outcome::Down(Failure::Refused)
        );
        assert_eq!(
            outcome(Some(libc::EHOSTUNREACH)),
            Outcome::Down(Failure::Os(libc::EHOSTUNREACH))
        );
        assert_eq!(outcome(None), Outcome::Down(Failure::Timeout));
    }
}
