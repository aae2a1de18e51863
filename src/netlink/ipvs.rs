//! IPVS over generic netlink (include/uapi/linux/ip_vs.h, net/netfilter/ipvs/ip_vs_ctl.c):
//! requests to add, change and delete virtual services and their destinations (real servers),
//! dump requests, and parsers for the dumps' messages. Family "IPVS", version 1; its message
//! type comes from `genl::family_request`. No syscalls; no allocation.
//!
//! Every request carries `IPVS_CMD_ATTR_SERVICE` (nested) naming the service by
//! (af, protocol, addr, port) or (af, fwmark); destination requests add `IPVS_CMD_ATTR_DEST`.
//! NEW/SET_SERVICE must carry the scheduler, flags, timeout and netmask, and NEW/SET_DEST the
//! forwarding method, weight and thresholds, or the kernel answers `EINVAL`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::genl::{self, GenlMsg};
use super::msg::{attrs, u16_at, u32_at, Error, MsgWriter, NlMsg};
use super::msg::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};

/// `IPVS_GENL_NAME`, `IPVS_GENL_VERSION`.
pub const FAMILY_NAME: &str = "IPVS";
pub const VERSION: u8 = 1;

/// Commands (`IPVS_CMD_*`).
pub const CMD_NEW_SERVICE: u8 = 1;
pub const CMD_SET_SERVICE: u8 = 2;
pub const CMD_DEL_SERVICE: u8 = 3;
pub const CMD_GET_SERVICE: u8 = 4;
pub const CMD_NEW_DEST: u8 = 5;
pub const CMD_SET_DEST: u8 = 6;
pub const CMD_DEL_DEST: u8 = 7;
pub const CMD_GET_DEST: u8 = 8;
pub const CMD_FLUSH: u8 = 17;

/// Top-level attributes (`IPVS_CMD_ATTR_*`).
pub const CMD_ATTR_SERVICE: u16 = 1;
pub const CMD_ATTR_DEST: u16 = 2;

/// Service attributes (`IPVS_SVC_ATTR_*`).
pub const SVC_ATTR_AF: u16 = 1;
pub const SVC_ATTR_PROTOCOL: u16 = 2;
pub const SVC_ATTR_ADDR: u16 = 3;
pub const SVC_ATTR_PORT: u16 = 4;
pub const SVC_ATTR_FWMARK: u16 = 5;
pub const SVC_ATTR_SCHED_NAME: u16 = 6;
pub const SVC_ATTR_FLAGS: u16 = 7;
pub const SVC_ATTR_TIMEOUT: u16 = 8;
pub const SVC_ATTR_NETMASK: u16 = 9;

/// Destination attributes (`IPVS_DEST_ATTR_*`).
pub const DEST_ATTR_ADDR: u16 = 1;
pub const DEST_ATTR_PORT: u16 = 2;
pub const DEST_ATTR_FWD_METHOD: u16 = 3;
pub const DEST_ATTR_WEIGHT: u16 = 4;
pub const DEST_ATTR_U_THRESH: u16 = 5;
pub const DEST_ATTR_L_THRESH: u16 = 6;
pub const DEST_ATTR_ADDR_FAMILY: u16 = 11;

/// Service flags (`IP_VS_SVC_F_*`).
pub const SVC_F_PERSISTENT: u32 = 0x1;
/// Set by the kernel on every service it holds: not a setting.
pub const SVC_F_HASHED: u32 = 0x2;
pub const SVC_F_ONEPACKET: u32 = 0x4;
/// Scheduler flags: sh uses 1 as `sh-fallback` and 2 as `sh-port`; mh the same, 3 unused.
pub const SVC_F_SCHED1: u32 = 0x8;
pub const SVC_F_SCHED2: u32 = 0x10;
pub const SVC_F_SCHED3: u32 = 0x20;

/// `IP_VS_SCHEDNAME_MAXLEN` is 16 with the NUL.
pub const SCHED_NAME_MAX: usize = 15;

/// Address families as IPVS carries them (u16).
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// A buffer big enough for every request this module builds (NEW_DEST with IPv6 addresses
/// is the longest, 164 bytes).
pub const REQUEST_MAX_LEN: usize = 192;

/// A scheduler name ("rr", "wlc", "sh", ...).
pub type SchedName = heapless::String<SCHED_NAME_MAX>;

/// The transport protocol of an address-keyed service (`IPPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Unknown(u16),
}

impl From<u16> for Protocol {
    fn from(v: u16) -> Self {
        match v {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            v => Protocol::Unknown(v),
        }
    }
}

impl From<Protocol> for u16 {
    fn from(p: Protocol) -> u16 {
        match p {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Unknown(v) => v,
        }
    }
}

/// How packets reach a destination (`IP_VS_CONN_F_FWD_MASK` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FwdMethod {
    /// NAT (`lb_kind NAT`).
    Masq,
    LocalNode,
    /// IP-in-IP (`lb_kind TUN`).
    Tunnel,
    /// Direct routing (`lb_kind DR`).
    DirectRoute,
    Unknown(u32),
}

impl From<u32> for FwdMethod {
    fn from(v: u32) -> Self {
        match v {
            0 => FwdMethod::Masq,
            1 => FwdMethod::LocalNode,
            2 => FwdMethod::Tunnel,
            3 => FwdMethod::DirectRoute,
            v => FwdMethod::Unknown(v),
        }
    }
}

impl From<FwdMethod> for u32 {
    fn from(m: FwdMethod) -> u32 {
        match m {
            FwdMethod::Masq => 0,
            FwdMethod::LocalNode => 1,
            FwdMethod::Tunnel => 2,
            FwdMethod::DirectRoute => 3,
            FwdMethod::Unknown(v) => v,
        }
    }
}

/// What names a virtual service in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `virtual_server ADDR PORT` with `protocol TCP|UDP|SCTP`.
    Addr {
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
    },
    /// `virtual_server fwmark MARK`, for IPv4 or (`ipv6`) IPv6 packets.
    Fwmark { ipv6: bool, mark: u32 },
}

impl ServiceKey {
    pub fn is_ipv6(&self) -> bool {
        match *self {
            ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
            ServiceKey::Fwmark { ipv6, .. } => ipv6,
        }
    }
    fn af(&self) -> u16 {
        if self.is_ipv6() {
            AF_INET6
        } else {
            AF_INET
        }
    }
}

impl core::fmt::Display for ServiceKey {
    /// As keepalived logs them: `[192.0.2.1]:tcp:80`, `FWM 7`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let p = match protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Sctp => "sctp",
                    Protocol::Unknown(_) => "?",
                };
                write!(f, "[{addr}]:{p}:{port}")
            }
            ServiceKey::Fwmark { ipv6, mark } => {
                write!(f, "FWM {mark}{}", if ipv6 { " IPv6" } else { "" })
            }
        }
    }
}

/// A virtual service and its settings, as NEW/SET_SERVICE send them and a dump returns them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    pub key: ServiceKey,
    /// `lb_algo`.
    pub sched: SchedName,
    /// `SVC_F_*` (without `SVC_F_HASHED`, which the kernel adds and `parse` removes).
    pub flags: u32,
    /// `persistence_timeout` in seconds (0 unless `SVC_F_PERSISTENT`).
    pub timeout: u32,
    /// `persistence_granularity` as the kernel keeps it: for IPv4 the mask's four bytes read
    /// in memory order (`u32::from_ne_bytes(mask.octets())`, all ones by default), for IPv6 a
    /// prefix length (128 by default).
    pub netmask: u32,
}

impl Service {
    /// A service with no flags, no persistence and the default granularity.
    pub fn new(key: ServiceKey, sched: &str) -> Result<Self, Error> {
        Ok(Service {
            key,
            sched: SchedName::try_from(sched).map_err(|_| Error::Invalid)?,
            flags: 0,
            timeout: 0,
            netmask: if key.is_ipv6() { 128 } else { u32::MAX },
        })
    }

    /// The IPv4 netmask value of `mask` (see `netmask`).
    pub fn ipv4_netmask(mask: Ipv4Addr) -> u32 {
        u32::from_ne_bytes(mask.octets())
    }

    /// Parses a `IPVS_CMD_NEW_SERVICE` message (what a `GET_SERVICE` dump returns).
    pub fn parse(msg: &NlMsg<'_>) -> Result<Self, Error> {
        let g = GenlMsg::new_checked(*msg)?;
        if g.cmd() != CMD_NEW_SERVICE {
            return Err(Error::Invalid);
        }
        let nest = g
            .attrs()
            .find(|a| a.kind == CMD_ATTR_SERVICE)
            .ok_or(Error::Truncated)?;
        let (mut af, mut protocol, mut addr, mut port, mut fwmark) = (None, 0, None, 0, 0);
        let mut sched = None;
        let (mut flags, mut timeout, mut netmask) = (None, 0, 0);
        for a in attrs(nest.payload) {
            let p = a.payload;
            match (a.kind, p.len()) {
                (SVC_ATTR_AF, 2) => af = Some(u16_at(p, 0)),
                (SVC_ATTR_PROTOCOL, 2) => protocol = u16_at(p, 0),
                (SVC_ATTR_ADDR, 16) => addr = Some(p),
                (SVC_ATTR_PORT, 2) => port = u16::from_be_bytes([p[0], p[1]]),
                (SVC_ATTR_FWMARK, 4) => fwmark = u32_at(p, 0),
                (SVC_ATTR_SCHED_NAME, _) => sched = a.as_str(),
                (SVC_ATTR_FLAGS, 8) => flags = Some(u32_at(p, 0)),
                (SVC_ATTR_TIMEOUT, 4) => timeout = u32_at(p, 0),
                (SVC_ATTR_NETMASK, 4) => netmask = u32_at(p, 0),
                _ => {}
            }
        }
        let ipv6 = match af {
            Some(AF_INET) => false,
            Some(AF_INET6) => true,
            _ => return Err(Error::Invalid),
        };
        let key = match (fwmark, addr) {
            (0, Some(a)) => ServiceKey::Addr {
                protocol: Protocol::from(protocol),
                addr: addr_from(a, ipv6),
                port,
            },
            (0, None) => return Err(Error::Truncated),
            (mark, _) => ServiceKey::Fwmark { ipv6, mark },
        };
        Ok(Service {
            key,
            sched: SchedName::try_from(sched.ok_or(Error::Truncated)?)
                .map_err(|_| Error::Invalid)?,
            flags: flags.ok_or(Error::Truncated)? & !SVC_F_HASHED,
            timeout,
            netmask,
        })
    }
}

/// A destination (real server) of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dest {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: FwdMethod,
    /// 0 takes the server out of scheduling without removing it (`inhibit_on_failure`).
    pub weight: i32,
    /// `uthreshold`, `lthreshold`: connection limits, 0 = none.
    pub u_thresh: u32,
    pub l_thresh: u32,
}

impl Dest {
    /// Parses a `IPVS_CMD_NEW_DEST` message (what a `GET_DEST` dump returns). The address
    /// family is the message's `ADDR_FAMILY`, or the service's when the kernel sends none.
    pub fn parse(msg: &NlMsg<'_>, service_ipv6: bool) -> Result<Self, Error> {
        let g = GenlMsg::new_checked(*msg)?;
        if g.cmd() != CMD_NEW_DEST {
            return Err(Error::Invalid);
        }
        let nest = g
            .attrs()
            .find(|a| a.kind == CMD_ATTR_DEST)
            .ok_or(Error::Truncated)?;
        let (mut addr, mut port, mut fwd, mut weight) = (None, 0, None, None);
        let (mut u_thresh, mut l_thresh, mut ipv6) = (0, 0, service_ipv6);
        for a in attrs(nest.payload) {
            let p = a.payload;
            match (a.kind, p.len()) {
                (DEST_ATTR_ADDR, 16) => addr = Some(p),
                (DEST_ATTR_PORT, 2) => port = u16::from_be_bytes([p[0], p[1]]),
                (DEST_ATTR_FWD_METHOD, 4) => fwd = Some(FwdMethod::from(u32_at(p, 0) & 7)),
                (DEST_ATTR_WEIGHT, 4) => weight = Some(u32_at(p, 0) as i32),
                (DEST_ATTR_U_THRESH, 4) => u_thresh = u32_at(p, 0),
                (DEST_ATTR_L_THRESH, 4) => l_thresh = u32_at(p, 0),
                (DEST_ATTR_ADDR_FAMILY, 2) => match u16_at(p, 0) {
                    AF_INET => ipv6 = false,
                    AF_INET6 => ipv6 = true,
                    _ => return Err(Error::Invalid),
                },
                _ => {}
            }
        }
        Ok(Dest {
            addr: addr_from(addr.ok_or(Error::Truncated)?, ipv6),
            port,
            fwd: fwd.ok_or(Error::Truncated)?,
            weight: weight.ok_or(Error::Truncated)?,
            u_thresh,
            l_thresh,
        })
    }
}

fn addr_from(b: &[u8], ipv6: bool) -> IpAddr {
    if ipv6 {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[..16]);
        IpAddr::V6(Ipv6Addr::from(o))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

/// `union nf_inet_addr`: 16 bytes, an IPv4 address in the first four.
fn addr_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&v4.octets());
            b
        }
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// One IPVS request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    NewService(&'a Service),
    SetService(&'a Service),
    DelService(&'a ServiceKey),
    NewDest(&'a ServiceKey, &'a Dest),
    SetDest(&'a ServiceKey, &'a Dest),
    /// Only the destination's address and port are sent.
    DelDest(&'a ServiceKey, &'a Dest),
    /// Deletes every service (`lvs_flush`).
    Flush,
    /// Dump of every service: `NEW_SERVICE` messages, then `NLMSG_DONE`.
    DumpServices,
    /// Dump of one service's destinations: `NEW_DEST` messages, then `NLMSG_DONE`.
    DumpDests(&'a ServiceKey),
}

impl Request<'_> {
    pub fn cmd(&self) -> u8 {
        match self {
            Request::NewService(_) => CMD_NEW_SERVICE,
            Request::SetService(_) => CMD_SET_SERVICE,
            Request::DelService(_) => CMD_DEL_SERVICE,
            Request::NewDest(..) => CMD_NEW_DEST,
            Request::SetDest(..) => CMD_SET_DEST,
            Request::DelDest(..) => CMD_DEL_DEST,
            Request::Flush => CMD_FLUSH,
            Request::DumpServices => CMD_GET_SERVICE,
            Request::DumpDests(_) => CMD_GET_DEST,
        }
    }

    /// Writes the request into `buf` for the IPVS family `family` (its message type) and
    /// returns its length. Changes ask for an ack; dumps are dumps.
    pub fn emit(&self, buf: &mut [u8], family: u16, seq: u32) -> Result<usize, Error> {
        let flags = match self {
            Request::DumpServices | Request::DumpDests(_) => NLM_F_REQUEST | NLM_F_DUMP,
            _ => NLM_F_REQUEST | NLM_F_ACK,
        };
        let mut w = genl::writer(buf, family, flags, seq, self.cmd(), VERSION)?;
        match *self {
            Request::NewService(s) | Request::SetService(s) => {
                emit_service(&mut w, &s.key, Some(s))?
            }
            Request::DelService(k) | Request::DumpDests(k) => emit_service(&mut w, k, None)?,
            Request::NewDest(k, d) | Request::SetDest(k, d) => {
                emit_service(&mut w, k, None)?;
                emit_dest(&mut w, d, true)?;
            }
            Request::DelDest(k, d) => {
                emit_service(&mut w, k, None)?;
                emit_dest(&mut w, d, false)?;
            }
            Request::Flush | Request::DumpServices => {}
        }
        Ok(w.finish())
    }
}

fn emit_service(
    w: &mut MsgWriter<'_>,
    key: &ServiceKey,
    full: Option<&Service>,
) -> Result<(), Error> {
    let n = w.begin_nested(CMD_ATTR_SERVICE)?;
    w.attr(SVC_ATTR_AF, &key.af().to_ne_bytes())?;
    match *key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            w.attr(SVC_ATTR_PROTOCOL, &u16::from(protocol).to_ne_bytes())?;
            w.attr(SVC_ATTR_ADDR, &addr_bytes(addr))?;
            w.attr(SVC_ATTR_PORT, &port.to_be_bytes())?;
        }
        ServiceKey::Fwmark { mark, .. } => {
            if mark == 0 {
                return Err(Error::Invalid);
            }
            w.attr(SVC_ATTR_FWMARK, &mark.to_ne_bytes())?;
        }
    }
    if let Some(s) = full {
        if s.sched.is_empty() {
            return Err(Error::Invalid);
        }
        w.attr_str(SVC_ATTR_SCHED_NAME, &s.sched)?;
        // struct ip_vs_flags { flags, mask }: every bit is ours to set.
        let mut f = [0u8; 8];
        f[..4].copy_from_slice(&s.flags.to_ne_bytes());
        f[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        w.attr(SVC_ATTR_FLAGS, &f)?;
        w.attr(SVC_ATTR_TIMEOUT, &s.timeout.to_ne_bytes())?;
        w.attr(SVC_ATTR_NETMASK, &s.netmask.to_ne_bytes())?;
    }
    w.end_nested(n)
}

fn emit_dest(w: &mut MsgWriter<'_>, d: &Dest, full: bool) -> Result<(), Error> {
    let n = w.begin_nested(CMD_ATTR_DEST)?;
    let af = if d.addr.is_ipv6() { AF_INET6 } else { AF_INET };
    w.attr(DEST_ATTR_ADDR, &addr_bytes(d.addr))?;
    w.attr(DEST_ATTR_PORT, &d.port.to_be_bytes())?;
    if full {
        w.attr(DEST_ATTR_FWD_METHOD, &u32::from(d.fwd).to_ne_bytes())?;
        w.attr(DEST_ATTR_WEIGHT, &d.weight.to_ne_bytes())?;
        w.attr(DEST_ATTR_U_THRESH, &d.u_thresh.to_ne_bytes())?;
        w.attr(DEST_ATTR_L_THRESH, &d.l_thresh.to_ne_bytes())?;
    }
    w.attr(DEST_ATTR_ADDR_FAMILY, &af.to_ne_bytes())?;
    w.end_nested(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::msg::messages;

    const FAMILY: u16 = 0x25;

    fn tcp80() -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
            port: 80,
        }
    }

    fn dest() -> Dest {
        Dest {
            addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
            port: 8080,
            fwd: FwdMethod::DirectRoute,
            weight: 3,
            u_thresh: 0,
            l_thresh: 0,
        }
    }

    /// NEW_SERVICE for 192.0.2.100 tcp 80, rr, no persistence, seq 7 (x86_64 byte order).
    #[rustfmt::skip]
    const NEW_SERVICE_TCP80: [u8; 104] = [
        104, 0, 0, 0, 0x25, 0, 5, 0, 7, 0, 0, 0, 0, 0, 0, 0,
        1, 1, 0, 0,                                   // NEW_SERVICE, version 1
        84, 0, 1, 0x80,                               // SERVICE (nested)
        6, 0, 1, 0, 2, 0, 0, 0,                       //   AF_INET
        6, 0, 2, 0, 6, 0, 0, 0,                       //   IPPROTO_TCP
        20, 0, 3, 0, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ADDR
        6, 0, 4, 0, 0, 80, 0, 0,                      //   PORT (big endian)
        7, 0, 6, 0, b'r', b'r', 0, 0,                 //   SCHED_NAME "rr\0"
        12, 0, 7, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // FLAGS {0, mask ~0}
        8, 0, 8, 0, 0, 0, 0, 0,                       //   TIMEOUT
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff,           //   NETMASK
    ];

    #[test]
    fn new_service_bytes() {
        let s = Service::new(tcp80(), "rr").unwrap();
        let mut buf = [0u8; REQUEST_MAX_LEN];
        let n = Request::NewService(&s).emit(&mut buf, FAMILY, 7).unwrap();
        assert_eq!(&buf[..n], &NEW_SERVICE_TCP80[..]);
    }

    #[test]
    fn dest_requests_bytes() {
        let mut buf = [0u8; REQUEST_MAX_LEN];
        let n = Request::NewDest(&tcp80(), &dest())
            .emit(&mut buf, FAMILY, 9)
            .unwrap();
        #[rustfmt::skip]
        let want: [u8; 140] = [
            140, 0, 0, 0, 0x25, 0, 5, 0, 9, 0, 0, 0, 0, 0, 0, 0,
            5, 1, 0, 0,
            48, 0, 1, 0x80,
            6, 0, 1, 0, 2, 0, 0, 0,
            6, 0, 2, 0, 6, 0, 0, 0,
            20, 0, 3, 0, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            6, 0, 4, 0, 0, 80, 0, 0,
            72, 0, 2, 0x80,                               // DEST (nested)
            20, 0, 1, 0, 198, 51, 100, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            6, 0, 2, 0, 0x1f, 0x90, 0, 0,                 //   PORT 8080
            8, 0, 3, 0, 3, 0, 0, 0,                       //   FWD_METHOD DROUTE
            8, 0, 4, 0, 3, 0, 0, 0,                       //   WEIGHT 3
            8, 0, 5, 0, 0, 0, 0, 0,
            8, 0, 6, 0, 0, 0, 0, 0,
            6, 0, 11, 0, 2, 0, 0, 0,                      //   ADDR_FAMILY
        ];
        assert_eq!(&buf[..n], &want[..]);
        // DEL_DEST names the destination only.
        let n = Request::DelDest(&tcp80(), &dest())
            .emit(&mut buf, FAMILY, 9)
            .unwrap();
        assert_eq!(n, 140 - 32);
        assert_eq!(buf[16], CMD_DEL_DEST);
    }

    #[test]
    fn fwmark_key_and_dumps() {
        let mut buf = [0u8; REQUEST_MAX_LEN];
        let k = ServiceKey::Fwmark {
            ipv6: false,
            mark: 7,
        };
        let n = Request::DelService(&k).emit(&mut buf, FAMILY, 1).unwrap();
        #[rustfmt::skip]
        let want: [u8; 40] = [
            40, 0, 0, 0, 0x25, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0,
            3, 1, 0, 0,
            20, 0, 1, 0x80, 6, 0, 1, 0, 2, 0, 0, 0, 8, 0, 5, 0, 7, 0, 0, 0,
        ];
        assert_eq!(&buf[..n], &want[..]);
        let n = Request::DumpServices.emit(&mut buf, FAMILY, 2).unwrap();
        assert_eq!(n, 20);
        assert_eq!(u16_at(&buf, 6), NLM_F_REQUEST | NLM_F_DUMP);
        let n = Request::DumpDests(&k).emit(&mut buf, FAMILY, 3).unwrap();
        assert_eq!(&buf[16..20], &[CMD_GET_DEST, 1, 0, 0]);
        assert_eq!(&buf[20..n], &want[20..]);
        // fwmark 0 names nothing.
        let zero = ServiceKey::Fwmark {
            ipv6: false,
            mark: 0,
        };
        assert_eq!(
            Request::DelService(&zero).emit(&mut buf, FAMILY, 1),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn ipv6_dest_is_the_longest_request() {
        let k = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "2001:db8::1".parse().unwrap(),
            port: 53,
        };
        let d = Dest {
            addr: "2001:db8::2".parse().unwrap(),
            ..dest()
        };
        let mut buf = [0u8; REQUEST_MAX_LEN];
        let n = Request::NewDest(&k, &d).emit(&mut buf, FAMILY, 1).unwrap();
        assert!(n <= REQUEST_MAX_LEN);
        assert_eq!(
            Service::new(k, "wlc").unwrap().netmask,
            128,
            "IPv6 granularity is a prefix length"
        );
    }

    #[test]
    fn service_dump_message_parses() {
        // A dump answer: the request's bytes with NEW_SERVICE, plus the kernel's extras (a
        // HASHED flag, a PE name and a stats block that parse skips).
        let mut m = NEW_SERVICE_TCP80.to_vec();
        m[6] = 2; // NLM_F_MULTI
        m[80] = 2; // flags: HASHED
        let extra: [u8; 16] = [8, 0, 10, 0x80, 4, 0, 1, 0, 8, 0, 11, 0, b's', b'i', b'p', 0];
        m.extend_from_slice(&extra);
        let total = m.len() as u16;
        m[0..2].copy_from_slice(&total.to_ne_bytes());
        let nested = u16_at(&m, 20) + 16;
        m[20..22].copy_from_slice(&nested.to_ne_bytes());
        let msg = messages(&m).next().unwrap().unwrap();
        let s = Service::parse(&msg).unwrap();
        assert_eq!(s, Service::new(tcp80(), "rr").unwrap());
        // A message without AF is refused.
        let mut bad = NEW_SERVICE_TCP80;
        bad[26] = 0x7f;
        let msg = messages(&bad).next().unwrap().unwrap();
        assert_eq!(Service::parse(&msg), Err(Error::Invalid));
        // Cut inside the nest: the attributes that remain do not name a service.
        for cut in [20, 40, 60] {
            let mut short = NEW_SERVICE_TCP80;
            short[0] = cut as u8;
            if let Some(Ok(msg)) = messages(&short[..cut]).next() {
                assert!(Service::parse(&msg).is_err());
            }
        }
    }

    #[test]
    fn dest_dump_message_parses() {
        let mut buf = [0u8; REQUEST_MAX_LEN];
        let d = Dest {
            weight: 0,
            fwd: FwdMethod::Masq,
            u_thresh: 100,
            l_thresh: 10,
            ..dest()
        };
        let n = Request::NewDest(&tcp80(), &d)
            .emit(&mut buf, FAMILY, 1)
            .unwrap();
        let msg = messages(&buf[..n]).next().unwrap().unwrap();
        assert_eq!(Dest::parse(&msg, false), Ok(d));
        // A NEW_SERVICE message is not a destination.
        let msg = messages(&NEW_SERVICE_TCP80).next().unwrap().unwrap();
        assert_eq!(Dest::parse(&msg, false), Err(Error::Invalid));
    }
}
