//! The load balancer's keywords: `virtual_server`, `virtual_server_group`, `real_server` and the
//! health checkers (keepalived 2.2.7 check/check_parser.c, check_api.c, check_*.c).
//!
//! Values that can be set at several levels (`delay_loop`, `retry`, `connect_timeout`, ...)
//! are kept as `Option`s while parsing and resolved at the end of each virtual server, checker
//! <- real server <- virtual server <- the checker's own default, as keepalived's
//! `validate_check_config` does. Mistakes keepalived reports and corrects (a duplicate real
//! server, a quorum above the total weight) are logged with file:line, corrected the same way,
//! and counted in `Config::mistakes` so `-t` exits 5 as keepalived's does.

use super::scripts::{command, flag};
use super::*;
use std::net::SocketAddr;

/// keepalived's KEEPALIVED_DEFAULT_DELAY.
const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// IPVS_WEIGHT_LIMIT.
const WEIGHT_MAX: u32 = 65535;
/// A generous cap on real servers per virtual server, so a hostile file cannot ask for an
/// unbounded table (keepalived has none; 2.3's notes mention 37,000 in one configuration).
const RS_MAX: usize = 100_000;

/// Timing keywords accepted at every level.
#[derive(Default, Clone, Copy)]
struct Timing {
    delay_loop: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    connect_timeout: Option<Duration>,
}

impl Timing {
    /// The first value set, self before `outer`.
    fn or(self, outer: Timing) -> Timing {
        Timing {
            delay_loop: self.delay_loop.or(outer.delay_loop),
            retry: self.retry.or(outer.retry),
            delay_before_retry: self.delay_before_retry.or(outer.delay_before_retry),
            warmup: self.warmup.or(outer.warmup),
            connect_timeout: self.connect_timeout.or(outer.connect_timeout),
        }
    }
}

/// One of the timing keywords, if `n` is one.
fn timing(t: &mut Timing, n: &Node) -> Result<bool, ConfigError> {
    match n.keyword() {
        "delay_loop" => t.delay_loop = Some(secs(seconds(n, 1, 1, MAX_US)?)),
        "retry" | "nb_get_retry" => t.retry = Some(uint(n, 1, 0, u32::MAX)?),
        "delay_before_retry" => t.delay_before_retry = Some(secs(seconds(n, 1, 0, MAX_US)?)),
        "warmup" => t.warmup = Some(secs(seconds(n, 1, 0, MAX_US)?)),
        "connect_timeout" => t.connect_timeout = Some(secs(seconds(n, 1, 1, MAX_US)?)),
        _ => return Ok(false),
    }
    if n.words.len() < 2 {
        return Err(n.err("missing value"));
    }
    Ok(true)
}

/// The longest time keepalived's timers take (UINT_MAX microseconds, about 71 minutes).
const MAX_US: u64 = u32::MAX as u64;

/// A forwarding method; an unknown one is reported and ignored, as keepalived does.
fn forward(n: &Node, c: &mut Ctx) -> Option<Forward> {
    match n.words[1].as_str() {
        "NAT" => Some(Forward::Nat),
        "DR" => Some(Forward::Dr),
        "TUN" => Some(Forward::Tun),
        s => {
            mistake(
                n,
                c,
                format_args!("unknown forwarding method '{s}' (NAT, DR or TUN), ignored"),
            );
            None
        }
    }
}

/// A mistake keepalived reports and carries on from: logged with file:line, counted for `-t`.
fn mistake(n: &Node, c: &mut Ctx, message: core::fmt::Arguments) {
    n.warn(message);
    c.mistakes.push(n.at.clone());
}

/// `IP [PORT]` at word `i`: a port of 0 or none is "not given".
fn server_addr(n: &Node, i: usize) -> Result<(IpAddr, Option<u16>), ConfigError> {
    let s = n.arg(i)?;
    let ip: IpAddr = s
        .parse()
        .map_err(|_| n.err(format!("'{s}' is not an IP address")))?;
    let port = match n.words.get(i + 1) {
        Some(_) => Some(uint(n, i + 1, 0, 65535)? as u16).filter(|&p| p != 0),
        None => None,
    };
    Ok((ip, port))
}

// ---------------------------------------------------------------------------------------------
// virtual_server_group

pub(super) fn vs_group(top: &mut Top, node: &Node, _: &mut Ctx) -> Result<(), ConfigError> {
    if node.words.len() != 2 {
        return Err(node.err("needs exactly one name"));
    }
    let name = &node.words[1];
    if top.vs_groups.iter().any(|g| &g.name == name) {
        return Err(node.err(format!("virtual_server_group {name} is already defined")));
    }
    let mut g = VsGroup {
        name: name.clone(),
        at: node.at.clone(),
        addrs: Vec::new(),
        fwmarks: Vec::new(),
    };
    for line in node.children() {
        if line.block.is_some() {
            return Err(line.err("unexpected { } block"));
        }
        if line.keyword() == "fwmark" {
            g.fwmarks.push(uint(line, 1, 1, u32::MAX)?);
            continue;
        }
        group_range(line, &mut g.addrs)?;
    }
    if g.addrs.is_empty() && g.fwmarks.is_empty() {
        return Err(node.err(format!("virtual_server_group {name} has no entries")));
    }
    let v4 = g.addrs.iter().filter(|a| a.is_ipv4()).count();
    if v4 != 0 && v4 != g.addrs.len() {
        return Err(node.err(format!(
            "virtual_server_group {name} mixes IPv4 and IPv6 addresses"
        )));
    }
    top.vs_groups.push(g);
    Ok(())
}

/// A group line `IP[-LAST] [PORT]`: LAST is the last byte (IPv4) or 16-bit group (IPv6) of a
/// range of consecutive addresses.
fn group_range(line: &Node, out: &mut Vec<SocketAddr>) -> Result<(), ConfigError> {
    let word = line.keyword();
    let (first, last) = match word.split_once('-') {
        Some((a, l)) => (a, Some(l)),
        None => (word, None),
    };
    let ip: IpAddr = first
        .parse()
        .map_err(|_| line.err(format!("'{first}' is not an IP address")))?;
    let port = match line.words.get(1) {
        Some(_) => uint(line, 1, 0, 65535)? as u16,
        None => 0,
    };
    let (base, end): (u128, u128) = match (ip, last) {
        (IpAddr::V4(a), Some(l)) => {
            let l: u8 = l.parse().map_err(|_| line.err("bad end of range"))?;
            let a = u32::from(a);
            ((a as u128), ((a & !0xff) | u32::from(l)) as u128)
        }
        (IpAddr::V6(a), Some(l)) => {
            let l = u16::from_str_radix(l, 16).map_err(|_| line.err("bad end of range"))?;
            let a = u128::from(a);
            (a, (a & !0xffff) | u128::from(l))
        }
        (_, None) => (0, 0),
    };
    if last.is_none() {
        out.push(SocketAddr::new(ip, port));
        return Ok(());
    }
    if end < base {
        return Err(line.err(format!("range {word} ends before it starts")));
    }
    for a in base..=end {
        let ip = match ip {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(a as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(a)),
        };
        out.push(SocketAddr::new(ip, port));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// virtual_server

#[derive(Default)]
struct VsDraft {
    protocol: Option<Protocol>,
    sched: Option<Scheduler>,
    /// Flag keywords with where they were, checked against the scheduler at the end.
    flags: Vec<(String, Location)>,
    method: Option<Forward>,
    persistence_timeout: Option<u32>,
    persistence_granularity: Option<Ipv4Addr>,
    quorum: Option<u32>,
    hysteresis: u32,
    quorum_up: Option<Command>,
    quorum_down: Option<Command>,
    sorry: Option<(IpAddr, Option<u16>)>,
    sorry_inhibit: bool,
    sorry_method: Option<Forward>,
    ha_suspend: bool,
    virtualhost: Option<String>,
    alpha: bool,
    omega: bool,
    smtp_alert: Option<bool>,
    weight: Option<u32>,
    inhibit: bool,
    timing: Timing,
    real_servers: Vec<RsDraft>,
}

pub(super) fn virtual_server(top: &mut Top, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    let key = match node.arg(1)? {
        "group" => VsKey::Group(node.arg(2)?.to_string()),
        "fwmark" => VsKey::Fwmark(uint(node, 2, 1, u32::MAX)?),
        _ => {
            let (ip, port) = server_addr(node, 1)?;
            VsKey::Addr(SocketAddr::new(ip, port.unwrap_or(0)))
        }
    };
    if let VsKey::Group(g) = &key {
        if !top.vs_groups.iter().any(|x| &x.name == g) {
            return Err(node.err(format!("virtual_server_group {g} is not defined before it")));
        }
    }
    let mut d = VsDraft::default();
    let place = format!("virtual_server {}", node.words[1..].join(" "));
    for n in node.children() {
        if timing(&mut d.timing, n)? {
            continue;
        }
        if n.keyword() == "real_server" {
            if !check(n, Some(Shape::Block), "", &place, ctx)? {
                continue;
            }
            if d.real_servers.len() >= RS_MAX {
                return Err(n.err(format!("more than {RS_MAX} real servers")));
            }
            let rs = real_server(n, ctx)?;
            d.real_servers.push(rs);
            continue;
        }
        dispatch(&mut d, core::slice::from_ref(n), VS, VS_KNOWN, &place, ctx)?;
    }
    let vs = d.finish(node, key, top, ctx)?;
    if let Some(vs) = vs {
        if let Some(dup) = top.virtual_servers.iter().find(|v| v.key == vs.key) {
            return Err(node.err(format!(
                "virtual server {} is already defined at {}",
                vs.show(),
                dup.at
            )));
        }
        top.virtual_servers.push(vs);
    }
    Ok(())
}

const VS: Table<VsDraft> = &[
    ("lb_algo", Shape::Value, sched),
    ("lvs_sched", Shape::Value, sched),
    ("lb_kind", Shape::Value, |d, n, c| {
        d.method = forward(n, c).or(d.method);
        Ok(())
    }),
    ("lvs_method", Shape::Value, |d, n, c| {
        d.method = forward(n, c).or(d.method);
        Ok(())
    }),
    ("persistence_timeout", Shape::Flag, |d, n, c| {
        // keepalived: no value is its default of 6 minutes; 0 it reports and ignores (the
        // guides' "persistence_timeout 0" means not persistent).
        d.persistence_timeout = Some(match n.words.get(1).map(String::as_str) {
            Some("0") => {
                mistake(n, c, format_args!("0 is not a timeout, not persistent"));
                0
            }
            Some(_) => uint(n, 1, 1, u32::MAX)?,
            None => 360,
        });
        Ok(())
    }),
    ("persistence_granularity", Shape::Value, |d, n, _| {
        let s = n.arg(1)?;
        let m: Ipv4Addr = s
            .parse()
            .map_err(|_| n.err(format!("'{s}' is not an IPv4 netmask")))?;
        let bits = u32::from(m);
        if bits.leading_ones() + bits.trailing_zeros() != 32 {
            return Err(n.err(format!("netmask {s} is not contiguous")));
        }
        d.persistence_granularity = Some(m);
        Ok(())
    }),
    ("protocol", Shape::Value, |d, n, _| {
        d.protocol = Some(match n.words[1].to_ascii_uppercase().as_str() {
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            s => return Err(n.err(format!("unknown protocol '{s}' (TCP, UDP or SCTP)"))),
        });
        Ok(())
    }),
    ("quorum", Shape::Value, |d, n, c| {
        if n.words[1] == "0" {
            mistake(n, c, format_args!("0 is not a quorum, ignored"));
            return Ok(());
        }
        d.quorum = Some(uint(n, 1, 1, u32::MAX)?);
        Ok(())
    }),
    ("hysteresis", Shape::Value, |d, n, _| {
        d.hysteresis = uint(n, 1, 0, u32::MAX)?;
        Ok(())
    }),
    ("quorum_up", Shape::Value, |d, n, _| {
        d.quorum_up = Some(command(n));
        Ok(())
    }),
    ("quorum_down", Shape::Value, |d, n, _| {
        d.quorum_down = Some(command(n));
        Ok(())
    }),
    ("sorry_server", Shape::Value, |d, n, _| {
        d.sorry = Some(server_addr(n, 1)?);
        Ok(())
    }),
    ("sorry_server_inhibit", Shape::Flag, |d, n, _| {
        d.sorry_inhibit = flag(n)?;
        Ok(())
    }),
    ("sorry_server_lvs_method", Shape::Value, |d, n, c| {
        d.sorry_method = forward(n, c).or(d.sorry_method);
        Ok(())
    }),
    ("ha_suspend", Shape::Flag, |d, n, _| {
        d.ha_suspend = flag(n)?;
        Ok(())
    }),
    ("virtualhost", Shape::Value, |d, n, _| {
        d.virtualhost = Some(n.words[1].clone());
        Ok(())
    }),
    ("alpha", Shape::Flag, |d, n, _| {
        d.alpha = flag(n)?;
        Ok(())
    }),
    ("omega", Shape::Flag, |d, n, _| {
        d.omega = flag(n)?;
        Ok(())
    }),
    ("smtp_alert", Shape::Flag, |d, n, _| {
        d.smtp_alert = Some(flag(n)?);
        Ok(())
    }),
    ("weight", Shape::Value, |d, n, _| {
        d.weight = Some(uint(n, 1, 0, WEIGHT_MAX)?);
        Ok(())
    }),
    ("inhibit_on_failure", Shape::Flag, |d, n, _| {
        d.inhibit = flag(n)?;
        Ok(())
    }),
    ("hashed", Shape::Flag, sched_flag),
    ("ops", Shape::Flag, sched_flag),
    ("flag-1", Shape::Flag, sched_flag),
    ("flag-2", Shape::Flag, sched_flag),
    ("flag-3", Shape::Flag, sched_flag),
    ("sh-port", Shape::Flag, sched_flag),
    ("sh-fallback", Shape::Flag, sched_flag),
    ("mh-port", Shape::Flag, sched_flag),
    ("mh-fallback", Shape::Flag, sched_flag),
    ("nat_mask", Shape::Value, |_, n, _| {
        n.warn(format_args!(
            "has no effect (keepalived 2.x no longer uses it), ignored"
        ));
        Ok(())
    }),
];

/// The IPVS service flag keywords and their IP_VS_SVC_F_* values; `sh-*`/`mh-*` are the
/// scheduler flags 1 and 2 under another name and only apply to their scheduler.
const SCHED_FLAGS: [(&str, u32, Option<&str>); 9] = [
    ("hashed", 0x0002, None),
    ("ops", 0x0004, None),
    ("flag-1", 0x0008, None),
    ("flag-2", 0x0010, None),
    ("flag-3", 0x0020, None),
    ("sh-fallback", 0x0008, Some("sh")),
    ("sh-port", 0x0010, Some("sh")),
    ("mh-fallback", 0x0008, Some("mh")),
    ("mh-port", 0x0010, Some("mh")),
];

fn sched(d: &mut VsDraft, n: &Node, c: &mut Ctx) -> Result<(), ConfigError> {
    let s = &n.words[1];
    match Scheduler::parse(s) {
        Some(sched) => d.sched = Some(sched),
        None => mistake(n, c, format_args!("unknown scheduler '{s}', ignored")),
    }
    Ok(())
}

fn sched_flag(d: &mut VsDraft, n: &Node, _: &mut Ctx) -> Result<(), ConfigError> {
    d.flags.push((n.keyword().to_string(), n.at.clone()));
    Ok(())
}

/// Keywords keepalived 2.2.7 knows in a virtual_server that we parse past.
const VS_KNOWN: &str = "ip_family persistence_engine snmp_name";

impl VsDraft {
    /// keepalived's `validate_check_config` for one virtual server. `None`: dropped, as
    /// keepalived drops a virtual server without real servers.
    fn finish(
        mut self,
        node: &Node,
        key: VsKey,
        top: &Top,
        ctx: &mut Ctx,
    ) -> Result<Option<VirtualServer>, ConfigError> {
        let mistake = |ctx: &mut Ctx, msg: core::fmt::Arguments| {
            node.warn(msg);
            ctx.mistakes.push(node.at.clone());
        };
        let name = node.words[1..].join(" ");
        if self.real_servers.is_empty() {
            mistake(ctx, format_args!("{name} has no real servers, ignored"));
            return Ok(None);
        }
        let group = match &key {
            VsKey::Group(g) => top.vs_groups.iter().find(|x| &x.name == g),
            _ => None,
        };
        let fwmark_only = match (&key, group) {
            (VsKey::Fwmark(_), _) => true,
            (_, Some(g)) => g.addrs.is_empty(),
            _ => false,
        };
        let family_v4 = match (&key, group) {
            (VsKey::Addr(a), _) => Some(a.is_ipv4()),
            (_, Some(g)) => g.addrs.first().map(SocketAddr::is_ipv4),
            _ => None,
        };
        if self.ha_suspend && (fwmark_only || group.is_some_and(|g| !g.fwmarks.is_empty())) {
            mistake(
                ctx,
                format_args!("cannot use ha_suspend with fwmarks, cleared"),
            );
            self.ha_suspend = false;
        }
        let protocol = if fwmark_only {
            if self.protocol.is_some() {
                node.warn(format_args!("protocol is ignored for a fwmark service"));
            }
            None
        } else {
            Some(self.protocol.unwrap_or_else(|| {
                mistake(
                    ctx,
                    format_args!("no protocol set, using UDP as keepalived"),
                );
                Protocol::Udp
            }))
        };
        let sched = self.sched.unwrap_or_default();
        let mut flags = 0;
        for (word, at) in &self.flags {
            let Some(&(_, bit, only)) = SCHED_FLAGS.iter().find(|f| f.0 == word) else {
                continue;
            };
            if only.is_some_and(|s| s != sched.0) {
                warn!(
                    "{at}: {word} only applies to the {} scheduler, ignored",
                    only.unwrap_or("")
                );
                ctx.mistakes.push(at.clone());
                continue;
            }
            flags |= bit;
        }
        let vport = match &key {
            VsKey::Addr(a) => a.port(),
            _ => 0,
        };
        let mut persistence_timeout = self.persistence_timeout.unwrap_or(0);
        let zero_port = match (&key, group) {
            (VsKey::Addr(a), _) => a.port() == 0,
            (_, Some(g)) => g.addrs.iter().any(|a| a.port() == 0),
            _ => false,
        };
        if persistence_timeout == 0 && zero_port {
            mistake(ctx, format_args!("port 0 is only valid for a persistent service, setting persistence_timeout 360"));
            persistence_timeout = 360;
        }
        let method = self.method;
        let default_method = |ctx: &mut Ctx| {
            method.unwrap_or_else(|| {
                node.warn(format_args!("no lb_kind set, using NAT"));
                ctx.mistakes.push(node.at.clone());
                Forward::Nat
            })
        };
        let vs_timing = self.timing;
        let mut real_servers: Vec<RealServer> = Vec::with_capacity(self.real_servers.len());
        for rs in self.real_servers {
            if family_v4.is_some_and(|v4| v4 != rs.ip.is_ipv4()) {
                mistake(
                    ctx,
                    format_args!(
                        "real server {} is not of the virtual server's address family, ignored",
                        rs.ip
                    ),
                );
                continue;
            }
            let method = match rs.method {
                Some(m) => m,
                None => default_method(ctx),
            };
            let port = rs_port(
                rs.port,
                vport,
                method,
                matches!(key, VsKey::Fwmark(_)),
                &rs.at,
            );
            let addr = SocketAddr::new(rs.ip, port);
            if let Some(first) = real_servers.iter().find(|r| r.addr == addr) {
                warn!(
                    "{}: real server {addr} is a duplicate of the one at {}, ignored",
                    rs.at, first.at
                );
                ctx.mistakes.push(rs.at.clone());
                continue;
            }
            let timing = rs.timing.or(vs_timing);
            let alpha = rs.alpha.unwrap_or(self.alpha);
            let host = rs.virtualhost.as_ref().or(self.virtualhost.as_ref());
            // Pushed into an exact capacity: a `collect` would reuse the drafts' buffer (4 drafts
            // of ~360 B for one checker) and keep it for the life of the configuration.
            let mut checkers = Vec::with_capacity(rs.checkers.len());
            for c in rs.checkers {
                checkers.extend(c.finish(addr, timing, alpha, host, &top.global, ctx)?);
            }
            real_servers.push(RealServer {
                at: rs.at,
                addr,
                weight: rs.weight.or(self.weight).unwrap_or(1),
                method,
                uthreshold: rs.uthreshold,
                lthreshold: rs.lthreshold,
                inhibit_on_failure: rs.inhibit.unwrap_or(self.inhibit),
                notify_up: rs.notify_up,
                notify_down: rs.notify_down,
                alpha,
                smtp_alert: rs.smtp_alert,
                checkers,
            });
        }
        if real_servers.is_empty() {
            mistake(
                ctx,
                format_args!("{name} has no usable real servers, ignored"),
            );
            return Ok(None);
        }
        let weight_sum: u64 = real_servers.iter().map(|r| u64::from(r.weight)).sum();
        let mut quorum = self.quorum.unwrap_or(1);
        if u64::from(quorum) > weight_sum {
            let w = weight_sum as u32;
            mistake(
                ctx,
                format_args!(
                    "quorum {quorum} exceeds the total weight of the real servers {w}, using {w}"
                ),
            );
            quorum = w;
        }
        let mut hysteresis = self.hysteresis;
        if hysteresis >= quorum && (hysteresis != 0 || quorum != 0) {
            let h = quorum.saturating_sub(1);
            mistake(
                ctx,
                format_args!("hysteresis {hysteresis} >= quorum {quorum}, using {h}"),
            );
            hysteresis = h;
        }
        let sorry_server = match self.sorry {
            None => {
                if self.sorry_inhibit || self.sorry_method.is_some() {
                    mistake(
                        ctx,
                        format_args!("sorry_server options without a sorry_server, ignored"),
                    );
                }
                None
            }
            Some((ip, port)) => {
                let method = match self.sorry_method.or(self.method) {
                    Some(m) => m,
                    None => default_method(ctx),
                };
                let fw = matches!(key, VsKey::Fwmark(_));
                let port = rs_port(port, vport, method, fw, &node.at);
                Some(SorryServer {
                    addr: SocketAddr::new(ip, port),
                    method,
                    inhibit: self.sorry_inhibit,
                })
            }
        };
        Ok(Some(VirtualServer {
            at: node.at.clone(),
            key,
            protocol,
            sched,
            flags,
            method: self.method.unwrap_or_default(),
            persistence_timeout,
            persistence_granularity: self.persistence_granularity,
            quorum,
            hysteresis,
            quorum_up: self.quorum_up,
            quorum_down: self.quorum_down,
            sorry_server,
            ha_suspend: self.ha_suspend,
            omega: self.omega,
            smtp_alert: self.smtp_alert,
            real_servers,
        }))
    }
}

/// A real (or sorry) server's port, as keepalived corrects it: NAT keeps its own port (the
/// virtual server's when none); otherwise a fwmark service has none and an address service
/// has the virtual server's.
fn rs_port(port: Option<u16>, vport: u16, method: Forward, fwmark: bool, at: &Location) -> u16 {
    match (method, port) {
        (Forward::Nat, Some(p)) => p,
        (Forward::Nat, None) => vport,
        (_, Some(p)) if fwmark => {
            warn!("{at}: port {p} is ignored for a fwmark service that is not NAT");
            0
        }
        (_, Some(p)) if vport != 0 && p != vport => {
            warn!("{at}: port {p} does not match the virtual server's {vport}, using {vport}");
            vport
        }
        (_, Some(p)) => p,
        (_, None) => vport,
    }
}

// ---------------------------------------------------------------------------------------------
// real_server

struct RsDraft {
    at: Location,
    ip: IpAddr,
    port: Option<u16>,
    weight: Option<u32>,
    method: Option<Forward>,
    uthreshold: u32,
    lthreshold: u32,
    inhibit: Option<bool>,
    notify_up: Option<Box<Command>>,
    notify_down: Option<Box<Command>>,
    alpha: Option<bool>,
    smtp_alert: Option<bool>,
    virtualhost: Option<String>,
    timing: Timing,
    checkers: Vec<CheckDraft>,
}

fn real_server(node: &Node, ctx: &mut Ctx) -> Result<RsDraft, ConfigError> {
    let (ip, port) = server_addr(node, 1)?;
    let mut d = RsDraft {
        at: node.at.clone(),
        ip,
        port,
        weight: None,
        method: None,
        uthreshold: 0,
        lthreshold: 0,
        inhibit: None,
        notify_up: None,
        notify_down: None,
        alpha: None,
        smtp_alert: None,
        virtualhost: None,
        timing: Timing::default(),
        checkers: Vec::new(),
    };
    let place = format!("real_server {}", node.words[1..].join(" "));
    for n in node.children() {
        if timing(&mut d.timing, n)? {
            continue;
        }
        if let Some(kind) = CHECKERS.iter().find(|k| k.0 == n.keyword()) {
            if !check(n, Some(Shape::Block), "", &place, ctx)? {
                continue;
            }
            d.checkers.push(checker(n, kind.1, ctx)?);
            continue;
        }
        dispatch(&mut d, core::slice::from_ref(n), RS, RS_KNOWN, &place, ctx)?;
    }
    Ok(d)
}

const RS: Table<RsDraft> = &[
    ("weight", Shape::Value, |d, n, _| {
        d.weight = Some(uint(n, 1, 0, WEIGHT_MAX)?);
        Ok(())
    }),
    ("lvs_method", Shape::Value, |d, n, c| {
        d.method = forward(n, c).or(d.method);
        Ok(())
    }),
    ("uthreshold", Shape::Value, |d, n, _| {
        d.uthreshold = uint(n, 1, 0, u32::MAX)?;
        Ok(())
    }),
    ("lthreshold", Shape::Value, |d, n, _| {
        d.lthreshold = uint(n, 1, 0, u32::MAX)?;
        Ok(())
    }),
    ("inhibit_on_failure", Shape::Flag, |d, n, _| {
        d.inhibit = Some(flag(n)?);
        Ok(())
    }),
    ("notify_up", Shape::Value, |d, n, _| {
        d.notify_up = Some(Box::new(command(n)));
        Ok(())
    }),
    ("notify_down", Shape::Value, |d, n, _| {
        d.notify_down = Some(Box::new(command(n)));
        Ok(())
    }),
    ("alpha", Shape::Flag, |d, n, _| {
        d.alpha = Some(flag(n)?);
        Ok(())
    }),
    ("virtualhost", Shape::Value, |d, n, _| {
        d.virtualhost = Some(n.words[1].clone());
        Ok(())
    }),
    ("smtp_alert", Shape::Flag, |d, n, _| {
        d.smtp_alert = Some(flag(n)?);
        Ok(())
    }),
];

const RS_KNOWN: &str = "snmp_name FILE_CHECK BFD_CHECK";

// ---------------------------------------------------------------------------------------------
// Checkers

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tcp,
    Http,
    Ssl,
    Ping,
    Udp,
    Dns,
    Smtp,
    Misc,
}

const CHECKERS: [(&str, Kind); 8] = [
    ("TCP_CHECK", Kind::Tcp),
    ("HTTP_GET", Kind::Http),
    ("SSL_GET", Kind::Ssl),
    ("PING_CHECK", Kind::Ping),
    ("UDP_CHECK", Kind::Udp),
    ("DNS_CHECK", Kind::Dns),
    ("SMTP_CHECK", Kind::Smtp),
    ("MISC_CHECK", Kind::Misc),
];

struct CheckDraft {
    at: Location,
    kind: Kind,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bind_ip: Option<IpAddr>,
    bind_port: Option<u16>,
    timing: Timing,
    alpha: Option<bool>,
    log_all_failures: bool,
    // HTTP_GET / SSL_GET
    urls: Vec<Url>,
    virtualhost: Option<String>,
    http11: bool,
    connection_close: bool,
    // UDP_CHECK
    payload: Vec<u8>,
    require_reply: Option<Vec<u8>>,
    min_reply_length: usize,
    max_reply_length: usize,
    // DNS_CHECK
    qtype: u16,
    qname: String,
    // SMTP_CHECK
    helo_name: Option<String>,
    // MISC_CHECK
    misc_path: Option<Command>,
    misc_timeout: Option<Duration>,
    misc_dynamic: bool,
    user: Option<(String, Option<String>)>,
}

fn checker(node: &Node, kind: Kind, ctx: &mut Ctx) -> Result<CheckDraft, ConfigError> {
    let mut d = CheckDraft {
        at: node.at.clone(),
        kind,
        connect_ip: None,
        connect_port: None,
        bind_ip: None,
        bind_port: None,
        timing: Timing::default(),
        alpha: None,
        log_all_failures: false,
        urls: Vec::new(),
        virtualhost: None,
        http11: false,
        connection_close: false,
        payload: Vec::new(),
        require_reply: None,
        min_reply_length: 0,
        max_reply_length: 65535,
        qtype: 6,
        qname: ".".into(),
        helo_name: None,
        misc_path: None,
        misc_timeout: None,
        misc_dynamic: false,
        user: None,
    };
    let place = node.keyword().to_string();
    for n in node.children() {
        if n.keyword() == "nb_get_retry" {
            n.warn(format_args!("is deprecated, use retry"));
            ctx.mistakes.push(n.at.clone());
        }
        if timing(&mut d.timing, n)? {
            continue;
        }
        let entry = CHECK.iter().find(|e| e.0 == n.keyword());
        let applies = entry.is_some_and(|e| e.3.is_empty() || e.3.contains(&kind));
        let known = if applies { "" } else { CHECK_KNOWN };
        if check(
            n,
            entry.filter(|_| applies).map(|e| e.1),
            known,
            &place,
            ctx,
        )? {
            if let Some(&(_, _, handler, _)) = entry {
                handler(&mut d, n, ctx)?;
            }
        }
    }
    Ok(d)
}

type CheckHandler = fn(&mut CheckDraft, &Node, &mut Ctx) -> Result<(), ConfigError>;

/// Checker keywords, with the checkers each applies to (none listed: all of them).
const CHECK: &[(&str, Shape, CheckHandler, &[Kind])] = &[
    (
        "connect_ip",
        Shape::Value,
        |d, n, _| {
            d.connect_ip = Some(server_addr(n, 1)?.0);
            Ok(())
        },
        NET,
    ),
    (
        "connect_port",
        Shape::Value,
        |d, n, _| {
            d.connect_port = Some(uint(n, 1, 1, 65535)? as u16);
            Ok(())
        },
        NET,
    ),
    (
        "bindto",
        Shape::Value,
        |d, n, _| {
            d.bind_ip = Some(server_addr(n, 1)?.0);
            Ok(())
        },
        NET,
    ),
    (
        "bind_port",
        Shape::Value,
        |d, n, _| {
            d.bind_port = Some(uint(n, 1, 1, 65535)? as u16);
            Ok(())
        },
        NET,
    ),
    (
        "alpha",
        Shape::Flag,
        |d, n, _| {
            d.alpha = Some(flag(n)?);
            Ok(())
        },
        &[],
    ),
    (
        "log_all_failures",
        Shape::Flag,
        |d, n, _| {
            d.log_all_failures = flag(n)?;
            Ok(())
        },
        &[],
    ),
    ("url", Shape::Block, url, &[Kind::Http, Kind::Ssl]),
    (
        "virtualhost",
        Shape::Value,
        |d, n, _| {
            d.virtualhost = Some(n.words[1].clone());
            Ok(())
        },
        &[Kind::Http, Kind::Ssl],
    ),
    (
        "http_protocol",
        Shape::Value,
        |d, n, _| {
            (d.http11, d.connection_close) = match n.words[1].as_str() {
                "1.1" => (true, true),
                "1.0" => (false, false),
                "1.0C" | "1.0c" => (false, true),
                s => return Err(n.err(format!("unknown HTTP version '{s}' (1.0, 1.1, 1.0C)"))),
            };
            Ok(())
        },
        &[Kind::Http, Kind::Ssl],
    ),
    (
        "payload",
        Shape::Value,
        |d, n, _| {
            d.payload = hex(n, &n.words[1..].concat())?;
            Ok(())
        },
        &[Kind::Udp],
    ),
    (
        "require_reply",
        Shape::Flag,
        |d, n, _| {
            d.require_reply = Some(hex(n, &n.words[1..].concat())?);
            Ok(())
        },
        &[Kind::Udp],
    ),
    (
        "min_reply_length",
        Shape::Value,
        |d, n, _| {
            d.min_reply_length = uint(n, 1, 0, 65535)? as usize;
            Ok(())
        },
        &[Kind::Udp],
    ),
    (
        "max_reply_length",
        Shape::Value,
        |d, n, _| {
            d.max_reply_length = uint(n, 1, 0, 65535)? as usize;
            Ok(())
        },
        &[Kind::Udp],
    ),
    (
        "type",
        Shape::Value,
        |d, n, _| {
            d.qtype = DNS_TYPES
                .iter()
                .find(|t| t.0.eq_ignore_ascii_case(&n.words[1]))
                .map(|t| t.1)
                .ok_or_else(|| n.err(format!("unknown DNS type '{}'", n.words[1])))?;
            Ok(())
        },
        &[Kind::Dns],
    ),
    (
        "name",
        Shape::Value,
        |d, n, _| {
            let name = &n.words[1];
            crate::check::dns::valid_name(name)
                .map_err(|why| n.err(format!("'{name}' is not a DNS name: {why}")))?;
            d.qname = name.clone();
            Ok(())
        },
        &[Kind::Dns],
    ),
    (
        "helo_name",
        Shape::Value,
        |d, n, _| {
            d.helo_name = Some(n.words[1].clone());
            Ok(())
        },
        &[Kind::Smtp],
    ),
    (
        "misc_path",
        Shape::Value,
        |d, n, _| {
            d.misc_path = Some(command(n));
            Ok(())
        },
        &[Kind::Misc],
    ),
    (
        "misc_timeout",
        Shape::Value,
        |d, n, _| {
            d.misc_timeout = Some(Duration::from_secs(
                uint(n, 1, 1, u32::MAX / 1_000_000)?.into(),
            ));
            Ok(())
        },
        &[Kind::Misc],
    ),
    (
        "misc_dynamic",
        Shape::Flag,
        |d, n, _| {
            d.misc_dynamic = flag(n)?;
            Ok(())
        },
        &[Kind::Misc],
    ),
    (
        "user",
        Shape::Value,
        |d, n, _| {
            d.user = Some((n.words[1].clone(), n.words.get(2).cloned()));
            Ok(())
        },
        &[Kind::Misc],
    ),
];

/// The checkers that connect somewhere.
const NET: &[Kind] = &[
    Kind::Tcp,
    Kind::Http,
    Kind::Ssl,
    Kind::Ping,
    Kind::Udp,
    Kind::Dns,
    Kind::Smtp,
];

/// keepalived 2.2.7 checker keywords we parse past (SMTP_CHECK's older `host { }` blocks,
/// the regex and TLS options of HTTP_GET/SSL_GET, `fwmark`/`bind_if` on the socket).
const CHECK_KNOWN: &str = "host bind_if fwmark fast_recovery enable_sni regex regex_no_match \
    regex_options regex_min_offset regex_max_offset regex_stack";

/// keepalived's DNS_CHECK `type` names (check_dns.c).
const DNS_TYPES: [(&str, u16); 7] = [
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
];

/// Hex digits (keepalived's UDP_CHECK `payload`), in pairs.
fn hex(n: &Node, s: &str) -> Result<Vec<u8>, ConfigError> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(n.err(format!("'{s}' is not an even number of hex digits")));
    }
    Ok((0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
        .collect())
}

fn url(d: &mut CheckDraft, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    let mut u = UrlDraft::default();
    dispatch(&mut u, node.children(), URL, URL_KNOWN, "url", ctx)?;
    let path = u.path.ok_or_else(|| node.err("url has no path"))?;
    d.urls.push(Url {
        path,
        status: u.status,
        digest: u.digest,
        virtualhost: u.virtualhost,
    });
    Ok(())
}

#[derive(Default)]
struct UrlDraft {
    path: Option<String>,
    status: StatusCodes,
    digest: Option<[u8; 16]>,
    virtualhost: Option<String>,
}

const URL: Table<UrlDraft> = &[
    ("path", Shape::Value, |u, n, _| {
        u.path = Some(n.words[1].clone());
        Ok(())
    }),
    ("digest", Shape::Value, |u, n, _| {
        let bytes = hex(n, &n.words[1])?;
        u.digest = Some(
            bytes
                .try_into()
                .map_err(|_| n.err("an MD5 digest is 32 hex digits"))?,
        );
        Ok(())
    }),
    ("status_code", Shape::Value, |u, n, _| {
        // `status_code 200`, several codes, or ranges `200-299`.
        for w in &n.words[1..] {
            let (a, b) = w.split_once('-').unwrap_or((w, w));
            let code = |s: &str| s.parse::<u16>().ok().filter(|c| (100..600).contains(c));
            let (Some(a), Some(b)) = (code(a), code(b)) else {
                return Err(n.err(format!("'{w}' is not an HTTP status code (100-599)")));
            };
            for c in a..=b {
                u.status.insert(c);
            }
        }
        Ok(())
    }),
    ("virtualhost", Shape::Value, |u, n, _| {
        u.virtualhost = Some(n.words[1].clone());
        Ok(())
    }),
];

const URL_KNOWN: &str = "regex regex_no_match regex_options regex_min_offset regex_max_offset \
    regex_stack";

impl CheckDraft {
    /// The checker with every value resolved: its own, else the real server's and virtual
    /// server's (`outer`), else the checker's default.
    fn finish(
        self,
        rs: SocketAddr,
        outer: Timing,
        rs_alpha: bool,
        host: Option<&String>,
        global: &GlobalDefs,
        ctx: &mut Ctx,
    ) -> Result<Option<Checker>, ConfigError> {
        let t = self.timing.or(outer);
        let delay_loop = t.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
        // Per checker defaults (check_*.c): MISC retries 0 times, HTTP waits 3 s between
        // tries, DNS waits the delay loop, the others 1 s.
        let (default_retry, default_dbr) = match self.kind {
            Kind::Misc => (0, Duration::from_secs(1)),
            Kind::Http | Kind::Ssl => (1, Duration::from_secs(3)),
            Kind::Dns => (3, delay_loop),
            _ => (1, Duration::from_secs(1)),
        };
        let dst = SocketAddr::new(
            self.connect_ip.unwrap_or(rs.ip()),
            self.connect_port.unwrap_or(rs.port()),
        );
        let err = |m: String| invalid(&self.at, Some(keyword(self.kind)), m);
        if dst.port() == 0 && !matches!(self.kind, Kind::Ping | Kind::Misc | Kind::Ssl) {
            return Err(err("no port to connect to: set connect_port".into()));
        }
        let kind = match self.kind {
            Kind::Tcp => CheckKind::Tcp,
            Kind::Ping => CheckKind::Ping,
            Kind::Http => {
                if self.urls.is_empty() {
                    // keepalived reports it and drops the checker.
                    warn!("{}: HTTP_GET has no url, ignored", self.at);
                    ctx.mistakes.push(self.at);
                    return Ok(None);
                }
                let urls = self
                    .urls
                    .into_iter()
                    .map(|mut u| {
                        u.virtualhost =
                            u.virtualhost.or(self.virtualhost.clone()).or(host.cloned());
                        u
                    })
                    .collect();
                let http = HttpCheck {
                    urls,
                    http11: self.http11,
                    connection_close: self.connection_close,
                };
                // The dialogue's request buffer is fixed: a path too long for it is refused
                // here, not found failing at every check.
                let default_host = dst.to_string();
                if let Some(u) = (0..http.urls.len())
                    .find(|&i| !crate::check::http::request_fits(&http, i, &default_host))
                {
                    return Err(err(format!(
                        "url {} makes a request over {} bytes",
                        http.urls[u].path,
                        crate::check::http::MAX_REQUEST
                    )));
                }
                CheckKind::Http(http)
            }
            Kind::Ssl => {
                warn!(
                    "{}: SSL_GET: this build has no TLS library; the real server {rs} is not \
                     checked and keeps its weight",
                    self.at
                );
                CheckKind::SslUnsupported
            }
            Kind::Udp => CheckKind::Udp(Box::new(UdpCheck {
                payload: self.payload,
                require_reply: self.require_reply,
                min_reply_length: self.min_reply_length,
                max_reply_length: self.max_reply_length,
            })),
            Kind::Dns => CheckKind::Dns(DnsCheck {
                qtype: self.qtype,
                name: self.qname,
            }),
            Kind::Smtp => CheckKind::Smtp(SmtpCheck {
                helo_name: self
                    .helo_name
                    .or(global.smtp.helo_name.clone())
                    .or(global.router_id.clone())
                    .unwrap_or_else(|| "localhost".into()),
            }),
            Kind::Misc => CheckKind::Misc(Box::new(MiscCheck {
                path: match self.misc_path {
                    Some(p) => p,
                    None => {
                        warn!("{}: MISC_CHECK has no misc_path, ignored", self.at);
                        ctx.mistakes.push(self.at);
                        return Ok(None);
                    }
                },
                timeout: self.misc_timeout.unwrap_or(delay_loop),
                dynamic: self.misc_dynamic,
                user: self.user,
            })),
        };
        Ok(Some(Checker {
            at: self.at,
            kind,
            conn: Conn {
                dst,
                bind_ip: self.bind_ip,
                bind_port: self.bind_port,
                timeout: t.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            },
            delay_loop,
            retry: t.retry.unwrap_or(default_retry),
            delay_before_retry: t.delay_before_retry.unwrap_or(default_dbr),
            warmup: t.warmup.unwrap_or(delay_loop),
            alpha: self.alpha.unwrap_or(rs_alpha),
            log_all_failures: self.log_all_failures,
        }))
    }
}

fn keyword(kind: Kind) -> &'static str {
    CHECKERS.iter().find(|k| k.1 == kind).map_or("", |k| k.0)
}
