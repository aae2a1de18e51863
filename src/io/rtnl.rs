//! rtnetlink sockets: a blocking request/ack socket for addresses and link lookups, and a
//! non-blocking link-notification socket for the poll loop. Messages are built and parsed by
//! `crate::netlink`; this file only moves bytes (through nix: no `unsafe` here).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use super::clock;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, recv, send, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag,
    SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

use crate::config::VirtualAddr;
use crate::netlink::msg::{
    messages, Ack, NlMsg, NLMSG_DONE, NLMSG_ERROR, NLMSG_MIN_TYPE, NLM_F_DUMP_INTR,
};
use crate::netlink::route::{self, AddrOp, IfAddr, LinkEvent, LinkInfo, REQUEST_BUF_LEN};

/// Receive buffer of the request socket. The kernel never builds a dump datagram larger than
/// the biggest buffer the reader has used, capped at 32 KiB, so dumps always fit.
const RX_LEN: usize = 32 * 1024;
/// How long one `recv` may block (SO_RCVTIMEO).
const RECV_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a whole request (all parts of a dump) may take.
const REQUEST_DEADLINE: Duration = Duration::from_secs(3);
/// An interrupted address dump (NLM_F_DUMP_INTR: addresses changed meanwhile) is retried this
/// many times in all.
const DUMP_ATTEMPTS: usize = 3;
/// Datagrams `LinkMonitor::drain` reads per call before it returns to the poll loop.
const DRAIN_MAX: usize = 64;

// As messages (super::error): boxing the netlink error itself would link its derived Debug.
fn invalid_data(e: crate::netlink::Error) -> io::Error {
    super::error(io::ErrorKind::InvalidData, e.to_string())
}

fn invalid_input(e: crate::netlink::Error) -> io::Error {
    super::error(io::ErrorKind::InvalidInput, e.to_string())
}

fn route_socket(flags: SockFlag, groups: u32) -> io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        flags | SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, groups))?;
    Ok(fd)
}

/// How a request ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// An NLMSG_ERROR (errno 0 = ack).
    Ack,
    /// The first data message (or an NLMSG_ERROR).
    Reply,
    /// NLMSG_DONE (or an NLMSG_ERROR).
    Done,
}

/// What one exchange ended with.
struct Outcome {
    /// Positive errno from NLMSG_ERROR or NLMSG_DONE; 0 = success.
    errno: i32,
    /// A dump message carried NLM_F_DUMP_INTR.
    interrupted: bool,
}

/// A blocking NETLINK_ROUTE socket for one request at a time; every wait is bounded.
/// Allocates its receive buffer once; the calls themselves allocate only the returned `Vec`.
pub struct Rtnl {
    fd: OwnedFd,
    seq: u32,
    req: [u8; REQUEST_BUF_LEN],
    rx: Vec<u8>,
}

impl Rtnl {
    pub fn open() -> io::Result<Self> {
        let fd = route_socket(SockFlag::empty(), 0)?;
        let t = TimeVal::new(
            RECV_TIMEOUT.as_secs() as _,
            RECV_TIMEOUT.subsec_micros() as _,
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &t)?;
        Ok(Rtnl {
            fd,
            seq: 0,
            req: [0; REQUEST_BUF_LEN],
            rx: vec![0; RX_LEN],
        })
    }

    /// The interface called `name`: index, flags, MAC. `ENODEV` if there is none.
    pub fn link_by_name(&mut self, name: &str) -> io::Result<LinkInfo> {
        let seq = self.next_seq();
        let len = route::link_request(&mut self.req, seq, name).map_err(invalid_input)?;
        let mut info = None;
        let out = self.exchange(seq, len, End::Reply, &mut |m| {
            if m.msg_type() == route::RTM_NEWLINK {
                info = Some(LinkInfo::parse(m).map_err(invalid_data)?);
            }
            Ok(())
        })?;
        if out.errno != 0 {
            return Err(io::Error::from_raw_os_error(out.errno));
        }
        info.ok_or_else(|| super::error(io::ErrorKind::InvalidData, "no RTM_NEWLINK in reply"))
    }

    /// The IPv4 addresses of interface `ifindex`, in the kernel's order (primaries first
    /// within a subnet; see `netlink::route::primary_ipv4`).
    pub fn ipv4_addrs(&mut self, ifindex: u32) -> io::Result<Vec<IfAddr>> {
        Ok(self
            .ipv4_addr_dump(Some(ifindex))?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// Every IPv4 address of the host (of this namespace), with its ifindex.
    pub fn all_ipv4_addrs(&mut self) -> io::Result<Vec<(u32, IfAddr)>> {
        self.ipv4_addr_dump(None)
    }

    fn ipv4_addr_dump(&mut self, only: Option<u32>) -> io::Result<Vec<(u32, IfAddr)>> {
        let ifindex = only.unwrap_or(0);
        let mut addrs = Vec::new();
        for _ in 0..DUMP_ATTEMPTS {
            addrs.clear();
            let seq = self.next_seq();
            let len = route::ipv4_addr_dump_request(&mut self.req, seq, ifindex)
                .map_err(invalid_input)?;
            let out = self.exchange(seq, len, End::Done, &mut |m| {
                if m.msg_type() == route::RTM_NEWADDR {
                    if let Some((index, a)) = route::parse_ipv4_addr(m).map_err(invalid_data)? {
                        if only.is_none_or(|i| i == index) {
                            addrs.push((index, a));
                        }
                    }
                }
                Ok(())
            })?;
            if out.errno != 0 {
                return Err(io::Error::from_raw_os_error(out.errno));
            }
            if !out.interrupted {
                return Ok(addrs);
            }
        }
        Err(super::error(
            io::ErrorKind::Interrupted,
            "address dump kept being interrupted by changes",
        ))
    }

    /// Adds `a` to interface `ifindex`. An address that is already there counts as added.
    pub fn add_addr(&mut self, ifindex: u32, a: &VirtualAddr) -> io::Result<()> {
        self.addr(AddrOp::Add, ifindex, a, libc::EEXIST)
    }

    /// Removes `a` from interface `ifindex`. An address that is not there counts as removed.
    pub fn del_addr(&mut self, ifindex: u32, a: &VirtualAddr) -> io::Result<()> {
        self.addr(AddrOp::Delete, ifindex, a, libc::EADDRNOTAVAIL)
    }

    fn addr(&mut self, op: AddrOp, ifindex: u32, a: &VirtualAddr, fine: i32) -> io::Result<()> {
        let seq = self.next_seq();
        let len = route::addr_request(&mut self.req, op, seq, ifindex, a).map_err(invalid_input)?;
        let out = self.exchange(seq, len, End::Ack, &mut |_| Ok(()))?;
        match out.errno {
            0 => Ok(()),
            e if e == fine => Ok(()),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sends `req[..len]` and reads answers with sequence number `seq` until `end`; data
    /// messages go to `on_data`. Answers to earlier requests that timed out are skipped.
    fn exchange(
        &mut self,
        seq: u32,
        len: usize,
        end: End,
        on_data: &mut dyn FnMut(&NlMsg<'_>) -> io::Result<()>,
    ) -> io::Result<Outcome> {
        let sent = send(self.fd.as_raw_fd(), &self.req[..len], MsgFlags::empty())?;
        if sent != len {
            return Err(super::error(
                io::ErrorKind::WriteZero,
                "netlink request cut short",
            ));
        }
        let deadline = clock::now() + REQUEST_DEADLINE;
        let mut interrupted = false;
        loop {
            if clock::now() >= deadline {
                return Err(io::ErrorKind::TimedOut.into());
            }
            let n = match recv(self.fd.as_raw_fd(), &mut self.rx, MsgFlags::MSG_TRUNC) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(io::ErrorKind::TimedOut.into()),
                Err(e) => return Err(e.into()),
            };
            if n > self.rx.len() {
                return Err(super::error(
                    io::ErrorKind::InvalidData,
                    "netlink reply larger than the receive buffer",
                ));
            }
            for m in messages(&self.rx[..n]) {
                let m = m.map_err(invalid_data)?;
                if m.seq() != seq {
                    continue;
                }
                match m.msg_type() {
                    NLMSG_ERROR => {
                        let ack = Ack::parse(&m).map_err(invalid_data)?;
                        return Ok(Outcome {
                            errno: ack.errno,
                            interrupted,
                        });
                    }
                    NLMSG_DONE => {
                        // The payload, when present, is an int: 0 or a negative errno.
                        let p = m.payload();
                        let errno = if p.len() >= 4 {
                            i32::from_ne_bytes([p[0], p[1], p[2], p[3]]).saturating_neg()
                        } else {
                            0
                        };
                        return Ok(Outcome {
                            errno: errno.max(0),
                            interrupted,
                        });
                    }
                    t if t < NLMSG_MIN_TYPE => {} // NOOP, OVERRUN: control, no data
                    _ => {
                        interrupted |= m.flags() & NLM_F_DUMP_INTR != 0;
                        on_data(&m)?;
                        if end == End::Reply {
                            return Ok(Outcome {
                                errno: 0,
                                interrupted,
                            });
                        }
                    }
                }
            }
        }
    }
}

/// What one `LinkMonitor::drain` saw besides the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Drained {
    /// The kernel dropped notifications (ENOBUFS): re-read the state of the links you track
    /// with `Rtnl::link_by_name`.
    pub overrun: bool,
    /// Stopped at the per-call bound with datagrams possibly still queued (the fd stays
    /// readable, so the next poll returns at once).
    pub more: bool,
}

/// A notification the monitor read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Link(LinkEvent),
    Addr(route::AddrEvent),
}

/// A non-blocking NETLINK_ROUTE socket subscribed to link and IPv4 address notifications
/// (RTMGRP_LINK, RTMGRP_IPV4_IFADDR).
pub struct LinkMonitor {
    fd: OwnedFd,
}

impl LinkMonitor {
    pub fn open() -> io::Result<Self> {
        Ok(LinkMonitor {
            fd: route_socket(
                SockFlag::SOCK_NONBLOCK,
                route::RTMGRP_LINK | route::RTMGRP_IPV4_IFADDR,
            )?,
        })
    }

    /// The descriptor to poll for readability.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads queued notifications into `buf` until none is left (or `DRAIN_MAX` datagrams)
    /// and calls `f` for each link event. Does not allocate. A `buf` of 4 KiB holds the
    /// state of any notification; a bigger message is cut but its state still read.
    pub fn drain(&mut self, buf: &mut [u8], mut f: impl FnMut(Event)) -> io::Result<Drained> {
        let mut out = Drained::default();
        for _ in 0..DRAIN_MAX {
            match recv(self.fd.as_raw_fd(), buf, MsgFlags::MSG_TRUNC) {
                Ok(n) => {
                    let d = &buf[..n.min(buf.len())];
                    route::link_events(d, |e| f(Event::Link(e)));
                    route::addr_events(d, |e| f(Event::Addr(e)));
                }
                Err(Errno::EAGAIN) => return Ok(out),
                Err(Errno::ENOBUFS) => out.overrun = true,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        out.more = true;
        Ok(out)
    }
}

impl AsFd for LinkMonitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for LinkMonitor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
