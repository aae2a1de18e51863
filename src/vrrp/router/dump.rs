//! The state dumps keepalived writes on request: SIGUSR1's `/tmp/keepalived.data` and the JSON
//! signal's `/tmp/keepalived.json`. Pure formatting of what the router knows.
//!
//! Texts and field names follow keepalived 2.2.7 (`core/global_data.c` `dump_global_data`,
//! `vrrp/vrrp_data.c` `dump_vrrp`, `dump_vscript`, `vrrp/vrrp_json.c`), for the parts this
//! daemon has. What only the host knows (the wall clock, when each instance last changed
//! state, who scripts run as) comes in a [`Host`] the daemon fills when the dump is asked for.

use core::fmt::Write as _;
use core::time::Duration;
use std::net::IpAddr;

use super::{Counters, Router, Slot};
use crate::config::{Auth, Command, Config, InitialState, Scope, ShowIp, VirtualAddr, VrrpVersion};
use crate::config::{VrrpInstance, Weight};
use crate::time::Instant;
use crate::track::{self, Status};
use crate::vrrp::State;

/// A moment on the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WallTime {
    /// Microseconds since the Unix epoch (UTC).
    pub micros: i64,
    /// Local time minus UTC in seconds (`tm_gmtoff`), for keepalived's ctime-style text.
    pub utc_offset: i32,
}

impl WallTime {
    fn secs(self) -> i64 {
        self.micros.div_euclid(1_000_000)
    }
    fn usecs(self) -> i64 {
        self.micros.rem_euclid(1_000_000)
    }
}

/// What the daemon knows and the router does not, read when a dump is asked for.
#[derive(Debug, Clone)]
pub struct Host<'a> {
    /// The monotonic time of the dump, and the wall-clock time at that same moment: other
    /// monotonic times are shown on the wall clock from the difference.
    pub now: Instant,
    pub wall: WallTime,
    /// When each instance (by [`super::InstId::index`]) last changed state, monotonic.
    /// keepalived's default `router_id`: the host name.
    pub host_name: Option<&'a str>,
    /// uid:gid notify scripts run as (`script_user`, else root).
    pub script_ids: (u32, u32),
    /// uid:gid of each `vrrp_script` (its `user`, else `script_ids`), by configuration order.
    pub vrrp_script_ids: &'a [(u32, u32)],
    /// Owner of the notify FIFOs (the daemon creates them).
    pub fifo_ids: (u32, u32),
}

impl Host<'_> {
    /// The wall-clock time of the monotonic instant `t`.
    fn wall_at(&self, t: Instant) -> WallTime {
        let delta = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        let micros = if t >= self.now {
            self.wall
                .micros
                .saturating_add(delta(t.saturating_since(self.now)))
        } else {
            self.wall
                .micros
                .saturating_sub(delta(self.now.saturating_since(t)))
        };
        WallTime {
            micros,
            utc_offset: self.wall.utc_offset,
        }
    }
}

/// keepalived's `/tmp/keepalived.data` (SIGUSR1), appended to `out`: global definitions, VRRP
/// topology, VRRP scripts, interfaces.
pub fn data(router: &Router, config: &Config, host: &Host, out: &mut String) {
    global(router, host, out);
    if !router.slots.is_empty() {
        out.push_str("------< VRRP Topology >------\n");
        for s in &router.slots {
            instance(router, s, host, out);
        }
    }
    if !config.scripts.is_empty() {
        out.push_str("------< VRRP Scripts >------\n");
        for id in router.scripts.ids() {
            vrrp_script(router, config, id, host, out);
        }
    }
    interfaces(router, out);
}

fn on_off(b: bool, yes: &'static str, no: &'static str) -> &'static str {
    if b {
        yes
    } else {
        no
    }
}

fn global(router: &Router, host: &Host, out: &mut String) {
    let g = &router.global;
    out.push_str("------< Global definitions >------\n");
    out.push_str(" Network namespace = (default)\n");
    if let Some(id) = g.router_id.as_deref().or(host.host_name) {
        let _ = writeln!(out, " Router ID = {id}");
    }
    let (fu, fg) = host.fifo_ids;
    for (name, fifo) in [
        ("Global notify fifo", &g.notify_fifo),
        ("VRRP notify fifo", &g.vrrp_notify_fifo),
    ] {
        let Some(f) = fifo else { continue };
        let _ = writeln!(out, " {name} = {}, uid:gid {fu}:{fg}", f.path.display());
        if let Some(c) = &f.script {
            let (u, gid) = host.script_ids;
            let _ = writeln!(out, " {name} script = {}, uid:gid {u}:{gid}", CmdStr(c));
        }
    }
    let _ = writeln!(out, " VRRP IPv4 mcast group = {}", g.vrrp_mcast_group4);
    let _ = writeln!(
        out,
        " Gratuitous ARP delay = {}",
        g.vrrp_garp_master_delay.as_secs()
    );
    let _ = writeln!(
        out,
        " Gratuitous ARP repeat = {}",
        g.vrrp_garp_master_repeat
    );
    let refresh = g.vrrp_garp_master_refresh.unwrap_or_default().as_secs();
    let _ = writeln!(out, " Gratuitous ARP refresh timer = {refresh}");
    out.push_str(" Gratuitous ARP refresh repeat = 1\n");
    let strict = g.vrrp_strict;
    let (lp_delay, lp_repeat) = if strict {
        (0, 0)
    } else {
        (
            g.vrrp_garp_master_delay.as_secs(),
            g.vrrp_garp_master_repeat,
        )
    };
    let _ = writeln!(out, " Gratuitous ARP lower priority delay = {lp_delay}");
    let _ = writeln!(out, " Gratuitous ARP lower priority repeat = {lp_repeat}");
    out.push_str(" Num adverts before down = 3\n");
    let _ = writeln!(
        out,
        " Send advert after receive lower priority advert = {}",
        on_off(strict, "false", "true")
    );
    out.push_str(" Send advert after receive higher priority advert = false\n");
    let _ = writeln!(
        out,
        " Gratuitous ARP interval = {}",
        Secs::fixed(g.vrrp_garp_interval, 6)
    );
    let _ = writeln!(
        out,
        " VRRP default protocol version = {}",
        version(g.vrrp_version)
    );
    // keepalived checks the source of unicast adverts only with vrrp_check_unicast_src; we
    // always do.
    out.push_str(" VRRP check unicast_src = true\n");
    let _ = writeln!(
        out,
        " VRRP skip check advert addresses = {}",
        on_off(g.vrrp_skip_check_adv_addr, "true", "false")
    );
    let _ = writeln!(
        out,
        " VRRP strict mode = {}",
        on_off(strict, "true", "false")
    );
    let _ = writeln!(
        out,
        " Script security {}",
        on_off(g.enable_script_security, "enabled", "disabled")
    );
    let (u, gid) = host.script_ids;
    let _ = writeln!(out, " Default script uid:gid {u}:{gid}");
}

fn version(v: VrrpVersion) -> u8 {
    match v {
        VrrpVersion::V2 => 2,
        VrrpVersion::V3 => 3,
    }
}

/// The state keepalived is heading for: the state itself, or for an instance not started
/// yet the one it asks for.
fn wantstate(s: &Slot) -> State {
    match s.machine.state() {
        State::Initialize if s.cfg.initial_state == InitialState::Master => State::Master,
        State::Initialize => State::Backup,
        st => st,
    }
}

/// keepalived's consistency rules (vrrp.c `vrrp_complete_instance`, as the machine applies
/// them): the owner or `state MASTER` always preempts; only a preempting backup delays.
fn preempt(cfg: &VrrpInstance) -> (bool, Duration) {
    let preempt = cfg.preempt || cfg.priority == 255 || cfg.initial_state == InitialState::Master;
    let delay = if preempt && cfg.initial_state != InitialState::Master {
        cfg.preempt_delay
    } else {
        Duration::ZERO
    };
    (preempt, delay)
}

/// The base priority plus every tracked object's contribution, unclamped (keepalived's
/// `total_priority`).
fn total_priority(router: &Router, s: &Slot) -> i32 {
    if s.cfg.priority == 255 {
        return 255;
    }
    let mut total = i32::from(s.cfg.priority);
    for (l, w) in &s.tracked_links {
        let up = router
            .links
            .get(usize::from(l.0))
            .is_some_and(|l| l.running);
        total += track::contribution(*w, if up { Status::Up } else { Status::Down });
    }
    for (id, w) in &s.tracked_scripts {
        total += track::contribution(*w, router.scripts.status(*id));
    }
    total
}

fn advert_int(cfg: &VrrpInstance) -> Duration {
    if cfg.advert_int.is_zero() {
        Duration::from_secs(1)
    } else {
        cfg.advert_int
    }
}

fn instance(router: &Router, s: &Slot, host: &Host, out: &mut String) {
    let cfg = &s.cfg;
    let state = s.machine.state();
    let v3 = cfg.version == VrrpVersion::V3;
    let _ = writeln!(out, " VRRP Instance = {}", cfg.name);
    let _ = writeln!(out, "   VRRP Version = {}", version(cfg.version));
    let _ = writeln!(out, "   State = {}", state.as_str());
    if state == State::Backup {
        if let Some(m) = s.machine.master_addr() {
            let _ = writeln!(out, "   Master router = {}", ShowIp(m));
        }
        if v3 {
            let _ = writeln!(
                out,
                "   Master advert int = {} sec",
                Secs::fixed(s.machine.master_adver_interval(), 2)
            );
        }
    }
    if cfg.is_unicast() {
        out.push_str("   Flags:\n     Using unicast\n");
    } else {
        out.push_str("   Flags: none\n");
    }
    let _ = writeln!(out, "   Wantstate = {}", wantstate(s).as_str());
    out.push_str("   Number of config faults = 0\n");
    let f = s.faults;
    let n = u32::from(f.interface)
        + u32::from(f.tracked_interfaces)
        + u32::from(f.scripts)
        + u32::from(f.files);
    let _ = writeln!(out, "   Number of interface and track script faults = {n}");
    let _ = writeln!(
        out,
        "   Number of track scripts init = {}",
        f.scripts_pending
    );
    let last = s.last_transition;
    let _ = writeln!(out, "   Last transition = {}", TimeText(host.wall_at(last)));
    match s.machine.poll_timeout() {
        Some(t) => {
            let _ = writeln!(out, "   Read timeout = {}", TimeText(host.wall_at(t)));
        }
        None => out.push_str("   Read timeout = DISABLED\n"),
    }
    let _ = writeln!(
        out,
        "   Master down timer = {} usecs",
        s.machine.master_down_interval().as_micros()
    );
    let _ = writeln!(out, "   Interface = {}", cfg.interface);
    if cfg.dont_track_primary {
        out.push_str("   VRRP interface tracking disabled\n");
    }
    if router.global.vrrp_skip_check_adv_addr {
        out.push_str("   Skip checking advert IP addresses\n");
    }
    if router.global.vrrp_strict {
        out.push_str("   Enforcing strict VRRP compliance\n");
    }
    let from_config = cfg.unicast_src_ip.or(cfg.mcast_src_ip).is_some();
    match s.src(&router.links) {
        Some(a) => {
            let how = on_off(from_config, " (from configuration)", "");
            let _ = writeln!(out, "   Using src_ip = {a}{how}");
        }
        None => out.push_str("   Using src_ip = (none)\n"),
    }
    if !cfg.is_unicast() {
        let _ = writeln!(out, "   Multicast address {}", s.group);
    }
    let strict = router.global.vrrp_strict;
    let tuning = crate::vrrp::machine::Tuning::keepalived(cfg, strict);
    let refresh = cfg.garp_master_refresh.unwrap_or_default().as_secs();
    let _ = writeln!(
        out,
        "   Gratuitous ARP delay = {}\n   Gratuitous ARP repeat = {}\n   \
         Gratuitous ARP refresh = {refresh}\n   Gratuitous ARP refresh repeat = {}\n   \
         Gratuitous ARP lower priority delay = {}\n   \
         Gratuitous ARP lower priority repeat = {}\n   Down timer adverts = 3",
        cfg.garp_master_delay.as_secs(),
        cfg.garp_master_repeat,
        tuning.garp_refresh_repeat,
        tuning.garp_lower_prio_delay.as_secs(),
        tuning.garp_lower_prio_repeat,
    );
    let _ = writeln!(
        out,
        "   Send advert after receive lower priority advert = {}\n   \
         Send advert after receive higher priority advert = {}",
        on_off(tuning.lower_prio_no_advert, "false", "true"),
        on_off(tuning.higher_prio_send_advert, "true", "false"),
    );
    let _ = writeln!(out, "   Virtual Router ID = {}", cfg.vrid);
    let _ = writeln!(out, "   Priority = {}", cfg.priority);
    let _ = writeln!(out, "   Effective priority = {}", s.machine.priority());
    let _ = writeln!(out, "   Total priority = {}", total_priority(router, s));
    let adv = advert_int(cfg);
    if v3 {
        let _ = writeln!(out, "   Advert interval = {} milli-sec", adv.as_millis());
        if state == State::Backup {
            let _ = writeln!(
                out,
                "   Master advert interval = {} milli-sec",
                s.machine.master_adver_interval().as_millis()
            );
        }
    } else {
        let _ = writeln!(out, "   Advert interval = {} sec", adv.as_secs());
    }
    let _ = writeln!(
        out,
        "   Accept = {}",
        on_off(cfg.accept, "enabled", "disabled")
    );
    let (preempt, delay) = preempt(cfg);
    let _ = writeln!(
        out,
        "   Preempt = {}",
        on_off(preempt, "enabled", "disabled")
    );
    if !delay.is_zero() {
        let _ = writeln!(out, "   Preempt delay = {} secs", Secs::shortest(delay));
    }
    out.push_str("   Promote_secondaries = disabled\n");
    match &cfg.auth {
        Some(Auth::Pass(p)) => {
            let _ = writeln!(
                out,
                "   Authentication type = SIMPLE_PASSWORD\n   Password = {}",
                password(p)
            );
        }
        None if !v3 => out.push_str("   Authentication type = none\n"),
        None => {}
    }
    let set = state == State::Master;
    if !cfg.vips.is_empty() {
        let _ = writeln!(out, "   Virtual IP ({}):", cfg.vips.len());
        for v in &cfg.vips {
            let _ = writeln!(out, "     {}", Vip(v, &cfg.interface, set));
        }
    }
    if !cfg.excluded_vips.is_empty() {
        out.push_str("   Virtual IP Excluded :\n");
        for v in &cfg.excluded_vips {
            let _ = writeln!(out, "     {}", Vip(v, &cfg.interface, set));
        }
    }
    if cfg.is_unicast() {
        out.push_str("   Unicast TTL = 255\n   Check unicast src : yes\n   Unicast Peer :\n");
        for p in &cfg.unicast_peers {
            let _ = writeln!(out, "     {} min_ttl 0 max_ttl 255", ShowIp(*p));
        }
    }
    if !s.tracked_links.is_empty() {
        out.push_str("   Tracked interfaces :\n");
        for (l, w) in &s.tracked_links {
            let name = router.links.get(usize::from(l.0)).map_or("?", |l| &l.name);
            let _ = writeln!(out, "     {name} {}", WeightText(*w));
        }
    }
    if !s.tracked_scripts.is_empty() {
        out.push_str("   Tracked scripts :\n");
        for (id, w) in &s.tracked_scripts {
            let _ = writeln!(out, "     {} {}", router.scripts.name(*id), WeightText(*w));
        }
    }
    out.push_str("   Using smtp notification = no\n   Notify deleted = Fault\n");
    let (u, g) = host.script_ids;
    let n = &cfg.notify;
    for (kind, c) in [
        ("Backup", &n.backup),
        ("Master", &n.master),
        ("Fault", &n.fault),
        ("Stop", &n.stop),
        ("Generic", &n.generic),
        ("Master rx lower pri", &n.master_rx_lower_pri),
    ] {
        if let Some(c) = c {
            let _ = writeln!(
                out,
                "   {kind} state transition script = {}, uid:gid {u}:{g}",
                CmdStr(c)
            );
        }
    }
    out.push_str("   Notify priority changes = false\n");
}

fn vrrp_script(
    router: &Router,
    config: &Config,
    id: crate::track::script::ScriptId,
    host: &Host,
    out: &mut String,
) {
    let Some(c) = config.scripts.get(id.index()) else {
        return;
    };
    let result = router.scripts.result(id);
    let status = router.scripts.status(id);
    let (u, g) = host
        .vrrp_script_ids
        .get(id.index())
        .copied()
        .unwrap_or(host.script_ids);
    let _ = writeln!(out, " VRRP Script = {}", c.name);
    let _ = writeln!(out, "   Command = {}", CmdStr(&c.script));
    let _ = writeln!(out, "   Interval = {} sec", c.interval.as_secs());
    let _ = writeln!(out, "   Timeout = {} sec", c.timeout.as_secs());
    let _ = writeln!(out, "   Weight = {}", WeightValue(c.weight));
    let _ = writeln!(out, "   Rise = {}", c.rise);
    let _ = writeln!(out, "   Fall = {}", c.fall);
    let _ = writeln!(out, "   Result = {result}");
    out.push_str("   Insecure = no\n");
    let init = on_off(status == Status::Init, "INIT", "unknown");
    let _ = writeln!(out, "   Init state = {init}");
    let good = result >= c.rise.max(1);
    let _ = writeln!(out, "   Status = {}", on_off(good, "GOOD", "BAD"));
    let _ = writeln!(out, "   Script uid:gid = {u}:{g}");
    out.push_str("   VRRP instances :\n   Tracking instances :\n");
    for s in &router.slots {
        for (sid, w) in &s.tracked_scripts {
            if *sid == id {
                let _ = writeln!(out, "     {}, weight {}", s.cfg.name, WeightValue(*w));
            }
        }
    }
}

fn interfaces(router: &Router, out: &mut String) {
    let mut header = false;
    for (k, l) in router.links.iter().enumerate() {
        let Some(ifindex) = l.ifindex else { continue };
        if !header {
            out.push_str("------< Interfaces >------\n");
            header = true;
        }
        let _ = writeln!(out, " Name = {}\n   index = {ifindex}", l.name);
        match l.primary {
            Some(a) => {
                let _ = writeln!(out, "   IPv4 address = {a}");
            }
            None => out.push_str("   IPv4 address = (none)\n"),
        }
        let m = l.mac;
        let _ = writeln!(
            out,
            "   MAC = {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        );
        let st = on_off(l.running, "UP, RUNNING", "DOWN");
        let _ = writeln!(out, "   State = {st}");
        let mut users = router.slots.iter().flat_map(|s| {
            let own = (usize::from(s.link.0) == k).then_some((s, Weight::default()));
            let tracked = s
                .tracked_links
                .iter()
                .filter(move |(t, _)| usize::from(t.0) == k)
                .map(move |(_, w)| (s, *w));
            own.into_iter().chain(tracked)
        });
        if let Some(first) = users.next() {
            out.push_str("   Tracking VRRP instances :\n");
            for (s, w) in core::iter::once(first).chain(users) {
                let _ = writeln!(out, "     {}, weight {}", s.cfg.name, WeightValue(w));
            }
        }
    }
}

/// keepalived's JSON dump (`/tmp/keepalived.json`, vrrp_json.c): an array with one object per
/// instance, `{"data": {...}, "stats": {...}}`, on one line.
pub fn json(router: &Router, config: &Config, host: &Host, out: &mut String) {
    out.push('[');
    for (k, s) in router.slots.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str("{\"data\":{");
        json_data(router, config, k, s, host, out);
        out.push_str("},\"stats\":{");
        json_stats(&s.counters, out);
        out.push_str("}}");
    }
    out.push(']');
}

/// keepalived's state numbers (vrrp.h `VRRP_STATE_*`).
fn state_number(s: State) -> u8 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

/// A duration in seconds as keepalived prints its doubles (`%g`, or `%.Nf`), with integer
/// arithmetic: formatting an `f64` would link about 15 KB of float-to-decimal code for this alone.
struct Secs {
    d: Duration,
    /// Digits after the point (rounded), or `None` for as few as the value needs.
    places: Option<u32>,
}

impl Secs {
    fn shortest(d: Duration) -> Self {
        Secs { d, places: None }
    }
    /// 1 to 9 places (nanoseconds).
    fn fixed(d: Duration, places: u32) -> Self {
        Secs {
            d,
            places: Some(places.clamp(1, 9)),
        }
    }
}

impl core::fmt::Display for Secs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.places {
            None => {
                write!(f, "{}", self.d.as_secs())?;
                let mut nanos = self.d.subsec_nanos();
                if nanos == 0 {
                    return Ok(());
                }
                let mut width = 9;
                while nanos.is_multiple_of(10) {
                    nanos /= 10;
                    width -= 1;
                }
                write!(f, ".{nanos:0width$}")
            }
            Some(places) => {
                let unit = 10u128.pow(9 - places);
                let scaled = (self.d.as_nanos() + unit / 2) / unit;
                let one = 10u128.pow(places);
                let width = places as usize;
                write!(f, "{}.{:0width$}", scaled / one, scaled % one)
            }
        }
    }
}

/// Writes `"name":` after a comma unless it is the object's first field.
struct Fields<'a> {
    out: &'a mut String,
    first: bool,
}

impl Fields<'_> {
    fn name(&mut self, name: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        json_str(self.out, name);
        self.out.push(':');
        self.out
    }
    fn uint(&mut self, name: &str, v: u64) {
        let _ = write!(self.name(name), "{v}");
    }
    fn bool(&mut self, name: &str, v: bool) {
        self.name(name).push_str(on_off(v, "true", "false"));
    }
    /// `%g` for the durations keepalived writes as doubles.
    fn float(&mut self, name: &str, d: Duration) {
        let _ = write!(self.name(name), "{}", Secs::shortest(d));
    }
    fn str(&mut self, name: &str, v: &str) {
        json_str(self.name(name), v);
    }
    fn strs<I: IntoIterator<Item = String>>(&mut self, name: &str, items: I) {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            // keepalived leaves out an empty list.
            return;
        }
        let out = self.name(name);
        out.push('[');
        for (k, v) in items.enumerate() {
            if k > 0 {
                out.push(',');
            }
            json_str(out, &v);
        }
        out.push(']');
    }
}

fn json_data(router: &Router, config: &Config, k: usize, s: &Slot, host: &Host, out: &mut String) {
    let cfg = &s.cfg;
    let strict = router.global.vrrp_strict;
    let tuning = crate::vrrp::machine::Tuning::keepalived(cfg, strict);
    let state = s.machine.state();
    let mut f = Fields { out, first: true };
    f.str("iname", &cfg.name);
    f.uint("dont_track_primary", u64::from(cfg.dont_track_primary));
    f.uint(
        "skip_check_adv_addr",
        u64::from(router.global.vrrp_skip_check_adv_addr),
    );
    f.uint("strict_mode", u64::from(strict));
    f.str("vmac_ifname", "");
    f.str("ifp_ifname", &cfg.interface);
    // keepalived's master_priority is the priority of the master's last advert; we do not
    // keep it, and 0 is its value when no advert was heard.
    f.uint("master_priority", 0);
    let last = router.slots[k].last_transition;
    let w = host.wall_at(last);
    let _ = write!(f.name("last_transition"), "{}.{:06}", w.secs(), w.usecs());
    f.float("garp_delay", cfg.garp_master_delay);
    f.uint(
        "garp_refresh",
        cfg.garp_master_refresh.unwrap_or_default().as_secs(),
    );
    f.uint("garp_rep", u64::from(cfg.garp_master_repeat));
    f.uint("garp_refresh_rep", u64::from(tuning.garp_refresh_repeat));
    f.uint(
        "garp_lower_prio_delay",
        tuning.garp_lower_prio_delay.as_secs(),
    );
    f.uint(
        "garp_lower_prio_rep",
        u64::from(tuning.garp_lower_prio_repeat),
    );
    f.uint(
        "lower_prio_no_advert",
        u64::from(tuning.lower_prio_no_advert),
    );
    f.uint(
        "higher_prio_send_advert",
        u64::from(tuning.higher_prio_send_advert),
    );
    f.uint("vrid", u64::from(cfg.vrid));
    f.uint("base_priority", u64::from(cfg.priority));
    f.uint("effective_priority", u64::from(s.machine.priority()));
    f.bool("vipset", state == State::Master);
    f.bool("promote_secondaries", false);
    f.float("adver_int", advert_int(cfg));
    f.float("master_adver_int", s.machine.master_adver_interval());
    f.uint("accept", u64::from(cfg.accept));
    let (preempt, delay) = preempt(cfg);
    f.bool("nopreempt", !preempt);
    f.uint("preempt_delay", delay.as_secs());
    f.uint("state", u64::from(state_number(state)));
    f.uint("wantstate", u64::from(state_number(wantstate(s))));
    f.uint("version", u64::from(version(cfg.version)));
    f.bool("smtp_alert", false);
    f.bool("notify_deleted", false);
    let n = &cfg.notify;
    for (name, c) in [
        ("script_backup", &n.backup),
        ("script_master", &n.master),
        ("script_fault", &n.fault),
        ("script_stop", &n.stop),
        ("script", &n.generic),
        ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
    ] {
        if let Some(c) = c {
            f.str(name, &CmdStr(c).to_string());
        }
    }
    let set = state == State::Master;
    let vip = |v: &VirtualAddr| Vip(v, &cfg.interface, set).to_string();
    f.strs("vips", cfg.vips.iter().map(vip));
    f.strs("evips", cfg.excluded_vips.iter().map(vip));
    let link_name = |l: &super::LinkId| {
        router
            .links
            .get(usize::from(l.0))
            .map_or_else(String::new, |l| l.name.clone())
    };
    f.strs(
        "track_ifp",
        s.tracked_links.iter().map(|(l, _)| link_name(l)),
    );
    let command = |id: &crate::track::script::ScriptId| {
        config
            .scripts
            .get(id.index())
            .map_or_else(String::new, |c| CmdStr(&c.script).to_string())
    };
    f.strs(
        "track_script",
        s.tracked_scripts.iter().map(|(id, _)| command(id)),
    );
    match &cfg.auth {
        Some(Auth::Pass(p)) => {
            f.uint("auth_type", 1);
            f.str("auth_data", &password(p));
        }
        None => f.uint("auth_type", 0),
    }
}

fn json_stats(c: &Counters, out: &mut String) {
    let stat = |section: &str, line: &str| -> u64 {
        crate::vrrp::packet::DropReason::ALL
            .iter()
            .filter(|r| r.keepalived_stat() == Some((section, line)))
            .map(|r| c.drops.get(r.index()).copied().unwrap_or(0))
            .sum()
    };
    const PACKET: &str = "Packet Errors";
    const AUTH: &str = "Authentication Errors";
    let mut f = Fields { out, first: true };
    f.uint("advert_rcvd", c.adverts_rx);
    f.uint("advert_sent", c.adverts_tx);
    f.uint("become_master", c.became_master);
    f.uint("release_master", c.released_master);
    f.uint("packet_len_err", stat(PACKET, "Length"));
    f.uint(
        "advert_interval_err",
        stat(PACKET, "Advertisement Interval"),
    );
    f.uint("ip_ttl_err", stat(PACKET, "TTL"));
    f.uint("invalid_type_rcvd", stat(PACKET, "Invalid Type"));
    f.uint("addr_list_err", stat(PACKET, "Address List"));
    f.uint("invalid_authtype", stat(AUTH, "Invalid Type"));
    f.uint("authtype_mismatch", stat(AUTH, "Type Mismatch"));
    f.uint("auth_failure", stat(AUTH, "Failure"));
    f.uint("pri_zero_rcvd", c.prio0_rx);
    f.uint("pri_zero_sent", c.prio0_tx);
}

/// A JSON string. keepalived escapes `/` as `\/` too (valid JSON, kept for byte equality);
/// unlike keepalived (it writes a backslash as `\n` and other control bytes raw) every
/// string here is valid JSON.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The password as keepalived prints it: up to the first NUL.
fn password(p: &[u8; 8]) -> String {
    let len = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..len]).into_owned()
}

/// keepalived's `cmd_str`: every word of the command in single quotes. A line we run through
/// `/bin/sh -c` shows as that.
struct CmdStr<'a>(&'a Command);

impl core::fmt::Display for CmdStr<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let c = self.0;
        if c.needs_shell() {
            return write!(f, "'/bin/sh' '-c' '{}' '{}'", c.line, c.program());
        }
        for (k, w) in c.line.split_ascii_whitespace().enumerate() {
            if k > 0 {
                f.write_str(" ")?;
            }
            write!(f, "'{w}'")?;
        }
        Ok(())
    }
}

/// `weight N[ reverse]` as keepalived's track lists print it.
struct WeightText(Weight);

impl core::fmt::Display for WeightText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "weight {}", WeightValue(self.0))
    }
}

/// `N[ reverse]`.
struct WeightValue(Weight);

impl core::fmt::Display for WeightValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0.weight)?;
        if self.0.reverse {
            f.write_str(" reverse")?;
        }
        Ok(())
    }
}

/// A virtual address as keepalived's `format_ipaddress` writes it:
/// `ADDR[/LEN] [brd B] dev IF scope S [label L][ set]`.
struct Vip<'a>(&'a VirtualAddr, &'a str, bool);

impl core::fmt::Display for Vip<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Vip(v, interface, set) = *self;
        write!(f, "{}", ShowIp(v.addr))?;
        let full = if v.addr.is_ipv4() { 32 } else { 128 };
        if v.prefix_len != full {
            write!(f, "/{}", v.prefix_len)?;
        }
        if let (IpAddr::V4(_), Some(b)) = (v.addr, v.broadcast) {
            write!(f, " brd {b}")?;
        }
        write!(f, " dev {}", v.dev.as_deref().unwrap_or(interface))?;
        match v.scope {
            Scope::Global => f.write_str(" scope global")?,
            Scope::Site => f.write_str(" scope site")?,
            Scope::Link => f.write_str(" scope link")?,
            Scope::Host => f.write_str(" scope host")?,
            Scope::Nowhere => f.write_str(" scope nowhere")?,
            Scope::Other(n) => write!(f, " scope {n}")?,
        }
        if let Some(l) = &v.label {
            write!(f, " label {l}")?;
        }
        if set {
            f.write_str(" set")?;
        }
        Ok(())
    }
}

/// `SECS.USECS (Thu Dec  3 07:55:47.379713 2026)`: keepalived's timestamps, the text in
/// local time (`ctime_us_r`).
struct TimeText(WallTime);

impl core::fmt::Display for TimeText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let w = self.0;
        let c = crate::time::Civil::from_secs(w.secs().saturating_add(i64::from(w.utc_offset)));
        write!(
            f,
            "{}.{:06} ({} {}{:3} {:02}:{:02}:{:02}.{:06} {})",
            w.secs(),
            w.usecs(),
            c.day_name(),
            c.month_name(),
            c.day,
            c.hour,
            c.minute,
            c.second,
            w.usecs(),
            c.year,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_str;
    use std::net::Ipv4Addr;
    use std::path::Path;

    const MAC: [u8; 6] = [2, 0, 0x5e, 0, 0, 1];
    const T0: Instant = Instant::from_millis(1000);
    /// keepalived's own dump printed this moment as `Thu Dec  3 07:55:47.379713 2026` (UTC).
    const WALL: i64 = 1_796_284_547_379_713;

    fn router(text: &str) -> (Config, Router) {
        let cfg = parse_str(text, Path::new("/nonexistent/k.conf")).unwrap();
        let r = Router::new(&cfg, T0).unwrap();
        (cfg, r)
    }

    fn host() -> Host<'static> {
        Host {
            now: Instant::from_millis(5000),
            wall: WallTime {
                micros: WALL,
                utc_offset: 0,
            },
            host_name: Some("lab1"),
            script_ids: (65534, 65534),
            vrrp_script_ids: &[(0, 0)],
            fifo_ids: (0, 0),
        }
    }

    const INSTANCE: &str = "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n \
        virtual_router_id 51\n priority 100\n advert_int 1\n \
        authentication {\n auth_type PASS\n auth_pass secret\n }\n \
        virtual_ipaddress {\n 192.0.2.100/24\n }\n";

    fn dumps(r: &Router, cfg: &Config) -> (String, String) {
        let (mut d, mut j) = (String::new(), String::new());
        data(r, cfg, &host(), &mut d);
        json(r, cfg, &host(), &mut j);
        (d, j)
    }

    #[test]
    fn master_with_a_script_and_a_tracked_interface() {
        let text = format!(
            "global_defs {{\n router_id test\n vrrp_notify_fifo /tmp/k.fifo\n}}\n\
             vrrp_script chk {{\n script \"/usr/bin/test -e /tmp/ok\"\n interval 2\n \
             weight -30\n rise 2\n fall 3\n}}\n{INSTANCE} state MASTER\n priority 255\n \
             track_interface {{\n eth1 weight 10\n }}\n track_script {{\n chk\n }}\n \
             notify_master \"/bin/echo master\"\n}}\n"
        );
        let (cfg, mut r) = router(&text);
        r.set_link("eth0", 3, true, MAC, Some(Ipv4Addr::new(192, 0, 2, 1)), T0);
        r.set_link("eth1", 4, false, MAC, None, T0);
        r.start(T0);
        let (d, j) = dumps(&r, &cfg);
        for line in [
            "------< Global definitions >------\n Network namespace = (default)\n \
             Router ID = test\n VRRP notify fifo = /tmp/k.fifo, uid:gid 0:0\n \
             VRRP IPv4 mcast group = 224.0.0.18\n",
            " Default script uid:gid 65534:65534\n------< VRRP Topology >------\n \
             VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n   Flags: none\n   \
             Wantstate = MASTER\n",
            // Four seconds before the dump.
            "   Last transition = 1796284543.379713 (Thu Dec  3 07:55:43.379713 2026)\n",
            // The next advert, one second after the transition.
            "   Read timeout = 1796284544.379713 (Thu Dec  3 07:55:44.379713 2026)\n",
            "   Interface = eth0\n   Using src_ip = 192.0.2.1\n   Multicast address 224.0.0.18\n",
            "   Priority = 255\n   Effective priority = 255\n   Total priority = 255\n   \
             Advert interval = 1 sec\n   Accept = enabled\n   Preempt = enabled\n",
            "   Authentication type = SIMPLE_PASSWORD\n   Password = secret\n   \
             Virtual IP (1):\n     192.0.2.100/24 dev eth0 scope global set\n",
            "   Tracked interfaces :\n     eth1 weight 10\n   Tracked scripts :\n     \
             chk weight -30\n",
            "   Master state transition script = '/bin/echo' 'master', uid:gid 65534:65534\n",
            "------< VRRP Scripts >------\n VRRP Script = chk\n   \
             Command = '/usr/bin/test' '-e' '/tmp/ok'\n   Interval = 2 sec\n   \
             Timeout = 2 sec\n   Weight = -30\n   Rise = 2\n   Fall = 3\n   Result = 0\n   \
             Insecure = no\n   Init state = INIT\n   Status = BAD\n   Script uid:gid = 0:0\n   \
             VRRP instances :\n   Tracking instances :\n     VI_1, weight -30\n",
            "------< Interfaces >------\n Name = eth0\n   index = 3\n   \
             IPv4 address = 192.0.2.1\n   MAC = 02:00:5e:00:00:01\n   State = UP, RUNNING\n   \
             Tracking VRRP instances :\n     VI_1, weight 0\n Name = eth1\n   index = 4\n   \
             IPv4 address = (none)\n   MAC = 02:00:5e:00:00:01\n   State = DOWN\n   \
             Tracking VRRP instances :\n     VI_1, weight 10\n",
        ] {
            assert!(d.contains(line), "missing\n{line}\nin\n{d}");
        }
        for field in [
            "[{\"data\":{\"iname\":\"VI_1\",",
            "\"master_priority\":0,\"last_transition\":1796284543.379713,\"garp_delay\":5,",
            "\"base_priority\":255,\"effective_priority\":255,\"vipset\":true,",
            "\"state\":2,\"wantstate\":2,\"version\":2,",
            "\"script_master\":\"'\\/bin\\/echo' 'master'\",",
            "\"vips\":[\"192.0.2.100\\/24 dev eth0 scope global set\"],",
            "\"track_ifp\":[\"eth1\"],\"track_script\":[\"'\\/usr\\/bin\\/test' '-e' '\\/tmp\\/ok'\"],",
            "\"auth_type\":1,\"auth_data\":\"secret\"},\"stats\":{\"advert_rcvd\":0,\"advert_sent\":0,\"become_master\":1,",
        ] {
            assert!(j.contains(field), "missing {field} in {j}");
        }
        assert!(j.ends_with("\"pri_zero_sent\":0}}]"), "{j}");
    }

    #[test]
    fn backup_json_is_keepalived_s_shape() {
        let text = format!("{INSTANCE} version 3\n advert_int 0.5\n nopreempt\n}}\n");
        let (cfg, mut r) = router(&text);
        r.set_link("eth0", 3, true, MAC, Some(Ipv4Addr::new(192, 0, 2, 1)), T0);
        r.start(T0);
        let (d, j) = dumps(&r, &cfg);
        // Field for field as keepalived 2.2.7 writes a VRRPv3 backup (authentication is
        // VRRPv2 only: dropped from a v3 instance).
        let want = "[{\"data\":{\"iname\":\"VI_1\",\"dont_track_primary\":0,\
            \"skip_check_adv_addr\":0,\"strict_mode\":0,\"vmac_ifname\":\"\",\
            \"ifp_ifname\":\"eth0\",\"master_priority\":0,\"last_transition\":1796284543.379713,\
            \"garp_delay\":5,\"garp_refresh\":0,\"garp_rep\":5,\"garp_refresh_rep\":1,\
            \"garp_lower_prio_delay\":5,\"garp_lower_prio_rep\":5,\"lower_prio_no_advert\":0,\
            \"higher_prio_send_advert\":0,\"vrid\":51,\"base_priority\":100,\
            \"effective_priority\":100,\"vipset\":false,\"promote_secondaries\":false,\
            \"adver_int\":0.5,\"master_adver_int\":0.5,\"accept\":1,\"nopreempt\":true,\
            \"preempt_delay\":0,\"state\":1,\"wantstate\":1,\"version\":3,\
            \"smtp_alert\":false,\"notify_deleted\":false,\
            \"vips\":[\"192.0.2.100\\/24 dev eth0 scope global\"],\
            \"auth_type\":0},\
            \"stats\":{\"advert_rcvd\":0,\"advert_sent\":0,\"become_master\":0,\
            \"release_master\":0,\"packet_len_err\":0,\"advert_interval_err\":0,\
            \"ip_ttl_err\":0,\"invalid_type_rcvd\":0,\"addr_list_err\":0,\
            \"invalid_authtype\":0,\"authtype_mismatch\":0,\"auth_failure\":0,\
            \"pri_zero_rcvd\":0,\"pri_zero_sent\":0}}]";
        assert_eq!(j, want);
        assert!(d.contains("   State = BACKUP\n"), "{d}");
        assert!(d.contains("   Master advert int = 0.50 sec\n"), "{d}");
        assert!(d.contains("   Advert interval = 500 milli-sec\n"), "{d}");
        assert!(
            d.contains("   Master advert interval = 500 milli-sec\n"),
            "{d}"
        );
        assert!(d.contains("   Preempt = disabled\n"), "{d}");
        assert!(
            d.contains("     192.0.2.100/24 dev eth0 scope global\n"),
            "{d}"
        );
        // No router_id: keepalived uses the host name.
        assert!(d.contains(" Router ID = lab1\n"), "{d}");
    }

    #[test]
    fn fault_unstarted_and_missing_state_never_panic() {
        let text = format!(
            "{INSTANCE} unicast_src_ip 192.0.2.1\n unicast_peer {{\n 192.0.2.2\n }}\n}}\n\
             vrrp_instance VI_2 {{\n interface eth9\n virtual_router_id 52\n \
             virtual_ipaddress {{\n 192.0.2.200\n }}\n}}\n"
        );
        let (cfg, mut r) = router(&text);
        // Not started: Initialize, wanting its configured state; no transition times given.
        let (d, j) = dumps(&r, &cfg);
        assert!(
            d.contains("   State = INIT\n   Flags:\n     Using unicast\n   Wantstate = BACKUP\n"),
            "{d}"
        );
        assert!(j.contains("\"state\":0,\"wantstate\":1,"), "{j}");
        // eth0 down, eth9 missing: both in FAULT.
        r.set_link("eth0", 3, false, MAC, Some(Ipv4Addr::new(192, 0, 2, 1)), T0);
        r.start(T0);
        let (d, j) = dumps(&r, &cfg);
        assert!(d.contains("   State = FAULT\n"), "{d}");
        assert!(
            d.contains("   Number of interface and track script faults = 1\n"),
            "{d}"
        );
        assert!(d.contains("   Read timeout = DISABLED\n"), "{d}");
        assert!(
            d.contains("   Using src_ip = 192.0.2.1 (from configuration)\n"),
            "{d}"
        );
        assert!(
            d.contains("   Unicast Peer :\n     192.0.2.2 min_ttl 0 max_ttl 255\n"),
            "{d}"
        );
        assert!(d.contains(" VRRP Instance = VI_2\n"), "{d}");
        assert!(d.contains("   Using src_ip = (none)\n"), "{d}");
        // An interface that does not exist is not listed.
        assert!(!d.contains(" Name = eth9\n"), "{d}");
        assert!(j.contains("\"state\":3,\"wantstate\":3,"), "{j}");
        assert_eq!(j.matches("{\"data\":").count(), 2, "{j}");
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c/d\ne\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\/d\\ne\\u0001\"");
    }

    #[test]
    fn ctime_text_and_calendar() {
        let t = WallTime {
            micros: WALL,
            utc_offset: 3600,
        };
        assert_eq!(
            TimeText(t).to_string(),
            "1796284547.379713 (Thu Dec  3 08:55:47.379713 2026)"
        );
        let before_epoch = WallTime {
            micros: -1,
            utc_offset: 0,
        };
        assert_eq!(
            TimeText(before_epoch).to_string(),
            "-1.999999 (Wed Dec 31 23:59:59.999999 1969)"
        );
    }

    #[test]
    fn secs_prints_what_float_formatting_would() {
        let cases = [
            0,
            1,
            5_000_000,
            10_000_000,
            500_000_000,
            1_000_000_000,
            1_250_000_000,
        ];
        let more = [
            3_000_100_000,
            40_950_000_000,
            255_000_000_000,
            123_456_789,
            1_000_001,
        ];
        for nanos in cases.into_iter().chain(more) {
            let d = Duration::from_nanos(nanos);
            let x = d.as_secs_f64();
            assert_eq!(Secs::shortest(d).to_string(), format!("{x}"), "{d:?}");
            assert_eq!(Secs::fixed(d, 2).to_string(), format!("{x:.2}"), "{d:?}");
            assert_eq!(Secs::fixed(d, 6).to_string(), format!("{x:.6}"), "{d:?}");
        }
    }
}
