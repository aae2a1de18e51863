//! The IPVS socket: a blocking NETLINK_GENERIC socket that resolves the "IPVS" family once,
//! dumps the kernel's virtual-server table and applies batches of `crate::ipvs::Op`s. Messages
//! are built and parsed by `crate::netlink::{genl, ipvs}`; this file only moves bytes (through
//! nix: no `unsafe`). No threads.
//!
//! How long it blocks: generic netlink runs each request inside the `send` that carries it, so
//! a batch's acks are queued by the time `send` returns and reading them does not wait. A
//! batch is at most `MAX_IN_FLIGHT` requests (`BATCH_LEN` bytes); `apply` blocks for as long as
//! the kernel takes to apply all its ops, plus at most `RECV_TIMEOUT` per read should an ack
//! go missing. Measured in the x86_64 lab VM under TCG (tests/ipvs_kernel.rs): 10,000
//! destinations in 100 services take 451 ms (about 45 µs each, so a full batch of 128 about
//! 6 ms), one SET_DEST 0.3 ms; but the kernel walks a service's destination list for each
//! NEW_DEST, so 10,000 in one service take 9.7 s. The daemon applies big tables only at start
//! and reload; a health check's result is one op.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, send, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use super::clock;
use crate::ipvs::{Op, Table, VirtualService};
use crate::netlink::genl::{self, Family, FAMILY_REQUEST_LEN};
use crate::netlink::ipvs::{self as wire, Dest, Request, Service, ServiceKey, REQUEST_MAX_LEN};
use crate::netlink::msg::{messages, Ack, NlMsg, NLMSG_DONE, NLMSG_ERROR, NLMSG_MIN_TYPE};

/// The send buffer: one batch of requests, sent in one datagram.
pub const BATCH_LEN: usize = 32 * 1024;
/// Requests per batch: each ack takes about 1 KiB of the socket's receive buffer
/// (`RCVBUF_LEN`) until read, and the kernel drops acks that do not fit.
pub const MAX_IN_FLIGHT: usize = 128;
/// Receive buffer: dump datagrams are at most 32 KiB (the kernel caps them there).
const RX_LEN: usize = 32 * 1024;
/// SO_RCVBUF(FORCE) asked for: room for a batch's acks with a margin.
const RCVBUF_LEN: usize = 512 * 1024;
/// How long one `recv` may block (SO_RCVTIMEO).
const RECV_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a whole dump may take.
const DUMP_DEADLINE: Duration = Duration::from_secs(5);

/// Why `Ipvs::open` failed.
#[derive(Debug)]
pub enum OpenError {
    /// The kernel has no IPVS family (no ip_vs module, and it could not be loaded).
    NoIpvs,
    Io(io::Error),
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OpenError::NoIpvs => {
                f.write_str("the kernel has no IPVS (generic netlink family \"IPVS\" not found)")
            }
            OpenError::Io(e) => write!(f, "IPVS netlink socket: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// An op the kernel refused (after the fallback, when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The op's index in the slice given to `apply`.
    pub index: usize,
    pub op: Op,
    /// Positive errno.
    pub errno: i32,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "IPVS: cannot {}: ", self.op)?;
        match (&self.op, self.errno) {
            (Op::NewService(s) | Op::SetService(s), libc::ENOENT) => write!(
                f,
                "the kernel has no scheduler \"{}\" (module ip_vs_{} missing)",
                s.sched, s.sched
            ),
            (Op::NewDest(..) | Op::SetDest(..), libc::ESRCH) => {
                f.write_str("its virtual server is not in the kernel")
            }
            (_, libc::EINVAL) => f.write_str("the kernel refused the settings (EINVAL)"),
            (_, e) => write!(f, "{}", io::Error::from_raw_os_error(e)),
        }
    }
}

/// Errnos that mean a delete found nothing to delete: done.
fn already_gone(op: &Op, errno: i32) -> bool {
    matches!(op, Op::DelService(_) | Op::DelDest(..))
        && (errno == libc::ENOENT || errno == libc::ESRCH)
}

/// Errnos that mean the dump we reconciled against was out of date: a New found the object
/// (EEXIST), a Set did not (ESRCH for a service, ENOENT for a destination). `Op::fallback`
/// is tried once.
fn wants_fallback(op: &Op, errno: i32) -> bool {
    match op {
        Op::NewService(_) | Op::NewDest(..) => errno == libc::EEXIST,
        Op::SetService(_) => errno == libc::ESRCH,
        Op::SetDest(..) => errno == libc::ENOENT,
        _ => false,
    }
}

/// A NETLINK_GENERIC socket talking to IPVS.
pub struct Ipvs {
    fd: OwnedFd,
    family: u16,
    seq: u32,
    tx: Vec<u8>,
    rx: Vec<u8>,
}

impl Ipvs {
    /// Opens the socket and resolves the IPVS family. `OpenError::NoIpvs` when the kernel
    /// has none: log it once and run without programming.
    pub fn open() -> Result<Self, OpenError> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkGeneric,
        )
        .map_err(io::Error::from)?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(io::Error::from)?;
        let t = TimeVal::new(
            RECV_TIMEOUT.as_secs() as _,
            RECV_TIMEOUT.subsec_micros() as _,
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &t).map_err(io::Error::from)?;
        // FORCE needs CAP_NET_ADMIN; without it the kernel caps the plain one at rmem_max.
        if setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF_LEN).is_err() {
            let _ = setsockopt(&fd, sockopt::RcvBuf, &RCVBUF_LEN);
        }
        let mut ipvs = Ipvs {
            fd,
            family: 0,
            seq: 0,
            tx: vec![0; BATCH_LEN],
            rx: vec![0; RX_LEN],
        };
        ipvs.family = ipvs.resolve()?;
        Ok(ipvs)
    }

    /// The message type the kernel gave the IPVS family.
    pub fn family(&self) -> u16 {
        self.family
    }

    fn resolve(&mut self) -> Result<u16, OpenError> {
        let seq = self.next_seq();
        let len = genl::family_request(&mut self.tx[..FAMILY_REQUEST_LEN], seq, wire::FAMILY_NAME)
            .map_err(invalid_input)?;
        self.send_all(len)?;
        let mut family = None;
        let deadline = clock::now() + DUMP_DEADLINE;
        loop {
            let n = self.recv_one(deadline)?;
            for m in messages(&self.rx[..n]) {
                let m = m.map_err(invalid_data)?;
                if m.seq() != seq {
                    continue;
                }
                match m.msg_type() {
                    NLMSG_ERROR => {
                        return match Ack::parse(&m).map_err(invalid_data)?.errno {
                            0 => family.map(|f: Family| f.id).ok_or_else(|| {
                                OpenError::Io(super::error(
                                    io::ErrorKind::InvalidData,
                                    "no CTRL_CMD_NEWFAMILY in the answer",
                                ))
                            }),
                            libc::ENOENT => Err(OpenError::NoIpvs),
                            e => Err(OpenError::Io(io::Error::from_raw_os_error(e))),
                        };
                    }
                    genl::GENL_ID_CTRL => family = Some(Family::parse(&m).map_err(invalid_data)?),
                    _ => {}
                }
            }
        }
    }

    /// The kernel's whole table: every service (ours or not) with its destinations.
    pub fn dump(&mut self) -> io::Result<Table> {
        let mut services: Vec<Service> = Vec::new();
        self.dump_request(&Request::DumpServices, &mut |m| {
            if m.msg_type() != NLMSG_DONE {
                services.push(Service::parse(m).map_err(invalid_data)?);
            }
            Ok(())
        })?;
        let mut table = Vec::with_capacity(services.len());
        for service in services {
            let mut dests: Vec<Dest> = Vec::new();
            let ipv6 = service.key.is_ipv6();
            self.dump_request(&Request::DumpDests(&service.key), &mut |m| {
                dests.push(Dest::parse(m, ipv6).map_err(invalid_data)?);
                Ok(())
            })?;
            table.push(VirtualService { service, dests });
        }
        Table::new(table).map_err(|e| super::error(io::ErrorKind::InvalidData, e.to_string()))
    }

    /// The destinations of one service in the kernel, sorted by (address, port).
    pub fn dests(&mut self, key: &ServiceKey) -> io::Result<Vec<Dest>> {
        let mut dests = Vec::new();
        let ipv6 = key.is_ipv6();
        self.dump_request(&Request::DumpDests(key), &mut |m| {
            dests.push(Dest::parse(m, ipv6).map_err(invalid_data)?);
            Ok(())
        })?;
        crate::ipvs::sort_dests(&mut dests);
        Ok(dests)
    }

    fn dump_request(
        &mut self,
        req: &Request<'_>,
        on_msg: &mut dyn FnMut(&NlMsg<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let seq = self.next_seq();
        let len = req
            .emit(&mut self.tx[..REQUEST_MAX_LEN], self.family, seq)
            .map_err(invalid_input)?;
        self.send_all(len)?;
        let deadline = clock::now() + DUMP_DEADLINE;
        loop {
            let n = self.recv_one(deadline)?;
            for m in messages(&self.rx[..n]) {
                let m = m.map_err(invalid_data)?;
                if m.seq() != seq {
                    continue;
                }
                match m.msg_type() {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let errno = Ack::parse(&m).map_err(invalid_data)?.errno;
                        return match errno {
                            0 => Ok(()),
                            e => Err(io::Error::from_raw_os_error(e)),
                        };
                    }
                    t if t < NLMSG_MIN_TYPE => {}
                    _ => on_msg(&m)?,
                }
            }
        }
    }

    /// Applies `ops` in order, up to `MAX_IN_FLIGHT` requests per datagram, each with its own
    /// ack. Deletes of what is already gone succeed; a New that finds its object, or a Set that
    /// does not, is retried once as the other (`Op::fallback`), after the rest of its batch: so
    /// `ops` should name each object once, as `reconcile`'s do. Returns the ops that failed
    /// (an empty `Vec` allocates nothing). `Err` means the socket failed: what was applied is
    /// unknown, dump and reconcile again.
    pub fn apply(&mut self, ops: &[Op]) -> io::Result<Vec<Failure>> {
        let mut failures = Vec::new();
        let mut start = 0;
        while start < ops.len() {
            let base = self.seq.wrapping_add(1);
            let mut len = 0;
            let mut count = 0;
            while start + count < ops.len() && count < MAX_IN_FLIGHT {
                let seq = base.wrapping_add(count as u32);
                let room = &mut self.tx[len..];
                if room.len() < REQUEST_MAX_LEN {
                    break;
                }
                let n = ops[start + count]
                    .request()
                    .emit(room, self.family, seq)
                    .map_err(invalid_input)?;
                len += n;
                count += 1;
            }
            self.seq = base.wrapping_add(count as u32 - 1);
            self.send_all(len)?;
            // errno per op of the batch; None until its ack is read.
            let mut acks = [None::<i32>; MAX_IN_FLIGHT];
            let mut pending = count;
            let deadline = clock::now() + RECV_TIMEOUT * 2;
            while pending > 0 {
                let n = self.recv_one(deadline)?;
                for m in messages(&self.rx[..n]) {
                    let m = m.map_err(invalid_data)?;
                    let k = m.seq().wrapping_sub(base) as usize;
                    if m.msg_type() != NLMSG_ERROR || k >= count || acks[k].is_some() {
                        continue;
                    }
                    acks[k] = Some(Ack::parse(&m).map_err(invalid_data)?.errno);
                    pending -= 1;
                }
            }
            for (k, errno) in acks[..count].iter().enumerate() {
                let index = start + k;
                let op = &ops[index];
                let errno = errno.unwrap_or(0);
                if errno == 0 || already_gone(op, errno) {
                    continue;
                }
                let errno = match op.fallback() {
                    Some(alt) if wants_fallback(op, errno) => self.apply_one(&alt)?,
                    _ => errno,
                };
                if errno != 0 {
                    failures.push(Failure {
                        index,
                        op: op.clone(),
                        errno,
                    });
                }
            }
            start += count;
        }
        Ok(failures)
    }

    /// One request, its ack's errno.
    fn apply_one(&mut self, op: &Op) -> io::Result<i32> {
        let seq = self.next_seq();
        let len = op
            .request()
            .emit(&mut self.tx[..REQUEST_MAX_LEN], self.family, seq)
            .map_err(invalid_input)?;
        self.send_all(len)?;
        let deadline = clock::now() + RECV_TIMEOUT * 2;
        loop {
            let n = self.recv_one(deadline)?;
            for m in messages(&self.rx[..n]) {
                let m = m.map_err(invalid_data)?;
                if m.seq() == seq && m.msg_type() == NLMSG_ERROR {
                    return Ok(Ack::parse(&m).map_err(invalid_data)?.errno);
                }
            }
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send_all(&mut self, len: usize) -> io::Result<()> {
        let sent = loop {
            match send(self.fd.as_raw_fd(), &self.tx[..len], MsgFlags::empty()) {
                Err(Errno::EINTR) => continue,
                r => break r?,
            }
        };
        if sent != len {
            return Err(super::error(
                io::ErrorKind::WriteZero,
                "IPVS netlink request cut short",
            ));
        }
        Ok(())
    }

    /// One datagram into `rx`; its length.
    fn recv_one(&mut self, deadline: crate::time::Instant) -> io::Result<usize> {
        loop {
            if clock::now() >= deadline {
                return Err(io::ErrorKind::TimedOut.into());
            }
            match recv(self.fd.as_raw_fd(), &mut self.rx, MsgFlags::MSG_TRUNC) {
                Ok(n) if n > self.rx.len() => {
                    return Err(super::error(
                        io::ErrorKind::InvalidData,
                        "IPVS netlink answer larger than the receive buffer",
                    ))
                }
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Err(io::ErrorKind::TimedOut.into()),
                Err(Errno::ENOBUFS) => {
                    return Err(super::error(
                        io::ErrorKind::Other,
                        "IPVS netlink acks lost (receive buffer full): dump and reconcile again",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn invalid_data(e: crate::netlink::Error) -> io::Error {
    super::error(io::ErrorKind::InvalidData, e.to_string())
}

fn invalid_input(e: crate::netlink::Error) -> io::Error {
    super::error(io::ErrorKind::InvalidInput, e.to_string())
}
