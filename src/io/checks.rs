//! The health checkers' executor: the sockets and scripts behind [`crate::check::Checks`].
//!
//! Each attempt takes one of [`MAX_IN_FLIGHT`] slots; a slot's socket is registered with the
//! loop's poller as `Token::Check(slot)`. Checkers due while every slot is busy start when one
//! frees (a little late, never dropped), and at most [`MAX_STARTS_PER_WAKE`] start per wake-up,
//! so 10,000 checkers due at once cost a bounded amount of work per loop turn. Every attempt has
//! a deadline: `connect_timeout` (MISC_CHECK: `misc_timeout`, enforced by the child-process
//! machinery, which TERMs then KILLs the script's process group).
//!
//! - TCP_CHECK: non-blocking connect (bound to `bindto`/`bind_port` when set); POLLOUT then
//!   `SO_ERROR` says how it ended.
//! - UDP_CHECK: a connected UDP socket sends the payload; a reply, an error (ICMP port
//!   unreachable arrives as ECONNREFUSED) or the deadline decides.
//! - PING_CHECK: an ICMP datagram socket (`SOCK_DGRAM`/`IPPROTO_ICMP`, allowed by
//!   net.ipv4.ping_group_range), else a raw one; one echo request per attempt.
//! - MISC_CHECK: the script through `Children` as `Job::Check(id)`; its end comes back
//!   through [`CheckExecutor::handle_child_exit`].
//! - HTTP_GET: each url on a connection of its own, in order, each with its own timeout; the
//!   attempt succeeds when every url does (keepalived's `http_check_thread` walk). As in
//!   keepalived, the timeout starts again whenever bytes arrive (HTTP_GET and SMTP_CHECK): it
//!   bounds silence, not the length of a transfer.
//! - SMTP_CHECK: the dialogue from the greeting to QUIT on one connection.
//! - DNS_CHECK: a query on a connected UDP socket; datagrams that are not the reply are
//!   ignored until the timeout.
//!
//! Buffers are the executor's own, sized at load and reused; the steady state allocates
//! nothing.

use super::children::{Children, Job, RunAs};
use super::poller::{Poller, Token};
use crate::check::http::HttpDialogue;
use crate::check::smtp::SmtpDialogue;
use crate::check::{self, CheckerId, Checks, Event, Failure, Outcome, Step};
use crate::config::{CheckKind, Conn, VirtualServer};
use crate::time::Instant;
use crate::wire::icmp::Family;
use core::time::Duration;
use nix::errno::Errno;
use nix::sys::socket::{
    bind, connect, getsockopt, recv, recvfrom, send, sendto, socket, sockopt, AddressFamily,
    MsgFlags, SockFlag, SockProtocol, SockType, SockaddrStorage,
};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};

/// Attempts (sockets and scripts) at once. Each costs a descriptor; the poller's add/remove
/// are linear in its table, which stays small at this size.
pub const MAX_IN_FLIGHT: usize = 256;

/// Attempts started per wake-up; the rest start at the next turn of the loop.
pub const MAX_STARTS_PER_WAKE: usize = 64;

/// The time a wake-up may spend starting attempts (a connect to a local server runs the whole
/// handshake inside the syscall): past it the rest start at the next turn, after the VRRP
/// timers.
const START_BUDGET: Duration = Duration::from_millis(2);

/// Datagrams read per ready socket per wake-up (a raw ICMP socket hears every ICMP message).
const MAX_RECV_PER_READY: usize = 8;

/// How long a MISC_CHECK waits when every child-process slot is taken.
const CHILDREN_FULL_RETRY: Duration = Duration::from_secs(1);

/// The largest datagram an ICMP or DNS reply is read into.
const DATAGRAM_LEN: usize = 1500;

struct Attempt {
    id: CheckerId,
    deadline: Option<Instant>,
    io: Io,
}

enum Io {
    /// TCP_CHECK.
    Connect(OwnedFd),
    /// HTTP_GET and SMTP_CHECK: a connection with a dialogue.
    Stream(Box<Stream>),
    /// DNS_CHECK, waiting for the reply to query `id`.
    Dns(OwnedFd, u16),
    Udp(OwnedFd),
    Ping(OwnedFd, check::ping::Echo),
    /// A MISC_CHECK script, owned by `Children`.
    Misc,
}

impl Io {
    fn fd(&self) -> Option<&OwnedFd> {
        match self {
            Io::Connect(fd) | Io::Udp(fd) | Io::Ping(fd, _) | Io::Dns(fd, _) => Some(fd),
            Io::Stream(st) => st.fd.as_ref(),
            Io::Misc => None,
        }
    }
}

// The size difference is why `Stream` is boxed: an idle slot stays small.
#[allow(clippy::large_enum_variant)]
enum Dialogue {
    Http(HttpDialogue),
    Smtp(SmtpDialogue),
}

/// Boxed (a dialogue holds its buffers inline) and the boxes reused, so attempts do not
/// allocate once as many streams as ever at once have run.
struct Stream {
    /// `None` only while the box waits in the pool.
    fd: Option<OwnedFd>,
    connected: bool,
    dialogue: Dialogue,
    /// HTTP_GET: the url this connection fetches.
    url: usize,
    /// Bytes to send and how many have gone.
    tx: Vec<u8>,
    sent: usize,
}

/// Which ICMP socket type works, learnt at the first PING_CHECK of each family.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IcmpSock {
    Unknown,
    Dgram,
    Raw,
}

pub struct CheckExecutor {
    checks: Checks,
    slots: Vec<Option<Attempt>>,
    free: Vec<u32>,
    /// Per checker: who its MISC_CHECK script runs as.
    run_as: Vec<Option<RunAs>>,
    rx: Vec<u8>,
    /// Sequence numbers of echo requests.
    seq: u16,
    icmp4: IcmpSock,
    icmp6: IcmpSock,
    /// The boxes (with their tx buffers) of finished streams, reused.
    // Boxes, not values: they move in and out of `Io::Stream` without copying 2.5 KB.
    #[allow(clippy::vec_box)]
    streams: Vec<Box<Stream>>,
    /// The Host header written for a url without `virtualhost`.
    host: String,
    /// A DNS query being built.
    query: Vec<u8>,
}

impl CheckExecutor {
    /// The checkers of `vss`, loaded at `now`: first runs spread over each one's warmup.
    /// `run_as` is who MISC_CHECK scripts without a `user` run as (`script_user`).
    pub fn new(
        vss: &[VirtualServer],
        now: Instant,
        run_as: Option<RunAs>,
        resolve: impl Fn(&str, Option<&str>) -> io::Result<RunAs>,
    ) -> io::Result<CheckExecutor> {
        let seed = now.as_micros() ^ (u64::from(std::process::id()) << 32);
        let checks = Checks::new(vss, now, seed);
        let slots_len = checks.len().min(MAX_IN_FLIGHT);
        let mut rx_len = DATAGRAM_LEN;
        let mut users = Vec::with_capacity(checks.len());
        for vs in vss {
            for rs in &vs.real_servers {
                for c in &rs.checkers {
                    match &c.kind {
                        CheckKind::Udp(u) => rx_len = rx_len.max(check::udp::recv_len(u)),
                        CheckKind::Misc(m) => {
                            if let Some((u, g)) = &m.user {
                                users.push(Some(resolve(u, g.as_deref())?));
                                continue;
                            }
                        }
                        _ => {}
                    }
                    users.push(run_as);
                }
            }
        }
        Ok(CheckExecutor {
            checks,
            slots: (0..slots_len).map(|_| None).collect(),
            free: (0..slots_len as u32).rev().collect(),
            run_as: users,
            rx: vec![0; rx_len],
            seq: (seed >> 7) as u16,
            icmp4: IcmpSock::Unknown,
            icmp6: IcmpSock::Unknown,
            streams: Vec::new(),
            host: String::new(),
            query: Vec::with_capacity(check::dns::MAX_QUERY),
        })
    }

    /// The checkers' state: which real servers are up, their weights.
    pub fn checks(&self) -> &Checks {
        &self.checks
    }

    /// Reload: see [`Checks::start_failed`].
    pub fn start_failed(&mut self, vs: usize, rs: usize) {
        self.checks.start_failed(vs, rs);
    }

    /// `ha_suspend`: see [`Checks::set_suspended`].
    pub fn set_suspended(&mut self, vs: usize, suspended: bool, now: Instant) {
        self.checks.set_suspended(vs, suspended, now);
    }

    /// Attempts in progress.
    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// The next event for the load balancer.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.checks.poll_event()
    }

    /// When [`CheckExecutor::handle_timeout`] must run next: the earliest attempt deadline,
    /// and the next due checker when a slot is free.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadlines = self.slots.iter().flatten().filter_map(|a| a.deadline);
        let due = (!self.free.is_empty())
            .then(|| self.checks.next_due())
            .flatten();
        deadlines.chain(due).min()
    }

    /// Ends attempts past their deadline and starts the checkers that are due.
    pub fn handle_timeout(
        &mut self,
        vss: &[VirtualServer],
        now: Instant,
        poller: &mut Poller,
        children: &mut Children,
    ) {
        for slot in 0..self.slots.len() {
            let expired = self.slots[slot]
                .as_ref()
                .is_some_and(|a| a.deadline.is_some_and(|d| d <= now));
            if expired {
                let outcome = match self.slots[slot].as_ref() {
                    Some(Attempt {
                        id, io: Io::Udp(_), ..
                    }) => self.udp_outcome(vss, *id, check::udp::Event::Timeout),
                    _ => Outcome::Down(Failure::Timeout),
                };
                self.finish(slot, outcome, poller, now);
            }
        }
        let mut started = 0;
        let until = super::clock::now() + START_BUDGET;
        while started < MAX_STARTS_PER_WAKE
            && !self.free.is_empty()
            && (started == 0 || super::clock::now() < until)
        {
            let Some(id) = self.checks.pop_due(now) else {
                break;
            };
            self.start(vss, id, now, poller, children);
            started += 1;
        }
    }

    /// A socket registered as `token` is ready.
    pub fn handle_ready(
        &mut self,
        vss: &[VirtualServer],
        token: Token,
        poller: &mut Poller,
        now: Instant,
    ) {
        let Token::Check(slot) = token else {
            return;
        };
        let slot = slot as usize;
        let Some(a) = self.slots.get(slot).and_then(Option::as_ref) else {
            return;
        };
        let id = a.id;
        let outcome = match &a.io {
            Io::Connect(fd) => match getsockopt(fd, sockopt::SocketError) {
                Ok(e) => check::tcp::outcome(Some(e)),
                Err(e) => Outcome::Down(Failure::Os(e as i32)),
            },
            Io::Udp(fd) => {
                let max = self.rx.len();
                match recv(fd.as_raw_fd(), &mut self.rx[..max], MsgFlags::MSG_DONTWAIT) {
                    Err(Errno::EAGAIN) => return,
                    Ok(n) => {
                        let CheckKind::Udp(u) = &self.checks.config(vss, id).kind else {
                            return;
                        };
                        let n = n.min(check::udp::recv_len(u));
                        let v = check::udp::verdict(u, check::udp::Event::Reply(&self.rx[..n]));
                        v.into()
                    }
                    Err(e) => self.udp_outcome(vss, id, check::udp::Event::Error(e as i32)),
                }
            }
            Io::Ping(fd, echo) => {
                let verdict =
                    read_verdict(fd, &mut self.rx, |from, bytes| echo.reply(from?, bytes));
                match verdict {
                    None => return,
                    Some(v) => v.into(),
                }
            }
            Io::Dns(fd, qid) => {
                let CheckKind::Dns(check) = &self.checks.config(vss, id).kind else {
                    return;
                };
                let verdict = read_verdict(fd, &mut self.rx, |_, bytes| {
                    match check::dns::reply(check, *qid, bytes) {
                        Err(f) if f.keep_waiting() => None,
                        r => Some(r),
                    }
                });
                match verdict {
                    None => return,
                    Some(v) => v.into(),
                }
            }
            Io::Stream(_) => match self.drive_stream(vss, slot, poller, now) {
                None => return,
                Some(v) => v.into(),
            },
            Io::Misc => return,
        };
        self.finish(slot, outcome, poller, now);
    }

    /// Connect, write, read: the verdict when the dialogue has one. An HTTP_GET url that
    /// passes moves the attempt on to the next url's connection.
    fn drive_stream(
        &mut self,
        vss: &[VirtualServer],
        slot: usize,
        poller: &mut Poller,
        now: Instant,
    ) -> Option<Result<(), Failure>> {
        let Some(Attempt {
            id,
            deadline,
            io: Io::Stream(st),
        }) = self.slots[slot].as_mut()
        else {
            return None;
        };
        let fd = st.fd.as_ref()?.as_raw_fd();
        let token = Token::Check(slot as u32);
        let timeout = self.checks.config(vss, *id).conn.timeout;
        if !st.connected {
            match getsockopt(st.fd.as_ref()?, sockopt::SocketError) {
                Ok(0) => {}
                Ok(e) => return Some(Err(Failure::from_errno(e))),
                Err(e) => return Some(Err(Failure::Os(e as i32))),
            }
            st.connected = true;
            st.tx.clear();
            st.sent = 0;
            if let Dialogue::Http(h) = &st.dialogue {
                h.request(&mut st.tx);
                if let Some(v) = h.verdict() {
                    return Some(v);
                }
            }
        }
        let mut verdict = None;
        for _ in 0..MAX_RECV_PER_READY {
            while st.sent < st.tx.len() {
                let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
                match send(fd, &st.tx[st.sent..], flags) {
                    Ok(n) => st.sent += n,
                    Err(Errno::EAGAIN) => break,
                    Err(e) => return Some(Err(Failure::from_errno(e as i32))),
                }
            }
            if st.sent == st.tx.len() {
                st.tx.clear();
                st.sent = 0;
            }
            let step = match recv(fd, &mut self.rx, MsgFlags::MSG_DONTWAIT) {
                Ok(0) => Step::Done(match &mut st.dialogue {
                    Dialogue::Http(h) => h.closed(),
                    Dialogue::Smtp(s) => s.closed(),
                }),
                Ok(n) => {
                    // As keepalived re-arms its read timeout at each read: a server that keeps
                    // sending is given the time it needs (bounded by http::MAX_BODY), one that
                    // goes quiet for connect_timeout fails.
                    *deadline = Some(now + timeout);
                    match &mut st.dialogue {
                        Dialogue::Http(h) => h.received(&self.rx[..n]),
                        Dialogue::Smtp(s) => s.received(&self.rx[..n], &mut st.tx),
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(e) => Step::Done(Err(Failure::from_errno(e as i32))),
            };
            if let Step::Done(v) = step {
                verdict = Some(v);
                break;
            }
        }
        let verdict = match verdict {
            None => {
                poller.want_write(token, st.sent < st.tx.len());
                return None;
            }
            Some(v) => v,
        };
        // The next url of an HTTP_GET, on a new connection with its own timeout.
        let CheckKind::Http(http) = &self.checks.config(vss, *id).kind else {
            return Some(verdict);
        };
        let next = st.url + 1;
        if verdict.is_err() || next >= http.urls.len() {
            return Some(verdict);
        }
        let conn = self.checks.config(vss, *id).conn;
        poller.remove(token);
        st.fd = None;
        match start_connect(&conn) {
            // A connect done at once still shows as writable: one path for both.
            Ok((Io::Connect(fd), None | Some(Outcome::Up(_)))) => {
                st.connected = false;
                set_host(&mut self.host, &conn);
                st.dialogue = Dialogue::Http(HttpDialogue::new(http, next, &self.host));
                st.url = next;
                poller.add(fd.as_raw_fd(), token);
                poller.want_write(token, true);
                st.fd = Some(fd);
                *deadline = Some(now + conn.timeout);
                None
            }
            Ok((_, Some(Outcome::Down(f)))) => Some(Err(f)),
            Ok(_) => None,
            Err(e) => Some(Err(Failure::Os(e.raw_os_error().unwrap_or(0)))),
        }
    }

    /// Reload: every attempt in flight is dropped and its socket leaves the poller (the
    /// caller also disowns the MISC_CHECK scripts still running).
    pub fn close_all(&mut self, poller: &mut Poller) {
        for slot in 0..self.slots.len() {
            if let Some(a) = self.slots[slot].take() {
                if a.io.fd().is_some() {
                    poller.remove(Token::Check(slot as u32));
                }
            }
        }
    }

    /// A MISC_CHECK script (`Job::Check(id)`) ended.
    pub fn handle_child_exit(
        &mut self,
        vss: &[VirtualServer],
        id: u32,
        exit: check::misc::Exit,
        now: Instant,
    ) {
        let Some(slot) = self.slots.iter().position(|a| {
            a.as_ref()
                .is_some_and(|a| a.id.0 == id && matches!(a.io, Io::Misc))
        }) else {
            return;
        };
        let id = CheckerId(id);
        let dynamic = match &self.checks.config(vss, id).kind {
            CheckKind::Misc(m) => m.dynamic,
            _ => false,
        };
        self.slots[slot] = None;
        self.free.push(slot as u32);
        self.checks
            .done(id, check::misc::outcome(dynamic, exit), now);
    }

    fn udp_outcome(
        &self,
        vss: &[VirtualServer],
        id: CheckerId,
        event: check::udp::Event,
    ) -> Outcome {
        match &self.checks.config(vss, id).kind {
            CheckKind::Udp(u) => check::udp::verdict(u, event).into(),
            _ => Outcome::Down(Failure::Timeout),
        }
    }

    fn finish(&mut self, slot: usize, outcome: Outcome, poller: &mut Poller, now: Instant) {
        let Some(a) = self.slots[slot].take() else {
            return;
        };
        if a.io.fd().is_some() {
            poller.remove(Token::Check(slot as u32));
        }
        self.free.push(slot as u32);
        self.checks.done(a.id, outcome, now);
        if let Io::Stream(mut st) = a.io {
            st.fd = None; // closes the connection
            self.streams.push(st);
        }
        // Other sockets close here, as `a` drops.
    }

    fn start(
        &mut self,
        vss: &[VirtualServer],
        id: CheckerId,
        now: Instant,
        poller: &mut Poller,
        children: &mut Children,
    ) {
        let Some(slot) = self.free.pop() else {
            self.checks.postpone(id, now);
            return;
        };
        let c = self.checks.config(vss, id);
        let conn = c.conn;
        let delay_loop = c.delay_loop;
        let deadline = Some(now + conn.timeout);
        let started: Result<(Io, Option<Outcome>), io::Error> = match &c.kind {
            CheckKind::Tcp => start_connect(&conn),
            CheckKind::Http(_) | CheckKind::Smtp(_) => {
                let dialogue = match &c.kind {
                    CheckKind::Http(h) => {
                        set_host(&mut self.host, &conn);
                        Dialogue::Http(HttpDialogue::new(h, 0, &self.host))
                    }
                    CheckKind::Smtp(s) => Dialogue::Smtp(SmtpDialogue::new(s)),
                    _ => unreachable!(),
                };
                let mut st = match self.streams.pop() {
                    Some(mut st) => {
                        st.dialogue = dialogue;
                        st
                    }
                    None => Box::new(Stream {
                        fd: None,
                        connected: false,
                        dialogue,
                        url: 0,
                        tx: Vec::with_capacity(check::smtp::MAX_TX),
                        sent: 0,
                    }),
                };
                st.url = 0;
                st.connected = false;
                st.tx.clear();
                st.sent = 0;
                match start_connect(&conn) {
                    // Connected at once or in progress: the first POLLOUT starts the dialogue.
                    Ok((Io::Connect(fd), None | Some(Outcome::Up(_)))) => {
                        st.fd = Some(fd);
                        Ok((Io::Stream(st), None))
                    }
                    Ok((_, outcome)) => {
                        self.streams.push(st);
                        Ok((Io::Misc, outcome))
                    }
                    Err(e) => {
                        self.streams.push(st);
                        Err(e)
                    }
                }
            }
            CheckKind::Dns(d) => {
                self.seq = self.seq.wrapping_add(1);
                let qid = self.seq;
                self.query.clear();
                check::dns::query(d, qid, &mut self.query);
                match start_udp(&conn, &self.query) {
                    Ok((Io::Udp(fd), None)) => Ok((Io::Dns(fd, qid), None)),
                    other => other,
                }
            }
            CheckKind::Udp(u) => start_udp(&conn, &u.payload),
            CheckKind::Ping => {
                self.seq = self.seq.wrapping_add(1);
                let which = match conn.dst {
                    SocketAddr::V4(_) => &mut self.icmp4,
                    SocketAddr::V6(_) => &mut self.icmp6,
                };
                start_ping(&conn, self.seq, which)
            }
            CheckKind::Misc(m) => {
                if children.is_full() {
                    self.free.push(slot);
                    self.checks.postpone(id, now + CHILDREN_FULL_RETRY);
                    return;
                }
                let r = children.spawn(
                    &m.path,
                    &[],
                    self.run_as[id.0 as usize],
                    Job::Check(id.0),
                    Some(m.timeout),
                    now,
                );
                match r {
                    Ok(()) => Ok((Io::Misc, None)),
                    Err(e) => {
                        lb_warn!("MISC_CHECK {}: {e}", m.path.line);
                        self.free.push(slot);
                        self.checks
                            .done(id, Outcome::Down(Failure::NotStarted), now);
                        return;
                    }
                }
            }
            CheckKind::SslUnsupported => {
                // Never scheduled (Checks keeps it up); here only for completeness.
                self.free.push(slot);
                return;
            }
        };
        match started {
            Ok((io, None)) => {
                let deadline = if matches!(io, Io::Misc) {
                    None
                } else {
                    deadline
                };
                if let Some(fd) = io.fd() {
                    poller.add(fd.as_raw_fd(), Token::Check(slot));
                    if matches!(io, Io::Connect(_) | Io::Stream(_)) {
                        poller.want_write(Token::Check(slot), true);
                    }
                }
                self.slots[slot as usize] = Some(Attempt { id, deadline, io });
            }
            Ok((_, Some(outcome))) => {
                // Decided at once (connected, or refused, on the spot).
                self.free.push(slot);
                self.checks.done(id, outcome, now);
            }
            Err(e) => {
                // keepalived: "fail to create socket. Rescheduling." after delay_loop.
                lb_warn!("{} to {}: {e}; rescheduling", c.kind.keyword(), conn.dst);
                self.free.push(slot);
                self.checks.postpone(id, now + delay_loop);
            }
        }
    }
}

/// One echo request on a new ICMP socket: datagram when the kernel allows it, else raw.
fn start_ping(conn: &Conn, seq_no: u16, which: &mut IcmpSock) -> io::Result<(Io, Option<Outcome>)> {
    let (af, proto, family) = match conn.dst {
        SocketAddr::V4(_) => (AddressFamily::Inet, SockProtocol::Icmp, Family::V4),
        SocketAddr::V6(_) => (AddressFamily::Inet6, SockProtocol::IcmpV6, Family::V6),
    };
    let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
    let mut raw = *which == IcmpSock::Raw;
    let fd = if raw {
        socket(af, SockType::Raw, flags, proto)?
    } else {
        match socket(af, SockType::Datagram, flags, proto) {
            Ok(fd) => {
                *which = IcmpSock::Dgram;
                fd
            }
            Err(e) => {
                let fd = socket(af, SockType::Raw, flags, proto).map_err(|_| e)?;
                lb_info!("PING_CHECK: no ICMP datagram socket ({e}), using a raw one");
                *which = IcmpSock::Raw;
                raw = true;
                fd
            }
        }
    };
    bind_to(&fd, conn, 0)?;
    let echo = check::ping::Echo {
        family,
        // A datagram socket's identifier is the kernel's; a raw one's ours.
        ident: raw.then_some((std::process::id() as u16) ^ seq_no.rotate_left(8)),
        seq_no,
        dst: conn.dst.ip(),
        ip_header: raw && family == Family::V4,
    };
    let mut req = [0u8; check::ping::REQUEST_LEN];
    echo.request(&mut req);
    let dst = SockaddrStorage::from(SocketAddr::new(conn.dst.ip(), 0));
    match sendto(fd.as_raw_fd(), &req, &dst, MsgFlags::empty()) {
        Ok(_) => Ok((Io::Ping(fd, echo), None)),
        Err(e) => Ok((Io::Misc, Some(Outcome::Down(Failure::from_errno(e as i32))))),
    }
}

/// The Host header for a url without `virtualhost`: `ip:port` (`[ip6]:port`).
fn set_host(host: &mut String, conn: &Conn) {
    use core::fmt::Write;
    host.clear();
    let _ = write!(host, "{}", conn.dst);
}

/// The source address of a datagram.
/// Reads up to [`MAX_RECV_PER_READY`] datagrams from `fd` and gives each, with its source, to
/// `judge`: the first verdict it returns, a receive error, or `None` once the socket is drained
/// (or the budget spent) without one.
fn read_verdict(
    fd: &OwnedFd,
    rx: &mut [u8],
    mut judge: impl FnMut(Option<IpAddr>, &[u8]) -> Option<Result<(), Failure>>,
) -> Option<Result<(), Failure>> {
    for _ in 0..MAX_RECV_PER_READY {
        match recvfrom::<SockaddrStorage>(fd.as_raw_fd(), rx) {
            Ok((n, from)) => {
                if let Some(v) = judge(from.as_ref().and_then(ip_of), &rx[..n]) {
                    return Some(v);
                }
            }
            Err(Errno::EAGAIN) => return None,
            Err(e) => return Some(Err(Failure::from_errno(e as i32))),
        }
    }
    None
}

fn ip_of(a: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        Some(IpAddr::V4(v4.ip()))
    } else {
        a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
    }
}

fn family_of(a: SocketAddr) -> AddressFamily {
    match a {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// Binds to `bindto`/`bind_port` when either is set.
fn bind_to(fd: &OwnedFd, conn: &Conn, default_port: u16) -> io::Result<()> {
    if conn.bind_ip.is_none() && conn.bind_port.is_none() {
        return Ok(());
    }
    let ip = conn.bind_ip.unwrap_or(match conn.dst {
        SocketAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    });
    let port = conn.bind_port.unwrap_or(default_port);
    let addr = SockaddrStorage::from(SocketAddr::new(ip, port));
    bind(fd.as_raw_fd(), &addr)?;
    Ok(())
}

fn start_connect(conn: &Conn) -> io::Result<(Io, Option<Outcome>)> {
    let fd = socket(
        family_of(conn.dst),
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind_to(&fd, conn, 0)?;
    let dst = SockaddrStorage::from(conn.dst);
    match connect(fd.as_raw_fd(), &dst) {
        Ok(()) => Ok((Io::Connect(fd), Some(check::tcp::outcome(Some(0))))),
        Err(Errno::EINPROGRESS) => Ok((Io::Connect(fd), None)),
        Err(e) => Ok((Io::Connect(fd), Some(check::tcp::outcome(Some(e as i32))))),
    }
}

fn start_udp(conn: &Conn, payload: &[u8]) -> io::Result<(Io, Option<Outcome>)> {
    let fd = socket(
        family_of(conn.dst),
        SockType::Datagram,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    bind_to(&fd, conn, 0)?;
    let dst = SockaddrStorage::from(conn.dst);
    let sent = connect(fd.as_raw_fd(), &dst)
        .and_then(|()| send(fd.as_raw_fd(), payload, MsgFlags::empty()).map(|_| ()));
    match sent {
        Ok(()) => Ok((Io::Udp(fd), None)),
        Err(e) => Ok((
            Io::Udp(fd),
            Some(Outcome::Down(Failure::from_errno(e as i32))),
        )),
    }
}
