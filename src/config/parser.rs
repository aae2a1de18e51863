//! From lexed items to the typed [`Config`]: a tree of `keyword args [{ ... }]` nodes, then a
//! table of keywords with short handlers per block.
//!
//! Facts (defaults, ranges, what keepalived derives) come from keepalived 2.2.7's
//! vrrp_parser.c, global_parser.c, vrrp.c (vrrp_complete_instance) and keepalived.conf(5).
//! Where keepalived reports a bad value and carries on with a default, we refuse the
//! configuration (exit 5); where it silently adjusts (rounding, clearing an incompatible
//! option), we adjust the same way and log a warning.

use super::lexer::{invalid, Item};
use super::model::*;
use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

#[cfg(feature = "lb")]
mod lvs;
mod scripts;

/// One statement: `words` of a line and the `{ }` block that follows it, if any. Boxed
/// slices: exact sizes, as a whole file's statements are alive at once.
#[derive(Debug)]
pub(crate) struct Node {
    pub at: Location,
    pub words: Box<[String]>,
    pub block: Option<Box<[Node]>>,
}

impl Node {
    fn keyword(&self) -> &str {
        &self.words[0]
    }
    fn err(&self, message: impl Into<String>) -> ConfigError {
        invalid(&self.at, Some(self.keyword()), message.into())
    }
    fn arg(&self, i: usize) -> Result<&str, ConfigError> {
        match self.words.get(i) {
            Some(w) => Ok(w),
            None => Err(self.err("missing value")),
        }
    }
    fn children(&self) -> &[Node] {
        self.block.as_deref().unwrap_or(&[])
    }
    fn warn(&self, message: core::fmt::Arguments) {
        warn!("{}: {}: {}", self.at, self.keyword(), message);
    }
}

/// The statement tree, built from the lexer's items as they come, checking that braces balance.
/// The first misplaced brace is kept and reported by [`Tree::finish`], so a lexing error
/// anywhere in the files still comes first.
pub(crate) struct Tree {
    /// levels[k + 1] holds the statements of the block whose owner is levels[k].last().
    levels: Vec<Vec<Node>>,
    can_open: bool,
    error: Option<ConfigError>,
}

impl Tree {
    pub(crate) fn new() -> Tree {
        Tree {
            levels: vec![Vec::new()],
            can_open: false,
            error: None,
        }
    }

    pub(crate) fn push(&mut self, at: &Location, item: Item) {
        if self.error.is_some() {
            return;
        }
        let level = self.levels.len() - 1;
        match item {
            Item::Words(words) => {
                self.levels[level].push(Node {
                    at: at.clone(),
                    words: words.into_boxed_slice(),
                    block: None,
                });
                self.can_open = true;
                return;
            }
            Item::Open => {
                if !self.can_open || self.levels[level].is_empty() {
                    self.error = Some(invalid(
                        at,
                        Some("{"),
                        "'{' without a keyword before it".into(),
                    ));
                    return;
                }
                self.levels.push(Vec::new());
            }
            Item::Close => {
                if level == 0 {
                    self.error = Some(invalid(at, Some("}"), "'}' without an open block".into()));
                    return;
                }
                let children = self.levels.pop().unwrap_or_default();
                if let Some(owner) = self.levels[level - 1].last_mut() {
                    owner.block = Some(children.into_boxed_slice());
                }
            }
        }
        self.can_open = false;
    }

    /// The top-level statements, or the first misplaced or missing brace.
    pub(crate) fn finish(mut self) -> Result<Vec<Node>, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        // The innermost block still open: its owner is the last statement one level up.
        if let Some(owner) = self.levels.iter().rev().nth(1).and_then(|l| l.last()) {
            return Err(invalid(
                &owner.at,
                Some(owner.keyword()),
                "block is not closed: missing '}'".into(),
            ));
        }
        Ok(self.levels.pop().unwrap_or_default())
    }
}

/// What a keyword takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Nothing after the keyword is needed (`nopreempt`).
    Flag,
    /// At least one word after the keyword.
    Value,
    /// A `{ }` block.
    Block,
}

type Handler<T> = fn(&mut T, &Node, &mut Ctx) -> Result<(), ConfigError>;
type Table<T> = &'static [(&'static str, Shape, Handler<T>)];

#[derive(Default)]
struct Ctx {
    unhandled: Vec<Unhandled>,
    mistakes: Vec<Location>,
}

impl Ctx {
    /// A keyword we parse past: logged and kept in `Config::unhandled`.
    fn skip(&mut self, at: &Location, keyword: &str, args: &[String], known: bool, place: &str) {
        if known {
            warn!("{at}: {keyword}: not supported yet, ignored (in {place})");
        } else {
            warn!("{at}: Unknown keyword '{keyword}' (in {place}), ignored");
        }
        self.unhandled.push(Unhandled {
            at: at.clone(),
            keyword: keyword.to_string(),
            args: args.to_vec(),
            known,
        });
    }
}

fn dispatch<T>(
    target: &mut T,
    nodes: &[Node],
    table: Table<T>,
    known: &str,
    place: &str,
    ctx: &mut Ctx,
) -> Result<(), ConfigError> {
    for node in nodes {
        let entry = table.iter().find(|e| e.0 == node.keyword());
        if check(node, entry.map(|e| e.1), known, place, ctx)? {
            if let Some(&(_, _, handler)) = entry {
                handler(target, node, ctx)?;
            }
        }
    }
    Ok(())
}

/// The part of [`dispatch`] that does not depend on the table's type (one copy instead of one
/// per table): skips a keyword the table lacks, checks the shape of one it has. Whether to run
/// the handler.
fn check(
    node: &Node,
    shape: Option<Shape>,
    known: &str,
    place: &str,
    ctx: &mut Ctx,
) -> Result<bool, ConfigError> {
    let keyword = node.keyword();
    let Some(shape) = shape else {
        ctx.skip(
            &node.at,
            keyword,
            &node.words[1..],
            known.split_ascii_whitespace().any(|k| k == keyword),
            place,
        );
        return Ok(false);
    };
    match (shape, node.block.is_some()) {
        (Shape::Block, false) => return Err(node.err("expects a { } block")),
        (Shape::Flag | Shape::Value, true) => return Err(node.err("does not take a { } block")),
        (Shape::Value, false) => {
            node.arg(1)?;
        }
        _ => {}
    }
    Ok(true)
}

/// Parses the lexed statements into the configuration.
pub(crate) fn parse(nodes: Vec<Node>) -> Result<Config, ConfigError> {
    let mut ctx = Ctx::default();
    let mut top = Top::default();
    // One top-level block at a time, each dropped once read: the statements and the
    // configuration they become are not all alive at once.
    for node in nodes {
        let one = core::slice::from_ref(&node);
        dispatch(&mut top, one, TOP, TOP_KNOWN, "top level", &mut ctx)?;
    }
    let mut instances: Vec<VrrpInstance> = Vec::new();
    for draft in top.drafts {
        let inst = draft.finish(&top.global)?;
        check_vrid_conflict(&inst, &instances)?;
        instances.push(inst);
    }
    scripts::check_tracked_scripts(&mut instances, &top.scripts, &mut ctx);
    scripts::check_sync_groups(&mut top.sync_groups, &instances, &top.scripts, &mut ctx);
    scripts::check_tracked_files(&mut instances, &top.track_files, &mut ctx);
    Ok(Config {
        global: top.global,
        instances,
        scripts: top.scripts,
        sync_groups: top.sync_groups,
        track_files: top.track_files,
        virtual_servers: top.virtual_servers,
        vs_groups: top.vs_groups,
        unhandled: ctx.unhandled,
        mistakes: ctx.mistakes,
    })
}

// ---------------------------------------------------------------------------------------------
// Values

/// An unsigned decimal integer in `min..=max`.
fn uint(node: &Node, i: usize, min: u32, max: u32) -> Result<u32, ConfigError> {
    let s = node.arg(i)?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(node.err(format!("'{s}' is not a number")));
    }
    match s.parse::<u64>() {
        Ok(v) if (min as u64..=max as u64).contains(&v) => Ok(v as u32),
        _ => Err(node.err(format!("{s} is out of range [{min}, {max}]"))),
    }
}

/// Seconds with up to 6 decimal places (`1`, `0.25`, `.5`), as microseconds, in `min..=max`.
fn seconds(node: &Node, i: usize, min_us: u64, max_us: u64) -> Result<u64, ConfigError> {
    let s = node.arg(i)?;
    let bad = || {
        node.err(format!(
            "'{s}' is not a number of seconds (at most 6 decimals)"
        ))
    };
    let (int, frac) = match s.bytes().position(|b| b == b'.') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || frac.len() > 6 {
        return Err(bad());
    }
    // frac is at most 6 digits: pad it to 6 (as "{frac:0<6}" would) by arithmetic.
    let micros = frac
        .bytes()
        .chain(core::iter::repeat(b'0'))
        .take(6)
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    // Checked all the way: a value past u64 microseconds is out of range, never wrapped.
    let total = match int {
        "" => Some(micros),
        _ => int
            .parse::<u64>()
            .ok()
            .and_then(|w| w.checked_mul(1_000_000))
            .and_then(|w| w.checked_add(micros)),
    };
    match total {
        Some(us) if (min_us..=max_us).contains(&us) => Ok(us),
        _ => Err(node.err(format!(
            "{s} is out of range [{}, {}] seconds",
            show_us(min_us),
            show_us(max_us)
        ))),
    }
}

fn show_us(us: u64) -> String {
    let mut s = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    // Trailing zeros of the fraction, then the point if nothing is left after it.
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s
}

/// An address as keepalived reads `unicast_src_ip`, `mcast_src_ip`, `unicast_peer` and
/// `vrrp_mcast_group4` (lib/utils.c `inet_stosockaddr`): a range (`-...`), or else a prefix
/// length (`/...`), after the address is dropped unread, so `192.0.2.1/24` is `192.0.2.1`.
fn ip(node: &Node, s: &str) -> Result<IpAddr, ConfigError> {
    let end = s.find('-').or_else(|| s.find('/')).unwrap_or(s.len());
    s[..end]
        .parse()
        .map_err(|_| node.err(format!("'{s}' is not an IP address")))
}

/// An interface name, or the message saying why it is not one.
fn ifname(s: &str) -> Result<String, String> {
    // IFNAMSIZ is 16 with the terminating NUL.
    if s.is_empty() || s.len() > 15 || s.contains('/') {
        return Err(format!("'{s}' is not a valid interface name"));
    }
    Ok(s.to_string())
}

fn version(node: &Node) -> Result<VrrpVersion, ConfigError> {
    match node.arg(1)? {
        "2" => Ok(VrrpVersion::V2),
        "3" => Ok(VrrpVersion::V3),
        s => Err(node.err(format!("'{s}' is not a VRRP version (2 or 3)"))),
    }
}

/// An error found on a line inside a block names the block's keyword.
fn rekey(mut e: ConfigError, keyword: &str) -> ConfigError {
    e.keyword = Some(keyword.to_string());
    e
}

fn secs(us: u64) -> Duration {
    Duration::from_micros(us)
}

// ---------------------------------------------------------------------------------------------
// Top level

#[derive(Default)]
struct Top {
    global: GlobalDefs,
    drafts: Vec<Draft>,
    scripts: Vec<VrrpScript>,
    sync_groups: Vec<SyncGroup>,
    track_files: Vec<TrackFile>,
    virtual_servers: Vec<VirtualServer>,
    vs_groups: Vec<VsGroup>,
}

const TOP: Table<Top> = &[
    ("global_defs", Shape::Block, |t, n, c| {
        dispatch(
            &mut t.global,
            n.children(),
            GLOBAL,
            GLOBAL_KNOWN,
            "global_defs",
            c,
        )
    }),
    ("vrrp_instance", Shape::Block, vrrp_instance),
    ("vrrp_script", Shape::Block, scripts::vrrp_script),
    ("vrrp_sync_group", Shape::Block, scripts::sync_group),
    ("track_file", Shape::Block, scripts::track_file),
    ("vrrp_track_file", Shape::Block, scripts::track_file),
    #[cfg(feature = "lb")]
    ("virtual_server", Shape::Block, lvs::virtual_server),
    #[cfg(feature = "lb")]
    ("virtual_server_group", Shape::Block, lvs::vs_group),
];

#[cfg(feature = "lb")]
fn lvs_flush_on_stop(g: &mut GlobalDefs, n: &Node, _: &mut Ctx) -> Result<(), ConfigError> {
    g.lvs_flush_on_stop = match n.words.get(1).map(String::as_str) {
        None => LvsFlushOnStop::Full,
        Some("VS") => LvsFlushOnStop::Vs,
        Some(w) => return Err(n.err(format!("unknown lvs_flush_on_stop type '{w}' (VS)"))),
    };
    Ok(())
}

/// Top-level keywords keepalived 2.2.7 knows that we do not act on yet.
#[rustfmt::skip]
const TOP_KNOWN: &str = "\
    vrrp_track_process track_group \
    static_ipaddress static_routes static_rules garp_group linkbeat_interfaces \
    interface_up_down_delays linkbeat_use_polling net_namespace net_namespace_ipvs \
    namespace_with_ipsets use_pid_dir instance child_wait_time virtual_server \
    virtual_server_group SSL bfd_instance";

fn vrrp_instance(top: &mut Top, node: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
    if node.words.len() != 2 {
        return Err(node.err("needs exactly one name"));
    }
    let name = &node.words[1];
    if top.drafts.iter().any(|d| &d.name == name) {
        return Err(node.err(format!("instance {name} is already defined")));
    }
    let mut draft = Draft::new(name, &node.at);
    let place = format!("vrrp_instance {name}");
    dispatch(
        &mut draft,
        node.children(),
        INSTANCE,
        INSTANCE_KNOWN,
        &place,
        ctx,
    )?;
    top.drafts.push(draft);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// global_defs

const GLOBAL: Table<GlobalDefs> = &[
    ("router_id", Shape::Value, |g, n, _| {
        g.router_id = Some(n.words[1].clone());
        Ok(())
    }),
    ("vrrp_version", Shape::Value, |g, n, _| {
        g.vrrp_version = version(n)?;
        Ok(())
    }),
    ("vrrp_mcast_group4", Shape::Value, |g, n, _| {
        match ip(n, &n.words[1])? {
            IpAddr::V4(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
            _ => return Err(n.err(format!("{} is not an IPv4 multicast address", n.words[1]))),
        }
        Ok(())
    }),
    ("vrrp_garp_master_delay", Shape::Value, |g, n, _| {
        g.vrrp_garp_master_delay = Duration::from_secs(uint(n, 1, 0, GARP_MAX_SECS)?.into());
        Ok(())
    }),
    ("vrrp_garp_master_repeat", Shape::Value, |g, n, _| {
        g.vrrp_garp_master_repeat = garp_repeat(n)?;
        Ok(())
    }),
    ("vrrp_garp_master_refresh", Shape::Value, |g, n, _| {
        g.vrrp_garp_master_refresh = garp_refresh(n)?;
        Ok(())
    }),
    ("vrrp_garp_interval", Shape::Value, |g, n, _| {
        // keepalived's range starts at 1 us and it ignores 0 with a message, which leaves the
        // default 0: the same as accepting 0.
        let us = seconds(n, 1, 0, u32::MAX as u64)?;
        if us >= 1_000_000 {
            n.warn(format_args!("{} seconds is very large", n.words[1]));
        }
        g.vrrp_garp_interval = secs(us);
        Ok(())
    }),
    ("vrrp_strict", Shape::Flag, |g, _, _| {
        g.vrrp_strict = true;
        Ok(())
    }),
    ("vrrp_skip_check_adv_addr", Shape::Flag, |g, _, _| {
        g.vrrp_skip_check_adv_addr = true;
        Ok(())
    }),
    ("enable_script_security", Shape::Flag, |g, _, _| {
        g.enable_script_security = true;
        Ok(())
    }),
    ("script_user", Shape::Value, |g, n, _| {
        g.script_user = Some((n.words[1].clone(), n.words.get(2).cloned()));
        Ok(())
    }),
    ("notify_fifo", Shape::Value, |g, n, _| {
        g.notify_fifo = Some(scripts::fifo(n));
        Ok(())
    }),
    ("notify_fifo_script", Shape::Value, |g, n, _| {
        scripts::fifo_script(&mut g.notify_fifo, n)
    }),
    ("vrrp_notify_fifo", Shape::Value, |g, n, _| {
        g.vrrp_notify_fifo = Some(scripts::fifo(n));
        Ok(())
    }),
    ("lvs_notify_fifo", Shape::Value, |g, n, _| {
        g.lvs_notify_fifo = Some(scripts::fifo(n));
        Ok(())
    }),
    ("lvs_notify_fifo_script", Shape::Value, |g, n, _| {
        scripts::fifo_script(&mut g.lvs_notify_fifo, n)
    }),
    ("vrrp_notify_fifo_script", Shape::Value, |g, n, _| {
        scripts::fifo_script(&mut g.vrrp_notify_fifo, n)
    }),
    ("smtp_server", Shape::Value, |g, n, _| {
        scripts::smtp_server(g, n)
    }),
    ("smtp_helo_name", Shape::Value, |g, n, _| {
        g.smtp.helo_name = Some(n.words[1].clone());
        Ok(())
    }),
    ("notification_email_from", Shape::Value, |g, n, _| {
        g.smtp.from = Some(n.words[1].clone());
        Ok(())
    }),
    ("notification_email", Shape::Block, |g, n, _| {
        for line in n.children() {
            g.smtp.emails.extend(line.words.iter().cloned());
        }
        Ok(())
    }),
    ("smtp_connect_timeout", Shape::Value, |g, n, _| {
        g.smtp.connect_timeout = Duration::from_secs(uint(n, 1, 1, 3600)?.into());
        Ok(())
    }),
    ("smtp_alert", Shape::Flag, |g, n, _| {
        g.smtp.alert = Some(scripts::flag(n)?);
        Ok(())
    }),
    ("smtp_alert_vrrp", Shape::Flag, |g, n, _| {
        g.smtp.alert_vrrp = Some(scripts::flag(n)?);
        Ok(())
    }),
    #[cfg(feature = "lb")]
    ("lvs_flush", Shape::Flag, |g, _, _| {
        g.lvs_flush = true;
        Ok(())
    }),
    #[cfg(feature = "lb")]
    ("lvs_flush_on_stop", Shape::Flag, lvs_flush_on_stop),
    #[cfg(feature = "lb")]
    ("lvs_flush_onstop", Shape::Flag, lvs_flush_on_stop),
    ("smtp_alert_checker", Shape::Flag, |g, n, _| {
        g.smtp.alert_checker = Some(scripts::flag(n)?);
        Ok(())
    }),
];

/// keepalived's garp delay maximum, UINT_MAX / TIMER_HZ seconds.
const GARP_MAX_SECS: u32 = u32::MAX / 1_000_000;

fn garp_repeat(n: &Node) -> Result<u32, ConfigError> {
    let r = uint(n, 1, 0, u32::MAX)?;
    if r == 0 {
        n.warn(format_args!("must be greater than 0, using 1"));
        return Ok(1);
    }
    Ok(r)
}

fn garp_refresh(n: &Node) -> Result<Option<Duration>, ConfigError> {
    let r = uint(n, 1, 0, u32::MAX)?;
    Ok((r > 0).then(|| Duration::from_secs(r.into())))
}

/// global_defs keywords keepalived 2.2.7 knows that we do not act on yet.
#[rustfmt::skip]
const GLOBAL_KNOWN: &str = "\
    process_names process_name vrrp_process_name checker_process_name lvs_process_name \
    bfd_process_name startup_script startup_script_timeout shutdown_script \
    shutdown_script_timeout max_auto_priority min_auto_priority_delay \
    checker_log_all_failures dynamic_interfaces no_email_faults \
    default_interface disable_local_igmp lvs_timeouts lvs_flush lvs_flush_on_stop \
    lvs_flush_onstop lvs_sync_daemon lvs_id vrrp_mcast_group6 vrrp_garp_master_refresh_repeat \
    vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat vrrp_down_timer_adverts \
    vrrp_gna_interval vrrp_min_garp vrrp_garp_extra_if vrrp_vmac_garp_intvl \
    vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert vrrp_iptables vrrp_ipsets nftables \
    nftables_priority nftables_ifindex nftables_ipvs nftables_ipvs_priority \
    nftables_ipvs_start_fwmark nftables_counters vrrp_check_unicast_src vrrp_priority \
    vrrp_no_swap vrrp_rt_priority vrrp_cpu_affinity vrrp_rlimit_rttime vrrp_rlimit_rtime \
    vrrp_notify_priority_changes fifo_write_vrrp_states_on_reload \
    checker_priority checker_no_swap checker_rt_priority \
    checker_cpu_affinity checker_rlimit_rttime checker_rlimit_rtime bfd_priority bfd_no_swap \
    bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime bfd_rlimit_rtime snmp_socket \
    enable_traps enable_snmp_vrrp enable_snmp_keepalived enable_snmp_rfc enable_snmp_rfcv2 \
    enable_snmp_rfcv3 enable_snmp_checker enable_dbus dbus_service_name \
    vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs \
    vrrp_netlink_monitor_rcv_bufs_force process_monitor_rcv_bufs \
    process_monitor_rcv_bufs_force lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force \
    lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force rs_init_notifies \
    no_checker_emails vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier vrrp_startup_delay \
    log_unknown_vrids vmac_prefix vmac_addr_prefix umask random_seed reload_check_config \
    reload_time_file reload_repeat reload_file include_check config_save_dir \
    tmp_config_directory data_use_instance linkbeat_use_polling net_namespace \
    net_namespace_ipvs namespace_with_ipsets use_pid_dir instance child_wait_time";

// ---------------------------------------------------------------------------------------------
// vrrp_instance

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthType {
    Pass,
    Ah,
}

/// An instance as written, before defaults and cross-checks.
#[derive(Debug)]
struct Draft {
    name: String,
    at: Location,
    state: Option<InitialState>,
    interface: Option<String>,
    vrid: Option<u8>,
    priority: Option<u8>,
    advert_int: Option<(u64, Location)>,
    version: Option<VrrpVersion>,
    preempt: bool,
    preempt_delay: Duration,
    auth_type: Option<(AuthType, Location)>,
    auth_pass: Option<Vec<u8>>,
    vips: Vec<VirtualAddr>,
    excluded_vips: Vec<VirtualAddr>,
    /// `mcast_src_ip` and `unicast_src_ip` set the same source address in keepalived.
    src_ip: Option<IpAddr>,
    unicast_configured: bool,
    peers: Vec<IpAddr>,
    /// The first `unicast_peer` block.
    peers_at: Option<Location>,
    garp_master_delay: Option<Duration>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<Option<Duration>>,
    accept: Option<bool>,
    dont_track_primary: bool,
    /// Address family, from the first source address, unicast peer or VIP (true: IPv6).
    ipv6: Option<bool>,
    track_interfaces: Vec<Track>,
    track_scripts: Vec<Track>,
    track_files: Vec<Track>,
    notify: Notify,
    smtp_alert: Option<bool>,
}

impl Draft {
    fn new(name: &str, at: &Location) -> Self {
        Draft {
            name: name.to_string(),
            at: at.clone(),
            state: None,
            interface: None,
            vrid: None,
            priority: None,
            advert_int: None,
            version: None,
            preempt: true,
            preempt_delay: Duration::ZERO,
            auth_type: None,
            auth_pass: None,
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            src_ip: None,
            unicast_configured: false,
            peers: Vec::new(),
            peers_at: None,
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            accept: None,
            dont_track_primary: false,
            ipv6: None,
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            notify: Notify::default(),
            smtp_alert: None,
        }
    }

    /// All addresses that define the instance's family must agree.
    fn family(&mut self, node: &Node, addr: IpAddr) -> Result<(), ConfigError> {
        let v6 = addr.is_ipv6();
        match self.ipv6 {
            None => self.ipv6 = Some(v6),
            Some(f) if f != v6 => {
                let fam = if f { "IPv6" } else { "IPv4" };
                return Err(node.err(format!(
                    "{}: address family must match the instance's ({fam})",
                    ShowIp(addr)
                )));
            }
            _ => {}
        }
        Ok(())
    }

    fn src_ip(&mut self, node: &Node) -> Result<(), ConfigError> {
        let addr = ip(node, &node.words[1])?;
        self.family(node, addr)?;
        self.src_ip = Some(addr);
        Ok(())
    }

    /// One `unicast_peer` line: `ADDR [min_ttl N] [max_ttl N]`.
    fn peer(&mut self, line: &Node, ctx: &mut Ctx) -> Result<(), ConfigError> {
        if line.block.is_some() {
            return Err(line.err("unexpected { } block"));
        }
        let addr = ip(line, &line.words[0])?;
        self.family(line, addr)?;
        for pair in line.words[1..].chunks(2) {
            match pair {
                [opt, v] if opt == "min_ttl" || opt == "max_ttl" => ctx.skip(
                    &line.at,
                    opt,
                    core::slice::from_ref(v),
                    true,
                    "unicast_peer",
                ),
                _ => {
                    let m = format!("unexpected '{}' after {}", pair[0], ShowIp(addr));
                    return Err(line.err(m));
                }
            }
        }
        self.peers.push(addr);
        Ok(())
    }

    /// Defaults, derived values and keepalived's consistency rules (vrrp_complete_instance).
    fn finish(self, global: &GlobalDefs) -> Result<VrrpInstance, ConfigError> {
        let name = &self.name;
        let err = |m: String| invalid(&self.at, Some("vrrp_instance"), format!("({name}) {m}"));
        let warn = |m: core::fmt::Arguments| warn!("{}: vrrp_instance: ({name}) {m}", self.at);
        let strict = global.vrrp_strict;
        let vrid = self
            .vrid
            .ok_or_else(|| err("virtual_router_id is required".into()))?;
        let interface = self
            .interface
            .ok_or_else(|| err("interface is required".into()))?;
        let ipv6 = self.ipv6 == Some(true);

        let version = match (self.version, ipv6) {
            (Some(VrrpVersion::V2), true) => {
                warn(format_args!(
                    "VRRP version 2 cannot be used with IPv6, using version 3"
                ));
                VrrpVersion::V3
            }
            (Some(v), _) => v,
            (None, true) => VrrpVersion::V3,
            (None, false) => global.vrrp_version,
        };
        let v3 = version == VrrpVersion::V3;

        let mut vips = self.vips;
        let mut excluded_vips = self.excluded_vips;
        if vips.is_empty() {
            if v3 || strict {
                return Err(err("no virtual_ipaddress: at least one is required".into()));
            }
            warn(format_args!(
                "no virtual_ipaddress: at least one is sensible"
            ));
        }
        // The address count field is 8 bits: keepalived moves the rest to the excluded list.
        if vips.len() > 255 {
            warn(format_args!(
                "{} VIPs, at most 255 fit an advert: the rest are excluded",
                vips.len()
            ));
            // In front of the excluded ones (split_off/append: far less code than splice).
            let mut moved = vips.split_off(255);
            moved.append(&mut excluded_vips);
            excluded_vips = moved;
        }

        // A MASTER without a priority is the address owner; no state follows the priority.
        let priority = self.priority.unwrap_or(match self.state {
            Some(InitialState::Master) => 255,
            _ => 100,
        });
        let owner_state = if priority == 255 {
            InitialState::Master
        } else {
            InitialState::Backup
        };
        let mut initial_state = self.state.unwrap_or(owner_state);
        if strict && initial_state != owner_state {
            warn(format_args!(
                "strict mode: state MASTER must match being address owner"
            ));
            initial_state = owner_state;
        }

        let auth = match self.auth_type {
            None => None,
            Some(_) if strict => {
                warn(format_args!(
                    "strict mode does not support authentication, ignored"
                ));
                None
            }
            Some(_) if v3 => {
                warn(format_args!(
                    "VRRP version 3 does not support authentication, ignored"
                ));
                None
            }
            Some(_) if self.auth_pass.as_ref().is_none_or(|p| p.is_empty()) => {
                warn(format_args!("authentication without auth_pass, ignored"));
                None
            }
            Some((AuthType::Ah, ref at)) => {
                return Err(invalid(
                    at,
                    Some("auth_type"),
                    "auth_type AH (IPsec AH) is not supported; use PASS or none".into(),
                ))
            }
            Some((AuthType::Pass, _)) => {
                let mut pass = [0u8; 8];
                let given = self.auth_pass.unwrap_or_default();
                pass[..given.len()].copy_from_slice(&given);
                Some(Auth::Pass(pass))
            }
        };

        let unicast = !self.peers.is_empty();
        if let (true, Some(at)) = (strict, &self.peers_at.filter(|_| unicast)) {
            let m = format!("({name}) unicast peers are not supported in strict mode");
            return Err(invalid(at, Some("unicast_peer"), m));
        }
        if self.unicast_configured && !unicast {
            warn(format_args!(
                "unicast keyword without unicast_peer: using multicast"
            ));
        }
        if ipv6 && !unicast {
            if let Some(IpAddr::V6(first)) = vips.first().map(|v| v.addr) {
                if first.segments()[0] & 0xffc0 != 0xfe80 {
                    warn(format_args!("the first IPv6 VIP should be link-local"));
                }
            }
        }

        let mut preempt = self.preempt;
        let mut preempt_delay = self.preempt_delay;
        if priority == 255 && !preempt {
            warn(format_args!(
                "nopreempt is incompatible with priority 255, cleared"
            ));
            preempt = true;
        }
        if initial_state == InitialState::Master {
            if !preempt {
                warn(format_args!(
                    "nopreempt does not work with state MASTER, cleared"
                ));
                preempt = true;
            }
            if !preempt_delay.is_zero() {
                warn(format_args!(
                    "preempt_delay does not work with state MASTER, cleared"
                ));
                preempt_delay = Duration::ZERO;
            }
        }
        if !preempt_delay.is_zero() && (strict || !preempt) {
            warn(format_args!(
                "preempt_delay is incompatible with strict mode or nopreempt, cleared"
            ));
            preempt_delay = Duration::ZERO;
        }

        // keepalived: accept unless strict, and always for the address owner; strict VRRPv2
        // cannot accept (RFC 3768 has no Accept_Mode).
        let mut accept = self.accept.unwrap_or(priority == 255 || !strict);
        if accept && priority != 255 && strict && !v3 {
            warn(format_args!(
                "accept mode does not comply with RFC 3768 in strict mode, cleared"
            ));
            accept = false;
        }

        let advert_int = match self.advert_int {
            None => Duration::from_secs(1),
            Some((us, ref at)) => advert_int(us, version, at, name)?,
        };

        Ok(VrrpInstance {
            name: self.name.clone(),
            at: self.at.clone(),
            initial_state,
            interface,
            vrid,
            priority,
            advert_int,
            version,
            preempt,
            preempt_delay,
            auth,
            vips,
            excluded_vips,
            unicast_src_ip: self.src_ip,
            unicast_peers: self.peers,
            mcast_src_ip: self.src_ip,
            garp_master_delay: self
                .garp_master_delay
                .unwrap_or(global.vrrp_garp_master_delay),
            garp_master_repeat: self
                .garp_master_repeat
                .unwrap_or(global.vrrp_garp_master_repeat),
            garp_master_refresh: self
                .garp_master_refresh
                .unwrap_or(global.vrrp_garp_master_refresh),
            accept,
            dont_track_primary: self.dont_track_primary,
            track_interfaces: self.track_interfaces,
            track_scripts: self.track_scripts,
            track_files: self.track_files,
            notify: self.notify,
            smtp_alert: self.smtp_alert,
        })
    }
}

/// v2: whole seconds below 256 (fractions rounded); v3: 10 ms steps below 40.96 s (rounded).
fn advert_int(us: u64, v: VrrpVersion, at: &Location, name: &str) -> Result<Duration, ConfigError> {
    let (step, limit, what) = match v {
        VrrpVersion::V2 => (1_000_000, 256_000_000, "VRRPv2: whole seconds below 256"),
        VrrpVersion::V3 => (10_000, 40_960_000, "VRRPv3: 10 ms steps below 40.96 s"),
    };
    if us >= limit {
        let m = format!("({name}) {} s is out of range ({what})", show_us(us));
        return Err(invalid(at, Some("advert_int"), m));
    }
    if us.is_multiple_of(step) {
        return Ok(Duration::from_micros(us));
    }
    let rounded = ((us + step / 2) / step * step).max(step);
    warn!(
        "{at}: advert_int: ({name}) {} s rounded to {} s ({what})",
        show_us(us),
        show_us(rounded)
    );
    Ok(Duration::from_micros(rounded))
}

const INSTANCE: Table<Draft> = &[
    ("state", Shape::Value, |d, n, c| {
        d.state = Some(match n.words[1].as_str() {
            "MASTER" => InitialState::Master,
            "BACKUP" => InitialState::Backup,
            s => {
                // keepalived reports it and starts as BACKUP (seen in the field: SLAVE,
                // lowercase backup, template placeholders).
                n.warn(format_args!("unknown state '{s}', using BACKUP"));
                c.mistakes.push(n.at.clone());
                InitialState::Backup
            }
        });
        Ok(())
    }),
    ("interface", Shape::Value, |d, n, _| {
        d.interface = Some(ifname(&n.words[1]).map_err(|m| n.err(m))?);
        Ok(())
    }),
    ("virtual_router_id", Shape::Value, |d, n, _| {
        d.vrid = Some(uint(n, 1, 1, 255)? as u8);
        Ok(())
    }),
    ("priority", Shape::Value, |d, n, _| {
        d.priority = Some(uint(n, 1, 1, 255)? as u8);
        Ok(())
    }),
    ("advert_int", Shape::Value, |d, n, _| {
        // keepalived's parse range; the version-specific limits are checked at the end.
        d.advert_int = Some((seconds(n, 1, 10_000, 255_000_000)?, n.at.clone()));
        Ok(())
    }),
    ("version", Shape::Value, |d, n, _| {
        d.version = Some(version(n)?);
        Ok(())
    }),
    ("nopreempt", Shape::Flag, |d, _, _| {
        d.preempt = false;
        Ok(())
    }),
    ("preempt", Shape::Flag, |d, _, _| {
        d.preempt = true;
        Ok(())
    }),
    ("preempt_delay", Shape::Value, |d, n, _| {
        d.preempt_delay = secs(seconds(n, 1, 0, 1_000_000_000)?);
        Ok(())
    }),
    ("authentication", Shape::Block, |d, n, c| {
        let place = format!("vrrp_instance {} authentication", d.name);
        dispatch(d, n.children(), AUTH, "", &place, c)
    }),
    ("virtual_ipaddress", Shape::Block, |d, n, c| {
        for line in n.children() {
            let vip = vip(line, c, "virtual_ipaddress")?;
            d.family(line, vip.addr)
                .map_err(|e| rekey(e, "virtual_ipaddress"))?;
            d.vips.push(vip);
        }
        Ok(())
    }),
    ("virtual_ipaddress_excluded", Shape::Block, |d, n, c| {
        for line in n.children() {
            let vip = vip(line, c, "virtual_ipaddress_excluded")?;
            d.excluded_vips.push(vip);
        }
        Ok(())
    }),
    ("unicast_src_ip", Shape::Value, |d, n, _| {
        d.unicast_configured = true;
        d.src_ip(n)
    }),
    ("mcast_src_ip", Shape::Value, |d, n, _| d.src_ip(n)),
    ("unicast_peer", Shape::Block, |d, n, c| {
        d.unicast_configured = true;
        d.peers_at.get_or_insert_with(|| n.at.clone());
        for line in n.children() {
            d.peer(line, c).map_err(|e| rekey(e, "unicast_peer"))?;
        }
        Ok(())
    }),
    ("garp_master_delay", Shape::Value, |d, n, _| {
        d.garp_master_delay = Some(Duration::from_secs(uint(n, 1, 0, GARP_MAX_SECS)?.into()));
        Ok(())
    }),
    ("garp_master_repeat", Shape::Value, |d, n, _| {
        d.garp_master_repeat = Some(garp_repeat(n)?);
        Ok(())
    }),
    ("garp_master_refresh", Shape::Value, |d, n, _| {
        d.garp_master_refresh = Some(garp_refresh(n)?);
        Ok(())
    }),
    ("accept", Shape::Flag, |d, _, _| {
        d.accept = Some(true);
        Ok(())
    }),
    ("no_accept", Shape::Flag, |d, _, _| {
        d.accept = Some(false);
        Ok(())
    }),
    ("dont_track_primary", Shape::Flag, |d, _, _| {
        d.dont_track_primary = true;
        Ok(())
    }),
    ("track_interface", Shape::Block, |d, n, _| {
        scripts::track_block(n, &mut d.track_interfaces)
    }),
    ("track_script", Shape::Block, |d, n, _| {
        scripts::track_block(n, &mut d.track_scripts)
    }),
    ("track_file", Shape::Block, |d, n, _| {
        scripts::track_block(n, &mut d.track_files)
    }),
    ("notify_master", Shape::Value, |d, n, _| {
        d.notify.master = Some(scripts::command(n));
        Ok(())
    }),
    ("notify_backup", Shape::Value, |d, n, _| {
        d.notify.backup = Some(scripts::command(n));
        Ok(())
    }),
    ("notify_fault", Shape::Value, |d, n, _| {
        d.notify.fault = Some(scripts::command(n));
        Ok(())
    }),
    ("notify_stop", Shape::Value, |d, n, _| {
        d.notify.stop = Some(scripts::command(n));
        Ok(())
    }),
    ("notify", Shape::Value, |d, n, _| {
        d.notify.generic = Some(scripts::command(n));
        Ok(())
    }),
    ("notify_master_rx_lower_pri", Shape::Value, |d, n, _| {
        d.notify.master_rx_lower_pri = Some(scripts::command(n));
        Ok(())
    }),
    ("smtp_alert", Shape::Flag, |d, n, _| {
        d.smtp_alert = Some(scripts::flag(n)?);
        Ok(())
    }),
];

/// vrrp_instance keywords keepalived 2.2.7 knows that we do not act on yet.
#[rustfmt::skip]
const INSTANCE_KNOWN: &str = "\
    use_vmac use_vmac_addr vmac_xmit_base use_ipvlan unicast_fault_no_peer check_unicast_src \
    old_unicast_checksum native_ipv6 vrf \
    track_process track_bfd mcast_dst_ip track_src_ip unicast_ttl promote_secondaries \
    linkbeat_use_polling virtual_routes virtual_rules skip_check_adv_addr strict_mode debug \
    notify_deleted notify_priority_changes lvs_sync_daemon_interface \
    garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat \
    down_timer_adverts garp_extra_if vmac_garp_intvl lower_prio_no_advert \
    higher_prio_send_advert kernel_rx_buf_size";

const AUTH: Table<Draft> = &[
    ("auth_type", Shape::Value, |d, n, _| {
        let t = match n.words[1].as_str() {
            "PASS" => AuthType::Pass,
            "AH" => AuthType::Ah,
            s => return Err(n.err(format!("'{s}' is not PASS or AH"))),
        };
        d.auth_type = Some((t, n.at.clone()));
        Ok(())
    }),
    ("auth_pass", Shape::Value, |d, n, _| {
        let mut pass = n.words[1].as_bytes().to_vec();
        if pass.len() > 8 {
            n.warn(format_args!("truncated to 8 characters"));
            pass.truncate(8);
        }
        d.auth_pass = Some(pass);
        Ok(())
    }),
];

/// One `virtual_ipaddress` line: `ADDR[/LEN] [brd X] [dev IF] [scope S] [label L] ...`.
fn vip(line: &Node, ctx: &mut Ctx, block: &str) -> Result<VirtualAddr, ConfigError> {
    let err = |m: String| invalid(&line.at, Some(block), m);
    if line.block.is_some() {
        return Err(err("unexpected { } block in an address line".into()));
    }
    let text = &line.words[0];
    let (addr_s, len_s) = match text.bytes().position(|b| b == b'/') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text.as_str(), None),
    };
    let addr: IpAddr = addr_s
        .parse()
        .map_err(|_| err(format!("'{text}' is not an IP address")))?;
    let max_len = if addr.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len_s {
        None => max_len,
        // u64: the one integer parser the config links.
        Some(l) => match l.parse::<u64>() {
            Ok(n) if n <= u64::from(max_len) && l.bytes().all(|b| b.is_ascii_digit()) => n as u8,
            _ => {
                return Err(err(format!(
                    "'{l}' is not a prefix length for {addr_s} (0..={max_len})"
                )))
            }
        },
    };
    let mut v = VirtualAddr {
        addr,
        prefix_len,
        broadcast: None,
        dev: None,
        scope: Scope::Global,
        label: None,
    };
    let mut i = 1;
    while i < line.words.len() {
        let opt = line.words[i].as_str();
        let value = line.words.get(i + 1).map(String::as_str);
        let needs_value = matches!(
            opt,
            "dev" | "scope" | "brd" | "broadcast" | "label" | "peer" | "preferred_lft"
        );
        let val = match (needs_value, value) {
            (true, None) => return Err(err(format!("no {opt} value for {text}"))),
            (true, Some(val)) => val,
            (false, _) => "",
        };
        match opt {
            "dev" => {
                if v.dev.is_some() {
                    return Err(err(format!("dev given twice for {text}")));
                }
                v.dev = Some(ifname(val).map_err(err)?);
            }
            "scope" => {
                v.scope = scope(val).ok_or_else(|| err(format!("'{val}' is not a scope")))?
            }
            "brd" | "broadcast" => v.broadcast = Some(broadcast(&v, val).map_err(err)?),
            "label" => {
                if val.len() > 15 {
                    return Err(err(format!("label '{val}' is longer than 15 characters")));
                }
                v.label = Some(val.to_string());
            }
            "peer" | "preferred_lft" => ctx.skip(&line.at, opt, &[val.to_string()], true, block),
            "home" | "-nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin" | "no_track"
            | "use_vmac" => ctx.skip(&line.at, opt, &[], true, block),
            _ if opt.parse::<IpAddr>().is_ok() || opt.contains('/') => {
                return Err(err(format!("'{opt}' after {text}: one address per line")))
            }
            _ => ctx.skip(&line.at, opt, &[], false, block),
        }
        i += if needs_value { 2 } else { 1 };
    }
    if addr.is_ipv6() && (v.scope != Scope::Global || v.label.is_some()) {
        warn!(
            "{}: {block}: scope and label do not apply to IPv6 {text}, ignored",
            line.at
        );
        v.scope = Scope::Global;
        v.label = None;
    }
    Ok(v)
}

/// Names of /etc/iproute2/rt_scopes, or a number.
fn scope(s: &str) -> Option<Scope> {
    Some(match s {
        "global" => Scope::Global,
        "site" => Scope::Site,
        "link" => Scope::Link,
        "host" => Scope::Host,
        "nowhere" => Scope::Nowhere,
        _ => match u8::try_from(s.parse::<u64>().ok()?).ok()? {
            0 => Scope::Global,
            200 => Scope::Site,
            253 => Scope::Link,
            254 => Scope::Host,
            255 => Scope::Nowhere,
            n => Scope::Other(n),
        },
    })
}

/// `brd X`, where `+` and `-` mean the all-ones and all-zeros host part (as `ip addr`).
fn broadcast(v: &VirtualAddr, val: &str) -> Result<Ipv4Addr, String> {
    let IpAddr::V4(a) = v.addr else {
        return Err(format!(
            "broadcast {val} given for IPv6 address {}",
            ShowIp(v.addr)
        ));
    };
    match val {
        "+" | "-" if v.prefix_len > 30 => Err(format!(
            "prefix length {} is too long for a broadcast address",
            v.prefix_len
        )),
        "+" | "-" => {
            let host = u32::MAX >> v.prefix_len;
            let net = u32::from(a) & !host;
            Ok(Ipv4Addr::from(if val == "+" { net | host } else { net }))
        }
        _ => val
            .parse()
            .map_err(|_| format!("'{val}' is not an IPv4 broadcast address")),
    }
}

/// keepalived refuses two multicast instances with the same VRID, family and interface
/// (same group), and two unicast instances that also share a peer.
fn check_vrid_conflict(new: &VrrpInstance, earlier: &[VrrpInstance]) -> Result<(), ConfigError> {
    for old in earlier {
        let same = old.vrid == new.vrid
            && old.interface == new.interface
            && old.is_ipv6() == new.is_ipv6()
            && old.is_unicast() == new.is_unicast()
            && (!new.is_unicast()
                || new
                    .unicast_peers
                    .iter()
                    .any(|p| old.unicast_peers.contains(p)));
        if same {
            let fam = if new.is_ipv6() { 6 } else { 4 };
            return Err(invalid(
                &new.at,
                Some("vrrp_instance"),
                format!(
                    "{} and {} both use VRID {} with IPv{fam} on interface {}",
                    old.name, new.name, new.vrid, new.interface
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::show_us;

    #[test]
    fn seconds_shown_without_trailing_zeros() {
        for (us, want) in [
            (0, "0"),
            (10_000, "0.01"),
            (1_000_000, "1"),
            (100_000_000, "100"),
            (1_500_000, "1.5"),
            (40_960_000, "40.96"),
            (255_000_001, "255.000001"),
        ] {
            assert_eq!(show_us(us), want);
        }
    }
}
