//! `vrrp_script`: when each script runs and what its exits mean (keepalived 2.2.7
//! vrrp_scheduler.c `vrrp_script_thread`, `vrrp_script_child_thread`). Pure: the daemon runs
//! the processes and reports how they ended.
//!
//! The verdict follows keepalived's result counter, in `0..rise+fall`: successes count up to
//! `rise` (then the script is up and the counter jumps to the top), failures count down from
//! the top to `rise` (then it is down and the counter drops to 0). A script that has not given
//! a verdict yet goes down on its first failure and up after `rise` successes.

use super::Status;
use crate::config::VrrpScript;
use crate::time::Instant;
use core::time::Duration;

/// Handle of a `vrrp_script` (its place in the configuration's list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScriptId(pub(crate) u16);

impl ScriptId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit status (0 is success).
    Status(i32),
    /// Killed by a signal we did not send.
    Signal(i32),
    /// Killed by us at its timeout: a failure.
    TimedOut,
    /// Could not be started (missing, not executable): a failure.
    NotStarted,
}

#[derive(Debug, Clone)]
struct State {
    name: String,
    interval: Duration,
    rise: u32,
    fall: u32,
    /// keepalived's `result`.
    result: u32,
    status: Status,
    running: bool,
    next_run: Instant,
    /// Last exit status, to log changes only (keepalived: "Script `x` now returning N").
    last_status: Option<i32>,
}

pub struct Scripts {
    all: Vec<State>,
}

impl Scripts {
    /// Every script runs first at `now`, then every `interval`.
    pub fn new(cfg: &[VrrpScript], now: Instant) -> Scripts {
        let all = cfg
            .iter()
            .map(|c| State {
                name: c.name.clone(),
                interval: c.interval,
                rise: c.rise.max(1),
                fall: c.fall.max(1),
                result: 0,
                status: if c.init_fail {
                    Status::Down
                } else {
                    Status::Init
                },
                running: false,
                next_run: now,
                last_status: None,
            })
            .collect();
        Scripts { all }
    }

    pub fn status(&self, id: ScriptId) -> Status {
        self.all[id.index()].status
    }

    pub fn name(&self, id: ScriptId) -> &str {
        &self.all[id.index()].name
    }

    /// Reload: every script of `old` that `same` says is unchanged keeps its verdict, its
    /// schedule and whether it is running. Returns, for each of `old`'s scripts, its id here.
    pub fn adopt(&mut self, old: &Scripts, same: impl Fn(&str) -> bool) -> Vec<Option<ScriptId>> {
        old.all
            .iter()
            .map(|o| {
                let k = self.all.iter().position(|s| s.name == o.name)?;
                if same(&o.name) {
                    self.all[k] = o.clone();
                } else {
                    // Changed: a fresh verdict, but a run still going is not started twice.
                    self.all[k].running = o.running;
                }
                Some(ScriptId(k as u16))
            })
            .collect()
    }

    /// keepalived's `Result` in its data dump.
    pub fn result(&self, id: ScriptId) -> u32 {
        self.all[id.index()].result
    }

    pub fn ids(&self) -> impl Iterator<Item = ScriptId> {
        (0..self.all.len() as u16).map(ScriptId)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.all.iter().map(|s| s.next_run).min()
    }

    /// A script whose run is due at `now`. A script still running when its next run is due
    /// is skipped for that interval (keepalived: "expect idle - skipping run").
    pub fn poll_due(&mut self, now: Instant) -> Option<ScriptId> {
        for (k, s) in self.all.iter_mut().enumerate() {
            if s.next_run > now {
                continue;
            }
            // From the deadline, not from now: a late loop does not drift the schedule, but
            // a loop late by more than an interval does not run it twice either.
            s.next_run = (s.next_run + s.interval).max(now);
            if s.running {
                info!(
                    "Track script {} is already running, expect idle - skipping run",
                    s.name
                );
                continue;
            }
            s.running = true;
            return Some(ScriptId(k as u16));
        }
        None
    }

    /// A run ended. Returns the new status when the verdict changed.
    pub fn handle_exit(&mut self, id: ScriptId, exit: Exit) -> Option<Status> {
        let s = &mut self.all[id.index()];
        s.running = false;
        let (ok, why) = match exit {
            Exit::Status(0) => (true, String::new()),
            Exit::Status(n) => (false, format!(" (exited with status {n})")),
            Exit::Signal(n) => (false, format!(" (due to signal {n})")),
            Exit::TimedOut => (false, String::new()),
            Exit::NotStarted => (false, " (could not be started)".to_string()),
        };
        if let Exit::Status(n) = exit {
            if s.last_status != Some(n) {
                info!("Script `{}` now returning {n}", s.name);
            }
            s.last_status = Some(n);
        }
        let top = s.rise + s.fall - 1;
        let was = s.status;
        if ok {
            if s.result + 1 < s.rise {
                s.result += 1;
            } else {
                s.result = top;
                s.status = Status::Up;
            }
        } else if s.result > s.rise {
            s.result -= 1;
        } else {
            s.result = 0;
            s.status = Status::Down;
        }
        if s.status == was {
            return None;
        }
        let verb = match (ok, exit) {
            (true, _) => "succeeded",
            (false, Exit::TimedOut) => "timed_out",
            (false, _) => "failed",
        };
        info!("VRRP_Script({}) {verb}{why}", s.name);
        Some(s.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Command, Location, Weight};

    fn cfg(rise: u32, fall: u32, init_fail: bool) -> VrrpScript {
        VrrpScript {
            name: "chk".into(),
            at: Location {
                file: std::path::Path::new("k.conf").into(),
                line: 1,
            },
            script: Command {
                line: "/bin/true".into(),
                at: Location {
                    file: std::path::Path::new("k.conf").into(),
                    line: 2,
                },
            },
            interval: Duration::from_secs(2),
            timeout: Duration::from_secs(2),
            weight: Weight::default(),
            rise,
            fall,
            user: None,
            init_fail,
        }
    }

    fn run(s: &mut Scripts, exit: Exit) -> Option<Status> {
        s.handle_exit(ScriptId(0), exit)
    }

    #[test]
    fn rise_successes_bring_it_up_fall_failures_take_it_down() {
        let mut s = Scripts::new(&[cfg(3, 2, false)], Instant::ZERO);
        assert_eq!(s.status(ScriptId(0)), Status::Init);
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), Some(Status::Up));
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        // fall 2: the first failure is not enough.
        assert_eq!(run(&mut s, Exit::Status(1)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(1)), None);
        assert_eq!(run(&mut s, Exit::TimedOut), Some(Status::Down));
        // Back up takes `rise` successes again; a failure in between starts over.
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(2)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), None);
        assert_eq!(run(&mut s, Exit::Status(0)), Some(Status::Up));
    }

    #[test]
    fn first_failure_decides_a_script_without_verdict() {
        let mut s = Scripts::new(&[cfg(2, 5, false)], Instant::ZERO);
        assert_eq!(run(&mut s, Exit::Signal(9)), Some(Status::Down));
    }

    #[test]
    fn init_fail_starts_down() {
        let mut s = Scripts::new(&[cfg(1, 1, true)], Instant::ZERO);
        assert_eq!(s.status(ScriptId(0)), Status::Down);
        assert_eq!(run(&mut s, Exit::NotStarted), None);
        assert_eq!(run(&mut s, Exit::Status(0)), Some(Status::Up));
    }

    #[test]
    fn runs_every_interval_and_skips_while_running() {
        let t0 = Instant::from_millis(1000);
        let mut s = Scripts::new(&[cfg(1, 1, false)], t0);
        assert_eq!(s.poll_timeout(), Some(t0));
        assert_eq!(s.poll_due(t0), Some(ScriptId(0)));
        assert_eq!(s.poll_due(t0), None);
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(s.poll_timeout(), Some(t1));
        // Still running at the next interval: skipped.
        assert_eq!(s.poll_due(t1), None);
        run(&mut s, Exit::Status(0));
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!(s.poll_due(t2 - Duration::from_millis(1)), None);
        assert_eq!(s.poll_due(t2), Some(ScriptId(0)));
    }
}
