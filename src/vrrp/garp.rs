//! Pacing of gratuitous ARPs (`vrrp_garp_interval`): keepalived spaces announcements by that
//! interval instead of sending a burst back to back. Pure: the daemon asks what is due at `now`.
//!
//! A burst is `rounds` rounds of one announcement per address of one instance, in address
//! order (keepalived's order). Each instance has at most one burst queued: a new burst for the
//! same instance replaces what is left of the old one, so the queue never grows past the number
//! of instances it was made for and never allocates after start-up.

use crate::time::Instant;
use core::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Burst {
    owner: usize,
    addrs: usize,
    rounds: u32,
    /// Announcements of this burst already sent.
    sent: usize,
}

pub struct GarpPacer {
    interval: Duration,
    /// Oldest first; at most one per owner, so a handful: a Vec's `remove(0)` is cheap here.
    bursts: Vec<Burst>,
    /// When the next announcement may go out.
    next: Instant,
}

impl GarpPacer {
    /// A pacer for `owners` instances (their indexes are `0..owners`).
    pub fn new(interval: Duration, owners: usize) -> Self {
        GarpPacer {
            interval,
            bursts: Vec::with_capacity(owners),
            next: Instant::ZERO,
        }
    }

    /// Queues `rounds` rounds over the `addrs` addresses of instance `owner`.
    pub fn push(&mut self, owner: usize, addrs: usize, rounds: u32) {
        self.cancel(owner);
        if addrs > 0 && rounds > 0 {
            self.bursts.push(Burst {
                owner,
                addrs,
                rounds,
                sent: 0,
            });
        }
    }

    /// Drops what `owner` still had queued (it left MASTER).
    pub fn cancel(&mut self, owner: usize) {
        self.bursts.retain(|b| b.owner != owner);
    }

    /// When the next announcement is due, if any is queued.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (!self.bursts.is_empty()).then_some(self.next)
    }

    /// The next announcement due at `now`: (owner, address index).
    pub fn pop(&mut self, now: Instant) -> Option<(usize, usize)> {
        if now < self.next {
            return None;
        }
        let b = self.bursts.first_mut()?;
        let addr = b.sent % b.addrs;
        let owner = b.owner;
        b.sent += 1;
        if b.sent >= b.addrs * b.rounds as usize {
            self.bursts.remove(0);
        }
        self.next = now + self.interval;
        Some((owner, addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Instant {
        Instant::from_millis(n)
    }

    fn drain_at(p: &mut GarpPacer, now: Instant) -> Vec<(usize, usize)> {
        core::iter::from_fn(|| p.pop(now)).collect()
    }

    #[test]
    fn without_interval_a_burst_is_rounds_of_one_per_address() {
        let mut p = GarpPacer::new(Duration::ZERO, 2);
        p.push(1, 2, 3);
        assert_eq!(p.poll_timeout(), Some(Instant::ZERO));
        assert_eq!(
            drain_at(&mut p, ms(5)),
            vec![(1, 0), (1, 1), (1, 0), (1, 1), (1, 0), (1, 1)]
        );
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn with_interval_each_announcement_waits_its_turn() {
        let mut p = GarpPacer::new(Duration::from_millis(10), 1);
        p.push(0, 2, 2);
        assert_eq!(p.pop(ms(100)), Some((0, 0)));
        assert_eq!(p.pop(ms(105)), None, "only one per interval");
        assert_eq!(p.poll_timeout(), Some(ms(110)));
        assert_eq!(p.pop(ms(110)), Some((0, 1)));
        assert_eq!(p.pop(ms(120)), Some((0, 0)));
        assert_eq!(p.pop(ms(130)), Some((0, 1)));
        assert_eq!(p.pop(ms(140)), None);
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn bursts_queue_in_order_and_a_new_one_replaces_the_old() {
        let mut p = GarpPacer::new(Duration::ZERO, 3);
        p.push(0, 1, 5);
        p.push(2, 1, 1);
        assert_eq!(p.pop(ms(0)), Some((0, 0)));
        // Instance 0 announces again (second burst): what was left is replaced, at the back.
        p.push(0, 1, 2);
        assert_eq!(drain_at(&mut p, ms(0)), vec![(2, 0), (0, 0), (0, 0)]);
    }

    #[test]
    fn cancel_drops_what_an_instance_had_left() {
        let mut p = GarpPacer::new(Duration::from_millis(1), 2);
        p.push(0, 3, 5);
        p.push(1, 1, 1);
        assert_eq!(p.pop(ms(0)), Some((0, 0)));
        p.cancel(0);
        assert_eq!(p.pop(ms(1)), Some((1, 0)));
        assert_eq!(p.poll_timeout(), None);
        p.push(1, 0, 5);
        p.push(1, 5, 0);
        assert_eq!(p.poll_timeout(), None, "nothing to announce queues nothing");
    }
}
