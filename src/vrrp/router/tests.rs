//! Two routers on one simulated segment, on a virtual clock, exchanging the real bytes
//! `poll_output` builds (with the IPv4 header a raw socket would add) through `handle_datagram`.
//! The clock jumps to the next deadline: no sleeping, bounded steps.

use super::*;
use crate::config::parse_str;
use crate::wire::ipv4;
use core::time::Duration;
use std::path::Path;

const ETH0: u32 = 3;
const ETH1: u32 = 4;
const MAC: [u8; 6] = [2, 0, 0x5e, 0, 0, 1];

fn addr(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, n)
}

/// Everything a router asked the host to do, with when.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Advert { prio: u8 },
    Vips(bool),
    Garp,
    State(State, u8),
    LowerMaster,
    Run(ScriptId),
    Group(State),
    Restore(usize),
}

struct Node {
    r: Router,
    log: Vec<(Instant, Seen)>,
    /// Its adverts reach nobody.
    mute: bool,
    /// It hears nobody.
    deaf: bool,
}

struct Net {
    nodes: Vec<Node>,
    now: Instant,
    /// Datagrams in flight: (arrival, to node, bytes).
    wire: Vec<(Instant, usize, Vec<u8>)>,
}

const LATENCY: Duration = Duration::from_micros(300);

fn conf(prio: u8, extra: &str, script: &str) -> Config {
    let text = format!(
        "{script}\nvrrp_instance VI_1 {{\n state BACKUP\n interface eth0\n virtual_router_id 51\n \
         priority {prio}\n advert_int 1\n version 3\n virtual_ipaddress {{ 192.0.2.100 }}\n{extra}\n}}\n"
    );
    parse_str(&text, Path::new("/nonexistent/k.conf")).unwrap()
}

impl Net {
    fn new(configs: Vec<Config>) -> Net {
        let now = Instant::from_millis(1000);
        let nodes = configs
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let mut r = Router::new(c, now).unwrap();
                let a = addr(k as u8 + 1);
                r.set_link("eth0", ETH0, true, MAC, Some(a), now);
                r.set_link("eth1", ETH1, true, MAC, None, now);
                r.start(now);
                Node {
                    r,
                    log: Vec::new(),
                    mute: false,
                    deaf: false,
                }
            })
            .collect();
        let mut n = Net {
            nodes,
            now,
            wire: Vec::new(),
        };
        n.flush();
        n
    }

    fn flush(&mut self) {
        let mut buf = [0u8; 2048];
        for k in 0..self.nodes.len() {
            while let Some(o) = self.nodes[k].r.poll_output(self.now, &mut buf[20..]) {
                let seen = match o {
                    Output::Transmit { src, dst, len, .. } => {
                        let repr = ipv4::Repr {
                            src_addr: src,
                            dst_addr: dst,
                            protocol: ipv4::Protocol::Vrrp,
                            payload_len: len,
                            ttl: 255,
                            tos: 0,
                        };
                        repr.emit(&mut ipv4::Packet::new_unchecked(&mut buf[..20 + len]));
                        if !self.nodes[k].mute {
                            for to in 0..self.nodes.len() {
                                if to != k {
                                    let b = buf[..20 + len].to_vec();
                                    self.wire.push((self.now + LATENCY, to, b));
                                }
                            }
                        }
                        Seen::Advert { prio: buf[20 + 2] }
                    }
                    Output::Vips { add, .. } => Seen::Vips(add),
                    Output::Garp { .. } => Seen::Garp,
                    Output::Transition { to, priority, .. } => Seen::State(to, priority),
                    Output::LowerPriorityMaster { .. } => Seen::LowerMaster,
                    Output::RunScript(id) => Seen::Run(id),
                    Output::GroupTransition { to, .. } => Seen::Group(to),
                    Output::RestoreVip { vip, .. } => Seen::Restore(vip),
                };
                self.nodes[k].log.push((self.now, seen));
            }
        }
    }

    /// Runs the segment until `until`, jumping from deadline to deadline.
    fn run_until(&mut self, until: Instant) {
        for _ in 0..100_000 {
            let next_wire = self.wire.iter().map(|w| w.0).min();
            let next_timer = self.nodes.iter().filter_map(|n| n.r.poll_timeout()).min();
            let Some(next) = next_wire.into_iter().chain(next_timer).min() else {
                self.now = until;
                return;
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = self.now.max(next);
            let now = self.now;
            let (due, rest): (Vec<_>, Vec<_>) = self.wire.drain(..).partition(|w| w.0 <= now);
            self.wire = rest;
            for (_, to, bytes) in due {
                if !self.nodes[to].deaf {
                    self.nodes[to].r.handle_datagram(ETH0, &bytes, now);
                }
            }
            for n in &mut self.nodes {
                n.r.handle_timeout(now);
            }
            self.flush();
        }
        panic!("no progress");
    }

    fn secs(&self, s: f64) -> Instant {
        self.now + Duration::from_secs_f64(s)
    }

    fn state(&self, k: usize) -> State {
        self.nodes[k].r.state(InstId(0))
    }

    fn states(&self, k: usize) -> Vec<(State, u8)> {
        self.nodes[k]
            .log
            .iter()
            .filter_map(|(_, s)| match s {
                Seen::State(st, p) => Some((*st, *p)),
                _ => None,
            })
            .collect()
    }

    fn script_exit(&mut self, k: usize, exit: Exit) {
        let now = self.now;
        self.nodes[k].r.handle_script_exit(ScriptId(0), exit, now);
        self.flush();
    }
}

#[test]
fn election_with_real_bytes_and_failover_on_link_loss() {
    let mut net = Net::new(vec![conf(100, "", ""), conf(90, "", "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Backup));
    // Adverts crossed as bytes and passed every receive check.
    assert!(net.nodes[1].r.counters(InstId(0)).adverts_rx >= 1);
    assert_eq!(
        net.nodes[1].r.counters(InstId(0)).drops,
        [0; DropReason::COUNT]
    );

    // The master's interface loses carrier: FAULT at once, priority 0 sent, VIPs removed; the
    // backup takes over after Skew_Time.
    let now = net.now;
    net.nodes[0].r.handle_link(ETH0, false, false, now);
    net.flush();
    let tail: Vec<_> = net.nodes[0]
        .log
        .iter()
        .rev()
        .take(3)
        .map(|e| e.1.clone())
        .collect();
    assert!(tail.contains(&Seen::Advert { prio: 0 }), "{tail:?}");
    assert!(tail.contains(&Seen::Vips(false)));
    assert_eq!(net.state(0), State::Fault);
    assert!(net.nodes[0].r.faults(InstId(0)).interface);
    let t = net.secs(1.0);
    net.run_until(t);
    assert_eq!(net.state(1), State::Master);

    // Carrier back: BACKUP, then preempts back.
    let now = net.now;
    net.nodes[0].r.handle_link(ETH0, true, false, now);
    net.flush();
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Backup));
}

#[test]
fn a_missing_interface_is_fault_until_it_appears() {
    let c = conf(100, "", "");
    let now = Instant::from_millis(1000);
    let mut r = Router::new(&c, now).unwrap();
    r.start(now);
    assert_eq!(r.state(InstId(0)), State::Fault);
    assert!(r.faults(InstId(0)).interface);
    assert_eq!(r.ifindex("eth0"), None);
    // Created later (a VLAN brought up after us): the instance joins as BACKUP.
    r.set_link("eth0", 9, true, MAC, Some(addr(1)), now);
    assert_eq!(r.state(InstId(0)), State::Backup);
    // Deleted: FAULT again; re-created with a new ifindex: back.
    assert!(r.handle_link(9, false, true, now));
    assert_eq!(r.state(InstId(0)), State::Fault);
    assert!(
        !r.handle_link(9, true, false, now),
        "the old ifindex is forgotten"
    );
    r.set_link("eth0", 12, true, MAC, Some(addr(1)), now);
    assert_eq!(r.state(InstId(0)), State::Backup);
    assert_eq!(r.ifindex("eth0"), Some(12));
}

const SCRIPT: &str =
    "vrrp_script chk {\n script /bin/true\n interval 1\n weight -20\n fall 2\n rise 2\n}\n";

#[test]
fn failing_script_lowers_priority_and_hands_over_then_takes_back() {
    let track = "track_script {\n chk\n}\n";
    let mut net = Net::new(vec![conf(100, track, SCRIPT), conf(90, "", "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!(net.state(0), State::Master);
    // The router asked for the script once: a run still going is not started again.
    let runs = net.nodes[0]
        .log
        .iter()
        .filter(|e| e.1 == Seen::Run(ScriptId(0)))
        .count();
    assert_eq!(runs, 1);
    // Two successes: up (weight -20 adds nothing while up).
    net.script_exit(0, Exit::Status(0));
    net.script_exit(0, Exit::Status(0));
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 100);
    // One failure is not enough (fall 2); the second takes 20 off: 80 < 90.
    net.script_exit(0, Exit::Status(1));
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 100);
    net.script_exit(0, Exit::TimedOut);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 80);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Backup, State::Master));
    // Recovers (rise 2): 100 again, preempts back.
    net.script_exit(0, Exit::Status(0));
    net.script_exit(0, Exit::Status(0));
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 100);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Backup));
    // The notify trail of the first router: BACKUP, MASTER, BACKUP (at 80), MASTER.
    let trail: Vec<_> = net.states(0).into_iter().map(|s| s.0).collect();
    assert_eq!(
        trail,
        [State::Backup, State::Master, State::Backup, State::Master]
    );
}

#[test]
fn weight_zero_script_means_fault_and_holds_fault_until_first_success() {
    let track = "track_script {\n chk weight 0\n}\n";
    let mut net = Net::new(vec![conf(100, track, SCRIPT)]);
    // No verdict yet: FAULT (keepalived's script init state).
    assert_eq!(net.state(0), State::Fault);
    net.script_exit(0, Exit::Status(0));
    assert_eq!(net.state(0), State::Fault, "rise 2");
    net.script_exit(0, Exit::Status(0));
    assert_eq!(net.state(0), State::Backup);
    net.script_exit(0, Exit::Status(1));
    net.script_exit(0, Exit::Status(1));
    assert_eq!(net.state(0), State::Fault);
    assert_eq!(net.nodes[0].r.faults(InstId(0)).scripts, 1);
}

#[test]
fn tracked_interface_weights_and_fault() {
    let track = "track_interface {\n eth1 weight 10\n}\n";
    let mut net = Net::new(vec![conf(100, track, "")]);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 110);
    let now = net.now;
    net.nodes[0].r.handle_link(ETH1, false, false, now);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 100);

    let track = "track_interface {\n eth1\n}\n";
    let mut net = Net::new(vec![conf(100, track, "")]);
    assert_eq!(net.state(0), State::Backup);
    let now = net.now;
    net.nodes[0].r.handle_link(ETH1, false, false, now);
    assert_eq!(net.state(0), State::Fault);
    assert_eq!(net.nodes[0].r.faults(InstId(0)).tracked_interfaces, 1);
    net.nodes[0].r.handle_link(ETH1, true, false, now);
    assert_eq!(net.state(0), State::Backup);
}

#[test]
fn priority_clamps_and_owner_keeps_255() {
    let s = "vrrp_script up {\n script /bin/true\n weight 200\n}\n";
    let track = "track_script {\n up\n}\n";
    let mut net = Net::new(vec![conf(100, track, s), conf(255, track, s)]);
    net.nodes[0]
        .r
        .handle_script_exit(ScriptId(0), Exit::Status(0), net.now);
    net.nodes[1]
        .r
        .handle_script_exit(ScriptId(0), Exit::Status(0), net.now);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 254);
    assert_eq!(net.nodes[1].r.priority(InstId(0)), 255);
}

#[test]
fn healed_partition_lower_master_re_announces_once() {
    let mut net = Net::new(vec![conf(100, "", ""), conf(90, "", "")]);
    // Partition: both become master.
    (net.nodes[0].mute, net.nodes[0].deaf) = (true, true);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Master));
    let garps = |n: &Node| n.log.iter().filter(|e| e.1 == Seen::Garp).count();
    let garps_before = garps(&net.nodes[0]);
    // Healing, first direction: the higher master hears the lower one for 3 adverts. It keeps
    // the VIP, re-sends GARPs and reports it once.
    net.nodes[0].deaf = false;
    let t = net.secs(3.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Master));
    let log = &net.nodes[0].log;
    assert_eq!(log.iter().filter(|e| e.1 == Seen::LowerMaster).count(), 1);
    assert!(garps(&net.nodes[0]) > garps_before);
    assert!(net.nodes[0].r.counters(InstId(0)).lower_prio_master_rx >= 2);
    // Fully healed: the lower one steps down.
    net.nodes[0].mute = false;
    let t = net.secs(3.0);
    net.run_until(t);
    assert_eq!((net.state(0), net.state(1)), (State::Master, State::Backup));
    assert_eq!(net.states(0), [(State::Backup, 100), (State::Master, 100)]);
}

#[test]
fn adverts_for_unknown_interfaces_or_vrids_are_ignored() {
    let mut net = Net::new(vec![conf(100, "", "")]);
    let now = net.now;
    let junk = [
        0x45u8, 0, 0, 20, 0, 0, 0, 0, 255, 112, 0, 0, 192, 0, 2, 9, 224, 0, 0, 18,
    ];
    net.nodes[0].r.handle_datagram(99, &junk, now);
    net.nodes[0].r.handle_datagram(ETH0, &junk, now);
    net.nodes[0].r.handle_datagram(ETH0, &[], now);
    assert_eq!(net.nodes[0].r.counters(InstId(0)).adverts_rx, 0);
}

/// Two instances on eth0 (VRIDs 51 and 52) in one sync group; VI_2 tracks eth1.
fn group_conf(prio: u8, group_extra: &str) -> Config {
    let inst = |name: &str, vrid: u8, vip: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n interface eth0\n virtual_router_id {vrid}\n priority {prio}\n \
             advert_int 1\n version 3\n virtual_ipaddress {{ 192.0.2.{vip} }}\n{extra}}}\n"
        )
    };
    let text = format!(
        "{}{}vrrp_sync_group G {{\n group {{\n VI_1\n VI_2\n }}\n{group_extra}}}\n",
        inst("VI_1", 51, 100, ""),
        inst("VI_2", 52, 101, "track_interface {\n eth1 weight 10\n}\n"),
    );
    parse_str(&text, Path::new("/nonexistent/k.conf")).unwrap()
}

fn groups(n: &Node) -> Vec<State> {
    n.log
        .iter()
        .filter_map(|(_, s)| match s {
            Seen::Group(st) => Some(*st),
            _ => None,
        })
        .collect()
}

#[test]
fn sync_group_members_fail_over_together() {
    let mut net = Net::new(vec![group_conf(100, ""), group_conf(90, "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    let states = |net: &Net, k: usize| {
        let r = &net.nodes[k].r;
        (r.state(InstId(0)), r.state(InstId(1)))
    };
    assert_eq!(states(&net, 0), (State::Master, State::Master));
    assert_eq!(states(&net, 1), (State::Backup, State::Backup));
    assert_eq!(groups(&net.nodes[0]), [State::Backup, State::Master]);
    // The sync group turned VI_2's weighted interface tracking off: no +10.
    assert_eq!(net.nodes[0].r.priority(InstId(1)), 100);
    // VI_2's tracked interface goes down (weight 0 now): VI_2 FAULT, VI_1 follows into FAULT,
    // the peer takes both.
    let now = net.now;
    net.nodes[0].r.handle_link(ETH1, false, false, now);
    net.flush();
    assert_eq!(states(&net, 0), (State::Fault, State::Fault));
    assert!(net.nodes[0].r.faults(InstId(0)).sync_group);
    assert!(!net.nodes[0].r.faults(InstId(0)).interface);
    let t = net.secs(2.0);
    net.run_until(t);
    assert_eq!(states(&net, 1), (State::Master, State::Master));
    assert_eq!(groups(&net.nodes[1]), [State::Backup, State::Master]);
    // Back up: both members leave FAULT together and preempt back.
    let now = net.now;
    net.nodes[0].r.handle_link(ETH1, true, false, now);
    net.flush();
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!(states(&net, 0), (State::Master, State::Master));
    assert_eq!(states(&net, 1), (State::Backup, State::Backup));
    assert_eq!(
        groups(&net.nodes[0]),
        [
            State::Backup,
            State::Master,
            State::Fault,
            State::Backup,
            State::Master
        ]
    );
}

#[test]
fn one_member_losing_an_election_takes_the_group_back_to_backup() {
    // Node 0 is master of both; node 1 has VI_1 only at a higher priority (no group there):
    // when node 0's VI_1 hears it, VI_1 goes to backup and VI_2 follows.
    let mut net = Net::new(vec![group_conf(100, "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!(net.nodes[0].r.state(InstId(1)), State::Master);
    let other = conf(200, "", "").instances[0].clone();
    let mut c = Config {
        instances: vec![other],
        ..group_conf(100, "")
    };
    c.sync_groups.clear();
    let mut r = Router::new(&c, net.now).unwrap();
    r.set_link("eth0", ETH0, true, MAC, Some(addr(9)), net.now);
    r.start(net.now);
    net.nodes.push(Node {
        r,
        log: Vec::new(),
        mute: false,
        deaf: false,
    });
    let t = net.secs(6.0);
    net.run_until(t);
    assert_eq!(net.nodes[1].r.state(InstId(0)), State::Master);
    let r0 = &net.nodes[0].r;
    assert_eq!(
        (r0.state(InstId(0)), r0.state(InstId(1))),
        (State::Backup, State::Backup)
    );
    assert_eq!(groups(&net.nodes[0]).last(), Some(&State::Backup));
}

#[test]
fn a_vip_deleted_from_a_master_is_restored_and_announced() {
    let mut net = Net::new(vec![conf(100, "", "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!(net.state(0), State::Master);
    let vip = crate::netlink::IfAddr {
        addr: addr(100),
        prefix_len: 32,
        secondary: false,
    };
    let garps = |n: &Node| n.log.iter().filter(|e| e.1 == Seen::Garp).count();
    let before = garps(&net.nodes[0]);
    let now = net.now;
    net.nodes[0].r.handle_addr(ETH0, vip, true, now);
    net.flush();
    let log = &net.nodes[0].log;
    assert_eq!(log.iter().filter(|e| e.1 == Seen::Restore(0)).count(), 1);
    assert!(garps(&net.nodes[0]) > before, "announced again");
    assert_eq!(net.nodes[0].r.counters(InstId(0)).vips_restored, 1);
    // Our VIP appearing never becomes the advert source; a new primary address does.
    let now = net.now;
    net.nodes[0].r.handle_addr(ETH0, vip, false, now);
    let primary = crate::netlink::IfAddr {
        addr: addr(1),
        ..vip
    };
    net.nodes[0].r.handle_addr(ETH0, primary, true, now);
    assert!(
        net.nodes[0].r.faults(InstId(0)).interface,
        "no address to send from"
    );
    let other = crate::netlink::IfAddr {
        addr: addr(7),
        ..vip
    };
    net.nodes[0].r.handle_addr(ETH0, other, false, now);
    assert!(!net.nodes[0].r.faults(InstId(0)).interface);

    // A backup does not restore anything.
    let mut net = Net::new(vec![conf(100, "", ""), conf(200, "", "")]);
    let t = net.secs(5.0);
    net.run_until(t);
    assert_eq!(net.state(0), State::Backup);
    let now = net.now;
    net.nodes[0].r.handle_addr(ETH0, vip, true, now);
    net.flush();
    assert!(!net.nodes[0]
        .log
        .iter()
        .any(|e| matches!(e.1, Seen::Restore(_))));
}

fn two(prio2: u8, vips2: &str, third: bool) -> Config {
    let mut text = format!(
        "# comment\nvrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 52\n priority {prio2}\n \
         advert_int 1\n version 3\n virtual_ipaddress {{ {vips2} }}\n}}\n\
         vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n \
         advert_int 1\n version 3\n virtual_ipaddress {{ 192.0.2.100 }}\n}}\n"
    );
    if third {
        text.push_str(
            "vrrp_instance VI_3 {\n interface eth0\n virtual_router_id 53\n priority 100\n \
             advert_int 1\n version 3\n virtual_ipaddress { 192.0.2.103 }\n}\n",
        );
    }
    parse_str(&text, Path::new("/nonexistent/k.conf")).unwrap()
}

/// Reloads node 0 with `new` and returns what the reload itself caused.
fn reload(net: &mut Net, old: &Config, new: &Config) -> Vec<Seen> {
    let now = net.now;
    let mut r = Router::new(new, now).unwrap();
    let n = &mut net.nodes[0];
    let before = n.log.len();
    r.adopt(&mut n.r, old, new, now);
    n.r = r;
    net.flush();
    net.nodes[0].log[before..]
        .iter()
        .map(|e| e.1.clone())
        .collect()
}

#[test]
fn reload_keeps_unchanged_instances_and_applies_changes_in_place() {
    let c1 = two(100, "192.0.2.101", false);
    let mut net = Net::new(vec![c1.clone()]);
    let t = net.secs(5.0);
    net.run_until(t);
    let name = |net: &Net, n: &str| {
        let r = &net.nodes[0].r;
        r.instances().find(|&i| r.config(i).name == n).unwrap()
    };
    assert_eq!(net.nodes[0].r.state(name(&net, "VI_1")), State::Master);
    let adverts_before = net.nodes[0].r.counters(name(&net, "VI_1")).adverts_tx;

    // The same file with blocks reordered and comments moved: nothing at all happens.
    let mut c2 = two(100, "192.0.2.101", false);
    c2.instances.reverse();
    assert!(reload(&mut net, &c1, &c2).is_empty());
    assert_eq!(net.nodes[0].r.state(name(&net, "VI_1")), State::Master);
    assert_eq!(
        net.nodes[0].r.counters(name(&net, "VI_1")).adverts_tx,
        adverts_before
    );

    // VI_2 gets another address and a new base priority; VI_3 is new: no transition for
    // VI_1 or VI_2 (VI_2 announces its new priority at once), VI_3 starts as BACKUP.
    let c3 = two(150, "192.0.2.101\n 192.0.2.102", true);
    let seen = reload(&mut net, &c2, &c3);
    assert_eq!(
        seen,
        [Seen::Advert { prio: 150 }, Seen::State(State::Backup, 100)],
        "only VI_3 starts"
    );
    let r = &net.nodes[0].r;
    assert_eq!(r.state(name(&net, "VI_2")), State::Master);
    assert_eq!(r.priority(name(&net, "VI_2")), 150);
    assert_eq!(r.vips(name(&net, "VI_2")).count(), 2);
    let t = net.secs(3.0);
    net.run_until(t);
    let tail: Vec<_> = net.nodes[0]
        .log
        .iter()
        .rev()
        .take(30)
        .map(|e| e.1.clone())
        .collect();
    assert!(tail.contains(&Seen::Advert { prio: 150 }));

    // VI_3 removed again, VI_1's advert interval changed: VI_1 restarts straight into MASTER
    // (no BACKUP in between, so the peer never sees it go), VI_3 is simply gone.
    let mut c4 = two(150, "192.0.2.101\n 192.0.2.102", false);
    let vi1 = c4.instances.iter_mut().find(|i| i.name == "VI_1").unwrap();
    vi1.advert_int = Duration::from_millis(500);
    let mut old = net.nodes[0].r.removed_by(&c4);
    assert_eq!(old.len(), 1);
    let now = net.now;
    net.nodes[0].r.stop_instance(old.pop().unwrap(), now);
    net.flush();
    let seen = reload(&mut net, &c3, &c4);
    assert_eq!(
        seen.iter().filter(|s| matches!(s, Seen::State(..))).count(),
        1
    );
    assert!(seen.contains(&Seen::State(State::Master, 100)), "{seen:?}");
    assert!(!seen.contains(&Seen::State(State::Backup, 100)));
    assert_eq!(net.nodes[0].r.state(name(&net, "VI_1")), State::Master);
}

#[test]
fn track_file_value_moves_the_priority_and_weight_zero_faults() {
    let files = "track_file f {\n file /nonexistent/f\n weight 2\n}\ntrack_file z {\n file /nonexistent/z\n}\n";
    let mut net = Net::new(vec![conf(100, "track_file {\n f\n}\n", files)]);
    let now = net.now;
    net.nodes[0].r.handle_file(0, 10, now);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 120);
    net.nodes[0].r.handle_file(0, -25, now);
    assert_eq!(net.nodes[0].r.priority(InstId(0)), 50);
    net.nodes[0].r.handle_file(0, -127, now);
    assert_eq!(net.state(0), State::Fault, "-254 or less is FAULT");
    assert_eq!(net.nodes[0].r.faults(InstId(0)).files, 1);
    net.nodes[0].r.handle_file(0, 0, now);
    assert_eq!(net.state(0), State::Backup);

    let mut net = Net::new(vec![conf(100, "track_file {\n z weight 0\n}\n", files)]);
    let now = net.now;
    assert_eq!(net.state(0), State::Backup);
    net.nodes[0].r.handle_file(1, 1, now);
    assert_eq!(
        net.state(0),
        State::Fault,
        "weight 0: a non-zero value is FAULT"
    );
}
