//! The load balancer in the loop: the health checkers' results go into each virtual server's
//! pool, the pool's changes are logged and told to `notify_up`/`notify_down`/`quorum_up`/
//! `quorum_down`, and the table the pools describe is reconciled with the kernel's IPVS.
//!
//! Without IPVS in the kernel (no module, a container) this is said once and the checkers and
//! notifications go on, with VRRP; keepalived stops entirely in that case.

use super::*;
use crate::config::{Forward, LvsFlushOnStop, Protocol as CfgProtocol, VirtualServer, VsKey};
use crate::io::checks::CheckExecutor;
use crate::io::ipvs::{Ipvs, OpenError};
use crate::ipvs::pool::{Event as PoolEvent, Pool, RsId};
use crate::ipvs::{
    reconcile, teardown, Dest, FwdMethod, Op, Protocol, Service, ServiceKey, Table, VirtualService,
};

/// Notify queues of the virtual servers are numbered after every instance's and group's, one
/// per virtual server, so its scripts run one at a time and in order.
const LB_OWNER: usize = usize::MAX / 2;

pub(super) struct Lb {
    pub(super) checks: CheckExecutor,
    pool: Pool,
    /// None: the kernel has no IPVS (said once), or there is no virtual server.
    ipvs: Option<Ipvs>,
    /// IPVS was looked for (it is, once, when there first is a virtual server).
    ipvs_tried: bool,
    /// The table we last programmed: what the kernel holds of ours, unless `stale`.
    programmed: Table,
    /// The kernel refused some of what we asked (a scheduler it lacks, ...): at the next
    /// change its table is read again instead of trusting `programmed`, so what failed is
    /// asked again.
    stale: bool,
    /// A pool changed since the last reconcile.
    dirty: bool,
    /// `ha_suspend`: each such virtual server's addresses, and how many of them the host has
    /// now (an address on two interfaces counts twice, as keepalived counts it).
    ha: Vec<HaSuspend>,
    /// The kernel's refusals still repeating, logged once each.
    refusals: Repeats,
}

struct HaSuspend {
    vs: usize,
    addrs: Vec<std::net::Ipv4Addr>,
    present: u32,
}

impl Lb {
    /// The checkers and pools of `config`; IPVS is opened by [`Lb::open_ipvs`] (at start) or
    /// taken over from the running one (reload).
    pub(super) fn new(config: &Config, hooks: &Hooks, now: Instant) -> io::Result<Lb> {
        let checks = CheckExecutor::new(&config.virtual_servers, now, hooks.run_as, |u, g| {
            resolve_user(u, g)
        })?;
        Ok(Lb {
            checks,
            pool: Pool::new(config),
            ipvs: None,
            ipvs_tried: false,
            programmed: Table::default(),
            stale: true,
            dirty: true,
            ha: ha_suspend_addrs(config),
            refusals: Repeats::default(),
        })
    }

    /// `ha_suspend`: reads the host's addresses and suspends the checkers of each virtual
    /// server none of whose addresses is local (keepalived: they run only on the router that
    /// holds the virtual address, the VRRP master).
    pub(super) fn init_ha(&mut self, rtnl: &mut Rtnl, now: Instant) {
        if self.ha.is_empty() {
            return;
        }
        let local = match rtnl.all_ipv4_addrs() {
            Ok(a) => a,
            Err(e) => {
                lb_error!("ha_suspend: cannot read the host's addresses: {e}");
                Vec::new()
            }
        };
        for h in &mut self.ha {
            h.present = local
                .iter()
                .filter(|(_, a)| h.addrs.contains(&a.addr))
                .count() as u32;
            self.checks.set_suspended(h.vs, h.present == 0, now);
        }
    }

    /// An address came or went: the `ha_suspend` virtual servers that have it resume or stop.
    fn ha_addr(&mut self, config: &Config, addr: std::net::Ipv4Addr, removed: bool, now: Instant) {
        for h in &mut self.ha {
            if !h.addrs.contains(&addr) {
                continue;
            }
            let before = h.present > 0;
            h.present = if removed {
                h.present.saturating_sub(1)
            } else {
                h.present + 1
            };
            let after = h.present > 0;
            if before != after {
                let vs = &config.virtual_servers[h.vs];
                let verb = if after { "Activating" } else { "Deactivating" };
                lb_info!("{verb} healthcheckers for VS {} (ha_suspend)", vs.show());
                self.checks.set_suspended(h.vs, !after, now);
            }
        }
    }

    /// Opens IPVS the first time there is a virtual server; a kernel without it is said once.
    pub(super) fn open_ipvs(&mut self, config: &Config) {
        if self.ipvs_tried || config.virtual_servers.is_empty() {
            return;
        }
        self.ipvs_tried = true;
        self.ipvs = match Ipvs::open() {
            Ok(mut i) => {
                if config.global.lvs_flush {
                    lb_info!("lvs_flush: emptying the kernel's IPVS table");
                    apply(&mut i, &[Op::Flush], &mut self.refusals);
                }
                Some(i)
            }
            Err(OpenError::NoIpvs) => {
                lb_warn!(
                    "The kernel has no IPVS: virtual servers are checked and notified, \
                     not programmed"
                );
                None
            }
            Err(OpenError::Io(e)) => {
                lb_error!("IPVS: {e}: virtual servers are checked and notified, not programmed");
                None
            }
        };
    }

    /// Reload: a real server the old pool had failed stays failed, in the pool and in its new
    /// checkers, until they say otherwise (keepalived does not re-add a failed server on reload
    /// either); what we programmed before is what the reconcile starts from.
    pub(super) fn adopt(&mut self, old: Lb, old_cfg: &Config, new_cfg: &Config) {
        // By key and address: a reload of 10,000 real servers is not 10,000 searches of 10,000.
        let old_vs: FnvHashMap<&VsKey, usize> = old_cfg
            .virtual_servers
            .iter()
            .enumerate()
            .map(|(k, vs)| (&vs.key, k))
            .collect();
        for (v, vs) in new_cfg.virtual_servers.iter().enumerate() {
            let Some(&ov) = old_vs.get(&vs.key) else {
                continue;
            };
            let old_rs: FnvHashMap<std::net::SocketAddr, usize> = old_cfg.virtual_servers[ov]
                .real_servers
                .iter()
                .enumerate()
                .map(|(k, rs)| (rs.addr, k))
                .collect();
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if let Some(&or) = old_rs.get(&rs.addr) {
                    let alive = old.pool.is_alive(RsId {
                        vs: ov as u32,
                        rs: or as u32,
                    });
                    let id = RsId {
                        vs: v as u32,
                        rs: r as u32,
                    };
                    self.pool.set_alive(new_cfg, id, alive);
                    if !alive {
                        self.checks.start_failed(v, r);
                    }
                }
            }
        }
        // The carried-over states are not news.
        while self.pool.poll_event().is_some() {}
        self.ipvs = old.ipvs;
        self.ipvs_tried = old.ipvs_tried;
        self.open_ipvs(new_cfg);
        self.programmed = old.programmed;
        self.stale = old.stale;
        self.refusals = old.refusals;
        self.dirty = true;
    }

    /// The table the pools describe.
    fn desired(&self, config: &Config) -> Table {
        let mut services = Vec::new();
        for (v, vs) in config.virtual_servers.iter().enumerate() {
            for key in service_keys(config, vs) {
                let Ok(mut service) = Service::new(key, vs.sched.0) else {
                    continue;
                };
                service.flags = vs.flags;
                if vs.persistence_timeout != 0 {
                    service.flags |= crate::netlink::ipvs::SVC_F_PERSISTENT;
                    service.timeout = vs.persistence_timeout;
                }
                if let Some(m) = vs.persistence_granularity {
                    service.netmask = Service::ipv4_netmask(m);
                }
                let entry_port = match key {
                    ServiceKey::Addr { port, .. } => port,
                    ServiceKey::Fwmark { .. } => 0,
                };
                let dests = self
                    .pool
                    .dests(config, v as u32)
                    .map(|d| Dest {
                        addr: d.addr.ip(),
                        port: if d.addr.port() == 0 && d.method != Forward::Nat {
                            entry_port
                        } else {
                            d.addr.port()
                        },
                        fwd: match d.method {
                            Forward::Nat => FwdMethod::Masq,
                            Forward::Dr => FwdMethod::DirectRoute,
                            Forward::Tun => FwdMethod::Tunnel,
                        },
                        weight: i32::try_from(d.weight).unwrap_or(i32::MAX),
                        u_thresh: d.uthreshold,
                        l_thresh: d.lthreshold,
                    })
                    .collect();
                services.push(VirtualService { service, dests });
            }
        }
        Table::new(services).unwrap_or_else(|e| {
            lb_error!("IPVS table: {e}");
            Table::default()
        })
    }

    /// Brings the kernel's table to what the pools say, when a pool changed.
    fn sync(&mut self, config: &Config) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        if self.ipvs.is_none() {
            return;
        }
        let desired = self.desired(config);
        let Some(ipvs) = self.ipvs.as_mut() else {
            return;
        };
        // At start, and after the kernel refused something, its own table is read; otherwise
        // what we programmed is it.
        let ops = if self.stale {
            let current = ipvs.dump().unwrap_or_else(|e| {
                lb_error!("IPVS: cannot read the kernel's table: {e}");
                Table::default()
            });
            reconcile(&desired, &self.programmed, &current)
        } else {
            reconcile(&desired, &self.programmed, &self.programmed)
        };
        self.stale = !apply(ipvs, &ops, &mut self.refusals);
        self.programmed = desired;
    }

    /// SIGTERM: our virtual servers leave the kernel, as keepalived's do; with
    /// `lvs_flush_on_stop` (no argument) the whole table goes.
    fn stop(&mut self, config: &Config) {
        let Some(ipvs) = self.ipvs.as_mut() else {
            return;
        };
        if config.global.lvs_flush_on_stop == LvsFlushOnStop::Full {
            apply(ipvs, &[Op::Flush], &mut self.refusals);
            return;
        }
        let current = ipvs.dump().unwrap_or_default();
        let ops = teardown(&self.programmed, &current);
        apply(ipvs, &ops, &mut self.refusals);
    }
}

/// Applies `ops`, logging each refusal unless it is one `refusals` has logged already; whether
/// the kernel took all of them.
fn apply(ipvs: &mut Ipvs, ops: &[crate::ipvs::Op], refusals: &mut Repeats) -> bool {
    let (ok, failures) = if ops.is_empty() {
        // Nothing asked: what failed before is no longer wanted (a round without failures).
        (true, Vec::new())
    } else {
        match ipvs.apply(ops) {
            Ok(failures) => (
                failures.is_empty(),
                failures.iter().map(|f| f.to_string()).collect(),
            ),
            Err(e) => (false, vec![format!("IPVS: {e}")]),
        }
    };
    for line in refusals.round(failures) {
        lb_error!("{line}");
    }
    ok
}

/// After how many unlogged repeats a failure is logged again, with their count.
const REPEATS_REPORTED_EVERY: u32 = 100;

/// Failures that repeat: while its cause lasts, a refused IPVS operation is asked again at
/// every change (the kernel's table is read again and reconciled), and fails the same way.
/// Each is logged the first time; its repeats are counted, and logged as a count when it
/// stops failing or every [`REPEATS_REPORTED_EVERY`] repeats.
#[derive(Default)]
struct Repeats {
    /// Each failure of the last round, with its repeats not logged yet.
    open: Vec<(String, u32)>,
}

impl Repeats {
    /// One round's failures (one call of `apply`) in; the lines to log out.
    fn round(&mut self, failures: Vec<String>) -> Vec<String> {
        let mut lines = Vec::new();
        let count = |msg: &str, n: u32| format!("{msg} (failed {n} more times, not logged)");
        for (msg, n) in &self.open {
            if *n > 0 && !failures.contains(msg) {
                lines.push(count(msg, *n));
            }
        }
        self.open.retain(|(msg, _)| failures.contains(msg));
        for msg in failures {
            match self.open.iter_mut().find(|(m, _)| *m == msg) {
                Some((_, n)) => {
                    *n += 1;
                    if *n == REPEATS_REPORTED_EVERY {
                        lines.push(count(&msg, *n));
                        *n = 0;
                    }
                }
                None => {
                    lines.push(msg.clone());
                    self.open.push((msg, 0));
                }
            }
        }
        lines
    }
}

/// The IPv4 addresses of each `ha_suspend` virtual server (the parser clears it for fwmarks).
fn ha_suspend_addrs(config: &Config) -> Vec<HaSuspend> {
    let v4 = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(a) => Some(a),
        std::net::IpAddr::V6(_) => None,
    };
    config
        .virtual_servers
        .iter()
        .enumerate()
        .filter(|(_, vs)| vs.ha_suspend)
        .map(|(v, vs)| {
            let addrs = match &vs.key {
                VsKey::Addr(a) => v4(a.ip()).into_iter().collect(),
                VsKey::Group(g) => config
                    .vs_groups
                    .iter()
                    .filter(|x| &x.name == g)
                    .flat_map(|x| x.addrs.iter().filter_map(|a| v4(a.ip())))
                    .collect(),
                VsKey::Fwmark(_) => Vec::new(),
            };
            HaSuspend {
                vs: v,
                addrs,
                present: 0,
            }
        })
        .collect()
}

/// The kernel services of virtual server `vs`: one, or one per member of its group.
fn service_keys(config: &Config, vs: &VirtualServer) -> Vec<ServiceKey> {
    let protocol = match vs.protocol.unwrap_or(CfgProtocol::Tcp) {
        CfgProtocol::Tcp => Protocol::Tcp,
        CfgProtocol::Udp => Protocol::Udp,
        CfgProtocol::Sctp => Protocol::Sctp,
    };
    let v6 = vs.real_servers.first().is_some_and(|r| r.addr.is_ipv6());
    match &vs.key {
        VsKey::Addr(a) => vec![ServiceKey::Addr {
            protocol,
            addr: a.ip(),
            port: a.port(),
        }],
        VsKey::Fwmark(m) => vec![ServiceKey::Fwmark { ipv6: v6, mark: *m }],
        VsKey::Group(g) => {
            let Some(group) = config.vs_groups.iter().find(|x| &x.name == g) else {
                return Vec::new();
            };
            let addrs = group.addrs.iter().map(|a| ServiceKey::Addr {
                protocol,
                addr: a.ip(),
                port: a.port(),
            });
            let marks = group
                .fwmarks
                .iter()
                .map(|&m| ServiceKey::Fwmark { ipv6: v6, mark: m });
            addrs.chain(marks).collect()
        }
    }
}

impl Daemon {
    /// SIGTERM: with `omega`, a virtual server's live real servers run `notify_down` and its
    /// quorum `quorum_down`, as keepalived does on its way out; then the table is cleared.
    pub(super) fn lb_stop(&mut self) {
        for (v, vs) in self.config.virtual_servers.iter().enumerate() {
            if !vs.omega {
                continue;
            }
            for (r, rs) in vs.real_servers.iter().enumerate() {
                if let (true, Some(c)) = (self.lb.pool.is_alive(id(v, r)), &rs.notify_down) {
                    self.notifier.push(LB_OWNER + v, c, Vec::new());
                }
            }
            if let (true, Some(c)) = (self.lb.pool.quorum_up(v as u32), &vs.quorum_down) {
                self.notifier.push(LB_OWNER + v, c, Vec::new());
            }
        }
        self.lb.stop(&self.config);
    }

    /// An address event, for `ha_suspend`.
    pub(super) fn lb_addr(&mut self, addr: std::net::Ipv4Addr, removed: bool, now: Instant) {
        self.lb.ha_addr(&self.config, addr, removed, now);
    }

    /// A checker socket is ready.
    pub(super) fn on_check_ready(&mut self, token: Token) {
        let now = clock::now();
        self.lb
            .checks
            .handle_ready(&self.config.virtual_servers, token, &mut self.poller, now);
        self.flush_lb();
    }

    /// Checkers due, attempts past their deadline.
    pub(super) fn lb_timeouts(&mut self, now: Instant) {
        self.lb.checks.handle_timeout(
            &self.config.virtual_servers,
            now,
            &mut self.poller,
            &mut self.children,
        );
        self.flush_lb();
    }

    /// The checkers' results into the pools; the pools' changes to the log, the scripts and
    /// the kernel.
    pub(super) fn flush_lb(&mut self) {
        use crate::check::Event as CheckEvent;
        while let Some(e) = self.lb.checks.poll_event() {
            let cfg = &self.config;
            let changed = match e {
                CheckEvent::RealServerUp { vs, rs } => {
                    self.lb.pool.set_alive(cfg, id(vs, rs), true)
                }
                CheckEvent::RealServerDown { vs, rs } => {
                    self.lb.pool.set_alive(cfg, id(vs, rs), false)
                }
                CheckEvent::WeightChanged { vs, rs, weight } => {
                    self.lb.pool.set_weight(cfg, id(vs, rs), weight)
                }
            };
            self.lb.dirty |= changed;
        }
        while let Some(e) = self.lb.pool.poll_event() {
            self.lb_event(e);
        }
        self.lb.sync(&self.config);
    }

    fn lb_event(&mut self, e: PoolEvent) {
        let cfgs = &self.config.virtual_servers;
        let smtp = &self.config.global.smtp;
        let router_id = &self.hooks.router_id;
        let (vs, command, mail) = match e {
            PoolEvent::RealServerUp(id) | PoolEvent::RealServerDown(id) => {
                let up = matches!(e, PoolEvent::RealServerUp(_));
                let vs = &cfgs[id.vs as usize];
                let rs = &vs.real_servers[id.rs as usize];
                let inhibit = rs.inhibit_on_failure;
                let verb = match (up, inhibit) {
                    (true, false) => "Adding service",
                    (true, true) => "Enabling service",
                    (false, false) => "Removing service",
                    (false, true) => "Disabling service",
                };
                let prep = if up { "to" } else { "from" };
                let (rs_name, vs_name) = (show_rs(rs.addr), vs.show());
                lb_info!("{verb} {rs_name} {prep} VS {vs_name}");
                let state = if up { "UP" } else { "DOWN" };
                let line = format!("RS {rs_name} {vs_name} {state}\n");
                self.hooks.fifos.announce_lvs(&line);
                let mail = smtp.checker_alerts(rs.smtp_alert, true).then(|| {
                    let m = smtp::real_server_alert(router_id, &rs_name, &vs_name, up);
                    (format!("RS {rs_name} {vs_name}"), state, m)
                });
                let cmd = if up { &rs.notify_up } else { &rs.notify_down };
                (id.vs, cmd.as_deref().cloned(), mail)
            }
            PoolEvent::Quorum { vs: v, up, weight } => {
                let vs = &cfgs[v as usize];
                let (q, h) = (vs.quorum, vs.hysteresis);
                let vs_name = vs.show();
                if up {
                    lb_info!("Gained quorum {q}+{h} <= {weight} for VS {vs_name}");
                } else {
                    lb_info!("Lost quorum {q}-{h} > {weight} for VS {vs_name}");
                }
                let state = if up { "UP" } else { "DOWN" };
                self.hooks
                    .fifos
                    .announce_lvs(&format!("VS {vs_name} {state}\n"));
                let mail = smtp.checker_alerts(vs.smtp_alert, false).then(|| {
                    let m = smtp::virtual_server_alert(router_id, &vs_name, up, q, h, weight);
                    (format!("VS {vs_name}"), state, m)
                });
                let cmd = if up { &vs.quorum_up } else { &vs.quorum_down };
                (v, cmd.clone(), mail)
            }
        };
        if let Some(c) = command {
            self.notifier.push(LB_OWNER + vs as usize, &c, Vec::new());
        }
        if let Some((key, state, message)) = mail {
            self.mail(true, key, state, Some(message));
        }
    }
}

fn id(vs: usize, rs: usize) -> RsId {
    RsId {
        vs: vs as u32,
        rs: rs as u32,
    }
}

/// A real server as keepalived's logs write it: `[192.0.2.20]:80`.
fn show_rs(a: std::net::SocketAddr) -> String {
    format!("[{}]:{}", a.ip(), a.port())
}

impl Daemon {
    /// SIGUSR1's `keepalived_check.data`: the virtual servers, real servers and checkers with
    /// their state, in the lines of keepalived's `dump_vs`/`dump_rs`/`dump_checker` that say
    /// what an operator asks (what is configured, what is alive, what each checker says).
    pub(super) fn check_data(&self) -> String {
        use core::fmt::Write;
        let mut out = String::with_capacity(256 * (1 + self.config.virtual_servers.len()));
        let yes = |b: bool| if b { "yes" } else { "no" };
        let on = |b: bool| if b { "ON" } else { "OFF" };
        let mut checker = 0;
        let _ = writeln!(out, "------< LVS Topology >------");
        for (v, vs) in self.config.virtual_servers.iter().enumerate() {
            let _ = writeln!(out, " ------< Virtual server >------");
            let _ = match &vs.key {
                VsKey::Addr(a) => writeln!(out, " VS VIP = {}, VPORT = {}", a.ip(), a.port()),
                VsKey::Fwmark(m) => writeln!(out, " VS FWMARK = {m}"),
                VsKey::Group(_) => writeln!(out, " VS GROUP = {}", vs.show()),
            };
            let protocol = vs.protocol.map_or("none", |p| match p {
                CfgProtocol::Tcp => "TCP",
                CfgProtocol::Udp => "UDP",
                CfgProtocol::Sctp => "SCTP",
            });
            let _ = writeln!(out, "   lvs_sched = {}", vs.sched.0);
            if vs.persistence_timeout != 0 {
                let _ = writeln!(out, "   persistence timeout = {}", vs.persistence_timeout);
            }
            let _ = writeln!(out, "   protocol = {protocol}");
            let _ = writeln!(out, "   omega is {}", on(vs.omega));
            let _ = writeln!(
                out,
                "   quorum = {}, hysteresis = {}",
                vs.quorum, vs.hysteresis
            );
            if vs.ha_suspend {
                let suspended = self.lb.checks.checks().is_suspended(v);
                let _ = writeln!(out, "   Using HA suspend (suspended = {})", yes(suspended));
            }
            let _ = writeln!(
                out,
                "   quorum_state_up = {}",
                yes(self.lb.pool.quorum_up(v as u32))
            );
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let alive = self.lb.pool.is_alive(id(v, r));
                let _ = writeln!(out, "   ------< Real server >------");
                let _ = writeln!(
                    out,
                    "   RIP = {}, RPORT = {}, WEIGHT = {}",
                    rs.addr.ip(),
                    rs.addr.port(),
                    rs.weight
                );
                let _ = writeln!(out, "   forwarding method = {}", rs.method.name());
                let _ = writeln!(
                    out,
                    "   Inhibit on failure is {}",
                    on(rs.inhibit_on_failure)
                );
                let _ = writeln!(out, "   alive = {}", u8::from(alive));
                for c in &rs.checkers {
                    let up = self
                        .lb
                        .checks
                        .checks()
                        .checker_up(crate::check::CheckerId(checker));
                    checker += 1;
                    let _ = writeln!(out, "   {} -> {}", c.kind.keyword(), c.conn.dst);
                    let _ = writeln!(out, "     Up = {}", yes(up));
                    let _ = writeln!(
                        out,
                        "     Delay loop = {} us, Retries = {}, Delay before retry = {} us",
                        c.delay_loop.as_micros(),
                        c.retry,
                        c.delay_before_retry.as_micros()
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(r: &mut Repeats, failures: &[&str]) -> Vec<String> {
        r.round(failures.iter().map(|f| f.to_string()).collect())
    }

    #[test]
    fn a_repeated_failure_is_logged_once_then_counted() {
        let mut r = Repeats::default();
        let a = "IPVS: cannot add service [192.0.2.100]:tcp:80: no scheduler";
        let b = "IPVS: cannot add destination [192.0.2.3]:80: EINVAL";
        assert_eq!(round(&mut r, &[a]), [a]);
        // The same failure at the next changes: nothing, however often.
        for _ in 0..3 {
            assert!(round(&mut r, &[a]).is_empty());
        }
        // Another failure is news; the first keeps repeating unlogged.
        assert_eq!(round(&mut r, &[a, b]), [b]);
        // It stops: its count is told once; b stops after no repeat: nothing more to say.
        assert_eq!(
            round(&mut r, &[]),
            [format!("{a} (failed 4 more times, not logged)")]
        );
        assert!(round(&mut r, &[]).is_empty());
        // Back again later: logged again as new.
        assert_eq!(round(&mut r, &[a]), [a]);
    }

    #[test]
    fn a_failure_that_never_stops_is_counted_every_hundred_repeats() {
        let mut r = Repeats::default();
        let a = "IPVS: cannot add service [192.0.2.100]:tcp:80: no scheduler";
        let mut logged = round(&mut r, &[a]);
        for _ in 0..250 {
            logged.extend(round(&mut r, &[a]));
        }
        let count = format!("{a} (failed 100 more times, not logged)");
        assert_eq!(logged, [a.to_string(), count.clone(), count]);
        // The 50 since the last count are told when it stops.
        assert_eq!(
            round(&mut r, &[]),
            [format!("{a} (failed 50 more times, not logged)")]
        );
    }
}
