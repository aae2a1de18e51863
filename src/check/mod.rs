//! Health checkers: one small file per checker that turns bytes (or an exit status) into a
//! verdict, and [`Checks`], the one epilogue they share (keepalived's `tcp_epilog` /
//! `udp_epilog` / `icmp_epilog`, which 2.2.7 repeats in every `check_*.c`): per checker, up or
//! down, the retry counter, when it runs next; per real server, up when all its checkers are.
//!
//! Nothing here opens a socket or reads the clock: `src/io/checks.rs` runs the attempts and
//! hands each verdict in with `now`; [`Checks`] answers with [`Event`]s and its next deadline.

pub mod dns;
pub mod http;
pub mod misc;
pub mod ping;
pub mod smtp;
pub mod tcp;
pub mod udp;

use crate::config::{CheckKind, Checker, VirtualServer};
use crate::time::Instant;
use core::cmp::Reverse;
use core::time::Duration;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;

/// Why one attempt failed: logged as "{checker} to {address}: {failure}".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connection was refused (a TCP RST, or an ICMP port unreachable on UDP).
    Refused,
    /// No verdict within `connect_timeout` (`misc_timeout` for MISC_CHECK).
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
    /// A reply over a size limit (e.g. UDP_CHECK `max_reply_length`).
    TooLong,
    /// A reply under UDP_CHECK `min_reply_length`.
    TooShort,
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
    /// Another socket error (errno), such as host or network unreachable.
    Os(i32),
    /// A MISC_CHECK script exited with this status (1, or any non-zero without misc_dynamic).
    Exit(i32),
    /// A MISC_CHECK script was killed by a signal we did not send.
    Signal(i32),
    /// A MISC_CHECK script could not be started.
    NotStarted,
}

impl Failure {
    /// Whether the executor should ignore this datagram and keep waiting for the reply.
    pub fn keep_waiting(&self) -> bool {
        matches!(self, Failure::NotOurs(_))
    }

    /// A socket error (errno) as a failure.
    pub fn from_errno(errno: i32) -> Failure {
        match errno {
            libc::ECONNREFUSED | libc::ECONNRESET => Failure::Refused,
            libc::ETIMEDOUT => Failure::Timeout,
            e => Failure::Os(e),
        }
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Refused => f.write_str("connection refused"),
            Failure::Timeout => f.write_str("timeout"),
            Failure::Closed => f.write_str("connection closed before the reply was complete"),
            Failure::Truncated => f.write_str("connection closed inside the body"),
            Failure::BadStatus(code) => write!(f, "HTTP status {code} not accepted"),
            Failure::BadDigest => f.write_str("MD5 digest mismatch"),
            Failure::Malformed(what) => write!(f, "malformed reply: {what}"),
            Failure::TooLong => f.write_str("reply too long"),
            Failure::TooShort => f.write_str("reply too short"),
            Failure::Limit(what) => write!(f, "over the limit: {what}"),
            Failure::Reply(why) => write!(f, "unexpected reply: {why}"),
            Failure::Smtp {
                step,
                code,
                expected,
            } => write!(f, "SMTP {step} reply {code}, expected {expected}"),
            Failure::Rcode(rcode) => write!(f, "DNS rcode {rcode} ({})", rcode_name(*rcode)),
            Failure::NotOurs(why) => write!(f, "stray datagram: {why}"),
            Failure::Os(e) => write!(f, "{}", std::io::Error::from_raw_os_error(*e)),
            Failure::Exit(s) => write!(f, "exited with status {s}"),
            Failure::Signal(s) => write!(f, "killed by signal {s}"),
            Failure::NotStarted => f.write_str("could not be started"),
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

/// What one attempt concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Healthy; `Some(w)` is a MISC_CHECK misc_dynamic weight (exit status - 2), `None` puts
    /// the checker's share of the weight back to the configured one.
    Up(Option<u32>),
    Down(Failure),
}

impl From<Result<(), Failure>> for Outcome {
    /// A checker's verdict: up (no weight of its own) or down with why.
    fn from(v: Result<(), Failure>) -> Outcome {
        v.map_or_else(Outcome::Down, |()| Outcome::Up(None))
    }
}

/// What the load balancer must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Every checker of the real server now succeeds: put it (back) in the pool with
    /// [`Checks::weight`].
    RealServerUp { vs: usize, rs: usize },
    /// A checker of the real server failed: take it out (or weight 0 with inhibit_on_failure).
    RealServerDown { vs: usize, rs: usize },
    /// The weight to use while the server is up changed (misc_dynamic). It says so also while
    /// the server is down; then it takes effect at the next `RealServerUp`.
    WeightChanged { vs: usize, rs: usize, weight: u32 },
}

/// A checker: its position in the flattened list of all checkers of all real servers, in
/// configuration order (virtual server, real server, checker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckerId(pub u32);

/// keepalived's BOOTSTRAP_DELAY (lib/scheduler.h): checkers start a second after the load.
pub const BOOTSTRAP_DELAY: Duration = Duration::from_secs(1);

/// keepalived's IPVS_WEIGHT_LIMIT: weights are clamped to 0..=i32::MAX.
const WEIGHT_LIMIT: i64 = i32::MAX as i64;

struct CheckerState {
    server: u32,
    /// Index among its real server's checkers.
    index: u32,
    keyword: &'static str,
    /// For logs.
    dst: SocketAddr,
    /// SSL_GET in this build: never runs, always up.
    runs: bool,
    /// MISC_CHECK: the next run is timed from the start of the last one (keepalived's
    /// `last_ran`), not from its end.
    from_start: bool,
    delay_loop: Duration,
    delay_before_retry: Duration,
    retry: u32,
    log_all_failures: bool,
    is_up: bool,
    has_run: bool,
    retry_it: u32,
    running: bool,
    /// Taken off the schedule while its virtual server is suspended (`ha_suspend`).
    parked: bool,
    started: Instant,
    /// This checker's share of the server's weight (misc_dynamic), keepalived's `cur_weight`.
    cur_weight: i64,
}

struct ServerState {
    vs: u32,
    rs: u32,
    /// Checkers currently down (keepalived's `num_failed_checkers`).
    failed: u32,
    /// The configured weight (keepalived's `iweight`).
    iweight: i64,
    /// The configured weight plus each checker's `cur_weight`.
    effective: i64,
}

/// Every checker's state and schedule. Sized at load; nothing allocates per check.
pub struct Checks {
    checkers: Vec<CheckerState>,
    servers: Vec<ServerState>,
    /// First server index of each virtual server.
    vs_start: Vec<u32>,
    /// Each checker that waits to run, at most once: (due, id). Capacity = number of checkers.
    due: BinaryHeap<Reverse<(Instant, CheckerId)>>,
    events: VecDeque<Event>,
    /// Per virtual server: `ha_suspend` and its address is not local, so its checkers wait.
    suspended: Vec<bool>,
}

/// A small xorshift for the warmup spread (keepalived uses `random()`).
fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

fn real_weight(w: i64) -> u32 {
    w.clamp(0, WEIGHT_LIMIT) as u32
}

impl Checks {
    /// All checkers of `vss`, loaded at `now`. Each first runs at now + [`BOOTSTRAP_DELAY`] + a
    /// random point of [0, warmup) drawn from `seed`. Real servers start up unless one of their
    /// checkers is `alpha`.
    pub fn new(vss: &[VirtualServer], now: Instant, seed: u64) -> Checks {
        let mut rng = seed | 1;
        let mut checkers = Vec::new();
        let mut servers = Vec::new();
        let mut vs_start = Vec::with_capacity(vss.len());
        for (v, vs) in vss.iter().enumerate() {
            vs_start.push(servers.len() as u32);
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let server = servers.len() as u32;
                let mut failed = 0;
                for (k, c) in rs.checkers.iter().enumerate() {
                    let runs = !matches!(c.kind, CheckKind::SslUnsupported);
                    let is_up = !(runs && c.alpha);
                    failed += u32::from(!is_up);
                    checkers.push(CheckerState {
                        server,
                        index: k as u32,
                        keyword: c.kind.keyword(),
                        dst: c.conn.dst,
                        runs,
                        from_start: matches!(c.kind, CheckKind::Misc(_)),
                        delay_loop: c.delay_loop,
                        delay_before_retry: c.delay_before_retry,
                        retry: c.retry,
                        log_all_failures: c.log_all_failures,
                        is_up,
                        has_run: false,
                        // "For non alpha mode, one failure is enough initially" (check_data.c).
                        retry_it: c.retry,
                        running: false,
                        parked: false,
                        started: now,
                        cur_weight: 0,
                    });
                }
                let w = i64::from(rs.weight);
                servers.push(ServerState {
                    vs: v as u32,
                    rs: r as u32,
                    failed,
                    iweight: w,
                    effective: w,
                });
            }
        }
        let mut due = BinaryHeap::with_capacity(checkers.len());
        for (i, c) in checkers.iter().enumerate() {
            if !c.runs {
                continue;
            }
            let warmup = vss[servers[c.server as usize].vs as usize].real_servers
                [servers[c.server as usize].rs as usize]
                .checkers[c.index as usize]
                .warmup;
            let spread = if warmup.is_zero() {
                Duration::ZERO
            } else {
                let us = warmup.as_micros() as u64;
                Duration::from_micros(xorshift(&mut rng) % us)
            };
            due.push(Reverse((
                now + BOOTSTRAP_DELAY + spread,
                CheckerId(i as u32),
            )));
        }
        Checks {
            checkers,
            servers,
            vs_start,
            due,
            events: VecDeque::with_capacity(64),
            suspended: vec![false; vss.len()],
        }
    }

    pub fn len(&self) -> usize {
        self.checkers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.checkers.is_empty()
    }

    /// (virtual server, real server, checker) indexes of `id` in the configuration.
    pub fn path(&self, id: CheckerId) -> (usize, usize, usize) {
        let c = &self.checkers[id.0 as usize];
        let s = &self.servers[c.server as usize];
        (s.vs as usize, s.rs as usize, c.index as usize)
    }

    /// The configuration of `id`.
    pub fn config<'a>(&self, vss: &'a [VirtualServer], id: CheckerId) -> &'a Checker {
        let (v, r, k) = self.path(id);
        &vss[v].real_servers[r].checkers[k]
    }

    fn server(&self, vs: usize, rs: usize) -> &ServerState {
        &self.servers[self.vs_start[vs] as usize + rs]
    }

    /// Whether the real server is up: none of its checkers is down.
    pub fn is_up(&self, vs: usize, rs: usize) -> bool {
        self.server(vs, rs).failed == 0
    }

    /// The weight the real server has while up (its configured weight unless misc_dynamic).
    pub fn weight(&self, vs: usize, rs: usize) -> u32 {
        real_weight(self.server(vs, rs).effective)
    }

    /// Reload: the real server was failed before it, so its checkers start failed, as `alpha`
    /// ones do, and only their successes bring it back (keepalived carries checker states over
    /// a reload). Without this the new checkers would start up, and a server that answers
    /// again before their first run would never be reported up.
    pub fn start_failed(&mut self, vs: usize, rs: usize) {
        let server = self.vs_start[vs] + rs as u32;
        // Checkers are stored server by server.
        let first = self.checkers.partition_point(|c| c.server < server);
        let mut newly_failed = 0;
        for c in self.checkers[first..]
            .iter_mut()
            .take_while(|c| c.server == server)
        {
            if c.runs && c.is_up {
                c.is_up = false;
                newly_failed += 1;
            }
        }
        self.servers[server as usize].failed += newly_failed;
    }

    pub fn checker_up(&self, id: CheckerId) -> bool {
        self.checkers[id.0 as usize].is_up
    }

    /// When the next checker is due to run.
    pub fn next_due(&self) -> Option<Instant> {
        self.due.peek().map(|Reverse((t, _))| *t)
    }

    /// A checker due at `now`, marked running: the caller starts an attempt and reports it
    /// with [`Checks::done`]. The earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<CheckerId> {
        loop {
            let Reverse((t, id)) = *self.due.peek()?;
            if t > now {
                return None;
            }
            self.due.pop();
            let vs = self.servers[self.checkers[id.0 as usize].server as usize].vs;
            let c = &mut self.checkers[id.0 as usize];
            if self.suspended[vs as usize] {
                // Off the schedule until the virtual server resumes; its state is kept.
                c.parked = true;
                continue;
            }
            c.running = true;
            c.started = now;
            return Some(id);
        }
    }

    /// `ha_suspend`: the checkers of virtual server `vs` stop being scheduled (an attempt under
    /// way still ends normally) or, resumed, run again from `now` with the state they had.
    pub fn set_suspended(&mut self, vs: usize, suspended: bool, now: Instant) {
        let Some(s) = self.suspended.get_mut(vs) else {
            return;
        };
        *s = suspended;
        if suspended {
            return;
        }
        for (i, c) in self.checkers.iter_mut().enumerate() {
            if c.parked && self.servers[c.server as usize].vs as usize == vs {
                c.parked = false;
                self.due.push(Reverse((now, CheckerId(i as u32))));
            }
        }
    }

    pub fn is_suspended(&self, vs: usize) -> bool {
        self.suspended.get(vs).copied().unwrap_or(false)
    }

    /// Puts a popped checker back, due at `at`, with no verdict (keepalived's "Rescheduling"
    /// when a socket cannot be made; also a full child-process table).
    pub fn postpone(&mut self, id: CheckerId, at: Instant) {
        let c = &mut self.checkers[id.0 as usize];
        if c.running {
            c.running = false;
            self.due.push(Reverse((at, id)));
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The epilogue: an attempt of `id` ended with `outcome` at `now`.
    ///
    /// keepalived 2.2.7 `udp_epilog`/`icmp_epilog` (check_tcp.c's differs only in retrying
    /// while already down, which the other checkers do not): a success, or a failure with the
    /// retries used up, runs again after delay_loop and resets the counter; a failure of a
    /// checker that is up (or has not run) with retries left runs again after
    /// delay_before_retry; a failure of a checker already down waits delay_loop.
    pub fn done(&mut self, id: CheckerId, outcome: Outcome, now: Instant) {
        let outcome = &outcome;
        let i = id.0 as usize;
        if !self.checkers[i].running {
            return;
        }
        let c = &mut self.checkers[i];
        c.running = false;
        let success = matches!(outcome, Outcome::Up(_));
        let mut new_state = None;
        let delay;
        if success || ((c.is_up || !c.has_run) && c.retry_it >= c.retry) {
            delay = c.delay_loop;
            let had_retries = c.has_run && c.retry > 0;
            c.retry_it = 0;
            match outcome {
                Outcome::Up(_) if !c.is_up || !c.has_run => {
                    lb_info!("{} to {} success.", c.keyword, c.dst);
                    new_state = Some(true);
                }
                Outcome::Down(f) if c.is_up || !c.has_run => {
                    if had_retries {
                        lb_info!(
                            "{} on service {} failed after {} retries ({f}).",
                            c.keyword,
                            c.dst,
                            c.retry
                        );
                    } else {
                        lb_info!("{} on service {} failed ({f}).", c.keyword, c.dst);
                    }
                    new_state = Some(false);
                }
                _ => {}
            }
        } else if c.is_up {
            delay = c.delay_before_retry;
            c.retry_it += 1;
            if c.log_all_failures {
                if let Outcome::Down(f) = outcome {
                    lb_info!(
                        "{} to {} failed ({f}), retry {}/{}.",
                        c.keyword,
                        c.dst,
                        c.retry_it,
                        c.retry
                    );
                }
            }
        } else {
            delay = c.delay_loop;
        }
        c.has_run = true;
        let from = if c.from_start { c.started } else { now };
        let next = (from + delay).max(now);
        // The weight share: misc_dynamic sets it on every success; a checker going down
        // drops it (check_misc.c).
        let share = match *outcome {
            Outcome::Up(Some(w)) => Some(i64::from(w) - self.servers[c.server as usize].iweight),
            Outcome::Up(None) => Some(0),
            Outcome::Down(_) if new_state == Some(false) => Some(0),
            Outcome::Down(_) => None,
        };
        let server = c.server as usize;
        let was_up = c.is_up;
        if let Some(up) = new_state {
            c.is_up = up;
        }
        self.due.push(Reverse((next, id)));
        let s = &mut self.servers[server];
        let (vs, rs) = (s.vs as usize, s.rs as usize);
        let old_weight = real_weight(s.effective);
        if let Some(share) = share {
            let c = &mut self.checkers[i];
            s.effective += share - c.cur_weight;
            c.cur_weight = share;
        }
        // The weight first, so a server that comes up is added with it.
        let weight = real_weight(s.effective);
        if weight != old_weight {
            self.events
                .push_back(Event::WeightChanged { vs, rs, weight });
        }
        match new_state {
            Some(true) if !was_up => {
                s.failed -= 1;
                if s.failed == 0 {
                    self.events.push_back(Event::RealServerUp { vs, rs });
                }
            }
            Some(false) if was_up => {
                s.failed += 1;
                if s.failed == 1 {
                    self.events.push_back(Event::RealServerDown { vs, rs });
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
