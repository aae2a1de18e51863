//! Telling the host about transitions: notify scripts in order, FIFO lines, SMTP alerts
//! ([`smtp`]). Pure: the daemon spawns what [`Notifier::poll_start`] hands it and reports when
//! each run ends; `src/io` connects, reads and writes for the SMTP client and passes in `now`.
//!
//! keepalived starts a transition's scripts at once and lets them race, so two quick
//! transitions can reach the host out of order (keepalived issues 996, 1055). Here every owner
//! (an instance or a group) has its own queue: its scripts run one at a time in transition
//! order, while different owners run side by side.

pub mod smtp;

use crate::config::{Command, Notify};
use crate::vrrp::State;
use std::collections::VecDeque;

/// The word keepalived uses for a state in notify arguments and FIFO lines; our Initialize
/// after a start is keepalived's STOP.
pub fn state_word(s: State) -> &'static str {
    match s {
        State::Initialize => "STOP",
        s => s.as_str(),
    }
}

/// The longest FIFO line a name of `name_len` bytes makes (the longest kind, word and priority).
pub fn fifo_line_len(name_len: usize) -> usize {
    "INSTANCE \"\" MASTER_RX_LOWER_PRI 255\n".len() + name_len
}

/// `INSTANCE "VI_1" MASTER 100` (keepalived vrrp_notify.c `notify_fifo`), with the newline,
/// written into `out` (sized with [`fifo_line_len`]): no allocation per transition. The length
/// written, or `None` when `out` is too short.
pub fn fifo_line(
    out: &mut [u8],
    group: bool,
    name: &str,
    word: &str,
    priority: u8,
) -> Option<usize> {
    use embedded_io::Write;
    let kind = if group { "GROUP" } else { "INSTANCE" };
    let room = out.len();
    let mut w: &mut [u8] = out;
    writeln!(w, "{kind} \"{name}\" {word} {priority}").ok()?;
    Some(room - w.len())
}

/// One script run: a configured command and the words appended to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Which queue it belongs to (the daemon's index of an instance or group).
    pub owner: usize,
    pub command: Command,
    pub extra: Vec<String>,
}

/// Per-owner queues of notify scripts.
#[derive(Default)]
pub struct Notifier {
    queue: VecDeque<Job>,
    /// Owners with a script running now.
    running: Vec<usize>,
}

impl Notifier {
    /// Queues the scripts of a transition of `owner` to `to` (keepalived's order: the
    /// state's own script, then the generic `notify` with `INSTANCE|GROUP name STATE prio`).
    pub fn transition(
        &mut self,
        owner: usize,
        group: bool,
        name: &str,
        notify: &Notify,
        to: State,
        priority: u8,
    ) {
        let own = match to {
            State::Master => &notify.master,
            State::Backup => &notify.backup,
            State::Fault => &notify.fault,
            State::Initialize => &notify.stop,
        };
        if let Some(c) = own {
            self.push(owner, c, Vec::new());
        }
        if let Some(c) = &notify.generic {
            let kind = if group { "GROUP" } else { "INSTANCE" };
            let extra = vec![
                kind.to_string(),
                name.to_string(),
                state_word(to).to_string(),
                priority.to_string(),
            ];
            self.push(owner, c, extra);
        }
    }

    /// Queues `notify_master_rx_lower_pri` (run as written, as keepalived does).
    pub fn push(&mut self, owner: usize, command: &Command, extra: Vec<String>) {
        self.queue.push_back(Job {
            owner,
            command: command.clone(),
            extra,
        });
    }

    /// The next script that may start: the oldest whose owner has nothing running.
    pub fn poll_start(&mut self) -> Option<Job> {
        let k = self
            .queue
            .iter()
            .position(|j| !self.running.contains(&j.owner))?;
        let job = self.queue.remove(k)?;
        self.running.push(job.owner);
        Some(job)
    }

    /// Whether a queued script could start now.
    pub fn has_startable(&self) -> bool {
        self.queue.iter().any(|j| !self.running.contains(&j.owner))
    }

    /// The script of `owner` that was running has ended (or could not start).
    pub fn finished(&mut self, owner: usize) {
        self.running.retain(|&o| o != owner);
    }

    /// Reload: every owner takes its new number (`f` maps old to new), so a moved instance's
    /// queued scripts keep their place and order.
    pub fn retarget(&mut self, f: impl Fn(usize) -> usize) {
        for j in &mut self.queue {
            j.owner = f(j.owner);
        }
        for o in &mut self.running {
            *o = f(*o);
        }
    }

    /// Nothing queued and nothing running.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.running.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Location;

    fn cmd(line: &str) -> Option<Command> {
        Some(Command {
            line: line.into(),
            at: Location {
                file: std::path::Path::new("k.conf").into(),
                line: 1,
            },
        })
    }

    #[test]
    fn one_owner_runs_in_order_one_at_a_time() {
        let notify = Notify {
            master: cmd("/m.sh"),
            backup: cmd("/b.sh"),
            generic: cmd("/n.sh x"),
            ..Notify::default()
        };
        let mut n = Notifier::default();
        n.transition(0, false, "VI_1", &notify, State::Backup, 90);
        n.transition(0, false, "VI_1", &notify, State::Master, 90);
        n.transition(1, false, "VI_2", &notify, State::Master, 50);
        let a = n.poll_start().unwrap();
        assert_eq!((a.owner, a.command.line.as_str()), (0, "/b.sh"));
        // VI_1's next waits; VI_2 may start.
        let b = n.poll_start().unwrap();
        assert_eq!((b.owner, b.command.line.as_str()), (1, "/m.sh"));
        assert_eq!(n.poll_start(), None);
        n.finished(0);
        let c = n.poll_start().unwrap();
        assert_eq!(c.command.line, "/n.sh x");
        assert_eq!(c.extra, ["INSTANCE", "VI_1", "BACKUP", "90"]);
        n.finished(0);
        assert_eq!(n.poll_start().unwrap().command.line, "/m.sh");
        n.finished(0);
        let e = n.poll_start().unwrap();
        assert_eq!(e.extra, ["INSTANCE", "VI_1", "MASTER", "90"]);
    }

    #[test]
    fn retarget_keeps_queues_apart() {
        let notify = Notify {
            master: cmd("/m.sh"),
            backup: cmd("/b.sh"),
            ..Notify::default()
        };
        let mut n = Notifier::default();
        n.transition(0, false, "A", &notify, State::Backup, 1);
        n.transition(0, false, "A", &notify, State::Master, 1);
        assert_eq!(n.poll_start().unwrap().command.line, "/b.sh");
        // A reload moves A from owner 0 to owner 1; a new instance is owner 0.
        n.retarget(|o| o + 1);
        n.transition(0, false, "B", &notify, State::Master, 1);
        let b = n.poll_start().unwrap();
        assert_eq!(
            b.owner, 0,
            "the new owner 0 is not blocked by A's running script"
        );
        assert_eq!(
            n.poll_start(),
            None,
            "A's next script still waits for its first"
        );
        n.finished(1);
        assert_eq!(n.poll_start().unwrap().owner, 1);
    }

    #[test]
    fn stop_is_keepalived_stop() {
        let notify = Notify {
            stop: cmd("/s.sh"),
            generic: cmd("/n.sh"),
            ..Notify::default()
        };
        let mut n = Notifier::default();
        n.transition(3, true, "G", &notify, State::Initialize, 0);
        assert_eq!(n.poll_start().unwrap().command.line, "/s.sh");
        n.finished(3);
        assert_eq!(n.poll_start().unwrap().extra, ["GROUP", "G", "STOP", "0"]);
        let mut buf = [0u8; 64];
        let n = fifo_line(&mut buf, false, "VI_1", "MASTER", 100).unwrap();
        assert_eq!(&buf[..n], b"INSTANCE \"VI_1\" MASTER 100\n");
        let mut exact = vec![0u8; fifo_line_len(4)];
        let n = fifo_line(&mut exact, false, "G_12", "MASTER_RX_LOWER_PRI", 255).unwrap();
        assert_eq!(n, exact.len(), "the longest line fits the computed length");
        assert_eq!(
            fifo_line(&mut buf[..10], false, "VI_1", "MASTER", 100),
            None
        );
    }
}
