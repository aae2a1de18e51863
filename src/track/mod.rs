//! Tracked objects that move an instance's priority or put it in FAULT: interfaces (fed by the
//! router from link events) and `vrrp_script`s ([`script`]). Pure.
//!
//! keepalived's arithmetic (vrrp_track.c `process_script_update_priority`,
//! `initialise_track_script_state`): with weight 0 a failed object means FAULT; a positive
//! weight is added while the object is up, a negative one while it is down; `reverse` swaps up
//! and down. The effective priority is the base priority plus every contribution, kept in
//! 1..=254 (the router applies that, and leaves an address owner at 255).

pub mod file;
pub mod script;

use crate::config::Weight;

/// A tracked object's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A script that has not given a verdict yet: it moves no priority, and with weight 0 it
    /// holds the instance in FAULT (keepalived's `num_script_init`).
    Init,
    Up,
    Down,
}

impl Status {
    /// Up or down as the weight sees it (`reverse` swaps them); `None` for [`Status::Init`].
    fn seen(self, w: Weight) -> Option<bool> {
        match self {
            Status::Init => None,
            Status::Up => Some(!w.reverse),
            Status::Down => Some(w.reverse),
        }
    }
}

/// What an object in state `st` adds to the priority.
pub fn contribution(w: Weight, st: Status) -> i32 {
    match st.seen(w) {
        Some(true) if w.weight > 0 => w.weight,
        Some(false) if w.weight < 0 => w.weight,
        _ => 0,
    }
}

/// Whether an object in state `st` puts the instance in FAULT (weight 0 only).
pub fn faults(w: Weight, st: Status) -> bool {
    w.weight == 0 && st.seen(w) != Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(weight: i32, reverse: bool) -> Weight {
        Weight { weight, reverse }
    }

    #[test]
    fn weights_follow_keepalived() {
        // Positive: added while up.
        assert_eq!(contribution(w(10, false), Status::Up), 10);
        assert_eq!(contribution(w(10, false), Status::Down), 0);
        // Negative: added while down.
        assert_eq!(contribution(w(-20, false), Status::Up), 0);
        assert_eq!(contribution(w(-20, false), Status::Down), -20);
        // reverse swaps up and down.
        assert_eq!(contribution(w(10, true), Status::Down), 10);
        assert_eq!(contribution(w(-20, true), Status::Up), -20);
        // A script without a verdict moves nothing.
        assert_eq!(contribution(w(10, false), Status::Init), 0);
        assert_eq!(contribution(w(-20, false), Status::Init), 0);
    }

    #[test]
    fn weight_zero_means_fault() {
        assert!(faults(w(0, false), Status::Down));
        assert!(!faults(w(0, false), Status::Up));
        assert!(faults(w(0, false), Status::Init));
        assert!(faults(w(0, true), Status::Up));
        assert!(!faults(w(0, true), Status::Down));
        assert!(!faults(w(-5, false), Status::Down));
    }
}
