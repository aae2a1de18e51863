//! MISC_CHECK: a script's end as a verdict (keepalived 2.2.7 check_misc.c,
//! `misc_check_child_thread`). Exit 0 is success; with `misc_dynamic` an exit of 2..=255 is
//! success with weight status - 2; any other exit, a signal, a timeout (we TERM, then KILL the
//! process group) or a script that cannot start is a failure.

use super::{Failure, Outcome};
pub use crate::track::script::Exit;

/// The verdict on a MISC_CHECK run that ended with `exit`.
pub fn outcome(dynamic: bool, exit: Exit) -> Outcome {
    match exit {
        Exit::Status(0) => Outcome::Up(None),
        Exit::Status(s @ 2..=255) if dynamic => Outcome::Up(Some(s as u32 - 2)),
        Exit::Status(s) => Outcome::Down(Failure::Exit(s)),
        Exit::Signal(n) => Outcome::Down(Failure::Signal(n)),
        Exit::TimedOut => Outcome::Down(Failure::Timeout),
        Exit::NotStarted => Outcome::Down(Failure::NotStarted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_to_verdict() {
        assert_eq!(outcome(false, Exit::Status(0)), Outcome::Up(None));
        assert_eq!(outcome(true, Exit::Status(0)), Outcome::Up(None));
        assert_eq!(
            outcome(false, Exit::Status(1)),
            Outcome::Down(Failure::Exit(1))
        );
        assert_eq!(
            outcome(true, Exit::Status(1)),
            Outcome::Down(Failure::Exit(1))
        );
        // Without misc_dynamic any non-zero exit fails.
        assert_eq!(
            outcome(false, Exit::Status(7)),
            Outcome::Down(Failure::Exit(7))
        );
        assert_eq!(outcome(true, Exit::Status(2)), Outcome::Up(Some(0)));
        assert_eq!(outcome(true, Exit::Status(255)), Outcome::Up(Some(253)));
        assert_eq!(
            outcome(true, Exit::TimedOut),
            Outcome::Down(Failure::Timeout)
        );
        assert_eq!(
            outcome(true, Exit::Signal(9)),
            Outcome::Down(Failure::Signal(9))
        );
        assert_eq!(
            outcome(true, Exit::NotStarted),
            Outcome::Down(Failure::NotStarted)
        );
    }
}
