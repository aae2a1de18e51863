//! The pool of each virtual server: which real servers are alive, the quorum, and from them
//! the destinations IPVS should hold (keepalived 2.2.7 check/ipwrapper.c:
//! `perform_svr_state`, `update_quorum_state`, `update_svr_wgt`).
//!
//! keepalived edits the kernel's table step by step as each event arrives; here the table a
//! virtual server should have is a function of the pool's state ([`Pool::dests`]), and the
//! caller reconciles it with the kernel. The rules that function follows:
//! - a live real server is present with its effective weight;
//! - a failed one is absent, or present with weight 0 under `inhibit_on_failure`;
//! - while the quorum is lost and there is a sorry server, the live servers leave and the
//!   sorry server takes their place (weight 1); otherwise a `sorry_server_inhibit` sorry
//!   server is present with weight 0;
//! - the quorum is lost when the live weight falls below `quorum - hysteresis` (or to 0), and
//!   gained when it reaches `quorum + hysteresis`.
//!
//! Pure: events in, [`Event`]s out for the caller to log and notify; no clock, no I/O.

use crate::config::{Config, Forward, VirtualServer};
use std::collections::VecDeque;
use std::net::SocketAddr;

/// A real server: (virtual server index, real server index) into the config's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RsId {
    pub vs: u32,
    pub rs: u32,
}

/// What changed, for logs, notify scripts, FIFO lines and mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    RealServerUp(RsId),
    RealServerDown(RsId),
    /// The quorum of virtual server `vs` was gained (`true`) or lost, with the live weight.
    Quorum {
        vs: u32,
        up: bool,
        weight: u64,
    },
}

/// One destination as IPVS should hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dest {
    pub addr: SocketAddr,
    pub weight: u32,
    pub method: Forward,
    pub uthreshold: u32,
    pub lthreshold: u32,
}

#[derive(Debug, Clone)]
struct RsState {
    alive: bool,
    /// The configured weight, or the one a `misc_dynamic` MISC_CHECK set.
    weight: u32,
}

#[derive(Debug, Clone)]
struct VsState {
    rs: Vec<RsState>,
    quorum_up: bool,
}

#[derive(Debug)]
pub struct Pool {
    vs: Vec<VsState>,
    events: VecDeque<Event>,
}

impl Pool {
    /// Every real server starts alive, or failed under `alpha`; the quorum follows from that,
    /// as keepalived's `set_quorum_states`.
    pub fn new(config: &Config) -> Pool {
        let vs = config
            .virtual_servers
            .iter()
            .map(|v| {
                let rs: Vec<RsState> = v
                    .real_servers
                    .iter()
                    .map(|r| RsState {
                        alive: !r.alpha && !r.checkers.iter().any(|c| c.alpha),
                        weight: r.weight,
                    })
                    .collect();
                let live = live_weight(&rs);
                VsState {
                    quorum_up: live >= u64::from(v.quorum) + u64::from(v.hysteresis),
                    rs,
                }
            })
            .collect();
        Pool {
            vs,
            events: VecDeque::new(),
        }
    }

    pub fn is_alive(&self, id: RsId) -> bool {
        self.rs(id).is_some_and(|r| r.alive)
    }

    pub fn quorum_up(&self, vs: u32) -> bool {
        self.vs.get(vs as usize).is_some_and(|v| v.quorum_up)
    }

    fn rs(&self, id: RsId) -> Option<&RsState> {
        self.vs.get(id.vs as usize)?.rs.get(id.rs as usize)
    }

    /// The checkers of `id` say it is alive (all of them up) or not. Returns whether the
    /// virtual server's table may have changed.
    pub fn set_alive(&mut self, config: &Config, id: RsId, alive: bool) -> bool {
        let Some(r) = self
            .vs
            .get_mut(id.vs as usize)
            .and_then(|v| v.rs.get_mut(id.rs as usize))
        else {
            return false;
        };
        if r.alive == alive {
            return false;
        }
        r.alive = alive;
        self.events.push_back(if alive {
            Event::RealServerUp(id)
        } else {
            Event::RealServerDown(id)
        });
        self.update_quorum(config, id.vs);
        true
    }

    /// A `misc_dynamic` check set the weight of `id`.
    pub fn set_weight(&mut self, config: &Config, id: RsId, weight: u32) -> bool {
        let Some(r) = self
            .vs
            .get_mut(id.vs as usize)
            .and_then(|v| v.rs.get_mut(id.rs as usize))
        else {
            return false;
        };
        if r.weight == weight {
            return false;
        }
        r.weight = weight;
        self.update_quorum(config, id.vs);
        true
    }

    fn update_quorum(&mut self, config: &Config, vs: u32) {
        let (Some(state), Some(cfg)) = (
            self.vs.get_mut(vs as usize),
            config.virtual_servers.get(vs as usize),
        ) else {
            return;
        };
        let live = live_weight(&state.rs);
        let (quorum, hysteresis) = (u64::from(cfg.quorum), u64::from(cfg.hysteresis));
        let up = if state.quorum_up {
            !(live == 0 || live < quorum.saturating_sub(hysteresis))
        } else {
            live >= quorum + hysteresis
        };
        if up != state.quorum_up {
            state.quorum_up = up;
            self.events.push_back(Event::Quorum {
                vs,
                up,
                weight: live,
            });
        }
    }

    /// The next change to report.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The destinations virtual server `vs` should have now (rules in the module doc).
    pub fn dests<'a>(&'a self, config: &'a Config, vs: u32) -> impl Iterator<Item = Dest> + 'a {
        let cfg: Option<&VirtualServer> = config.virtual_servers.get(vs as usize);
        let state = self.vs.get(vs as usize);
        let sorry_active = match (cfg, state) {
            (Some(c), Some(s)) => c.sorry_server.is_some() && !s.quorum_up,
            _ => false,
        };
        let real = cfg
            .into_iter()
            .flat_map(|c| c.real_servers.iter())
            .zip(state.into_iter().flat_map(|s| s.rs.iter()))
            .filter_map(move |(rc, rs)| {
                let weight = match (rs.alive, rc.inhibit_on_failure) {
                    (true, _) if sorry_active => return None,
                    (true, _) => rs.weight,
                    (false, true) => 0,
                    (false, false) => return None,
                };
                Some(Dest {
                    addr: rc.addr,
                    weight,
                    method: rc.method,
                    uthreshold: rc.uthreshold,
                    lthreshold: rc.lthreshold,
                })
            });
        let sorry = cfg
            .and_then(|c| c.sorry_server.as_ref())
            .filter(|s| {
                // A sorry server that is also a real server is that real server's entry.
                let dup = cfg.is_some_and(|c| c.real_servers.iter().any(|r| r.addr == s.addr));
                !dup && (sorry_active || s.inhibit)
            })
            .map(move |s| Dest {
                addr: s.addr,
                weight: u32::from(sorry_active),
                method: s.method,
                uthreshold: 0,
                lthreshold: 0,
            });
        real.chain(sorry)
    }
}

fn live_weight(rs: &[RsState]) -> u64 {
    rs.iter()
        .filter(|r| r.alive)
        .map(|r| u64::from(r.weight))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use std::path::Path;

    fn conf(vs_body: &str, rs_body: &str) -> Config {
        let text = format!(
            "virtual_server 192.0.2.10 80 {{\nprotocol TCP\nlb_kind NAT\n{vs_body}\n\
             real_server 192.0.2.21 80 {{ weight 2\n{rs_body} }}\n\
             real_server 192.0.2.22 80 {{ weight 3\n{rs_body} }}\n}}\n"
        );
        parse_str(&text, Path::new("/k.conf")).unwrap()
    }

    fn table(p: &Pool, c: &Config) -> Vec<(u8, u32)> {
        p.dests(c, 0)
            .map(|d| match d.addr.ip() {
                std::net::IpAddr::V4(a) => (a.octets()[3], d.weight),
                _ => unreachable!(),
            })
            .collect()
    }

    const RS1: RsId = RsId { vs: 0, rs: 0 };
    const RS2: RsId = RsId { vs: 0, rs: 1 };

    #[test]
    fn failed_servers_leave_or_stay_inhibited() {
        let c = conf("", "");
        let mut p = Pool::new(&c);
        assert_eq!(table(&p, &c), [(21, 2), (22, 3)]);
        assert!(p.set_alive(&c, RS1, false));
        assert!(!p.set_alive(&c, RS1, false), "no change, no work");
        assert_eq!(table(&p, &c), [(22, 3)]);
        assert_eq!(p.poll_event(), Some(Event::RealServerDown(RS1)));
        assert_eq!(p.poll_event(), None);
        let c = conf("inhibit_on_failure", "");
        let mut p = Pool::new(&c);
        p.set_alive(&c, RS1, false);
        assert_eq!(table(&p, &c), [(21, 0), (22, 3)]);
        p.set_alive(&c, RS1, true);
        assert_eq!(table(&p, &c), [(21, 2), (22, 3)]);
    }

    #[test]
    fn alpha_starts_failed() {
        let c = conf("", "alpha");
        let p = Pool::new(&c);
        assert_eq!(table(&p, &c), []);
        assert!(!p.quorum_up(0));
    }

    #[test]
    fn quorum_loss_brings_the_sorry_server_with_hysteresis() {
        // Live weight 5; quorum 4, hysteresis 1: lost below 3, gained again at 5.
        let c = conf("quorum 4\nhysteresis 1\nsorry_server 192.0.2.99 8080", "");
        let mut p = Pool::new(&c);
        assert!(p.quorum_up(0));
        p.set_alive(&c, RS1, false); // 3: still up (3 >= 4 - 1)
        assert!(p.quorum_up(0));
        assert_eq!(table(&p, &c), [(22, 3)]);
        p.set_alive(&c, RS2, false); // 0: lost
        assert_eq!(table(&p, &c), [(99, 1)]);
        let evs: Vec<_> = core::iter::from_fn(|| p.poll_event()).collect();
        assert_eq!(
            evs,
            [
                Event::RealServerDown(RS1),
                Event::RealServerDown(RS2),
                Event::Quorum {
                    vs: 0,
                    up: false,
                    weight: 0
                }
            ]
        );
        p.set_alive(&c, RS2, true); // 3 < 4 + 1: still lost, the live server stays out
        assert_eq!(table(&p, &c), [(99, 1)]);
        p.set_alive(&c, RS1, true); // 5: gained
        assert_eq!(table(&p, &c), [(21, 2), (22, 3)]);
        assert!(p.quorum_up(0));
    }

    #[test]
    fn inhibited_sorry_server_waits_at_weight_zero() {
        let c = conf(
            "quorum 5\nsorry_server 192.0.2.99\nsorry_server_inhibit",
            "",
        );
        let mut p = Pool::new(&c);
        assert_eq!(table(&p, &c), [(21, 2), (22, 3), (99, 0)]);
        p.set_alive(&c, RS1, false);
        assert_eq!(table(&p, &c), [(99, 1)]);
    }

    #[test]
    fn dynamic_weight_moves_the_quorum() {
        let c = conf("quorum 5", "");
        let mut p = Pool::new(&c);
        assert!(p.set_weight(&c, RS2, 10));
        assert_eq!(table(&p, &c), [(21, 2), (22, 10)]);
        p.set_weight(&c, RS2, 1);
        assert!(!p.quorum_up(0));
    }
}
