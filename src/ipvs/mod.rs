//! The virtual-server table the daemon wants in the kernel, and the operations that bring the
//! kernel's table there. Pure: no syscalls; `crate::io::ipvs` dumps the kernel's table and
//! applies the operations.
//!
//! The rule `reconcile` implements, and how it relates to keepalived 2.2.7:
//! - A service named in the desired table is ours, all of it: it is created when missing,
//!   changed with one SET_SERVICE when its scheduler, flags, persistence timeout or
//!   granularity differ, and its destinations are made exactly the desired ones (added, set
//!   when forwarding method, weight or a threshold differ, deleted when not desired).
//!   keepalived 2.2.7 adopts an existing service at start (EEXIST on add is success) but
//!   neither corrects its settings nor removes real servers it did not configure; here the
//!   kernel ends up as configured.
//! - A service in the kernel that the desired table does not name is deleted only if it is
//!   in `previous`: the table we programmed before (the previous configuration on reload,
//!   empty at start). So at start nothing foreign is touched (keepalived flushes everything
//!   at start only with `lvs_flush`: the caller sends `Op::Flush` first for it), and a reload
//!   deletes the services its new configuration dropped, as keepalived's reload does.
//! - Nothing that already matches is touched: a reload that changes one real server's weight
//!   produces exactly one `SetDest`.
//! - A sorry server, an inhibited server (weight 0), a quorum change: the daemon expresses
//!   them in the desired table (an ordinary destination, a weight); reconcile knows nothing
//!   of them.
//! - At stop, `teardown` deletes the services we own that the kernel still holds (one
//!   DEL_SERVICE also removes its destinations), as keepalived does unless told
//!   `lvs_flush_on_stop`; with that, the caller sends `Op::Flush` instead.
//!
//! Order of the operations: service deletions first, then per service (in key order) its
//! creation or change followed by its destinations' deletions, changes and additions.
//! Tables are kept sorted by key, so reconcile is a merge (10,000 destinations: one pass).

pub mod pool;

use crate::netlink::ipvs::Request;
pub use crate::netlink::ipvs::{Dest, FwdMethod, Protocol, SchedName, Service, ServiceKey};

/// A service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualService {
    pub service: Service,
    /// Sorted by (address, port), no duplicates (`Table::new` sees to it).
    pub dests: Vec<Dest>,
}

/// A whole IPVS table: services sorted by key, no duplicate keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    services: Vec<VirtualService>,
}

/// Two entries of a table had the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableError {
    DuplicateService(ServiceKey),
    DuplicateDest(ServiceKey, Dest),
}

impl core::fmt::Display for TableError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TableError::DuplicateService(k) => write!(f, "virtual server {k} given twice"),
            TableError::DuplicateDest(k, d) => {
                write!(f, "real server [{}]:{} given twice in {k}", d.addr, d.port)
            }
        }
    }
}

fn dest_key(d: &Dest) -> (std::net::IpAddr, u16) {
    (d.addr, d.port)
}

/// Destinations in the order [`Table`] and [`reconcile`] rely on: by (address, port).
pub fn sort_dests(dests: &mut [Dest]) {
    dests.sort_unstable_by_key(dest_key);
}

impl Table {
    /// A table of `services`, sorted; the same service or the same destination of one service
    /// twice is an error.
    pub fn new(mut services: Vec<VirtualService>) -> Result<Self, TableError> {
        services.sort_unstable_by_key(|a| a.service.key);
        for w in services.windows(2) {
            if w[0].service.key == w[1].service.key {
                return Err(TableError::DuplicateService(w[0].service.key));
            }
        }
        for vs in &mut services {
            sort_dests(&mut vs.dests);
            for w in vs.dests.windows(2) {
                if dest_key(&w[0]) == dest_key(&w[1]) {
                    return Err(TableError::DuplicateDest(vs.service.key, w[0]));
                }
            }
        }
        Ok(Table { services })
    }

    pub fn services(&self) -> &[VirtualService] {
        &self.services
    }

    pub fn get(&self, key: &ServiceKey) -> Option<&VirtualService> {
        self.services
            .binary_search_by(|vs| vs.service.key.cmp(key))
            .ok()
            .map(|i| &self.services[i])
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The number of destinations of all services.
    pub fn dest_count(&self) -> usize {
        self.services.iter().map(|vs| vs.dests.len()).sum()
    }
}

/// One change to the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    NewService(Service),
    SetService(Service),
    DelService(ServiceKey),
    NewDest(ServiceKey, Dest),
    SetDest(ServiceKey, Dest),
    /// Only the destination's address and port matter.
    DelDest(ServiceKey, Dest),
    /// Every service and destination, ours or not (`lvs_flush`, `lvs_flush_on_stop`).
    Flush,
}

impl Op {
    /// The netlink request that performs it.
    pub fn request(&self) -> Request<'_> {
        match self {
            Op::NewService(s) => Request::NewService(s),
            Op::SetService(s) => Request::SetService(s),
            Op::DelService(k) => Request::DelService(k),
            Op::NewDest(k, d) => Request::NewDest(k, d),
            Op::SetDest(k, d) => Request::SetDest(k, d),
            Op::DelDest(k, d) => Request::DelDest(k, d),
            Op::Flush => Request::Flush,
        }
    }

    /// The service it concerns (none for `Flush`).
    pub fn service(&self) -> Option<&ServiceKey> {
        match self {
            Op::NewService(s) | Op::SetService(s) => Some(&s.key),
            Op::DelService(k) | Op::NewDest(k, _) | Op::SetDest(k, _) | Op::DelDest(k, _) => {
                Some(k)
            }
            Op::Flush => None,
        }
    }

    /// What to do instead when the kernel says the object already exists (for a New) or does
    /// not (for a Set): the dump we reconciled against was out of date.
    pub fn fallback(&self) -> Option<Op> {
        match self {
            Op::NewService(s) => Some(Op::SetService(s.clone())),
            Op::SetService(s) => Some(Op::NewService(s.clone())),
            Op::NewDest(k, d) => Some(Op::SetDest(*k, *d)),
            Op::SetDest(k, d) => Some(Op::NewDest(*k, *d)),
            _ => None,
        }
    }
}

impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Op::NewService(s) => write!(f, "add virtual server {} ({})", s.key, s.sched),
            Op::SetService(s) => write!(f, "change virtual server {} ({})", s.key, s.sched),
            Op::DelService(k) => write!(f, "remove virtual server {k}"),
            Op::NewDest(k, d) => write!(
                f,
                "add real server [{}]:{} weight {} to {k}",
                d.addr, d.port, d.weight
            ),
            Op::SetDest(k, d) => write!(
                f,
                "set real server [{}]:{} weight {} in {k}",
                d.addr, d.port, d.weight
            ),
            Op::DelDest(k, d) => write!(f, "remove real server [{}]:{} from {k}", d.addr, d.port),
            Op::Flush => f.write_str("flush every virtual server"),
        }
    }
}

/// The settings SET_SERVICE changes (the key being equal).
fn service_differs(a: &Service, b: &Service) -> bool {
    a.sched != b.sched || a.flags != b.flags || a.timeout != b.timeout || a.netmask != b.netmask
}

fn dest_differs(a: &Dest, b: &Dest) -> bool {
    a.fwd != b.fwd || a.weight != b.weight || a.u_thresh != b.u_thresh || a.l_thresh != b.l_thresh
}

/// The operations that turn `current` (the kernel's dump) into `desired`, given `previous`,
/// the table we programmed before (empty at start). See the module documentation.
pub fn reconcile(desired: &Table, previous: &Table, current: &Table) -> Vec<Op> {
    let mut ops = Vec::new();
    for cur in &current.services {
        let key = &cur.service.key;
        if desired.get(key).is_none() && previous.get(key).is_some() {
            ops.push(Op::DelService(*key));
        }
    }
    for want in &desired.services {
        let key = want.service.key;
        let Some(cur) = current.get(&key) else {
            ops.push(Op::NewService(want.service.clone()));
            ops.extend(want.dests.iter().map(|d| Op::NewDest(key, *d)));
            continue;
        };
        if service_differs(&want.service, &cur.service) {
            ops.push(Op::SetService(want.service.clone()));
        }
        diff_dests(key, &want.dests, &cur.dests, &mut ops);
    }
    ops
}

/// Merges two sorted destination lists.
fn diff_dests(key: ServiceKey, want: &[Dest], cur: &[Dest], ops: &mut Vec<Op>) {
    let (mut i, mut j) = (0, 0);
    let mut adds = Vec::new();
    while i < want.len() || j < cur.len() {
        match (want.get(i), cur.get(j)) {
            (Some(w), Some(c)) if dest_key(w) == dest_key(c) => {
                if dest_differs(w, c) {
                    ops.push(Op::SetDest(key, *w));
                }
                i += 1;
                j += 1;
            }
            (Some(w), Some(c)) if dest_key(w) < dest_key(c) => {
                adds.push(Op::NewDest(key, *w));
                i += 1;
            }
            (Some(w), None) => {
                adds.push(Op::NewDest(key, *w));
                i += 1;
            }
            (_, Some(c)) => {
                ops.push(Op::DelDest(key, *c));
                j += 1;
            }
            (None, None) => break,
        }
    }
    // Deletions and changes first: a destination moved between ports of one address frees
    // its place before the new one arrives.
    ops.append(&mut adds);
}

/// The operations that remove what we own (`ours`, the table we programmed) from `current`.
pub fn teardown(ours: &Table, current: &Table) -> Vec<Op> {
    current
        .services
        .iter()
        .filter(|vs| ours.get(&vs.service.key).is_some())
        .map(|vs| Op::DelService(vs.service.key))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn v4(d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, d))
    }

    fn tcp(port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
            port,
        }
    }

    fn dest(d: u8, weight: i32) -> Dest {
        Dest {
            addr: v4(d),
            port: 80,
            fwd: FwdMethod::Masq,
            weight,
            u_thresh: 0,
            l_thresh: 0,
        }
    }

    fn vs(key: ServiceKey, sched: &str, dests: Vec<Dest>) -> VirtualService {
        VirtualService {
            service: Service::new(key, sched).unwrap(),
            dests,
        }
    }

    fn table(v: Vec<VirtualService>) -> Table {
        Table::new(v).unwrap()
    }

    fn web() -> Table {
        table(vec![
            vs(tcp(80), "wlc", vec![dest(1, 1), dest(2, 1), dest(3, 2)]),
            vs(
                ServiceKey::Fwmark {
                    ipv6: false,
                    mark: 7,
                },
                "rr",
                vec![Dest {
                    fwd: FwdMethod::DirectRoute,
                    port: 0,
                    ..dest(4, 1)
                }],
            ),
        ])
    }

    #[test]
    fn empty_kernel_gets_everything_services_before_their_dests() {
        let ops = reconcile(&web(), &Table::default(), &Table::default());
        assert_eq!(ops.len(), 2 + 4);
        // Key order: the address-keyed service sorts before the fwmark one.
        assert!(matches!(&ops[0], Op::NewService(s) if s.key == tcp(80)));
        assert!(matches!(ops[1], Op::NewDest(k, d) if k == tcp(80) && d.addr == v4(1)));
        assert!(matches!(&ops[4], Op::NewService(s) if s.sched.as_str() == "rr"));
        assert!(matches!(ops[5], Op::NewDest(_, d) if d.fwd == FwdMethod::DirectRoute));
    }

    #[test]
    fn converged_kernel_gets_nothing() {
        assert_eq!(reconcile(&web(), &web(), &web()), vec![]);
        assert_eq!(reconcile(&web(), &Table::default(), &web()), vec![]);
    }

    #[test]
    fn reload_changing_one_weight_is_one_op() {
        let mut new = web().services;
        new[0].dests[1].weight = 5;
        let new = table(new);
        assert_eq!(
            reconcile(&new, &web(), &web()),
            vec![Op::SetDest(tcp(80), dest(2, 5))]
        );
    }

    #[test]
    fn removed_server_is_deleted_and_added_one_added() {
        let mut new = web().services;
        new[0].dests.remove(0);
        new[0].dests.push(dest(9, 1));
        let new = table(new);
        assert_eq!(
            reconcile(&new, &web(), &web()),
            vec![
                Op::DelDest(tcp(80), dest(1, 1)),
                Op::NewDest(tcp(80), dest(9, 1))
            ]
        );
    }

    #[test]
    fn partly_matching_kernel() {
        // The kernel has tcp:80 with rr (we want wlc), one of our servers with the wrong
        // weight, one server we do not want, and no fwmark service.
        let kernel = table(vec![vs(
            tcp(80),
            "rr",
            vec![dest(1, 1), dest(3, 7), dest(5, 1)],
        )]);
        let ops = reconcile(&web(), &Table::default(), &kernel);
        let want_svc = Service::new(tcp(80), "wlc").unwrap();
        assert_eq!(
            ops,
            vec![
                Op::SetService(want_svc),
                Op::SetDest(tcp(80), dest(3, 2)),
                Op::DelDest(tcp(80), dest(5, 1)),
                Op::NewDest(tcp(80), dest(2, 1)),
                Op::NewService(web().services[1].service.clone()),
                Op::NewDest(web().services[1].service.key, web().services[1].dests[0]),
            ]
        );
    }

    #[test]
    fn foreign_services_survive_dropped_ours_go() {
        let foreign = vs(tcp(22), "rr", vec![dest(8, 1)]);
        let mut kernel = web().services;
        kernel.push(foreign.clone());
        let kernel = table(kernel);
        // At start (nothing programmed before): tcp:22 is not ours, it stays.
        assert_eq!(reconcile(&web(), &Table::default(), &kernel), vec![]);
        // A reload that drops the fwmark service deletes it (one op: DEL_SERVICE takes its
        // destinations along), and still leaves tcp:22 alone.
        let new = table(vec![web().services[0].clone()]);
        let fwm = ServiceKey::Fwmark {
            ipv6: false,
            mark: 7,
        };
        assert_eq!(reconcile(&new, &web(), &kernel), vec![Op::DelService(fwm)]);
        // Stopping removes ours only.
        assert_eq!(
            teardown(&web(), &kernel),
            vec![Op::DelService(tcp(80)), Op::DelService(fwm)]
        );
    }

    #[test]
    fn sorry_server_is_an_ordinary_dest() {
        // Every real server failed: the daemon's desired table holds the sorry server alone.
        let sorry = Dest {
            port: 8080,
            ..dest(200, 1)
        };
        let down = table(vec![vs(tcp(80), "wlc", vec![sorry])]);
        let up = table(vec![vs(tcp(80), "wlc", vec![dest(1, 1)])]);
        assert_eq!(
            reconcile(&down, &up, &up),
            vec![
                Op::DelDest(tcp(80), dest(1, 1)),
                Op::NewDest(tcp(80), sorry)
            ]
        );
        // Inhibit on failure: the server stays with weight 0.
        let inhibited = table(vec![vs(tcp(80), "wlc", vec![dest(1, 0)])]);
        assert_eq!(
            reconcile(&inhibited, &up, &up),
            vec![Op::SetDest(tcp(80), dest(1, 0))]
        );
    }

    #[test]
    fn persistence_change_is_a_set_service() {
        let mut new = web().services;
        new[0].service.flags = crate::netlink::ipvs::SVC_F_PERSISTENT;
        new[0].service.timeout = 300;
        let want = new[0].service.clone();
        assert_eq!(
            reconcile(&table(new), &web(), &web()),
            vec![Op::SetService(want)]
        );
    }

    #[test]
    fn duplicates_are_refused() {
        assert_eq!(
            Table::new(vec![vs(tcp(80), "rr", vec![]), vs(tcp(80), "wlc", vec![])]),
            Err(TableError::DuplicateService(tcp(80)))
        );
        assert_eq!(
            Table::new(vec![vs(tcp(80), "rr", vec![dest(1, 1), dest(1, 2)])]),
            Err(TableError::DuplicateDest(tcp(80), dest(1, 1)))
        );
    }

    #[test]
    fn ten_thousand_dests_reconcile_in_one_pass() {
        let dests: Vec<Dest> = (0..10_000u32)
            .map(|i| Dest {
                addr: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
                ..dest(0, 1)
            })
            .collect();
        let t = table(vec![vs(tcp(80), "rr", dests)]);
        assert_eq!(
            reconcile(&t, &Table::default(), &Table::default()).len(),
            10_001
        );
        assert!(reconcile(&t, &t, &t).is_empty());
        assert_eq!(t.dest_count(), 10_000);
    }
}
