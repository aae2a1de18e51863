//! The layer above the VRRP instances, in the spirit of quinn-proto's `Endpoint`: it owns every
//! instance, the links they use and their tracked scripts, takes raw datagrams with the
//! interface they came in on, link events, script exits and `now`, and returns the I/O the
//! daemon must perform ([`Output`]). It owns no socket and reads no clock, so every rule here is
//! tested on a virtual clock with real bytes (`tests` below: two routers on one simulated
//! segment).
//!
//! Identities are stable handles: a [`LinkId`] per interface name the configuration uses (an
//! interface may not exist yet, or be deleted and re-created with a new ifindex), an [`InstId`]
//! per instance and a [`ScriptId`] per `vrrp_script`.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

use fnv::FnvHashMap;

use super::garp::GarpPacer;
use super::machine::{Action, Instance, Tuning};
use super::packet::{self, DropReason};
use super::State;
use crate::config::{Config, GlobalDefs, SyncGroup, VirtualAddr, VrrpInstance, Weight};
use crate::netlink::IfAddr;
use crate::time::Instant;
use crate::track::script::{Exit, Scripts};
use crate::track::{self, Status};

pub use crate::track::script::ScriptId;

/// Handle of an interface named in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkId(u16);

/// Handle of a `vrrp_sync_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(u16);

impl GroupId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Handle of a `vrrp_instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstId(u16);

impl InstId {
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// What the daemon must do, in the order [`Router::poll_output`] gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Send the advert now in the caller's buffer (`len` bytes, VRRP header on) from `src` to
    /// `dst` on the interface `ifindex`.
    Transmit {
        ifindex: u32,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        len: usize,
    },
    /// Add (or remove) the instance's addresses: [`Router::vips`] lists them with their ifindex.
    Vips { inst: InstId, add: bool },
    /// One gratuitous ARP for `addr` from the interface `ifindex` whose MAC is `mac`.
    Garp {
        ifindex: u32,
        mac: [u8; 6],
        addr: Ipv4Addr,
    },
    /// The instance changed state: log it and tell the host (notify scripts, FIFO).
    Transition {
        inst: InstId,
        from: State,
        to: State,
        priority: u8,
    },
    /// A sync group changed state (all members MASTER, all BACKUP, one in FAULT, all stopped).
    GroupTransition { group: GroupId, to: State },
    /// A master heard an advert of lower priority (a partition healed): it kept the addresses
    /// and re-announced them. Given once per peer for as long as we stay master.
    LowerPriorityMaster {
        inst: InstId,
        from: IpAddr,
        priority: u8,
    },
    /// Start the script of a `vrrp_script`; report its end with [`Router::handle_script_exit`].
    RunScript(ScriptId),
    /// Add back address number `vip` of [`Router::vips`]: someone deleted it from under a
    /// master (an operator's `ip addr del`, a network manager flushing the interface).
    RestoreVip { inst: InstId, vip: usize },
}

/// Per-instance counters, printed by SIGUSR2 in keepalived's stats format.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub became_master: u64,
    pub released_master: u64,
    pub prio0_rx: u64,
    pub prio0_tx: u64,
    /// Adverts of a lower-priority master heard while master (split brain healed).
    pub lower_prio_master_rx: u64,
    /// VIPs put back after someone deleted them while we were master.
    pub vips_restored: u64,
    pub drops: [u64; DropReason::COUNT],
}

/// An interface as the router knows it.
#[derive(Debug, Clone)]
struct Link {
    name: String,
    /// `None` while the interface does not exist.
    ifindex: Option<u32>,
    /// IFF_UP and IFF_RUNNING.
    running: bool,
    mac: [u8; 6],
    /// The first non-secondary IPv4 address: the default advert source.
    primary: Option<Ipv4Addr>,
}

/// Why an instance is in FAULT, counted by source (keepalived's `num_script_if_fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Its own interface is missing or down, or has no address to send from.
    pub interface: bool,
    /// `track_interface` entries of weight 0 that are down.
    pub tracked_interfaces: u16,
    /// `track_script` entries of weight 0 that failed (or have not succeeded yet).
    pub scripts: u16,
    /// `track_file` entries whose value means FAULT.
    pub files: u16,
    /// Of `scripts`, those with no verdict yet: a FAULT only they cause at start is not
    /// notified (keepalived's script init state).
    pub scripts_pending: u16,
    /// Another member of the instance's sync group is in FAULT for a reason of its own.
    pub sync_group: bool,
}

impl Faults {
    pub fn any(self) -> bool {
        self.own() || self.sync_group
    }

    /// A reason of the instance itself, not of its group.
    fn own(self) -> bool {
        self.interface || self.tracked_interfaces > 0 || self.scripts > 0 || self.files > 0
    }
}

struct Slot {
    cfg: VrrpInstance,
    machine: Instance,
    link: LinkId,
    /// The link of each VIP, then of each excluded VIP.
    vip_links: Vec<LinkId>,
    tracked_links: Vec<(LinkId, Weight)>,
    tracked_scripts: Vec<(ScriptId, Weight)>,
    /// `track_file` entries: the file's index in [`Router::files`] and the weight.
    tracked_files: Vec<(usize, Weight)>,
    /// Where multicast adverts go.
    group: Ipv4Addr,
    faults: Faults,
    /// Peers already reported by [`Output::LowerPriorityMaster`] (reset when we leave master).
    lower_masters: Vec<IpAddr>,
    sync_group: Option<GroupId>,
    /// Reload: restarted with changed protocol settings while master: back to master at once.
    resume_master: bool,
    /// When the instance last changed state (the dumps show it); its start before that.
    last_transition: Instant,
    counters: Counters,
}

struct Group {
    cfg: SyncGroup,
    members: Vec<usize>,
    /// The state last notified: every member MASTER, every member BACKUP, one in FAULT, or all
    /// stopped; a group in between keeps the last one.
    state: State,
}

impl Slot {
    /// The source of our adverts: `unicast_src_ip`/`mcast_src_ip`, else the primary address.
    fn src(&self, links: &[Link]) -> Option<Ipv4Addr> {
        match self.cfg.unicast_src_ip.or(self.cfg.mcast_src_ip) {
            Some(IpAddr::V4(a)) => Some(a),
            Some(IpAddr::V6(_)) => None,
            None => links[usize::from(self.link.0)].primary,
        }
    }
}

/// Internal queue entries; adverts become bytes only when the daemon asks for them.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// Advert with `priority` to unicast peer number `peer` (0 for multicast).
    Advert {
        inst: InstId,
        priority: u8,
        peer: usize,
    },
    Out(Output),
}

pub struct Router {
    global: GlobalDefs,
    links: Vec<Link>,
    link_by_name: FnvHashMap<String, LinkId>,
    link_by_ifindex: FnvHashMap<u32, LinkId>,
    slots: Vec<Slot>,
    /// Adverts are dispatched by (interface, VRID).
    by_vrid: FnvHashMap<(LinkId, u8), InstId>,
    groups: Vec<Group>,
    /// `track_file` blocks: name and the value last read (0 when missing).
    files: Vec<(String, i64)>,
    scripts: Scripts,
    garps: GarpPacer,
    queue: VecDeque<Pending>,
}

/// Why a configuration cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupError(pub String);

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Router {
    /// Instances in Initialize; every interface unknown until [`Router::set_link`] reports it.
    pub fn new(config: &Config, now: Instant) -> Result<Router, SetupError> {
        let mut r = Router {
            global: config.global.clone(),
            links: Vec::new(),
            link_by_name: FnvHashMap::default(),
            link_by_ifindex: FnvHashMap::default(),
            slots: Vec::with_capacity(config.instances.len()),
            by_vrid: FnvHashMap::default(),
            groups: Vec::with_capacity(config.sync_groups.len()),
            files: config
                .track_files
                .iter()
                .map(|f| (f.name.clone(), 0))
                .collect(),
            scripts: Scripts::new(&config.scripts, now),
            garps: GarpPacer::new(config.global.vrrp_garp_interval, config.instances.len()),
            queue: VecDeque::new(),
        };
        let script_ids: FnvHashMap<&str, (ScriptId, Weight)> = config
            .scripts
            .iter()
            .enumerate()
            .map(|(k, s)| (s.name.as_str(), (ScriptId(k as u16), s.weight)))
            .collect();
        for cfg in &config.instances {
            if cfg.vips.iter().any(|v| v.addr.is_ipv6())
                || cfg.unicast_peers.iter().any(|p| p.is_ipv6())
            {
                return Err(SetupError(format!(
                    "({}) IPv6 instances are not supported yet",
                    cfg.name
                )));
            }
            let id = InstId(r.slots.len() as u16);
            let link = r.link(&cfg.interface);
            if r.by_vrid.insert((link, cfg.vrid), id).is_some() {
                return Err(SetupError(format!(
                    "({}) VRID {} is used twice on {}",
                    cfg.name, cfg.vrid, cfg.interface
                )));
            }
            let devs = cfg.vips.iter().chain(&cfg.excluded_vips);
            let vip_links = devs
                .map(|v| r.link(v.dev.as_deref().unwrap_or(&cfg.interface)))
                .collect();
            let tracked_links = cfg
                .track_interfaces
                .iter()
                .map(|t| (r.link(&t.name), t.weight.unwrap_or_default()))
                .collect();
            let tracked_scripts = cfg
                .track_scripts
                .iter()
                .filter_map(|t| {
                    let (id, w) = *script_ids.get(t.name.as_str())?;
                    Some((id, t.weight.unwrap_or(w)))
                })
                .collect();
            let tracked_files = cfg
                .track_files
                .iter()
                .filter_map(|t| {
                    let k = config.track_files.iter().position(|f| f.name == t.name)?;
                    Some((k, t.weight.unwrap_or(config.track_files[k].weight)))
                })
                .collect();
            let tuning = Tuning::keepalived(cfg, config.global.vrrp_strict);
            r.slots.push(Slot {
                machine: Instance::with_tuning(cfg, Ipv4Addr::UNSPECIFIED, tuning),
                cfg: cfg.clone(),
                link,
                vip_links,
                tracked_links,
                tracked_scripts,
                tracked_files,
                group: config.global.vrrp_mcast_group4,
                faults: Faults::default(),
                lower_masters: Vec::new(),
                sync_group: None,
                resume_master: false,
                last_transition: now,
                counters: Counters::default(),
            });
        }
        for g in &config.sync_groups {
            r.add_group(g, &script_ids);
        }
        // Room for every action one input can cause on every instance: the steady state
        // never grows it.
        r.queue
            .reserve(r.slots.len() * super::machine::ACTION_CAPACITY + 16);
        Ok(r)
    }

    fn link(&mut self, name: &str) -> LinkId {
        if let Some(&id) = self.link_by_name.get(name) {
            return id;
        }
        let id = LinkId(self.links.len() as u16);
        self.links.push(Link {
            name: name.to_string(),
            ifindex: None,
            running: false,
            mac: [0; 6],
            primary: None,
        });
        self.link_by_name.insert(name.to_string(), id);
        id
    }

    /// A sync group: its members move together and also track what the group tracks. Without
    /// `sync_group_tracking_weight`, members' weighted tracking is turned off as keepalived does
    /// (vrrp.c `vrrp_complete_instance`): interfaces become weight 0, weighted scripts are dropped.
    fn add_group(&mut self, g: &SyncGroup, script_ids: &FnvHashMap<&str, (ScriptId, Weight)>) {
        let id = GroupId(self.groups.len() as u16);
        let mut members = Vec::new();
        for name in &g.members {
            let Some(k) = self.slots.iter().position(|s| &s.cfg.name == name) else {
                continue;
            };
            members.push(k);
            let links: Vec<(LinkId, Weight)> = g
                .track_interfaces
                .iter()
                .map(|t| (self.link(&t.name), t.weight.unwrap_or_default()))
                .collect();
            let s = &mut self.slots[k];
            s.sync_group = Some(id);
            s.tracked_links.extend(links);
            s.tracked_scripts
                .extend(g.track_scripts.iter().filter_map(|t| {
                    let (sid, w) = *script_ids.get(t.name.as_str())?;
                    Some((sid, t.weight.unwrap_or(w)))
                }));
            if !g.tracking_weight {
                let name = &s.cfg.name;
                for (_, w) in s.tracked_links.iter_mut().filter(|(_, w)| w.weight != 0) {
                    warn!(
                        "({name}) ignoring the weight of a tracked interface: sync group {}",
                        g.name
                    );
                    w.weight = 0;
                }
                let before = s.tracked_scripts.len();
                s.tracked_scripts.retain(|(_, w)| w.weight == 0);
                if s.tracked_scripts.len() < before {
                    warn!(
                        "({name}) ignoring tracked scripts with weights: sync group {}",
                        g.name
                    );
                }
            }
        }
        self.groups.push(Group {
            cfg: g.clone(),
            members,
            state: State::Initialize,
        });
    }

    /// The interface names the configuration uses: the daemon looks each up at start and
    /// whenever a link event names one.
    pub fn link_names(&self) -> impl Iterator<Item = &str> {
        self.links.iter().map(|l| l.name.as_str())
    }

    /// Whether `name` is an interface the configuration uses.
    pub fn uses_link(&self, name: &str) -> bool {
        self.link_by_name.contains_key(name)
    }

    /// The ifindex the router knows for `name`.
    pub fn ifindex(&self, name: &str) -> Option<u32> {
        let id = self.link_by_name.get(name)?;
        self.links[usize::from(id.0)].ifindex
    }

    /// Starts every instance: those whose interface is missing or down, or whose tracked
    /// objects say so, enter FAULT; the others BACKUP (or MASTER for an address owner).
    pub fn start(&mut self, now: Instant) {
        for k in 0..self.slots.len() {
            self.reevaluate(k, now);
        }
        for k in 0..self.slots.len() {
            self.slots[k].machine.start(now);
            self.drain(k, now);
        }
    }

    /// What the daemon learnt of an interface (at start, or when a link event names one of
    /// ours): it exists with this ifindex, MAC and primary IPv4 address, and is or is not
    /// running.
    pub fn set_link(
        &mut self,
        name: &str,
        ifindex: u32,
        running: bool,
        mac: [u8; 6],
        primary: Option<Ipv4Addr>,
        now: Instant,
    ) {
        let Some(&id) = self.link_by_name.get(name) else {
            return;
        };
        let link = &mut self.links[usize::from(id.0)];
        if let Some(old) = link.ifindex.filter(|&i| i != ifindex) {
            self.link_by_ifindex.remove(&old);
        }
        let link = &mut self.links[usize::from(id.0)];
        link.ifindex = Some(ifindex);
        link.running = running;
        link.mac = mac;
        link.primary = primary;
        self.link_by_ifindex.insert(ifindex, id);
        self.link_changed(id, now);
    }

    /// A link event for `ifindex`: running or not, or deleted. Returns false when the router
    /// does not know that ifindex (the daemon then looks the name up: a new interface may be
    /// one of ours).
    pub fn handle_link(
        &mut self,
        ifindex: u32,
        running: bool,
        removed: bool,
        now: Instant,
    ) -> bool {
        let Some(&id) = self.link_by_ifindex.get(&ifindex) else {
            return false;
        };
        let link = &mut self.links[usize::from(id.0)];
        if removed {
            link.ifindex = None;
            link.running = false;
            self.link_by_ifindex.remove(&ifindex);
        } else if link.running == running {
            return true;
        } else {
            link.running = running;
        }
        info!(
            "Netlink reports {} {}",
            link.name,
            if removed {
                "deleted"
            } else if running {
                "up"
            } else {
                "down"
            }
        );
        self.link_changed(id, now);
        true
    }

    fn link_changed(&mut self, id: LinkId, now: Instant) {
        for k in 0..self.slots.len() {
            let s = &self.slots[k];
            if s.link == id || s.tracked_links.iter().any(|(l, _)| *l == id) {
                self.update(k, now);
            }
        }
    }

    /// An IPv4 address appeared on or vanished from interface `ifindex`. The link's primary
    /// address (our advert source) follows; a VIP deleted from under a master is put back
    /// and announced again (keepalived does the same through its netlink monitor).
    pub fn handle_addr(&mut self, ifindex: u32, addr: IfAddr, removed: bool, now: Instant) {
        let Some(&link) = self.link_by_ifindex.get(&ifindex) else {
            return;
        };
        let ours = |s: &Slot| {
            let all = s.cfg.vips.iter().chain(&s.cfg.excluded_vips);
            all.zip(&s.vip_links)
                .position(|(v, l)| *l == link && v.addr == IpAddr::V4(addr.addr))
        };
        let mut vip_of = None;
        for (k, s) in self.slots.iter().enumerate() {
            if let Some(i) = ours(s) {
                vip_of = Some((k, i));
                break;
            }
        }
        match vip_of {
            // Our own address: never the source; restored if a master lost it.
            Some((k, vip)) => {
                let s = &mut self.slots[k];
                if removed && s.machine.state() == State::Master {
                    warn!(
                        "({}) VIP {} was deleted while master: restoring it",
                        s.cfg.name, addr.addr
                    );
                    s.counters.vips_restored += 1;
                    let inst = InstId(k as u16);
                    self.queue
                        .push_back(Pending::Out(Output::RestoreVip { inst, vip }));
                    let addrs = s.cfg.vips.len() + s.cfg.excluded_vips.len();
                    self.garps.push(k, addrs, s.cfg.garp_master_repeat.max(1));
                }
            }
            None if !addr.secondary => {
                let l = &mut self.links[usize::from(link.0)];
                let before = l.primary;
                if removed && l.primary == Some(addr.addr) {
                    l.primary = None;
                } else if !removed && l.primary.is_none() {
                    l.primary = Some(addr.addr);
                }
                if l.primary != before {
                    self.link_changed(link, now);
                }
            }
            None => {}
        }
    }

    /// One datagram from the raw VRRP socket of interface `ifindex`.
    pub fn handle_datagram(&mut self, ifindex: u32, dgram: &[u8], now: Instant) {
        let Some(&link) = self.link_by_ifindex.get(&ifindex) else {
            return;
        };
        let Some(vrid) = packet::peek_vrid(dgram) else {
            return;
        };
        let Some(&id) = self.by_vrid.get(&(link, vrid)) else {
            return;
        };
        let k = id.index();
        let links = &self.links;
        let s = &mut self.slots[k];
        let src = s.src(links).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let dst = if s.cfg.is_unicast() { src } else { s.group };
        // vrrp_skip_check_adv_addr: a backup trusts the address list of the master it follows.
        let master = match s.machine.master_addr() {
            Some(IpAddr::V4(a)) if s.machine.state() == State::Backup => Some(a),
            _ => None,
        };
        let ctx = packet::CheckContext {
            master,
            check_unicast_src: true,
        };
        match packet::check_in(&s.cfg, &self.global, dgram, dst, ctx) {
            Ok(adv) => {
                s.counters.adverts_rx += 1;
                if adv.priority == 0 {
                    s.counters.prio0_rx += 1;
                }
                s.machine.handle_advert(&adv, now);
                self.drain(k, now);
            }
            Err(reason) => {
                let n = &mut s.counters.drops[reason.index()];
                *n += 1;
                // The first of each kind, then every 1000th: a flood cannot fill the log.
                if *n == 1 || (*n).is_multiple_of(1000) {
                    warn!(
                        "({}) dropped advert: {} (x{})",
                        s.cfg.name,
                        reason.name(),
                        *n
                    );
                }
            }
        }
    }

    /// The value read from `track_file` number `file` (0 when the file is missing).
    pub fn handle_file(&mut self, file: usize, value: i64, now: Instant) {
        let Some(f) = self.files.get_mut(file) else {
            return;
        };
        if f.1 == value {
            return;
        }
        info!("Tracked file {} now holds {value}", f.0);
        f.1 = value;
        for k in 0..self.slots.len() {
            if self.slots[k].tracked_files.iter().any(|(i, _)| *i == file) {
                self.update(k, now);
            }
        }
    }

    /// A `vrrp_script` run ended (or was killed at its timeout).
    pub fn handle_script_exit(&mut self, id: ScriptId, exit: Exit, now: Instant) {
        if self.scripts.handle_exit(id, exit).is_none() {
            return;
        }
        for k in 0..self.slots.len() {
            if self.slots[k].tracked_scripts.iter().any(|(s, _)| *s == id) {
                self.update(k, now);
            }
        }
    }

    /// Fires every timer due at `now`: instance timers and script runs.
    pub fn handle_timeout(&mut self, now: Instant) {
        for k in 0..self.slots.len() {
            if self.slots[k]
                .machine
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.slots[k].machine.handle_timeout(now);
                self.drain(k, now);
            }
        }
        while let Some(id) = self.scripts.poll_due(now) {
            self.queue.push_back(Pending::Out(Output::RunScript(id)));
        }
    }

    // ------------------------------------------------------------------------------------
    // Reload

    /// The running instances a new configuration no longer has.
    pub fn removed_by(&self, new: &Config) -> Vec<InstId> {
        self.instances()
            .filter(|&id| {
                let name = &self.config(id).name;
                !new.instances.iter().any(|i| &i.name == name)
            })
            .collect()
    }

    /// Stops one instance (it is gone from the configuration): a master sends priority 0 and
    /// gives its addresses back, as at SIGTERM.
    pub fn stop_instance(&mut self, id: InstId, now: Instant) {
        self.slots[id.index()].machine.stop(now);
        self.drain(id.index(), now);
    }

    /// Reload, called on the router built from the new configuration: takes over from `old`
    /// what the new configuration did not change. Links keep their state; scripts their
    /// verdicts; an instance whose protocol settings are the same keeps its state, timers and
    /// counters (its addresses, tracking and notify settings take effect in place); a changed
    /// one starts afresh, at once as master if it was master. Returns, for each of `old`'s
    /// scripts, its id here (running scripts report their exit under it).
    pub fn adopt(
        &mut self,
        old: &mut Router,
        old_cfg: &Config,
        new_cfg: &Config,
        now: Instant,
    ) -> Vec<Option<ScriptId>> {
        for (k, l) in self.links.iter_mut().enumerate() {
            let Some(o) = old.links.iter().find(|o| o.name == l.name) else {
                continue;
            };
            *l = o.clone();
            if let Some(i) = l.ifindex {
                self.link_by_ifindex.insert(i, LinkId(k as u16));
            }
        }
        let same_script = |name: &str| {
            let find = |c: &Config| c.scripts.iter().find(|s| s.name == name).cloned();
            match (find(old_cfg), find(new_cfg)) {
                (Some(mut a), Some(b)) => {
                    a.at = b.at.clone();
                    a.script.at = b.script.at.clone();
                    a == b
                }
                _ => false,
            }
        };
        let script_ids = self.scripts.adopt(&old.scripts, same_script);
        for f in &mut self.files {
            if let Some(o) = old.files.iter().find(|o| o.0 == f.0) {
                f.1 = o.1;
            }
        }
        for k in 0..self.slots.len() {
            let name = self.slots[k].cfg.name.clone();
            let Some(j) = old.slots.iter().position(|s| s.cfg.name == name) else {
                continue;
            };
            let o = &mut old.slots[j];
            let n = &mut self.slots[k];
            if o.cfg.same_protocol(&n.cfg) {
                core::mem::swap(&mut n.machine, &mut o.machine);
                n.counters = o.counters.clone();
                n.last_transition = o.last_transition;
                n.lower_masters = core::mem::take(&mut o.lower_masters);
                n.faults = o.faults;
                if !o.cfg.same_as(&n.cfg) {
                    info!("({name}) changed by the reload; its state is kept");
                }
            } else {
                info!("({name}) protocol settings changed by the reload: restarting it");
                n.counters = o.counters.clone();
                n.resume_master = o.machine.state() == State::Master;
            }
        }
        for g in &mut self.groups {
            if let Some(o) = old.groups.iter().find(|o| o.cfg.name == g.cfg.name) {
                g.state = o.state;
            }
        }
        // Anything the old router still has queued (its adverts) goes with it; the new one
        // starts from its own state.
        self.start_reloaded(now);
        script_ids
    }

    /// After [`Router::adopt`]: re-reads tracking for every instance and starts the ones that
    /// are new or restarted.
    fn start_reloaded(&mut self, now: Instant) {
        for k in 0..self.slots.len() {
            self.reevaluate(k, now);
        }
        for k in 0..self.slots.len() {
            let s = &mut self.slots[k];
            if s.machine.state() == State::Initialize {
                if core::mem::take(&mut s.resume_master) {
                    s.machine.resume_master(now);
                } else {
                    s.machine.start(now);
                }
            }
            self.drain(k, now);
        }
    }

    /// Whether an instance timer is due at `now` (the daemon reads queued adverts first).
    pub fn instance_timer_due(&self, now: Instant) -> bool {
        self.slots
            .iter()
            .any(|s| s.machine.poll_timeout().is_some_and(|t| t <= now))
    }

    /// Stops every instance (SIGTERM): masters send priority 0 and give their addresses back.
    pub fn stop(&mut self, now: Instant) {
        for k in 0..self.slots.len() {
            self.slots[k].machine.stop(now);
            self.drain(k, now);
        }
    }

    /// The earliest deadline of anything the router runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter_map(|s| s.machine.poll_timeout())
            .chain(self.garps.poll_timeout())
            .chain(self.scripts.poll_timeout())
            .min()
    }

    /// The next thing to do. A [`Output::Transmit`] wrote its advert into `buf` (2 KiB holds
    /// any: 255 addresses and the headers).
    pub fn poll_output(&mut self, now: Instant, buf: &mut [u8]) -> Option<Output> {
        while let Some(p) = self.queue.pop_front() {
            match p {
                Pending::Out(o) => return Some(o),
                Pending::Advert {
                    inst,
                    priority,
                    peer,
                } => {
                    if let Some(t) = self.build(inst, priority, peer, buf) {
                        return Some(t);
                    }
                }
            }
        }
        while let Some((owner, k)) = self.garps.pop(now) {
            let s = &self.slots[owner];
            let vip = s.cfg.vips.iter().chain(&s.cfg.excluded_vips).nth(k);
            let Some(IpAddr::V4(addr)) = vip.map(|v| v.addr) else {
                continue;
            };
            let link = &self.links[usize::from(s.vip_links[k].0)];
            if let Some(ifindex) = link.ifindex {
                return Some(Output::Garp {
                    ifindex,
                    mac: link.mac,
                    addr,
                });
            }
        }
        None
    }

    /// One advert into `buf`; queues the advert to the next unicast peer behind it.
    fn build(&mut self, inst: InstId, priority: u8, peer: usize, buf: &mut [u8]) -> Option<Output> {
        let s = &mut self.slots[inst.index()];
        let link = &self.links[usize::from(s.link.0)];
        let ifindex = link.ifindex?;
        let src = s.src(&self.links)?;
        let dst = if s.cfg.is_unicast() {
            if peer + 1 < s.cfg.unicast_peers.len() {
                self.queue.push_front(Pending::Advert {
                    inst,
                    priority,
                    peer: peer + 1,
                });
            }
            match s.cfg.unicast_peers[peer] {
                IpAddr::V4(a) => a,
                IpAddr::V6(_) => return None,
            }
        } else {
            s.group
        };
        let len = packet::build_advert(&s.cfg, priority, src, dst, buf);
        if len == 0 {
            return None;
        }
        if peer == 0 {
            s.counters.adverts_tx += 1;
            if priority == 0 {
                s.counters.prio0_tx += 1;
            }
        }
        Some(Output::Transmit {
            ifindex,
            src,
            dst,
            len,
        })
    }

    /// The addresses of an instance with the ifindex each lives on (`None`: its interface
    /// does not exist now).
    pub fn vips(&self, inst: InstId) -> impl Iterator<Item = (Option<u32>, &VirtualAddr)> {
        let s = &self.slots[inst.index()];
        let all = s.cfg.vips.iter().chain(&s.cfg.excluded_vips);
        all.zip(&s.vip_links)
            .map(|(v, l)| (self.links[usize::from(l.0)].ifindex, v))
    }

    pub fn instances(&self) -> impl Iterator<Item = InstId> {
        (0..self.slots.len() as u16).map(InstId)
    }

    pub fn config(&self, inst: InstId) -> &VrrpInstance {
        &self.slots[inst.index()].cfg
    }

    pub fn state(&self, inst: InstId) -> State {
        self.slots[inst.index()].machine.state()
    }

    pub fn priority(&self, inst: InstId) -> u8 {
        self.slots[inst.index()].machine.priority()
    }

    pub fn faults(&self, inst: InstId) -> Faults {
        self.slots[inst.index()].faults
    }

    pub fn counters(&self, inst: InstId) -> &Counters {
        &self.slots[inst.index()].counters
    }

    /// STATS_CLEAR: every instance's counters back to zero.
    pub fn clear_counters(&mut self) {
        for s in &mut self.slots {
            s.counters = Counters::default();
        }
    }

    /// Re-reads what instance `k` tracks, applies it (to its whole sync group) and queues
    /// what follows.
    fn update(&mut self, k: usize, now: Instant) {
        self.reevaluate(k, now);
        match self.slots[k].sync_group {
            None => self.drain(k, now),
            Some(g) => {
                for i in 0..self.groups[g.index()].members.len() {
                    let m = self.groups[g.index()].members[i];
                    self.drain(m, now);
                }
            }
        }
    }

    /// Fault reasons and effective priority from what instance `k` tracks (keepalived
    /// vrrp_track.c), applied to its machine; with a sync group, to every member: one member's
    /// own FAULT puts the others in FAULT too (vrrp_sync.c `vrrp_sync_fault`).
    fn reevaluate(&mut self, k: usize, now: Instant) {
        let Some(g) = self.slots[k].sync_group else {
            let (f, total) = self.own_state(k);
            self.apply(k, f, total, now);
            return;
        };
        let members = &self.groups[g.index()].members;
        let own: Vec<(usize, Faults, i32)> = members
            .iter()
            .map(|&m| {
                let (f, t) = self.own_state(m);
                (m, f, t)
            })
            .collect();
        for &(m, f, total) in &own {
            let others = own.iter().any(|&(o, of, _)| o != m && of.own());
            let f = Faults {
                sync_group: others,
                ..f
            };
            self.apply(m, f, total, now);
        }
    }

    /// The instance's own fault reasons and total priority (base plus contributions).
    fn own_state(&self, k: usize) -> (Faults, i32) {
        let links = &self.links;
        let s = &self.slots[k];
        let own = &links[usize::from(s.link.0)];
        let mut faults = Faults {
            interface: !s.cfg.dont_track_primary && !own.running || s.src(links).is_none(),
            ..Faults::default()
        };
        let mut total = i32::from(s.cfg.priority);
        for (l, w) in &s.tracked_links {
            let st = if links[usize::from(l.0)].running {
                Status::Up
            } else {
                Status::Down
            };
            faults.tracked_interfaces += u16::from(track::faults(*w, st));
            total += track::contribution(*w, st);
        }
        for (id, w) in &s.tracked_scripts {
            let st = self.scripts.status(*id);
            let f = track::faults(*w, st);
            faults.scripts += u16::from(f);
            faults.scripts_pending += u16::from(f && st == Status::Init);
            total += track::contribution(*w, st);
        }
        for (f, w) in &s.tracked_files {
            match track::file::effect(*w, self.files[*f].1) {
                track::file::Effect::Fault => faults.files += 1,
                track::file::Effect::Priority(p) => total += p,
            }
        }
        (faults, total)
    }

    fn apply(&mut self, k: usize, faults: Faults, total: i32, now: Instant) {
        let src = self.slots[k].src(&self.links);
        let s = &mut self.slots[k];
        if let Some(src) = src {
            s.machine.set_local_addr(src);
        }
        if faults != s.faults {
            debug!("({}) fault reasons {faults:?}", s.cfg.name);
            s.faults = faults;
        }
        // The address owner keeps 255; everyone else stays in 1..=254.
        if s.cfg.priority != 255 {
            let prio = total.clamp(1, 254) as u8;
            if prio != s.machine.priority() {
                info!(
                    "({}) Changing effective priority from {} to {prio}",
                    s.cfg.name,
                    s.machine.priority()
                );
                s.machine.set_priority(prio, now);
            }
        }
        s.machine.set_fault(faults.any(), now);
    }

    /// A transition of instance `k`: counters, the output, and its sync group following.
    fn state_changed(&mut self, k: usize, from: State, to: State, now: Instant) {
        let s = &mut self.slots[k];
        s.last_transition = now;
        let f = s.faults;
        let only_pending = !f.interface
            && f.tracked_interfaces == 0
            && f.scripts == f.scripts_pending
            && !f.sync_group;
        if from == State::Initialize && to == State::Fault && only_pending {
            // Waiting for the first verdict of a script is not news for the host.
            return;
        }
        if to == State::Master {
            s.counters.became_master += 1;
        }
        if from == State::Master {
            s.counters.released_master += 1;
            s.lower_masters.clear();
        }
        let priority = s.machine.priority();
        self.queue.push_back(Pending::Out(Output::Transition {
            inst: InstId(k as u16),
            from,
            to,
            priority,
        }));
        let Some(g) = s.sync_group else {
            return;
        };
        // vrrp_sync.c: one member becoming master takes the others with it; one going back
        // to backup takes the masters back too.
        let follow = match (from, to) {
            (State::Backup, State::Master) => Some(true),
            (State::Master, State::Backup) => Some(false),
            _ => None,
        };
        if let Some(master) = follow {
            if self.group_state(g) != Some(to) {
                info!(
                    "VRRP_Group({}) Syncing instances to {} state",
                    self.groups[g.index()].cfg.name,
                    to.as_str()
                );
            }
            for i in 0..self.groups[g.index()].members.len() {
                let m = self.groups[g.index()].members[i];
                if m == k {
                    continue;
                }
                if master {
                    self.slots[m].machine.sync_master(now);
                } else {
                    self.slots[m].machine.sync_backup(now);
                }
                self.drain(m, now);
            }
        }
        if let Some(state) = self.group_state(g) {
            let group = &mut self.groups[g.index()];
            if group.state != state {
                group.state = state;
                self.queue.push_back(Pending::Out(Output::GroupTransition {
                    group: g,
                    to: state,
                }));
            }
        }
    }

    /// The group's state when its members agree: FAULT if one is in FAULT, else the state
    /// all share; `None` in between.
    fn group_state(&self, g: GroupId) -> Option<State> {
        let members = &self.groups[g.index()].members;
        let state = |m: &usize| self.slots[*m].machine.state();
        if members.iter().any(|m| state(m) == State::Fault) {
            return Some(State::Fault);
        }
        let first = state(members.first()?);
        members.iter().all(|m| state(m) == first).then_some(first)
    }

    pub fn group_config(&self, g: GroupId) -> &SyncGroup {
        &self.groups[g.index()].cfg
    }

    /// Moves instance `k`'s queued actions into the output queue.
    fn drain(&mut self, k: usize, now: Instant) {
        let inst = InstId(k as u16);
        while let Some(action) = self.slots[k].machine.poll_action() {
            if let Action::StateChanged { from, to } = action {
                self.state_changed(k, from, to, now);
                continue;
            }
            let s = &mut self.slots[k];
            match action {
                Action::SendAdvert { priority } => self.queue.push_back(Pending::Advert {
                    inst,
                    priority,
                    peer: 0,
                }),
                Action::AddVips => self
                    .queue
                    .push_back(Pending::Out(Output::Vips { inst, add: true })),
                Action::RemoveVips => {
                    self.garps.cancel(k);
                    self.queue
                        .push_back(Pending::Out(Output::Vips { inst, add: false }));
                }
                Action::SendGarps { repeat } => {
                    let addrs = s.cfg.vips.len() + s.cfg.excluded_vips.len();
                    self.garps.push(k, addrs, repeat);
                }
                Action::HeardLowerMaster { from, priority } => {
                    s.counters.lower_prio_master_rx += 1;
                    if !s.lower_masters.contains(&from) {
                        s.lower_masters.push(from);
                        self.queue
                            .push_back(Pending::Out(Output::LowerPriorityMaster {
                                inst,
                                from,
                                priority,
                            }));
                    }
                }
                // Handled above, outside the borrow of the slot.
                Action::StateChanged { .. } => {}
            }
        }
    }
}

pub mod dump;
#[cfg(test)]
mod tests;
