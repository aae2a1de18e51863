//! The typed, immutable configuration: what keepalived.conf means once parsed.
//!
//! Built once by the parser (allocation is fine here), then only read. Reload (a later issue)
//! builds a new `Config` and diffs it against the running one.

mod lvs;
pub use lvs::*;

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where something came from in the configuration, for messages. The file's path is one
/// allocation shared by every location in that file (each real server and checker holds one);
/// `Arc`, not `Rc`, so a `Config` can still be handed to another thread (tests do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<Path>,
    pub line: u32,
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub global: GlobalDefs,
    pub instances: Vec<VrrpInstance>,
    /// `vrrp_script NAME { }` blocks, in file order.
    pub scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group NAME { }` blocks, members checked to exist and to be in one group only.
    pub sync_groups: Vec<SyncGroup>,
    /// `track_file NAME { }` (also `vrrp_track_file`) blocks.
    pub track_files: Vec<TrackFile>,
    /// `virtual_server` blocks (the load balancer), in file order.
    pub virtual_servers: Vec<VirtualServer>,
    /// `virtual_server_group` blocks.
    pub vs_groups: Vec<VsGroup>,
    /// Blocks and keywords this version recognises as keepalived's but does not act on yet
    /// (notify, track_script, virtual_server, ...). Kept so later issues can fill them in and
    /// so `-t` can report them; each was also logged as a warning with file:line.
    pub unhandled: Vec<Unhandled>,
    /// Mistakes keepalived reports and carries on from with a default (an unknown `state`):
    /// logged with file:line, they make `-t` exit 5 as keepalived's does, and the daemon runs.
    pub mistakes: Vec<Location>,
}

impl Config {
    /// The distinct interface names the configuration uses, in order of first use: each
    /// instance's `interface`, then the `dev` of its (excluded) virtual addresses.
    pub fn interfaces(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = Vec::new();
        for inst in &self.instances {
            let devs = inst.vips.iter().chain(&inst.excluded_vips);
            let all = core::iter::once(inst.interface.as_str())
                .chain(devs.filter_map(|v| v.dev.as_deref()));
            for name in all {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names.into_iter()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unhandled {
    pub at: Location,
    /// The keyword, e.g. `virtual_server` or `notify_master`.
    pub keyword: String,
    /// The rest of the line's words (a block's contents are not kept).
    pub args: Vec<String>,
    /// true: a keyword keepalived knows that we do not act on yet. false: a word keepalived does
    /// not know either (it warns "Unknown keyword"; `keepalived -t` then exits 5).
    pub known: bool,
}

/// VRRP protocol version (RFC 3768 = 2, RFC 5798 = 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpVersion {
    V2,
    V3,
}

/// `global_defs { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    /// `vrrp_version` (default 2).
    pub vrrp_version: VrrpVersion,
    /// `vrrp_mcast_group4` (default 224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_garp_master_delay` (default 5 s): delay before the second GARP burst.
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (default 5): GARPs per burst.
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (default none): re-announce while master.
    pub vrrp_garp_master_refresh: Option<Duration>,
    /// `vrrp_garp_interval` (default 0): gap between GARPs of a burst.
    pub vrrp_garp_interval: Duration,
    pub vrrp_strict: bool,
    pub vrrp_skip_check_adv_addr: bool,
    /// `enable_script_security`: refuse scripts a non-root user could change.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`: who scripts run as (default root, as keepalived when the
    /// user `keepalived_script` does not exist).
    pub script_user: Option<(String, Option<String>)>,
    /// `notify_fifo PATH` (all processes' states), `vrrp_notify_fifo PATH` (VRRP only) and
    /// `lvs_notify_fifo PATH` (real and virtual servers only): keepalived writes one line per
    /// transition to each that concerns it.
    pub notify_fifo: Option<Fifo>,
    pub vrrp_notify_fifo: Option<Fifo>,
    pub lvs_notify_fifo: Option<Fifo>,
    pub smtp: Smtp,
    /// `lvs_flush`: empty the kernel's IPVS table at start.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]` (`lvs_flush_onstop`): what leaves the IPVS table at stop.
    pub lvs_flush_on_stop: LvsFlushOnStop,
}

/// What keepalived removes from the IPVS table when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LvsFlushOnStop {
    /// The default: each real server, then each virtual server we configured.
    #[default]
    No,
    /// `VS`: each virtual server we configured, its real servers with it.
    Vs,
    /// No argument: the whole table, ours or not.
    Full,
}

/// The SMTP alert settings of `global_defs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    /// `smtp_server HOST [PORT]` (port 25 by default): an address, or a name the daemon
    /// resolves when it starts or reloads.
    pub server: Option<(String, u16)>,
    /// `smtp_helo_name` (default: the host name).
    pub helo_name: Option<String>,
    /// `notification_email_from` (default: `keepalived@` the host name).
    pub from: Option<String>,
    /// `notification_email { }`.
    pub emails: Vec<String>,
    /// `smtp_connect_timeout` (default 30 s).
    pub connect_timeout: Duration,
    /// `smtp_alert [BOOL]`, `smtp_alert_vrrp [BOOL]` and `smtp_alert_checker [BOOL]`: unset
    /// is `None`.
    pub alert: Option<bool>,
    pub alert_vrrp: Option<bool>,
    pub alert_checker: Option<bool>,
}

impl Default for Smtp {
    fn default() -> Self {
        Smtp {
            server: None,
            helo_name: None,
            from: None,
            emails: Vec::new(),
            connect_timeout: Duration::from_secs(30),
            alert: None,
            alert_vrrp: None,
            alert_checker: None,
        }
    }
}

impl Smtp {
    /// Whether an instance or group with `smtp_alert` set to `own` mails its transitions
    /// (keepalived: its own setting, else `smtp_alert_vrrp`, else `smtp_alert`, else no), given
    /// a server and recipients.
    pub fn alerts(&self, own: Option<bool>) -> bool {
        let on = own.or(self.alert_vrrp).or(self.alert).unwrap_or(false);
        on && self.server.is_some() && !self.emails.is_empty()
    }

    /// Whether a real server (`real_server: true`) or a virtual server with `smtp_alert` set
    /// to `own` mails its changes (keepalived check_data.c: its own setting, else
    /// `smtp_alert_checker`, else `smtp_alert`, else yes for a real server and no for a
    /// virtual server), given a server and recipients.
    pub fn checker_alerts(&self, own: Option<bool>, real_server: bool) -> bool {
        let on = own
            .or(self.alert_checker)
            .or(self.alert)
            .unwrap_or(real_server);
        on && self.server.is_some() && !self.emails.is_empty()
    }
}

/// A notify FIFO and the script keepalived starts to read it (`*_fifo_script`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fifo {
    pub path: PathBuf,
    pub script: Option<Command>,
}

/// A command line from the configuration (`script`, `notify_*`), as written. Run directly
/// when it is plain words, through `/bin/sh -c` when it needs a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub line: String,
    pub at: Location,
}

impl Command {
    /// Shell syntax in the line: quoting, expansion, redirection, pipes, lists, globs.
    pub fn needs_shell(&self) -> bool {
        is_shell_syntax(&self.line)
    }
    /// The program: the first word.
    pub fn program(&self) -> &str {
        self.line.split_ascii_whitespace().next().unwrap_or("")
    }
}

/// Whether `s` has a byte the shell gives a meaning to (quoting, expansion, redirection,
/// pipes, lists, globs, assignments).
pub fn is_shell_syntax(s: &str) -> bool {
    s.bytes().any(|b| b"|&;<>()$`\\\"'*?[]#~={}".contains(&b))
}

/// `vrrp_script NAME { }`: a command run every `interval` whose exit status is tracked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpScript {
    pub name: String,
    pub at: Location,
    pub script: Command,
    /// `interval` (default 1 s).
    pub interval: Duration,
    /// `timeout` (default: the interval, as keepalived).
    pub timeout: Duration,
    /// `weight N [reverse]` (default 0: failure means FAULT).
    pub weight: Weight,
    /// `rise` / `fall`: consecutive successes / failures that change the status (default 1).
    pub rise: u32,
    pub fall: u32,
    /// `user USER [GROUP]`, else `script_user`.
    pub user: Option<(String, Option<String>)>,
    /// `init_fail`: the script counts as failed until it first succeeds.
    pub init_fail: bool,
}

/// `track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }`: a file
/// holding a number that moves the priority of the instances tracking it (keepalived
/// trackers/track_file.c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFile {
    pub name: String,
    pub at: Location,
    pub path: PathBuf,
    /// Default weight 1 (the number itself is added).
    pub weight: Weight,
    /// `init_file [VALUE] [overwrite]`: write VALUE (default 0) at start when the file is
    /// missing, or always with `overwrite`.
    pub init: Option<(i32, bool)>,
}

/// How a tracked object moves an instance (keepalived vrrp_track.c): weight 0 means its
/// failure is FAULT; a positive weight is added while it is up, a negative one added while it is
/// down. `reverse` swaps up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Weight {
    pub weight: i32,
    pub reverse: bool,
}

/// One line of `track_interface { }` or `track_script { }`: a name and an optional weight that
/// overrides the script's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    pub name: String,
    pub weight: Option<Weight>,
    pub at: Location,
}

/// `vrrp_sync_group NAME { group { VI_1 VI_2 } ... }`: instances that move together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    pub name: String,
    pub at: Location,
    /// Instance names, in the order given.
    pub members: Vec<String>,
    /// Tracked by every member.
    pub track_interfaces: Vec<Track>,
    pub track_scripts: Vec<Track>,
    pub notify: Notify,
    /// `sync_group_tracking_weight`: members keep their tracking weights (else keepalived
    /// turns weighted tracking of members off: interfaces become weight 0, weighted scripts
    /// are ignored).
    pub tracking_weight: bool,
    /// `smtp_alert [BOOL]` in the group.
    pub smtp_alert: Option<bool>,
}

/// The `notify_*` commands of an instance (or sync group).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    pub master: Option<Command>,
    pub backup: Option<Command>,
    pub fault: Option<Command>,
    pub stop: Option<Command>,
    /// `notify`: told `INSTANCE|GROUP name STATE priority` after its own words.
    pub generic: Option<Command>,
    pub master_rx_lower_pri: Option<Command>,
}

impl Notify {
    /// Every command slot, set or not.
    pub fn commands_mut(&mut self) -> [&mut Option<Command>; 6] {
        [
            &mut self.master,
            &mut self.backup,
            &mut self.fault,
            &mut self.stop,
            &mut self.generic,
            &mut self.master_rx_lower_pri,
        ]
    }
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            vrrp_version: VrrpVersion::V2,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: None,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            enable_script_security: false,
            script_user: None,
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            smtp: Smtp::default(),
            lvs_flush: false,
            lvs_flush_on_stop: LvsFlushOnStop::No,
        }
    }
}

/// `state MASTER|BACKUP`: the state an instance asks for at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// VRRPv2 authentication (RFC 3768 5.3.6). Only PASS is supported (AH is obsolete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `auth_type PASS`: the password, at most 8 bytes (longer is truncated as keepalived does),
    /// zero-padded on the wire.
    Pass([u8; 8]),
}

/// Address scope of a virtual address, as `ip addr` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    /// A numeric scope.
    Other(u8),
}

impl Scope {
    /// The rtnetlink value (RT_SCOPE_*).
    pub fn to_rt(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }
}

/// One line of `virtual_ipaddress { }`: `ADDR[/LEN] [brd X] [dev IF] [scope S] [label L]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddr {
    pub addr: IpAddr,
    /// Prefix length (default 32 for IPv4, 128 for IPv6, as keepalived).
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// `dev IF`; default is the instance's interface.
    pub dev: Option<String>,
    pub scope: Scope,
    pub label: Option<String>,
}

/// Shows an IP address exactly as its `Display` does (RFC 5952 for IPv6: lowercase hex, the
/// first longest run of two or more zero groups as `::`, `::ffff:a.b.c.d` for IPv4-mapped),
/// without linking std's IPv6 formatter (2 KB, for width and padding we never use).
pub struct ShowIp(pub IpAddr);

impl core::fmt::Display for ShowIp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let a = match self.0 {
            IpAddr::V4(a) => return a.fmt(f),
            IpAddr::V6(a) => a,
        };
        if let Some(v4) = a.to_ipv4_mapped() {
            return write!(f, "::ffff:{v4}");
        }
        let s = a.segments();
        // The longest run of zero groups (the first of equal ones).
        let (mut zero_at, mut zero_len, mut run) = (0, 0, 0);
        for (i, &g) in s.iter().enumerate() {
            run = if g == 0 { run + 1 } else { 0 };
            if run > zero_len {
                zero_len = run;
                zero_at = i + 1 - run;
            }
        }
        if zero_len < 2 {
            zero_at = 8;
        }
        for (i, g) in s.iter().enumerate() {
            if zero_len >= 2 && i >= zero_at && i < zero_at + zero_len {
                if i == zero_at {
                    f.write_str("::")?;
                }
                continue;
            }
            if i > 0 && i != zero_at + zero_len {
                f.write_str(":")?;
            }
            write!(f, "{g:x}")?;
        }
        Ok(())
    }
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    pub name: String,
    pub at: Location,
    pub initial_state: InitialState,
    pub interface: String,
    /// `virtual_router_id` 1..=255.
    pub vrid: u8,
    /// `priority` 1..=255 (default 100); 255 is the address owner.
    pub priority: u8,
    /// `advert_int` (default 1 s). v2: whole seconds. v3: a multiple of 10 ms, < 40.96 s.
    pub advert_int: Duration,
    /// `version` in the instance, else `vrrp_version` from global_defs.
    pub version: VrrpVersion,
    /// false with `nopreempt`.
    pub preempt: bool,
    /// `preempt_delay` (default 0, at most 1000 s).
    pub preempt_delay: Duration,
    pub auth: Option<Auth>,
    /// `virtual_ipaddress`: carried in adverts.
    pub vips: Vec<VirtualAddr>,
    /// `virtual_ipaddress_excluded`: added/removed like VIPs, not carried in adverts.
    pub excluded_vips: Vec<VirtualAddr>,
    /// `unicast_src_ip`; with peers, the source of unicast adverts.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { }`: when not empty the instance runs in unicast mode.
    pub unicast_peers: Vec<IpAddr>,
    /// `mcast_src_ip`: the source of multicast adverts (default: the interface's primary address).
    /// keepalived has one source address that both keywords set, so this and `unicast_src_ip`
    /// hold the same value (the last of the two keywords given).
    pub mcast_src_ip: Option<IpAddr>,
    /// `garp_master_delay`, else global `vrrp_garp_master_delay`.
    pub garp_master_delay: Duration,
    /// `garp_master_repeat`, else global `vrrp_garp_master_repeat`.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh`, else global `vrrp_garp_master_refresh`.
    pub garp_master_refresh: Option<Duration>,
    /// `accept` / `no_accept` (RFC 5798 Accept_Mode).
    pub accept: bool,
    pub dont_track_primary: bool,
    /// `track_interface { }`.
    pub track_interfaces: Vec<Track>,
    /// `track_script { }`: names of `vrrp_script` blocks (checked to exist).
    pub track_scripts: Vec<Track>,
    /// `track_file { }`: names of `track_file` blocks (checked to exist).
    pub track_files: Vec<Track>,
    pub notify: Notify,
    /// `smtp_alert [BOOL]` in the instance.
    pub smtp_alert: Option<bool>,
}

impl VrrpInstance {
    /// Whether `other` runs the protocol the same way: everything but where it was written,
    /// its addresses, what it tracks, its base priority (tracking moves the effective one
    /// anyway) and how it tells the host. A reload keeps such an instance's state; the
    /// differences are applied in place. The address owner's priority is protocol.
    pub fn same_protocol(&self, other: &VrrpInstance) -> bool {
        let owner = self.priority == 255 || other.priority == 255;
        let strip = |i: &VrrpInstance| VrrpInstance {
            at: Location {
                file: Path::new("").into(),
                line: 0,
            },
            priority: if owner { i.priority } else { 0 },
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            notify: Notify::default(),
            smtp_alert: None,
            ..i.clone()
        };
        strip(self) == strip(other)
    }

    /// Whether `other` is the same instance in every respect but where it was written.
    pub fn same_as(&self, other: &VrrpInstance) -> bool {
        let here = Location {
            file: Path::new("").into(),
            line: 0,
        };
        let strip = |i: &VrrpInstance| {
            let mut i = i.clone();
            i.at = here.clone();
            let tracks = i.track_interfaces.iter_mut().chain(&mut i.track_scripts);
            for t in tracks.chain(&mut i.track_files) {
                t.at = here.clone();
            }
            for c in i.notify.commands_mut().into_iter().flatten() {
                c.at = here.clone();
            }
            i
        };
        strip(self) == strip(other)
    }

    /// RFC 5798 6.1: priority 255 means this router owns the addresses.
    pub fn is_address_owner(&self) -> bool {
        self.priority == 255
    }
    pub fn is_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }
    /// The instance's address family (its VIPs, peers and source address all share it; with
    /// none of them it is IPv4).
    pub fn is_ipv6(&self) -> bool {
        let first = self.vips.first().map(|v| v.addr);
        first
            .or(self.unicast_peers.first().copied())
            .or(self.unicast_src_ip)
            .is_some_and(|a| a.is_ipv6())
    }
}

/// A configuration that cannot be used. Displayed as keepalived does, naming file, line and
/// keyword. Its fields are read through [`ConfigErrorDetail`]; boxed, because every parser
/// function returns it: a one-word error makes each `?` a register move instead of a copy of
/// the whole error (12 KB less code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(Box<ConfigErrorDetail>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrorDetail {
    pub kind: ConfigErrorKind,
    /// Where, when the error is tied to a place in a file.
    pub at: Option<Location>,
    /// The keyword being handled, if any.
    pub keyword: Option<String>,
    pub message: String,
}

impl From<ConfigErrorDetail> for ConfigError {
    fn from(detail: ConfigErrorDetail) -> Self {
        ConfigError(Box::new(detail))
    }
}

impl core::ops::Deref for ConfigError {
    type Target = ConfigErrorDetail;
    fn deref(&self) -> &ConfigErrorDetail {
        &self.0
    }
}

impl core::ops::DerefMut for ConfigError {
    fn deref_mut(&mut self) -> &mut ConfigErrorDetail {
        &mut self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The main configuration file cannot be read: keepalived exits 4 (KEEPALIVED_EXIT_NO_CONFIG).
    FileMissing,
    /// Anything else wrong with the configuration: exit 5 (KEEPALIVED_EXIT_CONFIG).
    Invalid,
}

impl ConfigError {
    /// The process exit code keepalived uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ConfigErrorKind::FileMissing => 4,
            ConfigErrorKind::Invalid => 5,
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if let Some(at) = &self.at {
            write!(f, "{at}: ")?;
        }
        if let Some(k) = &self.keyword {
            write!(f, "{k}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn show_ip_matches_std_display() {
        let mut addrs: Vec<IpAddr> = vec![
            "192.0.2.1".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            "::".parse().unwrap(),
            "::1".parse().unwrap(),
            "::ffff:192.0.2.7".parse().unwrap(),
            "::192.0.2.7".parse().unwrap(),
            "64:ff9b::192.0.2.33".parse().unwrap(),
            "fe80::1:0:0:1".parse().unwrap(),
            "2001:db8:0:0:1:0:0:1".parse().unwrap(),
            "2001:db8::ffff:0:1".parse().unwrap(),
        ];
        // Every pattern of zero and non-zero groups, with short and long hex groups.
        for mask in 0u16..256 {
            let groups: [u16; 8] = core::array::from_fn(|i| {
                if mask >> i & 1 == 1 {
                    0x1f << (i % 3 * 4)
                } else {
                    0
                }
            });
            addrs.push(IpAddr::V6(Ipv6Addr::from(groups)));
        }
        for a in addrs {
            assert_eq!(ShowIp(a).to_string(), a.to_string());
        }
    }
}
