//! The daemon: one `ppoll(2)` loop that feeds packets, link changes, signals and timeouts to the
//! VRRP state machines and performs the actions they return.

use super::arp_sock::ArpSocket;
use super::rtnl::{LinkMonitor, Rtnl};
use super::signals::Signals;
use super::vrrp_sock::VrrpSocket;
use super::{clock, stats};
use crate::config::{Config, VrrpInstance};
use crate::time::Instant;
use crate::vrrp::garp::GarpPacer;
use crate::vrrp::machine::{Action, Instance, Tuning};
use crate::vrrp::packet::{self, DropReason};
use crate::vrrp::State;
use nix::sys::signal::Signal;
use std::io;
use std::net::{IpAddr, Ipv4Addr};

/// Packets read from one socket per wake-up before timers are served again.
const RX_BUDGET: usize = 32;

/// One network interface the configuration uses.
struct Iface {
    name: String,
    ifindex: u32,
    /// Carrier and administrative state as last seen.
    running: bool,
    vrrp: VrrpSocket,
}

/// Where gratuitous ARPs for the VIPs on one device go out.
struct ArpPort {
    ifindex: u32,
    mac: crate::wire::ethernet::Address,
    sock: ArpSocket,
}

/// Per-instance counters, printed by SIGUSR2 in keepalived's stats format.
#[derive(Default)]
pub struct Counters {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub became_master: u64,
    pub released_master: u64,
    pub prio0_rx: u64,
    pub prio0_tx: u64,
    pub drops: [u64; DropReason::COUNT],
}

/// A configured instance with what the daemon resolved for it at start-up.
struct Inst {
    cfg: VrrpInstance,
    machine: Instance,
    iface: usize,
    /// Source of our adverts and the address of the tie-break.
    src: Ipv4Addr,
    /// Where our adverts go when multicast, and what received adverts must be sent to.
    group: Ipv4Addr,
    /// ifindex each VIP (then each excluded VIP) lives on.
    vip_ifindex: Vec<u32>,
    counters: Counters,
}

pub struct Daemon {
    global: crate::config::GlobalDefs,
    ifaces: Vec<Iface>,
    insts: Vec<Inst>,
    arp: Vec<ArpPort>,
    garps: GarpPacer,
    rtnl: Rtnl,
    links: LinkMonitor,
    signals: Signals,
    /// Scratch buffers sized once.
    stats_path: std::path::PathBuf,
    stats_buf: String,
    rx_buf: Vec<u8>,
    tx_buf: Vec<u8>,
}

impl Daemon {
    /// Resolves interfaces and addresses, opens sockets. Nothing is sent yet.
    pub fn new(config: Config) -> io::Result<Self> {
        let signals = Signals::open()?;
        let mut rtnl = Rtnl::open()?;
        let links = LinkMonitor::open()?;
        let mut ifaces: Vec<Iface> = Vec::new();
        let mut insts = Vec::new();
        let mut arp = Vec::new();
        for cfg in config.instances {
            if cfg.vips.iter().any(|v| v.addr.is_ipv6())
                || cfg.unicast_peers.iter().any(|p| p.is_ipv6())
            {
                return Err(invalid(format!(
                    "({}) IPv6 instances are not supported yet",
                    cfg.name
                )));
            }
            let iface = match ifaces.iter().position(|i| i.name == cfg.interface) {
                Some(i) => i,
                None => {
                    let link = rtnl.link_by_name(&cfg.interface).map_err(|e| {
                        invalid(format!("({}) interface {}: {e}", cfg.name, cfg.interface))
                    })?;
                    let groups: Vec<Ipv4Addr> = vec![config.global.vrrp_mcast_group4];
                    ifaces.push(Iface {
                        vrrp: VrrpSocket::open(&cfg.interface, link.ifindex, &groups)?,
                        name: cfg.interface.clone(),
                        ifindex: link.ifindex,
                        running: link.up && link.running,
                    });
                    ifaces.len() - 1
                }
            };
            let ifindex = ifaces[iface].ifindex;
            let src = match cfg
                .unicast_src_ip
                .filter(|_| cfg.is_unicast())
                .or(cfg.mcast_src_ip)
            {
                Some(IpAddr::V4(a)) => a,
                Some(IpAddr::V6(_)) => return Err(invalid(format!("({}) IPv6 source", cfg.name))),
                None => primary_addr(&mut rtnl, ifindex).ok_or_else(|| {
                    invalid(format!(
                        "({}) {} has no IPv4 address",
                        cfg.name, cfg.interface
                    ))
                })?,
            };
            let mut vip_ifindex = Vec::new();
            for v in cfg.vips.iter().chain(cfg.excluded_vips.iter()) {
                let dev = v.dev.as_deref().unwrap_or(&cfg.interface);
                let link = rtnl
                    .link_by_name(dev)
                    .map_err(|e| invalid(format!("({}) VIP dev {dev}: {e}", cfg.name)))?;
                if !arp.iter().any(|p: &ArpPort| p.ifindex == link.ifindex) {
                    arp.push(ArpPort {
                        ifindex: link.ifindex,
                        mac: crate::wire::ethernet::Address(link.mac),
                        sock: ArpSocket::open(link.ifindex)?,
                    });
                }
                vip_ifindex.push(link.ifindex);
            }
            let tuning = Tuning::keepalived(&cfg, config.global.vrrp_strict);
            let machine = Instance::with_tuning(&cfg, src, tuning);
            insts.push(Inst {
                machine,
                iface,
                src,
                group: config.global.vrrp_mcast_group4,
                vip_ifindex,
                counters: Counters::default(),
                cfg,
            });
        }
        let n_insts = insts.len();
        Ok(Daemon {
            garps: GarpPacer::new(config.global.vrrp_garp_interval, n_insts),
            global: config.global,
            ifaces,
            insts,
            arp,
            rtnl,
            links,
            signals,
            stats_path: stats::stats_path(),
            stats_buf: String::with_capacity(1024 * (n_insts + 1)),
            rx_buf: vec![0; 65_536],
            tx_buf: vec![0; 2048],
        })
    }

    /// Runs until SIGTERM/SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let now = clock::now();
        for i in 0..self.insts.len() {
            self.remove_stale_vips(i);
            let running = self.ifaces[self.insts[i].iface].running;
            let inst = &mut self.insts[i];
            // An interface without carrier at start means FAULT straight away, as keepalived.
            if !running && !inst.cfg.dont_track_primary {
                inst.machine.set_fault(true, now);
            }
            inst.machine.start(now);
            self.drain_actions(i, now);
        }
        loop {
            let deadline = self
                .insts
                .iter()
                .filter_map(|i| i.machine.poll_timeout())
                .chain(self.garps.poll_timeout())
                .min();
            let ready = self.wait(deadline)?;
            if ready.signals {
                while let Some(sig) = self.signals.pending() {
                    if self.on_signal(sig) {
                        return Ok(());
                    }
                }
            }
            if ready.links {
                self.on_links();
            }
            for (k, r) in ready.ifaces.iter().enumerate() {
                if *r {
                    self.on_vrrp_readable(k);
                }
            }
            self.fire_timers();
        }
    }

    /// Runs every timer that is due. An advert already queued on a socket is read first: when
    /// the process was scheduled late (a busy router), the master's advert that arrived before
    /// the deadline must count, not a Master_Down timeout that only this process's lateness made.
    fn fire_timers(&mut self) {
        self.send_due_garps(clock::now());
        let now = clock::now();
        let due = |i: &Inst| i.machine.poll_timeout().is_some_and(|t| t <= now);
        if !self.insts.iter().any(due) {
            return;
        }
        for k in 0..self.ifaces.len() {
            self.on_vrrp_readable(k);
        }
        let now = clock::now();
        for i in 0..self.insts.len() {
            if self.insts[i]
                .machine
                .poll_timeout()
                .is_some_and(|t| t <= now)
            {
                self.insts[i].machine.handle_timeout(now);
                self.drain_actions(i, now);
            }
        }
    }

    /// Sleeps in one `ppoll` until a descriptor is readable or `deadline` passes.
    fn wait(&self, deadline: Option<Instant>) -> io::Result<Ready> {
        use nix::poll::{PollFd, PollFlags};
        use std::os::fd::BorrowedFd;
        let timeout = deadline.map(|d| {
            let us = d.saturating_since(clock::now()).as_micros() as i64;
            nix::sys::time::TimeSpec::new(us / 1_000_000, (us % 1_000_000) * 1000)
        });
        let mut raw: arrayvec::ArrayVec<i32, 64> = arrayvec::ArrayVec::new();
        // try_push: the capacity holds (take(62)), and push's panic path links a Debug impl.
        let _ = raw.try_push(self.signals.fd());
        let _ = raw.try_push(std::os::fd::AsRawFd::as_raw_fd(&self.links.fd()));
        for i in self.ifaces.iter().take(62) {
            let _ = raw.try_push(i.vrrp.fd());
        }
        let mut fds: arrayvec::ArrayVec<PollFd, 64> = raw
            .iter()
            // SAFETY: each fd is owned by a field of self, alive for the whole call.
            .map(|fd| PollFd::new(unsafe { BorrowedFd::borrow_raw(*fd) }, PollFlags::POLLIN))
            .collect();
        match nix::poll::ppoll(&mut fds, timeout, None) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        let readable = |f: &PollFd| {
            f.revents()
                .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR))
        };
        let mut ready = Ready {
            signals: readable(&fds[0]),
            links: readable(&fds[1]),
            ifaces: arrayvec::ArrayVec::new(),
        };
        for f in &fds[2..] {
            let _ = ready.ifaces.try_push(readable(f));
        }
        Ok(ready)
    }

    /// Handles one signal; true when the daemon must stop.
    fn on_signal(&mut self, sig: Signal) -> bool {
        match sig {
            Signal::SIGTERM | Signal::SIGINT => {
                info!("Stopping");
                self.stop();
                true
            }
            Signal::SIGUSR2 => {
                self.write_stats();
                false
            }
            Signal::SIGHUP => {
                warn!("Reload (SIGHUP) is not supported yet; configuration unchanged");
                false
            }
            Signal::SIGUSR1 => {
                warn!("Data dump (SIGUSR1) is not supported yet");
                false
            }
            _ => false,
        }
    }

    /// SIGTERM: masters send priority 0 and every instance gives its addresses back.
    fn stop(&mut self) {
        let now = clock::now();
        for i in 0..self.insts.len() {
            self.insts[i].machine.stop(now);
            self.drain_actions(i, now);
        }
    }

    fn on_links(&mut self) {
        let mut events: arrayvec::ArrayVec<(u32, bool), 64> = arrayvec::ArrayVec::new();
        let mut buf = [0u8; 8192];
        let r = self.links.drain(&mut buf, |ev| {
            let _ = events.try_push((ev.ifindex, ev.up && ev.running));
        });
        match r {
            // The kernel dropped notifications: ask for the state of every link we use.
            Ok(d) if d.overrun => {
                for k in 0..self.ifaces.len() {
                    let name = self.ifaces[k].name.clone();
                    if let Ok(l) = self.rtnl.link_by_name(&name) {
                        let _ = events.try_push((l.ifindex, l.up && l.running));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => warn!("link monitor: {e}"),
        }
        let now = clock::now();
        for (ifindex, running) in events {
            let Some(k) = self.ifaces.iter().position(|i| i.ifindex == ifindex) else {
                continue;
            };
            if self.ifaces[k].running == running {
                continue;
            }
            self.ifaces[k].running = running;
            info!(
                "Netlink reports {} {}",
                self.ifaces[k].name,
                if running { "up" } else { "down" }
            );
            for i in 0..self.insts.len() {
                if self.insts[i].iface == k && !self.insts[i].cfg.dont_track_primary {
                    self.insts[i].machine.set_fault(!running, now);
                    self.drain_actions(i, now);
                }
            }
        }
    }

    fn on_vrrp_readable(&mut self, k: usize) {
        for _ in 0..RX_BUDGET {
            let dgram_len = match self.ifaces[k].vrrp.recv(&mut self.rx_buf) {
                Ok(Some(d)) => d.len(),
                Ok(None) => return,
                Err(e) => {
                    warn!("{}: receive: {e}", self.ifaces[k].name);
                    return;
                }
            };
            let now = clock::now();
            let dgram = &self.rx_buf[..dgram_len];
            let Some(vrid) = packet::peek_vrid(dgram) else {
                continue;
            };
            let Some(i) = self
                .insts
                .iter()
                .position(|i| i.iface == k && i.cfg.vrid == vrid)
            else {
                continue;
            };
            let inst = &mut self.insts[i];
            let dst = if inst.cfg.is_unicast() {
                inst.src
            } else {
                inst.group
            };
            // vrrp_skip_check_adv_addr: a backup trusts the address list of the master it
            // already follows.
            let master = match inst.machine.master_addr() {
                Some(IpAddr::V4(a)) if inst.machine.state() == State::Backup => Some(a),
                _ => None,
            };
            let ctx = packet::CheckContext {
                master,
                check_unicast_src: true,
            };
            match packet::check_in(&inst.cfg, &self.global, dgram, dst, ctx) {
                Ok(adv) => {
                    inst.counters.adverts_rx += 1;
                    if adv.priority == 0 {
                        inst.counters.prio0_rx += 1;
                    }
                    inst.machine.handle_advert(&adv, now);
                    self.drain_actions(i, now);
                }
                Err(reason) => {
                    let n = &mut inst.counters.drops[reason.index()];
                    *n += 1;
                    // Log the first of each kind, then every 1000th, so a flood cannot fill the log.
                    if *n == 1 || (*n).is_multiple_of(1000) {
                        warn!(
                            "({}) dropped advert: {} (x{})",
                            inst.cfg.name,
                            reason.name(),
                            *n
                        );
                    }
                }
            }
        }
    }

    /// Performs every action instance `i` queued, in order.
    fn drain_actions(&mut self, i: usize, now: Instant) {
        while let Some(action) = self.insts[i].machine.poll_action() {
            match action {
                Action::SendAdvert { priority } => self.send_advert(i, priority),
                Action::AddVips => self.set_vips(i, true),
                Action::RemoveVips => {
                    self.garps.cancel(i);
                    self.set_vips(i, false);
                }
                Action::SendGarps { repeat } => {
                    let inst = &self.insts[i];
                    let addrs = inst.cfg.vips.len() + inst.cfg.excluded_vips.len();
                    self.garps.push(i, addrs, repeat);
                    self.send_due_garps(now);
                }
                Action::StateChanged { from, to } => {
                    let c = &mut self.insts[i].counters;
                    if to == State::Master {
                        c.became_master += 1;
                    }
                    if from == State::Master {
                        c.released_master += 1;
                    }
                    info!(
                        "({}) Entering {} STATE",
                        self.insts[i].cfg.name,
                        to.as_str()
                    );
                }
            }
        }
    }

    fn send_advert(&mut self, i: usize, priority: u8) {
        let inst = &mut self.insts[i];
        let sock = &self.ifaces[inst.iface].vrrp;
        let mut sent = false;
        if inst.cfg.is_unicast() {
            for peer in &inst.cfg.unicast_peers {
                let IpAddr::V4(peer) = *peer else { continue };
                let n = packet::build_advert(&inst.cfg, priority, inst.src, peer, &mut self.tx_buf);
                match sock.send(&self.tx_buf[..n], inst.src, peer) {
                    Ok(()) => sent = true,
                    Err(e) => debug!("({}) advert to {peer}: {e}", inst.cfg.name),
                }
            }
        } else {
            let n =
                packet::build_advert(&inst.cfg, priority, inst.src, inst.group, &mut self.tx_buf);
            match sock.send(&self.tx_buf[..n], inst.src, inst.group) {
                Ok(()) => sent = true,
                Err(e) => debug!("({}) advert: {e}", inst.cfg.name),
            }
        }
        if sent {
            inst.counters.adverts_tx += 1;
            if priority == 0 {
                inst.counters.prio0_tx += 1;
            }
        }
    }

    fn set_vips(&mut self, i: usize, add: bool) {
        let inst = &self.insts[i];
        for (v, ifindex) in inst
            .cfg
            .vips
            .iter()
            .chain(inst.cfg.excluded_vips.iter())
            .zip(&inst.vip_ifindex)
        {
            let r = if add {
                self.rtnl.add_addr(*ifindex, v)
            } else {
                self.rtnl.del_addr(*ifindex, v)
            };
            if let Err(e) = r {
                error!(
                    "({}) {} {}/{}: {e}",
                    inst.cfg.name,
                    if add { "adding" } else { "removing" },
                    crate::config::ShowIp(v.addr),
                    v.prefix_len
                );
            }
        }
    }

    /// A VIP left by a crashed run must not stay on a router that starts as backup. The
    /// address owner's VIPs are its own addresses and are never removed.
    fn remove_stale_vips(&mut self, i: usize) {
        if !self.insts[i].cfg.is_address_owner() {
            self.set_vips(i, false);
        }
    }

    /// Sends the gratuitous ARPs that are due: all queued ones at once without
    /// `vrrp_garp_interval`, else one per interval.
    fn send_due_garps(&mut self, now: Instant) {
        let mut frame = [0u8; 64];
        while let Some((i, k)) = self.garps.pop(now) {
            let inst = &self.insts[i];
            let Some(v) = inst.cfg.vips.iter().chain(&inst.cfg.excluded_vips).nth(k) else {
                continue;
            };
            let IpAddr::V4(addr) = v.addr else { continue };
            let ifindex = inst.vip_ifindex[k];
            let Some(port) = self.arp.iter().find(|p| p.ifindex == ifindex) else {
                continue;
            };
            let n = crate::wire::arp::emit_gratuitous_frame(port.mac, addr, &mut frame);
            if let Err(e) = port.sock.send(&frame[..n]) {
                debug!("({}) gratuitous ARP for {addr}: {e}", inst.cfg.name);
            }
        }
    }

    /// Formats into a buffer reserved at start-up and writes it: no allocation (a stats
    /// snapshot is part of the window tests/alloc_steady.rs proves allocation-free).
    fn write_stats(&mut self) {
        self.stats_buf.clear();
        for inst in &self.insts {
            stats::format_instance(&mut self.stats_buf, &inst.cfg.name, &inst.counters);
        }
        if let Err(e) = std::fs::write(&self.stats_path, self.stats_buf.as_bytes()) {
            error!("writing {}: {e}", self.stats_path.display());
        }
    }
}

struct Ready {
    signals: bool,
    links: bool,
    ifaces: arrayvec::ArrayVec<bool, 64>,
}

fn primary_addr(rtnl: &mut Rtnl, ifindex: u32) -> Option<Ipv4Addr> {
    rtnl.ipv4_addrs(ifindex)
        .ok()?
        .into_iter()
        .find(|a| !a.secondary)
        .map(|a| a.addr)
}

fn invalid(msg: String) -> io::Error {
    super::error(io::ErrorKind::InvalidInput, msg)
}
