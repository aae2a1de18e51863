//! The daemon: the thin executor around [`Router`]. One `ppoll(2)` over every source (signals,
//! the link monitor, one VRRP socket per interface), then the router's outputs performed in
//! order: adverts sent, addresses added or removed, gratuitous ARPs, scripts started, notify
//! scripts and FIFO lines for each transition.

use super::arp_sock::ArpSocket;
use super::children::{Children, Job, RunAs};
use super::fifo::{Fifo, Fifos, Hears};
use super::files::FileWatch;
use super::mail::Mails;
use super::poller::{Poller, Token};
use super::rtnl::{Event, LinkMonitor, Rtnl};
use super::signals::{Request, Signals};
use super::vrrp_sock::VrrpSocket;
use super::{clock, dump, stats, Subsystems};
use crate::config::{Config, VirtualAddr};
use crate::notify::smtp::{self, Message};
use crate::notify::{self, Notifier};
use crate::time::Instant;
use crate::track::script::Exit;
use crate::vrrp::router::{GroupId, InstId, Output, Router};
use crate::vrrp::State;
use core::time::Duration;
use fnv::FnvHashMap;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

#[cfg(feature = "lb")]
mod lb;
mod reload;

/// Packets read from one socket per wake-up before timers are served again.
const RX_BUDGET: usize = 32;

/// Scripts started per wake-up; the rest wait for the next turn of the loop, after due adverts.
/// Starting one waits for its fork and exec: 45 checks due in the same second, started back to
/// back, held adverts up to 40 ms late; 4 per turn, 10.6 ms; 2 per turn, 2.9 ms (keepalived:
/// 3.8 ms), measured with `tests/bench/hooks.sh scripts`.
const SPAWN_BUDGET: usize = 2;

/// Health-checker sockets served per turn of the loop: the VRRP timers run between turns, so
/// however many checks are under way an advert waits for at most this many (measured in the
/// lab VM: unbounded, 10,000 real servers at delay_loop 1 made adverts up to 104 ms late).
#[cfg(feature = "lb")]
const CHECK_READY_BUDGET: usize = 32;

/// How long a stop waits for the notify scripts and SMTP alerts it queued (keepalived gives
/// notify_stop 1 s).
const STOP_GRACE: Duration = Duration::from_secs(3);

/// A virtual address and the ifindex of its interface (`None`: the interface is missing).
type PlacedVip = (Option<u32>, VirtualAddr);

/// The configuration's scripts, FIFOs and mail settings, resolved.
struct Hooks {
    /// Who scripts run as: `script_user`, else root.
    run_as: Option<RunAs>,
    /// Per `vrrp_script` with its own `user`.
    script_run_as: Vec<Option<RunAs>>,
    fifos: Fifos,
    /// None: no alerts configured.
    smtp: Option<crate::notify::smtp::Settings>,
    router_id: String,
}

impl Hooks {
    fn new(config: &Config) -> io::Result<Hooks> {
        let run_as = match &config.global.script_user {
            Some((u, g)) => Some(resolve_user(u, g.as_deref())?),
            None => None,
        };
        let script_run_as = config
            .scripts
            .iter()
            .map(|s| match &s.user {
                Some((u, g)) => resolve_user(u, g.as_deref()).map(Some),
                None => Ok(run_as),
            })
            .collect::<io::Result<_>>()?;
        let mut fifos = Vec::new();
        let g = &config.global;
        for (f, vrrp, lvs) in [
            (&g.notify_fifo, true, true),
            (&g.vrrp_notify_fifo, true, false),
            (&g.lvs_notify_fifo, false, true),
        ] {
            let Some(f) = f else { continue };
            let fifo = Fifo::create(f.path.clone())
                .map_err(|e| invalid(format!("notify FIFO {}: {e}", f.path.display())))?;
            fifos.push((fifo, Hears { vrrp, lvs }));
        }
        let host = super::fs::host_name().unwrap_or_else(|| "localhost".to_string());
        let router_id = config
            .global
            .router_id
            .clone()
            .unwrap_or_else(|| host.clone());
        let s = &config.global.smtp;
        let smtp =
            s.server
                .as_ref()
                .and_then(resolve_smtp)
                .map(|server| crate::notify::smtp::Settings {
                    server,
                    helo_name: s.helo_name.clone().unwrap_or_else(|| host.clone()),
                    from: s
                        .from
                        .clone()
                        .unwrap_or_else(|| format!("keepalived@{host}")),
                    recipients: s.emails.clone(),
                    timeout: s.connect_timeout,
                });
        let names = config.instances.iter().map(|i| i.name.len());
        let longest = names
            .chain(config.sync_groups.iter().map(|g| g.name.len()))
            .max()
            .unwrap_or(0);
        Ok(Hooks {
            run_as,
            script_run_as,
            fifos: Fifos::new(fifos, longest),
            smtp,
            router_id,
        })
    }
}

pub struct Daemon {
    config: Config,
    router: Router,
    rtnl: Rtnl,
    links: LinkMonitor,
    signals: Signals,
    poller: Poller,
    /// VRRP socket per ifindex of an instance's interface.
    vrrp: FnvHashMap<u32, VrrpSocket>,
    /// Gratuitous-ARP socket per ifindex, opened on first use.
    arp: FnvHashMap<u32, ArpSocket>,
    children: Children,
    /// Track scripts due, started `SPAWN_BUDGET` per turn of the loop.
    runs: std::collections::VecDeque<crate::vrrp::router::ScriptId>,
    /// Scripts this turn of the loop may still start.
    spawns_left: usize,
    notifier: Notifier,
    /// inotify on the `track_file`s' directories.
    files: FileWatch,
    /// What the configuration says about scripts, FIFOs and mail, rebuilt at each reload.
    hooks: Hooks,
    /// Commands that could not be started, logged once each.
    failed_commands: Vec<String>,
    /// SMTP alerts in flight.
    mails: Mails,
    conf_path: std::path::PathBuf,
    stats_path: std::path::PathBuf,
    stats_buf: String,
    ready: Vec<Token>,
    rx_buf: Vec<u8>,
    tx_buf: Vec<u8>,
    /// The virtual servers: checkers, pools, IPVS.
    #[cfg(feature = "lb")]
    lb: lb::Lb,
    /// `-P`/`-C`: what runs; the rest of each configuration is left out.
    only: Subsystems,
    /// What `only` leaves out of a configuration was said (once per process): the virtual
    /// servers (`-P`), the VRRP instances (`-C`).
    told_left_out: [bool; 2],
}

impl Daemon {
    /// Looks up interfaces and opens sockets. An interface that does not exist yet is not an
    /// error: its instances start in FAULT and come up when it appears.
    pub fn new(
        mut config: Config,
        conf_path: &std::path::Path,
        only: Subsystems,
    ) -> io::Result<Self> {
        let mut told_left_out = [false; 2];
        restrict(only, &mut config, &mut told_left_out);
        if only != Subsystems::ALL
            && config.instances.is_empty()
            && config.virtual_servers.is_empty()
        {
            // keepalived's words when it starts no child process.
            warn!("Warning - keepalived has no configuration to run");
        }
        // Scripts that script security (or a missing file) disables leave the config here.
        let (config, _) = super::security::enforce(config);
        let now = clock::now();
        let router = Router::new(&config, now).map_err(|e| invalid(e.0))?;
        let signals = Signals::open()?;
        let rtnl = Rtnl::open()?;
        let links = LinkMonitor::open()?;
        let mut poller = Poller::default();
        poller.add(signals.fd(), Token::Signals);
        poller.add(links.as_raw_fd(), Token::Links);
        let hooks = Hooks::new(&config)?;
        let files = FileWatch::new(&config.track_files, true)?;
        poller.add(files.fd(), Token::Files);
        let n = config.instances.len();
        #[cfg(feature = "lb")]
        let mut lb = lb::Lb::new(&config, &hooks, now)?;
        #[cfg(feature = "lb")]
        lb.open_ipvs(&config);
        let mut d = Daemon {
            router,
            rtnl,
            links,
            signals,
            poller,
            vrrp: FnvHashMap::default(),
            arp: FnvHashMap::default(),
            children: Children::default(),
            runs: std::collections::VecDeque::with_capacity(config.scripts.len()),
            spawns_left: SPAWN_BUDGET,
            notifier: Notifier::default(),
            files,
            hooks,
            failed_commands: Vec::new(),
            mails: Mails::default(),
            conf_path: conf_path.to_path_buf(),
            stats_path: stats::stats_path(),
            stats_buf: String::with_capacity(1024 * (n + 1)),
            ready: Vec::with_capacity(8),
            rx_buf: vec![0; 65_536],
            tx_buf: vec![0; 2048],
            config,
            #[cfg(feature = "lb")]
            lb,
            only,
            told_left_out,
        };
        d.read_track_files(now);
        #[cfg(feature = "lb")]
        d.lb.init_ha(&mut d.rtnl, now);
        let names: Vec<String> = d.router.link_names().map(str::to_string).collect();
        for name in names {
            if let Err(e) = d.refresh_link(&name, now) {
                warn!("interface {name}: {e}; its instances stay in FAULT until it appears");
            }
        }
        for f in [
            &d.config.global.notify_fifo,
            &d.config.global.vrrp_notify_fifo,
            &d.config.global.lvs_notify_fifo,
        ]
        .into_iter()
        .flatten()
        {
            if let Some(script) = &f.script {
                let arg = [f.path.display().to_string()];
                let r = d
                    .children
                    .spawn(script, &arg, d.hooks.run_as, Job::FifoReader, None, now);
                if let Err(e) = r {
                    error!("notify FIFO script {}: {e}", script.line);
                }
            }
        }
        Ok(d)
    }

    /// Reads the state of interface `name` (it exists, its ifindex, MAC, primary address) and
    /// tells the router; opens its VRRP socket when an instance runs on it.
    fn refresh_link(&mut self, name: &str, now: Instant) -> io::Result<()> {
        let link = self.rtnl.link_by_name(name)?;
        let primary = self
            .rtnl
            .ipv4_addrs(link.ifindex)
            .ok()
            .and_then(|a| crate::netlink::route::primary_ipv4(&a));
        let on_it = self.config.instances.iter().any(|i| i.interface == name);
        if on_it && !self.vrrp.contains_key(&link.ifindex) {
            let groups = [self.config.global.vrrp_mcast_group4];
            let sock = VrrpSocket::open(name, link.ifindex, &groups)?;
            self.poller.add(sock.fd(), Token::Vrrp(link.ifindex));
            self.vrrp.insert(link.ifindex, sock);
        }
        self.router.set_link(
            name,
            link.ifindex,
            link.up && link.running,
            link.mac,
            primary,
            now,
        );
        Ok(())
    }

    /// Runs until SIGTERM/SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let now = clock::now();
        // A VIP left by a crashed run must not stay on a router that starts as backup; the
        // address owner's VIPs are its own addresses and are never removed.
        let ids: Vec<InstId> = self.router.instances().collect();
        for &id in &ids {
            if !self.router.config(id).is_address_owner() {
                self.set_vips(id, false);
            }
        }
        self.router.start(now);
        self.flush(now);
        loop {
            let now = clock::now();
            // Scripts still waiting for a turn: look at the sockets and timers, do not sleep.
            let deadline = if self.spawn_backlog() {
                Some(now)
            } else {
                self.deadline()
            };
            self.poller.wait(now, deadline)?;
            self.spawns_left = SPAWN_BUDGET;
            self.ready.clear();
            self.ready.extend(self.poller.ready());
            #[cfg(feature = "lb")]
            let mut checks_left = CHECK_READY_BUDGET;
            for k in 0..self.ready.len() {
                match self.ready[k] {
                    Token::Signals => {
                        if self.on_signals() {
                            return Ok(());
                        }
                    }
                    Token::Links => self.on_links(),
                    Token::Vrrp(ifindex) => self.on_vrrp_readable(ifindex),
                    Token::Mail(id) => self.on_mail_ready(id),
                    Token::Files => self.on_files(),
                    // The rest stay ready and are served at the next turn, after the timers.
                    #[cfg(feature = "lb")]
                    Token::Check(_) if checks_left == 0 => {}
                    #[cfg(feature = "lb")]
                    t @ Token::Check(_) => {
                        checks_left -= 1;
                        self.on_check_ready(t);
                    }
                }
            }
            self.fire_timers();
        }
    }

    /// Every `track_file`'s value, read now.
    fn read_track_files(&mut self, now: Instant) {
        for (k, f) in self.config.track_files.iter().enumerate() {
            if let Some(v) = FileWatch::read(f) {
                self.router.handle_file(k, v, now);
            }
        }
    }

    fn on_files(&mut self) {
        let now = clock::now();
        let router = &mut self.router;
        self.files.drain(&self.config.track_files, |k, v| {
            router.handle_file(k, v, now)
        });
        self.flush(now);
    }

    /// The earliest deadline of the router, the children's kill timers and the mails.
    fn deadline(&self) -> Option<Instant> {
        self.router
            .poll_timeout()
            .into_iter()
            .chain(self.children.poll_timeout())
            .chain(self.mails.poll_timeout())
            .chain(self.lb_timeout())
            .min()
    }

    fn on_mail_ready(&mut self, id: u32) {
        let now = clock::now();
        self.mails
            .handle_ready(id, &mut self.rx_buf, &mut self.poller, now);
    }

    /// Mails about `to` when the owner's alerts are on (keepalived's rule, in `Mails`).
    fn alert(&mut self, key: String, own: Option<bool>, to: State, message: Option<Message>) {
        let on = self.config.global.smtp.alerts(own);
        self.mail(on, key, notify::state_word(to), message);
    }

    /// Sends `message` when `on` and `key` was last mailed about another state.
    fn mail(&mut self, on: bool, key: String, to: &'static str, message: Option<Message>) {
        let settings = self.hooks.smtp.as_ref();
        let now = clock::now();
        self.mails
            .alert(on, settings, key, to, message, &mut self.poller, now);
    }

    /// Runs every timer that is due. An advert already queued on a socket is read first: when
    /// the process was scheduled late (a busy router), the master's advert that arrived before
    /// the deadline must count, not a Master_Down timeout that only this process's lateness made.
    fn fire_timers(&mut self) {
        let now = clock::now();
        if self.router.instance_timer_due(now) {
            self.ready.clear();
            self.ready.extend(self.vrrp.keys().map(|&i| Token::Vrrp(i)));
            for k in 0..self.ready.len() {
                if let Token::Vrrp(ifindex) = self.ready[k] {
                    self.on_vrrp_readable(ifindex);
                }
            }
        }
        let now = clock::now();
        self.router.handle_timeout(now);
        self.children.handle_timeout(now);
        self.flush(now);
        #[cfg(feature = "lb")]
        self.lb_timeouts(now);
        self.mail_timeouts(now);
    }

    fn mail_timeouts(&mut self, now: Instant) {
        self.mails.handle_timeout(&mut self.poller, now);
    }

    /// Handles pending signals; true when the daemon must stop.
    fn on_signals(&mut self) -> bool {
        while let Some(req) = self.signals.pending() {
            match req {
                Request::Stop => {
                    info!("Stopping");
                    self.stop();
                    return true;
                }
                Request::Stats => self.write_stats(false),
                Request::StatsClear => self.write_stats(true),
                Request::Child => self.reap(),
                Request::Reload => self.reload(),
                Request::Data => self.write_dump(dump::Kind::Data),
                Request::Json => self.write_dump(dump::Kind::Json),
                Request::Other(n) => info!("Signal {n} ignored"),
            }
        }
        false
    }

    fn reap(&mut self) {
        let now = clock::now();
        let router = &mut self.router;
        let notifier = &mut self.notifier;
        #[cfg(feature = "lb")]
        let mut lb_exits = Vec::new();
        self.children.reap(|job, exit| match job {
            Job::Track(id) => router.handle_script_exit(id, exit, now),
            Job::Notify(owner) => {
                if exit != Exit::Status(0) {
                    debug!("notify script of owner {owner} ended: {exit:?}");
                }
                notifier.finished(owner);
            }
            Job::FifoReader => warn!("notify FIFO script ended: {exit:?}"),
            Job::Orphan => {}
            #[cfg(feature = "lb")]
            Job::Check(id) => lb_exits.push((id, exit)),
        });
        #[cfg(feature = "lb")]
        for (id, exit) in lb_exits.drain(..) {
            self.lb
                .checks
                .handle_child_exit(&self.config.virtual_servers, id, exit, now);
        }
        #[cfg(feature = "lb")]
        self.flush_lb();
        self.flush(now);
    }

    /// SIGTERM: masters send priority 0, every instance gives its addresses back, and the
    /// notify scripts still queued (STOP last) run before we exit, for at most `STOP_GRACE`.
    fn stop(&mut self) {
        let start = clock::now();
        #[cfg(feature = "lb")]
        self.lb_stop();
        self.router.stop(start);
        self.flush(start);
        let end = start + STOP_GRACE;
        loop {
            let now = clock::now();
            if self.notifier.is_idle() && self.mails.is_empty() || now >= end {
                break;
            }
            let wake = end.min(now + Duration::from_millis(20));
            let _ = self.poller.wait(now, Some(wake));
            self.spawns_left = SPAWN_BUDGET;
            self.start_children(now);
            // Only children and mails matter now; reading the signalfd keeps the wait from
            // spinning.
            while self.signals.pending().is_some() {}
            self.reap();
            self.ready.clear();
            self.ready.extend(self.poller.ready());
            for k in 0..self.ready.len() {
                if let Token::Mail(id) = self.ready[k] {
                    self.on_mail_ready(id);
                }
            }
            self.mail_timeouts(clock::now());
        }
        if !self.notifier.is_idle() || !self.mails.is_empty() {
            warn!("notify scripts or SMTP alerts still under way at exit");
        }
        self.children.terminate_all();
    }

    fn on_links(&mut self) {
        // Our own VIP changes come back as events too: room for a full burst of them.
        let mut events: arrayvec::ArrayVec<Event, 256> = arrayvec::ArrayVec::new();
        let mut lost = false;
        let mut buf = [0u8; 8192];
        let r = self.links.drain(&mut buf, |ev| {
            if events.try_push(ev).is_err() {
                lost = true;
            }
        });
        let now = clock::now();
        match r {
            Ok(d) if d.overrun || lost => {
                // Notifications were dropped: read every link we use again.
                let names: Vec<String> = self.router.link_names().map(str::to_string).collect();
                for name in names {
                    let _ = self.refresh_link(&name, now);
                }
            }
            Ok(_) => {}
            Err(e) => warn!("link monitor: {e}"),
        }
        for ev in events {
            let ev = match ev {
                Event::Link(ev) => ev,
                Event::Addr(a) => {
                    self.router.handle_addr(a.ifindex, a.addr, a.removed, now);
                    #[cfg(feature = "lb")]
                    self.lb_addr(a.addr.addr, a.removed, now);
                    continue;
                }
            };
            if ev.removed {
                if self.vrrp.remove(&ev.ifindex).is_some() {
                    self.poller.remove(Token::Vrrp(ev.ifindex));
                }
                self.arp.remove(&ev.ifindex);
            }
            let known = self
                .router
                .handle_link(ev.ifindex, ev.up && ev.running, ev.removed, now);
            let name = ev.name.as_str();
            // A new interface of ours (created, or re-created with a new ifindex).
            if !known && !ev.removed && self.router.uses_link(name) {
                if let Err(e) = self.refresh_link(name, now) {
                    warn!("interface {name}: {e}");
                }
            }
        }
        self.flush(now);
    }

    fn on_vrrp_readable(&mut self, ifindex: u32) {
        for _ in 0..RX_BUDGET {
            let Some(sock) = self.vrrp.get(&ifindex) else {
                return;
            };
            let len = match sock.recv(&mut self.rx_buf) {
                Ok(Some(d)) => d.len(),
                Ok(None) => break,
                Err(e) => {
                    warn!("ifindex {ifindex}: receive: {e}");
                    break;
                }
            };
            let now = clock::now();
            self.router
                .handle_datagram(ifindex, &self.rx_buf[..len], now);
            self.flush(now);
        }
    }

    /// Performs everything the router queued, in order, then starts the notify scripts
    /// whose turn it is.
    fn flush(&mut self, now: Instant) {
        while let Some(out) = self.router.poll_output(now, &mut self.tx_buf) {
            match out {
                Output::Transmit {
                    ifindex,
                    src,
                    dst,
                    len,
                } => {
                    if let Some(sock) = self.vrrp.get(&ifindex) {
                        if let Err(e) = sock.send(&self.tx_buf[..len], src, dst) {
                            debug!("advert to {dst}: {e}");
                        }
                    }
                }
                Output::Vips { inst, add } => self.set_vips(inst, add),
                Output::Garp { ifindex, mac, addr } => self.send_garp(ifindex, mac, addr),
                Output::Transition {
                    inst,
                    from,
                    to,
                    priority,
                } => self.transition(inst, from, to, priority),
                Output::GroupTransition { group, to } => self.group_transition(group, to),
                Output::RestoreVip { inst, vip } => self.restore_vip(inst, vip),
                Output::LowerPriorityMaster {
                    inst,
                    from,
                    priority,
                } => {
                    let cfg = self.router.config(inst);
                    info!(
                        "({}) Received advert from {} with lower priority {priority}, ours {}: \
                         another master (partition healed); keeping the addresses and \
                         sending gratuitous ARPs",
                        cfg.name,
                        crate::config::ShowIp(from),
                        self.router.priority(inst)
                    );
                    let (name, prio) = (cfg.name.clone(), self.router.priority(inst));
                    if let Some(c) = &cfg.notify.master_rx_lower_pri {
                        let c = c.clone();
                        self.notifier.push(inst.index(), &c, Vec::new());
                    }
                    self.hooks
                        .fifos
                        .announce(false, &name, "MASTER_RX_LOWER_PRI", prio);
                }
                Output::RunScript(id) => self.runs.push_back(id),
            }
        }
        self.start_children(now);
    }

    /// Whether scripts wait for a turn that could start now (the loop then does not sleep).
    fn spawn_backlog(&self) -> bool {
        !self.children.is_full() && (!self.runs.is_empty() || self.notifier.has_startable())
    }

    /// Starts what waits, notify scripts first, at most `SPAWN_BUDGET` per turn of the loop.
    fn start_children(&mut self, now: Instant) {
        while self.spawns_left > 0 && !self.children.is_full() {
            if let Some(job) = self.notifier.poll_start() {
                self.spawns_left -= 1;
                let r = self.children.spawn(
                    &job.command,
                    &job.extra,
                    self.hooks.run_as,
                    Job::Notify(job.owner),
                    None,
                    now,
                );
                if let Err(e) = r {
                    self.command_failed(&job.command.line, &e);
                    self.notifier.finished(job.owner);
                }
                continue;
            }
            let Some(id) = self.runs.pop_front() else {
                break;
            };
            self.spawns_left -= 1;
            let s = &self.config.scripts[id.index()];
            let r = self.children.spawn(
                &s.script,
                &[],
                self.hooks.script_run_as[id.index()],
                Job::Track(id),
                Some(s.timeout),
                now,
            );
            if let Err(e) = r {
                let line = s.script.line.clone();
                self.command_failed(&line, &e);
                self.router.handle_script_exit(id, Exit::NotStarted, now);
                // What that changed is performed now, not at the next wake-up.
                self.flush(now);
            }
        }
    }

    /// A command that could not start: logged once, never in the way of a transition.
    fn command_failed(&mut self, line: &str, e: &io::Error) {
        if !self.failed_commands.iter().any(|l| l == line) {
            error!("Cannot run script `{line}`: {e}");
            self.failed_commands.push(line.to_string());
        }
    }

    fn transition(&mut self, inst: InstId, from: State, to: State, priority: u8) {
        let cfg = self.router.config(inst);
        if to == State::Initialize {
            info!("({}) Stopped", cfg.name);
        } else {
            info!("({}) Entering {} STATE", cfg.name, to.as_str());
        }
        debug!("({}) {} -> {}", cfg.name, from.as_str(), to.as_str());
        self.notifier
            .transition(inst.index(), false, &cfg.name, &cfg.notify, to, priority);
        let word = notify::state_word(to);
        self.hooks.fifos.announce(false, &cfg.name, word, priority);
        let (name, own) = (cfg.name.clone(), cfg.smtp_alert);
        let state = smtp::AlertState::from_vrrp(to);
        let m = smtp::instance_alert(&self.hooks.router_id, &name, state);
        self.alert(format!("INSTANCE {name}"), own, to, Some(m));
    }

    /// A sync group's notify scripts run in their own queue, after the instances' count.
    fn group_transition(&mut self, g: GroupId, to: State) {
        let cfg = self.router.group_config(g);
        info!("VRRP_Group({}) {}", cfg.name, notify::state_word(to));
        let owner = self.config.instances.len() + g.index();
        self.notifier
            .transition(owner, true, &cfg.name, &cfg.notify, to, 0);
        let word = notify::state_word(to);
        self.hooks.fifos.announce(true, &cfg.name, word, 0);
        let (name, own) = (cfg.name.clone(), cfg.smtp_alert);
        let state = smtp::AlertState::from_vrrp(to);
        let m = smtp::group_alert(&self.hooks.router_id, &name, state);
        self.alert(format!("GROUP {name}"), own, to, m);
    }

    fn restore_vip(&mut self, inst: InstId, vip: usize) {
        let Some((Some(ifindex), v)) = self.router.vips(inst).nth(vip) else {
            return;
        };
        match self.rtnl.add_addr(ifindex, v) {
            Ok(()) => {}
            // Already back (our own re-add raced the notification of an old delete).
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
            Err(e) => error!("restoring {}: {e}", crate::config::ShowIp(v.addr)),
        }
    }

    fn set_vips(&mut self, inst: InstId, add: bool) {
        let name = &self.router.config(inst).name;
        for (ifindex, v) in self.router.vips(inst) {
            let Some(ifindex) = ifindex else { continue };
            let r = if add {
                self.rtnl.add_addr(ifindex, v)
            } else {
                self.rtnl.del_addr(ifindex, v)
            };
            // Adding one that is there already (a reload that restarted a master) is fine.
            let exists = add
                && r.as_ref()
                    .is_err_and(|e| e.raw_os_error() == Some(libc::EEXIST));
            if let (Err(e), false) = (r, exists) {
                error!(
                    "({name}) {} {}/{}: {e}",
                    if add { "adding" } else { "removing" },
                    crate::config::ShowIp(v.addr),
                    v.prefix_len
                );
            }
        }
    }

    fn send_garp(&mut self, ifindex: u32, mac: [u8; 6], addr: Ipv4Addr) {
        let sock = match self.arp.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => match ArpSocket::open(ifindex) {
                Ok(s) => e.insert(s),
                Err(err) => {
                    warn!("gratuitous ARP socket on ifindex {ifindex}: {err}");
                    return;
                }
            },
        };
        let mut frame = [0u8; 64];
        let mac = crate::wire::ethernet::Address(mac);
        let n = crate::wire::arp::emit_gratuitous_frame(mac, addr, &mut frame);
        if let Err(e) = sock.send(&frame[..n]) {
            debug!("gratuitous ARP for {addr}: {e}");
        }
    }

    /// Formats into a buffer reserved at start-up and writes it: no allocation (a stats
    /// snapshot is part of the window tests/alloc_steady.rs proves allocation-free).
    fn write_stats(&mut self, clear: bool) {
        // keepalived's VRRP process writes them; with -C it does not run.
        if !self.only.vrrp {
            return;
        }
        self.stats_buf.clear();
        for id in self.router.instances() {
            let name = &self.router.config(id).name;
            stats::format_instance(&mut self.stats_buf, name, self.router.counters(id));
        }
        if let Err(e) = std::fs::write(&self.stats_path, self.stats_buf.as_bytes()) {
            error!("writing {}: {e}", self.stats_path.display());
        }
        if clear {
            self.router.clear_counters();
        }
    }
}

/// `-P`/`-C`: leaves out of `config` what does not run, saying so the first time there is
/// something to leave out (`told`).
fn restrict(only: Subsystems, config: &mut Config, told: &mut [bool; 2]) {
    let (insts, vss) = (config.instances.len(), config.virtual_servers.len());
    if !told[0] && !only.checkers && vss > 0 {
        info!("-P: the health checkers are not run ({vss} virtual_server ignored, IPVS untouched)");
        told[0] = true;
    }
    if !told[1] && !only.vrrp && insts > 0 {
        info!("-C: VRRP is not run ({insts} vrrp_instance ignored, no advert sent)");
        told[1] = true;
    }
    only.restrict(config);
}

/// `smtp_server`'s address: as written, or the first address its name resolves to. Only at
/// start and reload (a blocking lookup; /etc/hosts answers `localhost` at once). A name that
/// does not resolve turns the alerts off, with a message; it never stops the daemon.
fn resolve_smtp((host, port): &(String, u16)) -> Option<std::net::SocketAddr> {
    use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, *port));
    }
    match (host.as_str(), *port).to_socket_addrs() {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            warn!("smtp_server {host}: {e}; SMTP alerts are off");
            None
        }
    }
}

pub(super) fn resolve_user(user: &str, group: Option<&str>) -> io::Result<RunAs> {
    use nix::unistd::{Group, User};
    let u = User::from_name(user)
        .ok()
        .flatten()
        .ok_or_else(|| invalid(format!("script user {user} does not exist")))?;
    let gid = match group {
        Some(g) => {
            Group::from_name(g)
                .ok()
                .flatten()
                .ok_or_else(|| invalid(format!("script group {g} does not exist")))?
                .gid
        }
        None => u.gid,
    };
    Ok(RunAs {
        uid: u.uid.as_raw(),
        gid: gid.as_raw(),
    })
}

fn invalid(msg: String) -> io::Error {
    super::error(io::ErrorKind::InvalidInput, msg)
}

impl Daemon {
    /// SIGUSR1 / the JSON signal: keepalived's state dumps.
    fn write_dump(&self, kind: dump::Kind) {
        // keepalived's VRRP process writes them; with -C it does not run.
        if self.only.vrrp {
            dump::write(
                kind,
                &self.router,
                &self.config,
                self.hooks.run_as,
                &self.hooks.script_run_as,
            );
        }
        // keepalived's checker process writes its own file on the same signal.
        #[cfg(feature = "lb")]
        if kind == dump::Kind::Data && !self.config.virtual_servers.is_empty() {
            dump::write_named("keepalived_check.data", &self.check_data());
        }
    }
}

impl Daemon {
    /// The health checkers' next deadline.
    fn lb_timeout(&self) -> Option<Instant> {
        #[cfg(feature = "lb")]
        return self.lb.checks.poll_timeout();
        #[cfg(not(feature = "lb"))]
        None
    }
}
