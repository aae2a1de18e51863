//! The state machine driven as routers on a shared segment, on a virtual clock.
//!
//! `Net` holds routers (nodes), each running one or more instances (instance slot `i` is the same
//! VRID on every node). Adverts a router sends are delivered to the same slot on every other
//! router, after an optional latency and jitter, unless a link is cut or the router is down.
//! The clock jumps to the next deadline (timer or packet arrival): no sleeping, bounded steps.
//! Every action is logged with its instant so tests assert *when* things happen.

use super::*;
use crate::config::{Location, Scope, VirtualAddr};
use std::path::PathBuf;

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

fn us(x: u64) -> Instant {
    Instant::from_micros(x)
}
fn secs(x: u64) -> Instant {
    Instant::from_millis(x * 1000)
}

fn node_addr(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, n as u8 + 1)
}

/// A v3 instance, advert_int 1 s, preempt, state BACKUP, keepalived's GARP defaults.
fn cfg(priority: u8) -> VrrpInstance {
    VrrpInstance {
        name: "VI_1".into(),
        at: Location {
            file: PathBuf::from("test.conf").into(),
            line: 1,
        },
        initial_state: InitialState::Backup,
        interface: "eth0".into(),
        vrid: 51,
        priority,
        advert_int: Duration::from_secs(1),
        version: VrrpVersion::V3,
        preempt: true,
        preempt_delay: Duration::ZERO,
        auth: None,
        vips: vec![VirtualAddr {
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
            prefix_len: 32,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None,
        }],
        excluded_vips: vec![],
        unicast_src_ip: None,
        unicast_peers: vec![],
        mcast_src_ip: None,
        garp_master_delay: Duration::from_secs(5),
        garp_master_repeat: 5,
        garp_master_refresh: None,
        accept: true,
        dont_track_primary: false,
        track_interfaces: vec![],
        track_scripts: vec![],
        track_files: vec![],
        notify: Default::default(),
        smtp_alert: None,
    }
}

fn with<F: FnOnce(&mut VrrpInstance)>(mut c: VrrpInstance, f: F) -> VrrpInstance {
    f(&mut c);
    c
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Act(Action),
    /// The router lost power: whatever it held is gone with it.
    PowerOff,
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at: Instant,
    node: usize,
    inst: usize,
    what: What,
}

struct Node {
    addr: Ipv4Addr,
    cfgs: Vec<VrrpInstance>,
    insts: Vec<Instance>,
    /// Running (not powered off / killed).
    alive: bool,
    /// The link to the segment: when down nothing leaves or arrives.
    link: bool,
}

struct Packet {
    at: Instant,
    seq: u64,
    from: usize,
    inst: usize,
    adv: Advert,
}

struct Net {
    now: Instant,
    nodes: Vec<Node>,
    log: Vec<Event>,
    in_flight: Vec<Packet>,
    seq: u64,
    latency: Duration,
    /// Extra latency, uniformly 0..jitter, from a fixed-seed generator.
    jitter: Duration,
    rng: u64,
    /// Drop every n-th advert sent on the segment.
    drop_every: Option<u64>,
    sent: u64,
    /// Check after every settled instant that at most one router holds each VIP set.
    exclusive: bool,
}

const MAX_STEPS: usize = 200_000;

impl Net {
    fn new(nodes: Vec<Vec<VrrpInstance>>) -> Net {
        let nodes = nodes
            .into_iter()
            .enumerate()
            .map(|(n, cfgs)| {
                let addr = node_addr(n);
                Node {
                    addr,
                    insts: cfgs.iter().map(|c| Instance::new(c, addr)).collect(),
                    cfgs,
                    alive: false,
                    link: true,
                }
            })
            .collect();
        Net {
            now: Instant::ZERO,
            nodes,
            log: Vec::new(),
            in_flight: Vec::new(),
            seq: 0,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            rng: 0x9E37_79B9_7F4A_7C15,
            drop_every: None,
            sent: 0,
            exclusive: true,
        }
    }

    /// Two or three routers with one instance each.
    fn single(cfgs: Vec<VrrpInstance>) -> Net {
        Net::new(cfgs.into_iter().map(|c| vec![c]).collect())
    }

    fn start(&mut self, n: usize) {
        let now = self.now;
        let node = &mut self.nodes[n];
        node.alive = true;
        for i in node.insts.iter_mut() {
            i.start(now);
        }
        self.settle();
    }

    /// Start every router at the same instant, before any packet moves.
    fn start_all(&mut self) {
        let now = self.now;
        for node in self.nodes.iter_mut() {
            node.alive = true;
            for i in node.insts.iter_mut() {
                i.start(now);
            }
        }
        self.settle();
    }

    /// Power off: no more timers, no packets; addresses vanish with the box.
    fn kill(&mut self, n: usize) {
        self.settle();
        self.nodes[n].alive = false;
        for inst in 0..self.nodes[n].insts.len() {
            self.log.push(Event {
                at: self.now,
                node: n,
                inst,
                what: What::PowerOff,
            });
        }
    }

    /// A fresh process on router `n` (same config), started now.
    fn restart(&mut self, n: usize) {
        let node = &mut self.nodes[n];
        node.insts = node
            .cfgs
            .iter()
            .map(|c| Instance::new(c, node.addr))
            .collect();
        self.start(n);
    }

    /// SIGTERM: the instances shut down, their last packets go out, then the process is gone.
    fn stop(&mut self, n: usize) {
        let now = self.now;
        for i in self.nodes[n].insts.iter_mut() {
            i.stop(now);
        }
        self.settle();
        self.nodes[n].alive = false;
    }

    fn set_link(&mut self, n: usize, up: bool) {
        self.nodes[n].link = up;
    }

    fn set_fault(&mut self, n: usize, fault: bool) {
        let now = self.now;
        for i in self.nodes[n].insts.iter_mut() {
            i.set_fault(fault, now);
        }
        self.settle();
    }

    fn next_jitter(&mut self) -> Duration {
        if self.jitter.is_zero() {
            return Duration::ZERO;
        }
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        Duration::from_micros(self.rng % self.jitter.as_micros() as u64)
    }

    /// Take every pending action off every instance; adverts go on the wire.
    fn drain(&mut self) {
        for n in 0..self.nodes.len() {
            for i in 0..self.nodes[n].insts.len() {
                while let Some(a) = self.nodes[n].insts[i].poll_action() {
                    self.log.push(Event {
                        at: self.now,
                        node: n,
                        inst: i,
                        what: What::Act(a),
                    });
                    let Action::SendAdvert { priority } = a else {
                        continue;
                    };
                    if !self.nodes[n].alive || !self.nodes[n].link {
                        continue;
                    }
                    self.sent += 1;
                    if self.drop_every.is_some_and(|k| self.sent.is_multiple_of(k)) {
                        continue;
                    }
                    let at = self.now + self.latency + self.next_jitter();
                    self.seq += 1;
                    self.in_flight.push(Packet {
                        at,
                        seq: self.seq,
                        from: n,
                        inst: i,
                        adv: Advert {
                            src: IpAddr::V4(self.nodes[n].addr),
                            priority,
                            adver_int: self.nodes[n].cfgs[i].advert_int,
                        },
                    });
                }
            }
        }
    }

    fn deliver(&mut self, p: Packet) {
        let now = self.now;
        for (m, node) in self.nodes.iter_mut().enumerate() {
            if m != p.from && node.alive && node.link {
                node.insts[p.inst].handle_advert(&p.adv, now);
            }
        }
    }

    /// Process everything due at `now` until nothing is left to do at this instant.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            self.drain();
            let due = self
                .in_flight
                .iter()
                .enumerate()
                .filter(|(_, p)| p.at <= self.now)
                .min_by_key(|(_, p)| (p.at, p.seq))
                .map(|(k, _)| k);
            match due {
                Some(k) => {
                    let p = self.in_flight.swap_remove(k);
                    self.deliver(p);
                }
                None => {
                    if self.exclusive {
                        for inst in 0..self.nodes[0].insts.len() {
                            let h = self.holders(inst);
                            assert!(h.len() <= 1, "at {} VIP {inst} held by {h:?}", self.now);
                        }
                    }
                    return;
                }
            }
        }
        panic!("did not settle at {}", self.now);
    }

    fn next_event(&self) -> Option<Instant> {
        let timers = self
            .nodes
            .iter()
            .filter(|n| n.alive)
            .flat_map(|n| n.insts.iter())
            .filter_map(|i| i.poll_timeout());
        let packets = self.in_flight.iter().map(|p| p.at);
        timers.chain(packets).min()
    }

    /// Jump from deadline to deadline up to `until` (inclusive), then stop at `until`.
    fn run_until(&mut self, until: Instant) {
        assert!(until >= self.now);
        for _ in 0..MAX_STEPS {
            self.settle();
            match self.next_event() {
                Some(t) if t <= until => {
                    assert!(t >= self.now, "deadline {t} in the past at {}", self.now);
                    self.now = t;
                    for node in self.nodes.iter_mut().filter(|n| n.alive) {
                        for i in node.insts.iter_mut() {
                            if i.poll_timeout().is_some_and(|d| d <= t) {
                                i.handle_timeout(t);
                            }
                        }
                    }
                }
                _ => {
                    self.now = until;
                    self.settle();
                    return;
                }
            }
        }
        panic!("more than {MAX_STEPS} steps before {until}");
    }

    fn inst(&self, n: usize, i: usize) -> &Instance {
        &self.nodes[n].insts[i]
    }

    fn actions(&self, n: usize, i: usize) -> Vec<(Instant, Action)> {
        self.log
            .iter()
            .filter(|e| e.node == n && e.inst == i)
            .filter_map(|e| match e.what {
                What::Act(a) => Some((e.at, a)),
                What::PowerOff => None,
            })
            .collect()
    }

    fn transitions(&self, n: usize, i: usize) -> Vec<(Instant, State, State)> {
        self.actions(n, i)
            .into_iter()
            .filter_map(|(t, a)| match a {
                Action::StateChanged { from, to } => Some((t, from, to)),
                _ => None,
            })
            .collect()
    }

    fn adverts(&self, n: usize, i: usize) -> Vec<(Instant, u8)> {
        self.actions(n, i)
            .into_iter()
            .filter_map(|(t, a)| match a {
                Action::SendAdvert { priority } => Some((t, priority)),
                _ => None,
            })
            .collect()
    }

    fn garps(&self, n: usize, i: usize) -> Vec<(Instant, u32)> {
        self.actions(n, i)
            .into_iter()
            .filter_map(|(t, a)| match a {
                Action::SendGarps { repeat } => Some((t, repeat)),
                _ => None,
            })
            .collect()
    }

    /// Who took and gave up the VIPs of instance slot `i`, in order: (when, router, holds).
    fn vip_log(&self, i: usize) -> Vec<(Instant, usize, bool)> {
        let mut held = vec![false; self.nodes.len()];
        let mut out = Vec::new();
        for e in self.log.iter().filter(|e| e.inst == i) {
            let now_holds = match e.what {
                What::Act(Action::AddVips) => true,
                What::Act(Action::RemoveVips) | What::PowerOff => false,
                _ => continue,
            };
            if held[e.node] != now_holds {
                held[e.node] = now_holds;
                out.push((e.at, e.node, now_holds));
            }
        }
        out
    }

    fn holders(&self, i: usize) -> Vec<usize> {
        let mut held = vec![false; self.nodes.len()];
        for (_, n, h) in self.vip_log(i) {
            held[n] = h;
        }
        (0..held.len()).filter(|&n| held[n]).collect()
    }

    fn adverts_between(&self, n: usize, i: usize, from: Instant, to: Instant) -> Vec<Instant> {
        self.adverts(n, i)
            .into_iter()
            .filter(|&(t, _)| t >= from && t <= to)
            .map(|(t, _)| t)
            .collect()
    }
}

use State::{Backup as Bk, Fault as Ft, Initialize as Init, Master as Ms};

// Timer values for v3, advert_int 1 s (keepalived's integer microseconds):
// Skew = (256 - prio) * 100 cs * 625 / 16 us.
const SKEW_100: u64 = 609_375;
const SKEW_90: u64 = 648_437;
const SKEW_80: u64 = 687_500;
const MDI_100: u64 = 3_000_000 + SKEW_100;
const MDI_90: u64 = 3_000_000 + SKEW_90;
const MDI_80: u64 = 3_000_000 + SKEW_80;

// ---------------------------------------------------------------------------------------------
// Timer arithmetic.

#[test]
fn skew_and_master_down_interval_match_keepalived() {
    let a = Instance::new(&cfg(100), node_addr(A));
    assert_eq!(a.skew_time(), Duration::from_micros(SKEW_100));
    assert_eq!(a.master_down_interval(), Duration::from_micros(MDI_100));
    let b = Instance::new(&cfg(90), node_addr(B));
    assert_eq!(b.skew_time(), Duration::from_micros(SKEW_90));
    assert_eq!(b.master_down_interval(), Duration::from_micros(MDI_90));
    let c = Instance::new(&cfg(80), node_addr(C));
    assert_eq!(c.master_down_interval(), Duration::from_micros(MDI_80));

    // v2: (256 - prio) / 256 s, whatever the interval.
    let v2 = |prio, secs| {
        Instance::new(
            &with(cfg(prio), |c| {
                c.version = VrrpVersion::V2;
                c.advert_int = Duration::from_secs(secs);
            }),
            node_addr(A),
        )
    };
    assert_eq!(v2(100, 1).skew_time(), Duration::from_micros(609_375));
    assert_eq!(v2(100, 3).skew_time(), Duration::from_micros(609_375));
    assert_eq!(
        v2(100, 3).master_down_interval(),
        Duration::from_micros(9_609_375)
    );
    assert_eq!(v2(255, 1).skew_time(), Duration::from_micros(3_906));
    assert_eq!(v2(1, 1).skew_time(), Duration::from_micros(996_093));

    // v3 scales with the interval: 10 ms, prio 100 -> 156 * 1 * 625 / 16 = 6093 us.
    let fast = Instance::new(
        &with(cfg(100), |c| c.advert_int = Duration::from_millis(10)),
        node_addr(A),
    );
    assert_eq!(fast.skew_time(), Duration::from_micros(6_093));
    assert_eq!(fast.master_down_interval(), Duration::from_micros(36_093));
}

// ---------------------------------------------------------------------------------------------
// Start-up.

#[test]
fn start_states_follow_keepalived_2_2_7() {
    let t0 = secs(7);
    // Address owner with state MASTER: master at once, advert first, then VIPs, GARPs, notify.
    let mut owner = Instance::new(
        &with(cfg(255), |c| c.initial_state = InitialState::Master),
        node_addr(A),
    );
    owner.start(t0);
    let acts: Vec<_> = core::iter::from_fn(|| owner.poll_action()).collect();
    assert_eq!(
        acts,
        [
            Action::SendAdvert { priority: 255 },
            Action::AddVips,
            Action::SendGarps { repeat: 5 },
            Action::StateChanged { from: Init, to: Ms },
        ]
    );
    // Next: the advert timer (1 s); the second GARP burst is at 5 s.
    assert_eq!(owner.poll_timeout(), Some(secs(8)));

    // state MASTER below 255: keepalived 2.2.7 starts it as a backup with the full
    // Master_Down_Interval (vrrp_init_state); it only clears nopreempt / preempt_delay.
    let mut m = Instance::new(
        &with(cfg(100), |c| {
            c.initial_state = InitialState::Master;
            c.preempt = false;
            c.preempt_delay = Duration::from_secs(10);
        }),
        node_addr(A),
    );
    m.start(t0);
    assert_eq!(
        m.poll_action(),
        Some(Action::StateChanged { from: Init, to: Bk })
    );
    assert_eq!(m.poll_action(), None);
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_micros(MDI_100)));
    // nopreempt was cleared: a lower-priority master is not accepted.
    m.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 50,
            adver_int: Duration::from_secs(1),
        },
        t0 + Duration::from_secs(1),
    );
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_micros(MDI_100)));

    // Priority 255 with an explicit state BACKUP: a backup like any other.
    let mut b255 = Instance::new(&cfg(255), node_addr(A));
    b255.start(t0);
    assert_eq!(b255.state(), Bk);
    assert_eq!(
        b255.poll_timeout(),
        Some(t0 + Duration::from_micros(3_003_906))
    );
    // Adverts and timeouts before start do nothing.
    let mut idle = Instance::new(&cfg(100), node_addr(A));
    idle.handle_timeout(secs(100));
    idle.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 0,
            adver_int: Duration::from_secs(1),
        },
        secs(100),
    );
    assert_eq!(idle.poll_action(), None);
    assert_eq!(idle.poll_timeout(), None);
    assert_eq!(idle.state(), Init);
}

#[test]
fn owner_starts_master_and_keeps_a_backup_down() {
    let mut net = Net::single(vec![
        with(cfg(255), |c| c.initial_state = InitialState::Master),
        cfg(100),
    ]);
    net.start_all();
    net.run_until(secs(30));
    assert_eq!(net.transitions(A, 0), [(secs(0), Init, Ms)]);
    assert_eq!(net.transitions(B, 0), [(secs(0), Init, Bk)]);
    assert_eq!(net.vip_log(0), [(secs(0), A, true)]);
    // 255 from t=0 every second.
    let adv = net.adverts(A, 0);
    assert_eq!(adv.len(), 31);
    assert!(adv
        .iter()
        .enumerate()
        .all(|(k, &(t, p))| t == secs(k as u64) && p == 255));
}

// ---------------------------------------------------------------------------------------------
// Election and failover.

#[test]
fn election_higher_priority_wins_after_master_down_interval() {
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(60));
    let t_master = us(MDI_100);
    assert_eq!(
        net.transitions(A, 0),
        [(secs(0), Init, Bk), (t_master, Bk, Ms)]
    );
    assert_eq!(net.transitions(B, 0), [(secs(0), Init, Bk)]);
    assert_eq!(net.vip_log(0), [(t_master, A, true)]);
    // The master advertises every advert_int from the moment it took over.
    let adv = net.adverts(A, 0);
    assert_eq!(adv.len(), 57);
    for (k, &(t, p)) in adv.iter().enumerate() {
        assert_eq!(t, t_master + Duration::from_secs(k as u64));
        assert_eq!(p, 100);
    }
    assert!(net.adverts(B, 0).is_empty());
    // The backup's down timer always sits one Master_Down_Interval after the last advert.
    let last = adv.last().unwrap().0;
    assert_eq!(
        net.inst(B, 0).poll_timeout(),
        Some(last + Duration::from_micros(MDI_90))
    );
    assert_eq!(net.inst(B, 0).master_addr(), Some(IpAddr::V4(node_addr(A))));
}

#[test]
fn silent_master_is_replaced_after_exactly_master_down_interval() {
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    net.kill(A);
    net.run_until(secs(30));
    let last_advert = net.adverts(A, 0).last().unwrap().0;
    assert_eq!(last_advert, us(9_609_375));
    let takeover = last_advert + Duration::from_micros(MDI_90);
    assert_eq!(takeover, us(13_257_812));
    assert_eq!(
        net.transitions(B, 0),
        [(secs(0), Init, Bk), (takeover, Bk, Ms)]
    );
    assert_eq!(
        net.vip_log(0),
        [
            (us(MDI_100), A, true),
            (secs(10), A, false),
            (takeover, B, true)
        ]
    );
    // The new master announces itself at once: advert, then GARPs.
    assert_eq!(net.adverts(B, 0)[0], (takeover, 90));
    assert_eq!(net.garps(B, 0)[0], (takeover, 5));
}

#[test]
fn priority_zero_hands_over_after_skew_time_only() {
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    net.stop(A);
    net.run_until(secs(20));
    // The stopping master: priority 0, VIPs removed, STOP (Initialize).
    let a_tail: Vec<_> = net
        .actions(A, 0)
        .into_iter()
        .filter(|&(t, _)| t == secs(10))
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        a_tail,
        [
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::StateChanged { from: Ms, to: Init },
        ]
    );
    let takeover = secs(10) + Duration::from_micros(SKEW_90);
    assert_eq!(
        net.transitions(B, 0),
        [(secs(0), Init, Bk), (takeover, Bk, Ms)]
    );
    assert_eq!(
        net.vip_log(0),
        [
            (us(MDI_100), A, true),
            (secs(10), A, false),
            (takeover, B, true)
        ]
    );
}

#[test]
fn master_answers_priority_zero_with_an_advert() {
    // RFC 5798 6.4.3: a master hearing priority 0 sends an advert at once and re-arms its timer.
    let mut m = Instance::new(
        &with(cfg(100), |c| c.initial_state = InitialState::Master),
        node_addr(A),
    );
    let t = secs(1);
    m.start(t);
    let mut m = {
        // Make it master through the backup timeout.
        let deadline = m.poll_timeout().unwrap();
        m.handle_timeout(deadline);
        while m.poll_action().is_some() {}
        assert_eq!(m.state(), Ms);
        m
    };
    let now = m.poll_timeout().unwrap() - Duration::from_millis(300);
    m.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 0,
            adver_int: Duration::from_secs(1),
        },
        now,
    );
    assert_eq!(m.poll_action(), Some(Action::SendAdvert { priority: 100 }));
    assert_eq!(m.poll_action(), None);
    assert_eq!(m.poll_timeout(), Some(now + Duration::from_secs(1)));
    assert_eq!(m.state(), Ms);
}

#[test]
fn higher_priority_preempts_back_when_it_returns() {
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    net.kill(A);
    net.run_until(secs(20));
    net.restart(A);
    net.run_until(secs(40));
    // A restarts as backup, discards B's lower adverts and times out: Master_Down_Interval
    // after its start. B steps down on A's first advert, in the same instant.
    let preempt = secs(20) + Duration::from_micros(MDI_100);
    let first_life = [(secs(0), Init, Bk), (us(MDI_100), Bk, Ms)];
    assert_eq!(
        net.transitions(A, 0)[2..],
        [(secs(20), Init, Bk), (preempt, Bk, Ms)]
    );
    assert_eq!(net.transitions(A, 0)[..2], first_life);
    let b_master = us(13_257_812);
    assert_eq!(
        net.transitions(B, 0),
        [(secs(0), Init, Bk), (b_master, Bk, Ms), (preempt, Ms, Bk)]
    );
    assert_eq!(
        net.vip_log(0),
        [
            (us(MDI_100), A, true),
            (secs(10), A, false),
            (b_master, B, true),
            (preempt, A, true),
            (preempt, B, false),
        ]
    );
    // B, backup again, waits for A's adverts; B sent nothing after stepping down.
    assert!(net
        .adverts_between(B, 0, preempt + Duration::from_micros(1), secs(40))
        .is_empty());
    assert_eq!(net.inst(B, 0).state(), Bk);
}

#[test]
fn nopreempt_leaves_the_lower_priority_master_in_place() {
    let mut net = Net::single(vec![with(cfg(100), |c| c.preempt = false), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    net.kill(A);
    net.run_until(secs(20));
    net.restart(A);
    net.run_until(secs(80));
    assert_eq!(
        net.transitions(A, 0),
        [
            (secs(0), Init, Bk),
            (us(MDI_100), Bk, Ms),
            (secs(20), Init, Bk)
        ]
    );
    assert_eq!(
        net.transitions(B, 0),
        [(secs(0), Init, Bk), (us(13_257_812), Bk, Ms)]
    );
    assert_eq!(net.holders(0), [B]);
    // Yet with nothing heard, nopreempt still takes over: B dies, A follows.
    net.kill(B);
    net.run_until(secs(100));
    let last_b = net.adverts(B, 0).last().unwrap().0;
    assert_eq!(
        net.transitions(A, 0).last(),
        Some(&(last_b + Duration::from_micros(MDI_100), Bk, Ms))
    );
}

#[test]
fn preempt_delay_counts_from_the_first_lower_priority_advert() {
    let mut net = Net::single(vec![
        with(cfg(100), |c| c.preempt_delay = Duration::from_secs(5)),
        cfg(90),
    ]);
    net.start_all();
    net.run_until(secs(10));
    net.kill(A);
    net.run_until(secs(20));
    net.restart(A);
    net.run_until(secs(40));
    // B (master since 13.257812) advertises at x.257812. The first one A hears starts the
    // delay (20.257812 + 5 s); adverts before that instant are accepted (reset A's down
    // timer), the one at exactly 25.257812 and later are discarded. So A takes over one
    // Master_Down_Interval after the last accepted advert: 24.257812 + 3.609375.
    let first = us(20_257_812);
    assert_eq!(net.adverts_between(B, 0, secs(20), secs(21)), [first]);
    let last_accepted = first + Duration::from_secs(4);
    let preempt = last_accepted + Duration::from_micros(MDI_100);
    assert_eq!(preempt, us(27_867_187));
    assert_eq!(
        net.transitions(A, 0)[2..],
        [(secs(20), Init, Bk), (preempt, Bk, Ms)]
    );
    assert_eq!(net.transitions(B, 0).last(), Some(&(preempt, Ms, Bk)));
    // Without the delay it would have been 20 + 3.609375.
    assert!(preempt > secs(20) + Duration::from_micros(MDI_100) + Duration::from_secs(4));
}

#[test]
fn preempt_delay_is_reset_by_an_equal_or_higher_master() {
    // A lower-priority advert starts the delay; an advert >= ours stops it; the next lower one
    // starts a fresh delay.
    let c = with(cfg(100), |c| c.preempt_delay = Duration::from_secs(5));
    let mut a = Instance::new(&c, node_addr(A));
    a.start(secs(0));
    let adv = |p| Advert {
        src: IpAddr::V4(node_addr(B)),
        priority: p,
        adver_int: Duration::from_secs(1),
    };
    a.handle_advert(&adv(90), secs(1)); // delay until 6 s
    a.handle_advert(&adv(90), secs(2));
    a.handle_advert(&adv(120), secs(3)); // delay cancelled
    a.handle_advert(&adv(90), secs(4)); // delay until 9 s
    for s in 5..9 {
        a.handle_advert(&adv(90), secs(s));
        assert_eq!(
            a.poll_timeout(),
            Some(secs(s) + Duration::from_micros(MDI_100))
        );
    }
    a.handle_advert(&adv(90), secs(9)); // delay over: discarded
    assert_eq!(
        a.poll_timeout(),
        Some(secs(8) + Duration::from_micros(MDI_100))
    );
    a.handle_timeout(secs(8) + Duration::from_micros(MDI_100));
    assert_eq!(a.state(), Ms);
}

#[test]
fn equal_priority_tie_goes_to_the_higher_address() {
    let mut net = Net::single(vec![cfg(100), cfg(100)]);
    net.start_all();
    net.run_until(secs(60));
    // Both time out together and both become master; each hears the other: A (lower address)
    // steps down, B answers A's advert with an advert and GARPs (keepalived's lower-priority
    // handling) and stays.
    let t = us(MDI_100);
    assert_eq!(
        net.transitions(A, 0),
        [(secs(0), Init, Bk), (t, Bk, Ms), (t, Ms, Bk)]
    );
    assert_eq!(net.transitions(B, 0), [(secs(0), Init, Bk), (t, Bk, Ms)]);
    assert_eq!(net.vip_log(0), [(t, A, true), (t, B, true), (t, A, false)]);
    assert_eq!(&net.adverts(B, 0)[..2], [(t, 100), (t, 100)]);
    // GARPs: on becoming master, again for the lower-priority (here: lower address) master,
    // and both delayed bursts 5 s later.
    let five = t + Duration::from_secs(5);
    assert_eq!(net.garps(B, 0), [(t, 5), (t, 5), (five, 5), (five, 5)]);
    // A's delayed burst died with its mastership.
    assert_eq!(net.garps(A, 0), [(t, 5)]);
}

#[test]
fn equal_priority_backup_does_not_take_over_a_running_master() {
    // The tie-break is the master's rule only: a backup accepts adverts >= its own priority.
    let mut net = Net::single(vec![cfg(100), cfg(100)]);
    net.start(A);
    net.run_until(secs(10));
    net.start(B);
    net.run_until(secs(60));
    assert_eq!(net.transitions(B, 0), [(secs(10), Init, Bk)]);
    assert_eq!(net.vip_log(0), [(us(MDI_100), A, true)]);
}

#[test]
fn two_address_owners_both_drop_to_254_and_the_higher_address_wins() {
    // keepalived vrrp_state_master_rx: an owner hearing another owner lowers itself to 254.
    let owner = with(cfg(255), |c| c.initial_state = InitialState::Master);
    let mut net = Net::single(vec![owner.clone(), owner]);
    net.exclusive = false;
    net.start_all();
    net.run_until(secs(20));
    let mdi_254 = Duration::from_micros(3_000_000 + 2 * 100 * 625 / 16);
    let t = secs(0) + mdi_254;
    assert_eq!(
        net.transitions(A, 0),
        [
            (secs(0), Init, Ms),
            (secs(0), Ms, Bk),
            (t, Bk, Ms),
            (t, Ms, Bk)
        ]
    );
    assert_eq!(
        net.transitions(B, 0),
        [(secs(0), Init, Ms), (secs(0), Ms, Bk), (t, Bk, Ms)]
    );
    assert_eq!(net.inst(A, 0).priority(), 254);
    assert_eq!(net.inst(B, 0).priority(), 254);
    assert_eq!(net.holders(0), [B]);
    assert!(net.adverts(B, 0).iter().skip(1).all(|&(_, p)| p == 254));
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    let mut net = Net::single(vec![
        with(cfg(100), |c| c.advert_int = Duration::from_millis(500)),
        with(cfg(90), |c| c.advert_int = Duration::from_secs(2)),
    ]);
    net.start_all();
    // A: 3 * 0.5 s + 156 * 50 * 625 / 16 us.
    let a_master = us(1_500_000 + 304_687);
    net.run_until(secs(10));
    assert_eq!(net.transitions(A, 0).last(), Some(&(a_master, Bk, Ms)));
    let b = net.inst(B, 0);
    assert_eq!(b.master_adver_interval(), Duration::from_millis(500));
    // B's Master_Down_Interval now uses 0.5 s: 1.5 s + 166 * 50 * 625 / 16 us.
    let b_mdi = Duration::from_micros(1_500_000 + 324_218);
    assert_eq!(b.master_down_interval(), b_mdi);
    net.kill(A);
    net.run_until(secs(30));
    let last = net.adverts(A, 0).last().unwrap().0;
    assert_eq!(last, a_master + Duration::from_millis(500 * 16));
    let takeover = last + b_mdi;
    assert_eq!(net.transitions(B, 0).last(), Some(&(takeover, Bk, Ms)));
    // As master B uses its own interval again.
    let b_adv: Vec<_> = net.adverts(B, 0).into_iter().map(|(t, _)| t).collect();
    assert_eq!(b_adv[0], takeover);
    assert!(b_adv
        .windows(2)
        .all(|w| w[1] - Duration::from_secs(2) == w[0]));
    assert_eq!(
        net.inst(B, 0).master_adver_interval(),
        Duration::from_secs(2)
    );
}

#[test]
fn v2_ignores_the_advert_interval_field() {
    let c = with(cfg(90), |c| c.version = VrrpVersion::V2);
    let mut b = Instance::new(&c, node_addr(B));
    b.start(secs(0));
    b.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(A)),
            priority: 100,
            adver_int: Duration::from_secs(5),
        },
        secs(1),
    );
    assert_eq!(b.master_adver_interval(), Duration::from_secs(1));
    assert_eq!(
        b.poll_timeout(),
        Some(secs(1) + Duration::from_micros(MDI_90))
    );
}

#[test]
fn ten_ms_adverts_for_60_s_with_jitter_and_loss_stay_stable() {
    let fast = |p| with(cfg(p), |c| c.advert_int = Duration::from_millis(10));
    let mut net = Net::single(vec![fast(100), fast(90)]);
    net.latency = Duration::from_micros(200);
    net.jitter = Duration::from_millis(3);
    net.drop_every = Some(5);
    // Started together, B's down timer (36.484 ms) would beat A's first advert (36.093 ms + up
    // to 3.2 ms on the wire): a start-up race, not what this test is about. B comes later.
    net.start(A);
    net.run_until(us(100_000));
    net.start(B);
    net.run_until(secs(60));
    let t_master = us(36_093);
    assert_eq!(
        net.transitions(A, 0),
        [(secs(0), Init, Bk), (t_master, Bk, Ms)]
    );
    assert_eq!(net.transitions(B, 0), [(us(100_000), Init, Bk)]);
    // B's down timer stays within one Master_Down_Interval (36.484 ms) of the last advert it
    // got, and never fired.
    assert_eq!(
        net.inst(B, 0).master_down_interval(),
        Duration::from_micros(36_484)
    );
    let adv = net.adverts(A, 0);
    assert_eq!(adv.len() as u64, (60_000_000 - 36_093) / 10_000 + 1);
    assert!(adv
        .windows(2)
        .all(|w| w[1].0 - Duration::from_millis(10) == w[0].0));
    assert_eq!(net.vip_log(0), [(t_master, A, true)]);
}

#[test]
fn three_routers_next_highest_takes_over_and_lowest_stays_backup() {
    let mut net = Net::single(vec![cfg(100), cfg(90), cfg(80)]);
    net.start_all();
    net.run_until(secs(10));
    net.kill(A);
    net.run_until(secs(20));
    net.restart(A);
    net.run_until(secs(30));
    // Silence: B's down timer (3.648437) beats C's (3.6875) and B's first advert resets C.
    let b_master = us(9_609_375 + MDI_90);
    let preempt = secs(20) + Duration::from_micros(MDI_100);
    assert_eq!(
        net.vip_log(0),
        [
            (us(MDI_100), A, true),
            (secs(10), A, false),
            (b_master, B, true),
            (preempt, A, true),
            (preempt, B, false),
        ]
    );
    assert_eq!(net.transitions(C, 0), [(secs(0), Init, Bk)]);
    // C's timer never got near expiry: it is always one MDI after B's or A's last advert.
    assert!(us(9_609_375 + MDI_80) > b_master);

    // Priority 0: again B first (Skew 0.648437 < 0.6875), C stays backup.
    net.stop(A);
    net.run_until(secs(40));
    assert_eq!(
        net.transitions(B, 0).last(),
        Some(&(secs(30) + Duration::from_micros(SKEW_90), Bk, Ms))
    );
    assert_eq!(net.transitions(C, 0), [(secs(0), Init, Bk)]);
    assert_eq!(net.holders(0), [B]);
}

// ---------------------------------------------------------------------------------------------
// Fault.

#[test]
fn fault_and_recovery() {
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    // A's interface goes down: the link is cut and the instance is told.
    net.set_link(A, false);
    net.set_fault(A, true);
    let fault_acts: Vec<_> = net
        .actions(A, 0)
        .into_iter()
        .filter(|&(t, _)| t == secs(10))
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        fault_acts,
        [
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::StateChanged { from: Ms, to: Ft },
        ]
    );
    assert_eq!(net.inst(A, 0).poll_timeout(), None);
    net.run_until(secs(20));
    // The priority 0 never made it out: B waits the full interval from A's last advert.
    let b_master = us(9_609_375 + MDI_90);
    assert_eq!(net.transitions(B, 0).last(), Some(&(b_master, Bk, Ms)));
    // Silent in FAULT.
    assert!(net.actions(A, 0).iter().all(|&(t, _)| t <= secs(10)));

    net.set_link(A, true);
    net.set_fault(A, false);
    net.run_until(secs(40));
    let preempt = secs(20) + Duration::from_micros(MDI_100);
    assert_eq!(
        net.transitions(A, 0),
        [
            (secs(0), Init, Bk),
            (us(MDI_100), Bk, Ms),
            (secs(10), Ms, Ft),
            (secs(20), Ft, Bk),
            (preempt, Bk, Ms)
        ]
    );
    assert_eq!(net.transitions(B, 0).last(), Some(&(preempt, Ms, Bk)));

    // A backup's fault is silent: no advert, no address change.
    let before = net.actions(B, 0).len();
    net.set_fault(B, true);
    net.run_until(secs(45));
    net.set_fault(B, false);
    net.run_until(secs(50));
    let after: Vec<_> = net.actions(B, 0)[before..].to_vec();
    assert_eq!(
        after,
        [
            (secs(40), Action::StateChanged { from: Bk, to: Ft }),
            (secs(45), Action::StateChanged { from: Ft, to: Bk }),
        ]
    );
    assert_eq!(net.holders(0), [A]);
}

#[test]
fn fault_with_the_segment_still_up_hands_over_after_skew() {
    // FAULT for another reason (the tracked interface is elsewhere): the priority 0 gets out.
    let mut net = Net::single(vec![cfg(100), cfg(90)]);
    net.start_all();
    net.run_until(secs(10));
    net.set_fault(A, true);
    net.run_until(secs(15));
    let t = secs(10) + Duration::from_micros(SKEW_90);
    assert_eq!(net.transitions(B, 0).last(), Some(&(t, Bk, Ms)));
    // A in FAULT ignores B's adverts and keeps no timer.
    assert_eq!(net.inst(A, 0).state(), Ft);
    assert_eq!(net.inst(A, 0).poll_timeout(), None);
}

#[test]
fn fault_before_start_starts_in_fault() {
    let mut a = Instance::new(&cfg(100), node_addr(A));
    a.set_fault(true, secs(0));
    assert_eq!(a.poll_action(), None);
    a.start(secs(1));
    assert_eq!(
        a.poll_action(),
        Some(Action::StateChanged { from: Init, to: Ft })
    );
    assert_eq!(a.poll_timeout(), None);
    a.set_fault(false, secs(2));
    assert_eq!(
        a.poll_action(),
        Some(Action::StateChanged { from: Ft, to: Bk })
    );
    assert_eq!(
        a.poll_timeout(),
        Some(secs(2) + Duration::from_micros(MDI_100))
    );
}

#[test]
fn stop_from_backup_and_fault_only_reports_the_stop() {
    let mut b = Instance::new(&cfg(90), node_addr(B));
    b.start(secs(0));
    while b.poll_action().is_some() {}
    b.stop(secs(1));
    assert_eq!(
        b.poll_action(),
        Some(Action::StateChanged { from: Bk, to: Init })
    );
    assert_eq!(b.poll_action(), None);
    assert_eq!(b.poll_timeout(), None);
    b.stop(secs(2));
    assert_eq!(b.poll_action(), None);
}

// ---------------------------------------------------------------------------------------------
// Gratuitous ARP.

#[test]
fn garp_bursts_at_become_master_after_delay_and_on_refresh() {
    let mut net = Net::single(vec![with(cfg(100), |c| {
        c.garp_master_refresh = Some(Duration::from_secs(12))
    })]);
    net.start_all();
    net.run_until(secs(45));
    let t = us(MDI_100);
    assert_eq!(
        net.garps(A, 0),
        [
            (t, 5),
            (t + Duration::from_secs(5), 5),
            (t + Duration::from_secs(12), 1),
            (t + Duration::from_secs(24), 1),
            (t + Duration::from_secs(36), 1),
        ]
    );
    // The VIPs come before the first burst, the advert before the VIPs.
    let at_t: Vec<_> = net
        .actions(A, 0)
        .into_iter()
        .filter(|&(x, _)| x == t)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        at_t,
        [
            Action::SendAdvert { priority: 100 },
            Action::AddVips,
            Action::SendGarps { repeat: 5 },
            Action::StateChanged { from: Bk, to: Ms },
        ]
    );
}

#[test]
fn garp_delayed_burst_is_dropped_when_mastership_is_lost() {
    let mut net = Net::single(vec![cfg(100), cfg(200)]);
    net.start(A);
    net.run_until(secs(4));
    net.start(B);
    net.run_until(secs(20));
    let a_master = us(MDI_100);
    // B (200) starts at 4 s, discards A's adverts and takes over after 3 s + 56/256 s.
    let b_master = secs(4) + Duration::from_micros(3_218_750);
    assert_eq!(net.transitions(A, 0).last(), Some(&(b_master, Ms, Bk)));
    assert!(b_master < a_master + Duration::from_secs(5));
    assert_eq!(net.garps(A, 0), [(a_master, 5)]);
    assert_eq!(
        net.garps(B, 0),
        [(b_master, 5), (b_master + Duration::from_secs(5), 5)]
    );
}

#[test]
fn garp_disabled_by_zero_delay_and_repeat() {
    let c = with(cfg(100), |c| {
        c.garp_master_delay = Duration::ZERO;
        c.garp_master_repeat = 0;
    });
    let mut net = Net::single(vec![c]);
    net.start_all();
    net.run_until(secs(30));
    assert!(net.garps(A, 0).is_empty());
    assert_eq!(net.vip_log(0), [(us(MDI_100), A, true)]);
}

// ---------------------------------------------------------------------------------------------
// Two instances across two routers.

#[test]
fn dual_master_split_brain_heals_on_reconnect() {
    let vi = |p1, p2| vec![cfg(p1), with(cfg(p2), |c| c.vrid = 52)];
    let mut net = Net::new(vec![vi(100, 90), vi(90, 100)]);
    net.start_all();
    net.run_until(secs(10));
    let t = us(MDI_100);
    assert_eq!(net.vip_log(0), [(t, A, true)]);
    assert_eq!(net.vip_log(1), [(t, B, true)]);

    // Cut A off: each router takes the other's instance too.
    net.exclusive = false;
    net.set_link(A, false);
    net.run_until(secs(20));
    let split = us(9_609_375 + MDI_90);
    assert_eq!(net.holders(0), [A, B]);
    assert_eq!(net.holders(1), [A, B]);
    assert_eq!(net.transitions(B, 0).last(), Some(&(split, Bk, Ms)));
    assert_eq!(net.transitions(A, 1).last(), Some(&(split, Bk, Ms)));

    // Reconnect at 20 s. The usurpers' adverts (x.257812) come first: the rightful masters
    // answer at once with their own advert, which sends the usurpers back to backup.
    net.set_link(A, true);
    net.run_until(secs(21));
    net.exclusive = true;
    net.run_until(secs(60));
    let heal = us(20_257_812);
    assert_eq!(net.transitions(B, 0).last(), Some(&(heal, Ms, Bk)));
    assert_eq!(net.transitions(A, 1).last(), Some(&(heal, Ms, Bk)));
    assert!(net.adverts(A, 0).contains(&(heal, 100)));
    assert!(net.adverts(B, 1).contains(&(heal, 100)));
    assert!(net.garps(A, 0).contains(&(heal, 5)));
    assert_eq!(net.holders(0), [A]);
    assert_eq!(net.holders(1), [B]);
    assert_eq!(net.transitions(A, 0).len(), 2);
    assert_eq!(net.transitions(B, 1).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// keepalived tuning knobs.

#[test]
fn strict_mode_master_ignores_lower_priority_quietly() {
    let c = cfg(100);
    let mut m = Instance::with_tuning(&c, node_addr(A), Tuning::keepalived(&c, true));
    m.start(secs(0));
    m.handle_timeout(us(MDI_100));
    while m.poll_action().is_some() {}
    let next = m.poll_timeout();
    m.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 90,
            adver_int: Duration::from_secs(1),
        },
        secs(4),
    );
    let heard = Action::HeardLowerMaster {
        from: IpAddr::V4(node_addr(B)),
        priority: 90,
    };
    assert_eq!(m.poll_action(), Some(heard));
    assert_eq!(m.poll_action(), None);
    assert_eq!(m.poll_timeout(), next);
    assert_eq!(m.state(), Ms);

    // Non-strict: answered with an advert and GARPs, timer re-armed.
    let mut m = Instance::new(&c, node_addr(A));
    m.start(secs(0));
    m.handle_timeout(us(MDI_100));
    while m.poll_action().is_some() {}
    m.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 90,
            adver_int: Duration::from_secs(1),
        },
        secs(4),
    );
    assert_eq!(m.poll_action(), Some(heard));
    assert_eq!(m.poll_action(), Some(Action::SendAdvert { priority: 100 }));
    assert_eq!(m.poll_action(), Some(Action::SendGarps { repeat: 5 }));
    assert_eq!(m.poll_action(), None);
    assert_eq!(m.poll_timeout(), Some(secs(5)));
}

#[test]
fn higher_prio_send_advert_sends_one_before_stepping_down() {
    let c = cfg(100);
    let tuning = Tuning {
        higher_prio_send_advert: true,
        ..Tuning::keepalived(&c, false)
    };
    let mut m = Instance::with_tuning(&c, node_addr(A), tuning);
    m.start(secs(0));
    m.handle_timeout(us(MDI_100));
    while m.poll_action().is_some() {}
    m.handle_advert(
        &Advert {
            src: IpAddr::V4(node_addr(B)),
            priority: 150,
            adver_int: Duration::from_millis(200),
        },
        secs(4),
    );
    assert_eq!(m.poll_action(), Some(Action::SendAdvert { priority: 100 }));
    assert_eq!(m.poll_action(), Some(Action::RemoveVips));
    assert_eq!(
        m.poll_action(),
        Some(Action::StateChanged { from: Ms, to: Bk })
    );
    // v3: the new master's interval is learnt on the way down.
    assert_eq!(m.master_adver_interval(), Duration::from_millis(200));
    assert_eq!(m.poll_timeout(), Some(secs(4) + m.master_down_interval()));
}

#[test]
fn action_debug_reads_like_the_derived_one() {
    let cases = [
        (
            Action::SendAdvert { priority: 7 },
            "SendAdvert { priority: 7 }",
        ),
        (Action::AddVips, "AddVips"),
        (Action::RemoveVips, "RemoveVips"),
        (Action::SendGarps { repeat: 5 }, "SendGarps { repeat: 5 }"),
        (
            Action::StateChanged {
                from: State::Backup,
                to: State::Master,
            },
            "StateChanged { from: Backup, to: Master }",
        ),
    ];
    for (a, want) in cases {
        assert_eq!(format!("{a:?}"), want);
    }
}
