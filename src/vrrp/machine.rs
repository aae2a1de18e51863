//! The VRRP state machine of one `vrrp_instance` (RFC 3768 v2 / RFC 5798 v3 section 6), as
//! keepalived 2.2.7 runs it.
//!
//! Pure: no I/O, no clock. Inputs carry `now`; outputs are [`Action`]s the daemon drains with
//! [`Instance::poll_action`] and performs in order, and the next deadline from
//! [`Instance::poll_timeout`]. Timers are a fixed table indexed by [`Timer`].
//!
//! Where keepalived differs from the RFC, keepalived wins (we must interoperate with it); each
//! such place names the keepalived function it follows (`vrrp/vrrp.c`, `vrrp/vrrp_scheduler.c`).

use core::cmp::Ordering;
use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};

use heapless::Deque;

use super::{Advert, State};
use crate::config::{InitialState, VrrpInstance, VrrpVersion};
use crate::time::Instant;

/// Capacity of the action queue. One input produces at most 6 actions; the daemon drains the
/// queue after every input, so this leaves ample room.
pub const ACTION_CAPACITY: usize = 32;

/// Adverts a backup misses before the master is declared down (RFC 5798 6.1: 3).
const DOWN_TIMER_ADVERTS: u32 = 3;

/// What the daemon must do, in the order the queue gives them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send one advertisement now with this priority (0: we are giving up mastership).
    SendAdvert { priority: u8 },
    /// Add `cfg.vips` and `cfg.excluded_vips`.
    AddVips,
    /// Remove `cfg.vips` and `cfg.excluded_vips`.
    RemoveVips,
    /// One gratuitous-ARP burst for all VIPs: `repeat` GARPs per address (spaced by
    /// `vrrp_garp_interval`, the daemon's business). Becoming master uses
    /// `garp_master_repeat`, the refresh uses `garp_master_refresh_repeat` (keepalived default 1).
    SendGarps { repeat: u32 },
    /// The instance changed state (for logs and notify scripts). `to: Initialize` means stopped.
    StateChanged { from: State, to: State },
    /// As master we heard a lower-priority advert from `from`: another master (a partition
    /// healed). We keep the addresses and re-announce them (`SendGarps` follows).
    HeardLowerMaster { from: IpAddr, priority: u8 },
}

/// What `#[derive(Debug)]` prints, written out: the derived code pulls in `DebugStruct` and
/// `str`'s escaping `Debug` (about 1.8 KB) for one log line that should never happen.
impl core::fmt::Debug for Action {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Action::SendAdvert { priority } => write!(f, "SendAdvert {{ priority: {priority} }}"),
            Action::AddVips => f.write_str("AddVips"),
            Action::RemoveVips => f.write_str("RemoveVips"),
            Action::SendGarps { repeat } => write!(f, "SendGarps {{ repeat: {repeat} }}"),
            Action::StateChanged { from, to } => {
                write!(f, "StateChanged {{ from: {from:?}, to: {to:?} }}")
            }
            Action::HeardLowerMaster { from, priority } => {
                write!(
                    f,
                    "HeardLowerMaster {{ from: {from}, priority: {priority} }}"
                )
            }
        }
    }
}

/// The timers of an instance: the index into the timer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// Backup: the Master_Down_Timer (RFC 5798 6.4.2).
    MasterDown = 0,
    /// Master: the Adver_Timer (RFC 5798 6.4.3).
    Adver = 1,
    /// Master: the second GARP burst, `garp_master_delay` after becoming master.
    GarpDelayed = 2,
    /// Master: GARP refresh every `garp_master_refresh`.
    GarpRefresh = 3,
    /// Master: the delayed GARP burst after hearing a lower-priority advert.
    GarpLowerPrio = 4,
}

const TIMER_COUNT: usize = 5;

impl Timer {
    /// In the order they fire when due at the same instant.
    const ALL: [Timer; TIMER_COUNT] = [
        Timer::MasterDown,
        Timer::Adver,
        Timer::GarpDelayed,
        Timer::GarpRefresh,
        Timer::GarpLowerPrio,
    ];
}

#[derive(Debug, Clone, Default)]
struct TimerTable([Option<Instant>; TIMER_COUNT]);

impl TimerTable {
    fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }
    fn stop(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }
    fn get(&self, t: Timer) -> Option<Instant> {
        self.0[t as usize]
    }
    fn stop_all(&mut self) {
        self.0 = [None; TIMER_COUNT];
    }
    fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
    /// The timer with the earliest deadline `<= now` (ties in `Timer::ALL` order).
    fn expired(&self, now: Instant) -> Option<Timer> {
        let mut best: Option<(Timer, Instant)> = None;
        for t in Timer::ALL {
            if let Some(at) = self.get(t) {
                if at <= now && best.is_none_or(|(_, b)| at < b) {
                    best = Some((t, at));
                }
            }
        }
        best.map(|(t, _)| t)
    }
}

/// keepalived settings that shape the machine but live outside `vrrp_instance` in our config
/// (global or strict-mode derived). [`Tuning::keepalived`] gives keepalived 2.2.7's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// `vrrp_lower_prio_no_advert` (default off, on in strict mode): a master that hears a
    /// lower-priority advert does not answer with its own advert (nor reset its Adver_Timer).
    pub lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert` (default off, off in strict mode): a master that hears a
    /// higher-priority advert sends one more advert before becoming backup.
    pub higher_prio_send_advert: bool,
    /// `vrrp_garp_lower_prio_repeat` (default `garp_master_repeat`, 0 in strict mode): GARPs a
    /// master sends when it hears a lower-priority advert.
    pub garp_lower_prio_repeat: u32,
    /// `vrrp_garp_lower_prio_delay` (default `garp_master_delay`, 0 in strict mode): delay of
    /// the second such burst (0: none).
    pub garp_lower_prio_delay: Duration,
    /// `garp_master_refresh_repeat` (default 1): GARPs per refresh.
    pub garp_refresh_repeat: u32,
}

impl Tuning {
    /// keepalived 2.2.7's defaults for this instance (vrrp.c `vrrp_complete_instance`), with
    /// `strict` = `vrrp_strict`.
    pub fn keepalived(cfg: &VrrpInstance, strict: bool) -> Tuning {
        Tuning {
            lower_prio_no_advert: strict,
            higher_prio_send_advert: false,
            garp_lower_prio_repeat: if strict { 0 } else { cfg.garp_master_repeat },
            garp_lower_prio_delay: if strict {
                Duration::ZERO
            } else {
                cfg.garp_master_delay
            },
            garp_refresh_repeat: 1,
        }
    }
}

/// One `vrrp_instance`: its VRRP state, timers and pending actions. Holds a copy of the few
/// configuration values it needs, never a reference to the config.
#[derive(Debug, Clone)]
pub struct Instance {
    state: State,
    /// Our priority (keepalived's effective priority). 255: address owner.
    priority: u8,
    version: VrrpVersion,
    /// Advertisement_Interval we send with when master.
    adver_int: Duration,
    /// Master_Adver_Interval: v3 backups learn it from the master's adverts (RFC 5798 6.4.2).
    master_adver_int: Duration,
    preempt: bool,
    preempt_delay: Duration,
    /// keepalived's `preempt_time`: until then lower-priority adverts are still accepted.
    preempt_time: Option<Instant>,
    initial_state: InitialState,
    garp_master_delay: Duration,
    garp_master_repeat: u32,
    garp_master_refresh: Option<Duration>,
    tuning: Tuning,
    /// Our advert source address: the equal-priority tie-break compares against it.
    local_addr: Ipv4Addr,
    /// Where the last advert we accepted (or discarded) as backup came from.
    master_addr: Option<IpAddr>,
    /// The interface is down (set before or after start).
    fault: bool,
    timers: TimerTable,
    actions: Deque<Action, ACTION_CAPACITY>,
}

impl Instance {
    /// An instance in Initialize with keepalived's default [`Tuning`] (not strict).
    pub fn new(cfg: &VrrpInstance, local_addr: Ipv4Addr) -> Self {
        Self::with_tuning(cfg, local_addr, Tuning::keepalived(cfg, false))
    }

    /// An instance in Initialize. Applies keepalived's consistency rules
    /// (vrrp.c `vrrp_complete_instance`): priority 255 or `state MASTER` clear `nopreempt`;
    /// `state MASTER` and `nopreempt` clear `preempt_delay`.
    pub fn with_tuning(cfg: &VrrpInstance, local_addr: Ipv4Addr, tuning: Tuning) -> Self {
        let mut preempt = cfg.preempt;
        let mut preempt_delay = cfg.preempt_delay;
        if cfg.priority == 255 || cfg.initial_state == InitialState::Master {
            preempt = true;
        }
        if cfg.initial_state == InitialState::Master || !preempt {
            preempt_delay = Duration::ZERO;
        }
        // keepalived: an unset (zero) advert_int is the default 1 s.
        let adver_int = if cfg.advert_int.is_zero() {
            Duration::from_secs(1)
        } else {
            cfg.advert_int
        };
        Instance {
            state: State::Initialize,
            priority: cfg.priority.max(1),
            version: cfg.version,
            adver_int,
            master_adver_int: adver_int,
            preempt,
            preempt_delay,
            preempt_time: None,
            initial_state: cfg.initial_state,
            garp_master_delay: cfg.garp_master_delay,
            garp_master_repeat: cfg.garp_master_repeat,
            garp_master_refresh: cfg.garp_master_refresh.filter(|d| !d.is_zero()),
            tuning,
            local_addr,
            master_addr: None,
            fault: false,
            timers: TimerTable::default(),
            actions: Deque::new(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Our current priority (255 is lowered to 254 if another owner shows up, as keepalived).
    pub fn priority(&self) -> u8 {
        self.priority
    }

    /// Master_Adver_Interval (RFC 5798 6.1): our advert_int, or what a v3 master advertises.
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_int
    }

    /// Our advert source changed (the interface's primary address, learnt after start).
    pub fn set_local_addr(&mut self, addr: Ipv4Addr) {
        self.local_addr = addr;
    }

    /// The source of the last advert heard as backup.
    pub fn master_addr(&self) -> Option<IpAddr> {
        self.master_addr
    }

    /// Skew_Time (RFC 3768 6.1: (256 - Priority) / 256 s; RFC 5798 6.1:
    /// ((256 - Priority) * Master_Adver_Interval) / 256), in keepalived's integer microseconds
    /// (vrrp.h `VRRP_TIMER_SKEW`, v3 with the interval in whole centiseconds).
    pub fn skew_time(&self) -> Duration {
        self.skew_for(256 - u64::from(self.priority))
    }

    /// Master_Down_Interval (RFC 5798 6.1): 3 * Master_Adver_Interval + Skew_Time.
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_int * DOWN_TIMER_ADVERTS + self.skew_time()
    }

    fn skew_for(&self, pri_val: u64) -> Duration {
        let us = match self.version {
            VrrpVersion::V2 => pri_val * 1_000_000 / 256,
            VrrpVersion::V3 => {
                let centis = self.master_adver_int.as_micros() as u64 / 10_000;
                pri_val * centis * 625 / 16
            }
        };
        Duration::from_micros(us)
    }

    /// The earliest timer deadline; `None` when nothing is scheduled (Initialize, Fault).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Next action to perform, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Leave Initialize (RFC 5798 6.4.1; keepalived vrrp_scheduler.c `vrrp_init_state`):
    /// - interface down: Fault;
    /// - priority 255 with `state MASTER`: Master at once (keepalived passes through a 1 us
    ///   backup timeout without notifying; we go straight to Master);
    /// - anything else, `state MASTER` with a lower priority included: Backup with the
    ///   Master_Down_Timer at Master_Down_Interval.
    pub fn start(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        self.master_adver_int = self.adver_int;
        if self.fault {
            self.set_state(State::Fault);
        } else if self.priority == 255 && self.initial_state == InitialState::Master {
            self.become_master(now);
        } else {
            self.enter_backup(now);
        }
    }

    /// An advertisement for our VRID that passed every receive check.
    pub fn handle_advert(&mut self, adv: &Advert, now: Instant) {
        match self.state {
            // keepalived vrrp_scheduler.c `vrrp_dispatcher_read`: ignored in FAULT and INIT.
            State::Initialize | State::Fault => {}
            State::Backup => self.backup_rx(adv, now),
            State::Master => self.master_rx(adv, now),
        }
    }

    /// Backup receives (RFC 5798 6.4.2; keepalived vrrp.c `vrrp_state_backup`).
    fn backup_rx(&mut self, adv: &Advert, now: Instant) {
        if adv.priority == 0 {
            // The master is stopping: take over after Skew_Time only.
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            return;
        }
        self.master_addr = Some(adv.src);
        let in_preempt_delay =
            !self.preempt_delay.is_zero() && self.preempt_time.is_none_or(|t| t > now);
        if !self.preempt || adv.priority >= self.priority || in_preempt_delay {
            if self.version == VrrpVersion::V3 && !adv.adver_int.is_zero() {
                // RFC 5798 6.4.2: Master_Adver_Interval = the advert's interval.
                self.master_adver_int = adv.adver_int;
            }
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
            if !self.preempt_delay.is_zero() {
                if adv.priority >= self.priority {
                    self.preempt_time = None;
                } else if self.preempt_time.is_none() {
                    // The first lower-priority advert starts the delay.
                    self.preempt_time = Some(now + self.preempt_delay);
                }
            }
        }
        // else: lower priority, preempt, delay over: discard, the down timer keeps running.
    }

    /// Master receives (RFC 5798 6.4.3; keepalived vrrp.c `vrrp_state_master_rx` and the
    /// timer reset in vrrp_scheduler.c `vrrp_dispatcher_read`).
    fn master_rx(&mut self, adv: &Advert, now: Instant) {
        let addr_cmp = match adv.src {
            IpAddr::V4(a) => a.cmp(&self.local_addr),
            // keepalived `vrrp_saddr_cmp`: a family mismatch compares equal.
            IpAddr::V6(_) => Ordering::Equal,
        };
        let higher = |prio: u8| {
            adv.priority > prio || (adv.priority == prio && addr_cmp == Ordering::Greater)
        };
        if adv.priority == 0 || (self.tuning.higher_prio_send_advert && higher(self.priority)) {
            self.push(Action::SendAdvert {
                priority: self.priority,
            });
            if adv.priority == 0 {
                self.reset_adver_timer_after_rx(now);
                return;
            }
        }
        if adv.priority == self.priority && addr_cmp != Ordering::Equal && self.priority == 255 {
            // Two address owners: keepalived reports a configuration error and lowers ours.
            self.priority = 254;
        }
        if adv.priority < self.priority
            || (adv.priority == self.priority && addr_cmp == Ordering::Less)
        {
            // A lower-priority master exists: assert ourselves and refresh ARP caches.
            self.push(Action::HeardLowerMaster {
                from: adv.src,
                priority: adv.priority,
            });
            if !self.tuning.lower_prio_no_advert {
                self.push(Action::SendAdvert {
                    priority: self.priority,
                });
            }
            let repeat = self.tuning.garp_lower_prio_repeat;
            if repeat > 0 {
                self.push(Action::SendGarps { repeat });
                let delay = self.tuning.garp_lower_prio_delay;
                if !delay.is_zero() && self.timers.get(Timer::GarpLowerPrio).is_none() {
                    self.timers.set(Timer::GarpLowerPrio, now + delay);
                }
            }
            self.reset_adver_timer_after_rx(now);
            return;
        }
        if higher(self.priority) {
            if self.version == VrrpVersion::V3 && !adv.adver_int.is_zero() {
                self.master_adver_int = adv.adver_int;
            }
            self.master_addr = Some(adv.src);
            self.leave_master(now, State::Backup);
            return;
        }
        // Equal priority from our own address: keepalived only warns.
        self.reset_adver_timer_after_rx(now);
    }

    /// keepalived re-arms the master's advert timer after every received advert unless
    /// `lower_prio_no_advert` is set.
    fn reset_adver_timer_after_rx(&mut self, now: Instant) {
        if !self.tuning.lower_prio_no_advert {
            self.timers.set(Timer::Adver, now + self.adver_int);
        }
    }

    /// Fire every timer whose deadline is `<= now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each timer re-arms strictly after `now` (intervals are > 0), so every one fires at
        // most once per call.
        for _ in 0..TIMER_COUNT * 2 {
            let Some(t) = self.timers.expired(now) else {
                break;
            };
            self.timers.stop(t);
            self.fire(t, now);
        }
    }

    fn fire(&mut self, t: Timer, now: Instant) {
        if t == Timer::MasterDown {
            // RFC 5798 6.4.2: Master_Down_Timer fires => become master.
            if self.state == State::Backup {
                self.become_master(now);
            }
            return;
        }
        if self.state != State::Master {
            return;
        }
        match t {
            Timer::Adver => {
                // RFC 5798 6.4.3 (vrrp.c `vrrp_state_master_tx`).
                self.push(Action::SendAdvert {
                    priority: self.priority,
                });
                self.timers.set(Timer::Adver, now + self.adver_int);
            }
            Timer::GarpDelayed => {
                // vrrp_scheduler.c `vrrp_gratuitous_arp_thread`.
                self.push_garps(self.garp_master_repeat);
            }
            Timer::GarpRefresh => {
                self.push_garps(self.tuning.garp_refresh_repeat);
                if let Some(r) = self.garp_master_refresh {
                    self.timers.set(Timer::GarpRefresh, now + r);
                }
            }
            Timer::GarpLowerPrio => {
                // vrrp_scheduler.c `vrrp_lower_prio_gratuitous_arp_thread`.
                self.push_garps(self.tuning.garp_lower_prio_repeat);
            }
            Timer::MasterDown => {}
        }
    }

    /// A new effective priority from tracking or a reload (keepalived vrrp_track.c
    /// `vrrp_set_effective_priority`): a master advertises it at once, and a backup's running
    /// Master_Down_Timer moves by the change in Skew_Time, so preemption follows both ways.
    /// The address owner's priority never changes.
    pub fn set_priority(&mut self, priority: u8, now: Instant) {
        let priority = priority.max(1);
        if self.priority == 255 || priority == 255 || priority == self.priority {
            return;
        }
        let old_down = self.master_down_interval();
        self.priority = priority;
        let new_down = self.master_down_interval();
        if self.state == State::Master {
            // The backups learn it now rather than at the next Adver_Timer: a lower priority
            // lets a preempting backup take over one interval sooner (keepalived announces a
            // reloaded priority at once too).
            self.push(Action::SendAdvert { priority });
            self.timers.set(Timer::Adver, now + self.adver_int);
        }
        if self.state == State::Backup {
            if let Some(at) = self.timers.get(Timer::MasterDown) {
                let at = if new_down >= old_down {
                    at + (new_down - old_down)
                } else {
                    at - (old_down - new_down)
                };
                self.timers.set(Timer::MasterDown, at.max(now));
            }
        }
    }

    /// Reload: the instance was master under its old settings and restarts with new ones:
    /// master at once (keepalived's `reload_master`), unless its interface is down.
    pub fn resume_master(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        if self.fault {
            self.set_state(State::Fault);
        } else {
            self.become_master(now);
        }
    }

    /// Another member of our sync group became master (keepalived vrrp_sync.c
    /// `vrrp_sync_master`): a backup follows at once.
    pub fn sync_master(&mut self, now: Instant) {
        if self.state == State::Backup {
            self.become_master(now);
        }
    }

    /// Another member of our sync group went back to backup (`vrrp_sync_backup`): a master
    /// follows at once.
    pub fn sync_backup(&mut self, now: Instant) {
        if self.state == State::Master {
            self.leave_master(now, State::Backup);
        }
    }

    /// The interface went down (`true`) or came back (`false`): keepalived's FAULT
    /// (vrrp_track.c `down_instance`, vrrp_scheduler.c `try_up_instance`).
    /// - Master -> Fault: a priority-0 advert (keepalived sends two back to back from
    ///   `vrrp_state_leave_master` and `vrrp_restore_interface`; one is enough), remove VIPs.
    /// - Backup -> Fault: silent.
    /// - Fault -> Backup with Master_Down_Interval from our own advert_int, whatever the
    ///   priority (keepalived `vrrp_state_leave_fault`); preemption then decides.
    /// - Before `start`: remembered; `start` then enters Fault.
    pub fn set_fault(&mut self, fault: bool, now: Instant) {
        if self.fault == fault {
            return;
        }
        self.fault = fault;
        match (fault, self.state) {
            (true, State::Master) => self.leave_master(now, State::Fault),
            (true, State::Backup) => {
                self.timers.stop_all();
                self.set_state(State::Fault);
            }
            (false, State::Fault) => {
                self.master_adver_int = self.adver_int;
                self.preempt_time = None;
                self.enter_backup(now);
            }
            _ => {}
        }
    }

    /// Shut down (SIGTERM; RFC 5798 6.4.2/6.4.3 Shutdown event, keepalived vrrp.c
    /// `restore_vrrp_interfaces`): a master sends priority 0 and removes its VIPs; a backup or
    /// faulty instance has nothing to undo. Every instance ends in Initialize (reported as
    /// `StateChanged { to: Initialize }`, keepalived's STOP notify).
    pub fn stop(&mut self, _now: Instant) {
        let from = self.state;
        if from == State::Initialize {
            return;
        }
        if from == State::Master {
            self.push(Action::SendAdvert { priority: 0 });
            self.push(Action::RemoveVips);
        }
        self.timers.stop_all();
        self.preempt_time = None;
        self.set_state(State::Initialize);
    }

    /// Backup (or Initialize/Fault) -> Master (keepalived `vrrp_state_goto_master`,
    /// `vrrp_state_master_tx`, `vrrp_state_become_master`): advert first so the old master
    /// drops the VIPs before our GARPs, then the VIPs, the GARPs, and the notification.
    fn become_master(&mut self, now: Instant) {
        self.timers.stop_all();
        self.master_adver_int = self.adver_int;
        self.timers.set(Timer::Adver, now + self.adver_int);
        self.push(Action::SendAdvert {
            priority: self.priority,
        });
        self.push(Action::AddVips);
        self.push_garps(self.garp_master_repeat);
        if let Some(r) = self.garp_master_refresh {
            self.timers.set(Timer::GarpRefresh, now + r);
        }
        if !self.garp_master_delay.is_zero() {
            self.timers
                .set(Timer::GarpDelayed, now + self.garp_master_delay);
        }
        self.set_state(State::Master);
    }

    /// Master -> Backup or Fault (keepalived `vrrp_state_leave_master`).
    fn leave_master(&mut self, now: Instant, to: State) {
        if to == State::Fault {
            self.push(Action::SendAdvert { priority: 0 });
        }
        self.push(Action::RemoveVips);
        self.timers.stop_all();
        if to == State::Backup {
            self.preempt_time = None;
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
            self.set_state(State::Backup);
        } else {
            self.set_state(to);
        }
    }

    fn enter_backup(&mut self, now: Instant) {
        self.timers.stop_all();
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
        self.set_state(State::Backup);
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        self.state = to;
        if from != to {
            self.push(Action::StateChanged { from, to });
        }
    }

    fn push_garps(&mut self, repeat: u32) {
        if repeat > 0 {
            self.push(Action::SendGarps { repeat });
        }
    }

    fn push(&mut self, a: Action) {
        let pushed = self.actions.push_back(a);
        debug_assert!(
            pushed.is_ok(),
            "action queue full: drain it after every input"
        );
        if pushed.is_err() {
            error!("VRRP action queue full, dropped {a:?}");
        }
    }
}

#[cfg(test)]
mod tests;
