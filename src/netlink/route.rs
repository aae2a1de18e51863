//! rtnetlink (rtnetlink(7), include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h): requests to
//! add and delete a virtual address, to look up a link by name and to dump addresses, and
//! parsers for the kernel's answers and link notifications. No syscalls, no allocation except
//! where a result owns data (`Vec` of addresses is the caller's).

use std::net::{IpAddr, Ipv4Addr};

use super::msg::{align, attrs, u16_at, u32_at, Error, MsgWriter, NlMsg, HEADER_LEN};
use super::msg::{NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST};
use crate::config::VirtualAddr;

/// Message types.
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;

/// Multicast group bitmask for link changes (legacy `RTMGRP_LINK`, = group RTNLGRP_LINK 1).
pub const RTMGRP_LINK: u32 = 1;
/// Multicast group bitmask for IPv4 address changes (legacy `RTMGRP_IPV4_IFADDR`).
pub const RTMGRP_IPV4_IFADDR: u32 = 0x10;

pub const AF_UNSPEC: u8 = 0;
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

/// `sizeof(struct ifinfomsg)`: family u8, pad u8, type u16, index i32, flags u32, change u32.
pub const IFINFOMSG_LEN: usize = 16;
/// `sizeof(struct ifaddrmsg)`: family u8, prefixlen u8, flags u8, scope u8, index u32.
pub const IFADDRMSG_LEN: usize = 8;

/// Link attributes.
pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_EXT_MASK: u16 = 29;
/// `IFLA_EXT_MASK` bit: leave out the (large) statistics blocks.
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

/// Address attributes.
pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_LABEL: u16 = 3;
pub const IFA_BROADCAST: u16 = 4;
/// 32-bit flags; when present they replace `ifa_flags`.
pub const IFA_FLAGS: u16 = 8;

/// Address flags.
pub const IFA_F_SECONDARY: u32 = 0x01;
pub const IFA_F_NODAD: u8 = 0x02;

/// Interface flags (`ifi_flags`, net/if.h).
pub const IFF_UP: u32 = 0x1;
/// Operationally up: administratively up and the kernel's operstate is UP (or UNKNOWN).
pub const IFF_RUNNING: u32 = 0x40;
/// The driver reports carrier.
pub const IFF_LOWER_UP: u32 = 0x1_0000;

/// An interface name: at most IFNAMSIZ-1 = 15 bytes.
pub type IfName = heapless::String<15>;

/// A buffer big enough for every request this module builds.
pub const REQUEST_BUF_LEN: usize = 128;

/// Add or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrOp {
    Add,
    Delete,
}

/// `RTM_NEWADDR` (with CREATE|EXCL, so an existing address answers `EEXIST`) or `RTM_DELADDR`
/// for `a` on interface `ifindex`, asking for an ack. Attributes as `ip addr add|del` sends
/// them: IFA_LOCAL, [IFA_BROADCAST, IFA_LABEL when adding], IFA_ADDRESS. IPv6 addresses are
/// added with IFA_F_NODAD (VRRP is the duplicate detection; DAD would leave a moved VIP
/// "dadfailed") and without broadcast or label, which IPv6 does not have.
pub fn addr_request(
    buf: &mut [u8],
    op: AddrOp,
    seq: u32,
    ifindex: u32,
    a: &VirtualAddr,
) -> Result<usize, Error> {
    let (family, max_len, flags) = match a.addr {
        IpAddr::V4(_) => (AF_INET, 32, 0),
        IpAddr::V6(_) => (AF_INET6, 128, IFA_F_NODAD),
    };
    if a.prefix_len > max_len {
        return Err(Error::Invalid);
    }
    let (msg_type, nl_flags) = match op {
        AddrOp::Add => (
            RTM_NEWADDR,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
        ),
        AddrOp::Delete => (RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK),
    };
    let mut w = MsgWriter::new(buf, msg_type, nl_flags, seq)?;
    let mut ifa = [0u8; IFADDRMSG_LEN];
    ifa[0] = family;
    ifa[1] = a.prefix_len;
    ifa[2] = flags;
    ifa[3] = a.scope.to_rt();
    ifa[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    w.push(&ifa)?;
    let octets4;
    let octets6;
    let addr: &[u8] = match a.addr {
        IpAddr::V4(v4) => {
            octets4 = v4.octets();
            &octets4
        }
        IpAddr::V6(v6) => {
            octets6 = v6.octets();
            &octets6
        }
    };
    w.attr(IFA_LOCAL, addr)?;
    if op == AddrOp::Add && family == AF_INET {
        if let Some(brd) = a.broadcast {
            w.attr(IFA_BROADCAST, &brd.octets())?;
        }
        if let Some(label) = &a.label {
            if label.is_empty() || label.len() > 15 || label.contains('\0') {
                return Err(Error::Invalid);
            }
            w.attr_str(IFA_LABEL, label)?;
        }
    }
    w.attr(IFA_ADDRESS, addr)?;
    Ok(w.finish())
}

/// `RTM_GETLINK` for one interface by name (IFLA_IFNAME), without statistics. The kernel
/// answers with one `RTM_NEWLINK` or an `NLMSG_ERROR` (`ENODEV`).
pub fn link_request(buf: &mut [u8], seq: u32, name: &str) -> Result<usize, Error> {
    if name.is_empty() || name.len() > 15 || name.contains('\0') {
        return Err(Error::Invalid);
    }
    let mut w = MsgWriter::new(buf, RTM_GETLINK, NLM_F_REQUEST, seq)?;
    w.push(&[0u8; IFINFOMSG_LEN])?;
    w.attr(IFLA_EXT_MASK, &RTEXT_FILTER_SKIP_STATS.to_ne_bytes())?;
    w.attr_str(IFLA_IFNAME, name)?;
    Ok(w.finish())
}

/// `RTM_GETADDR` dump of the IPv4 addresses. `ifindex` is filled in, but kernels only honour
/// it with `NETLINK_GET_STRICT_CHK`: filter the answers by index (`parse_ipv4_addr` returns it).
pub fn ipv4_addr_dump_request(buf: &mut [u8], seq: u32, ifindex: u32) -> Result<usize, Error> {
    let mut w = MsgWriter::new(buf, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq)?;
    let mut ifa = [0u8; IFADDRMSG_LEN];
    ifa[0] = AF_INET;
    ifa[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    w.push(&ifa)?;
    Ok(w.finish())
}

/// What `RTM_GETLINK` tells about an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub ifindex: u32,
    pub name: IfName,
    /// IFF_UP: administratively up.
    pub up: bool,
    /// IFF_RUNNING: up with carrier (operstate UP); false on carrier loss.
    pub running: bool,
    /// IFLA_ADDRESS when it is 6 bytes (Ethernet-like), else zeros.
    pub mac: [u8; 6],
}

impl LinkInfo {
    /// Parses an `RTM_NEWLINK` message (a `RTM_GETLINK` answer or a notification).
    pub fn parse(msg: &NlMsg<'_>) -> Result<Self, Error> {
        if msg.msg_type() != RTM_NEWLINK {
            return Err(Error::Invalid);
        }
        let p = msg.payload();
        if p.len() < IFINFOMSG_LEN {
            return Err(Error::Truncated);
        }
        let flags = u32_at(p, 8);
        let mut info = LinkInfo {
            ifindex: u32_at(p, 4),
            name: IfName::new(),
            up: flags & IFF_UP != 0,
            running: flags & IFF_RUNNING != 0,
            mac: [0; 6],
        };
        for a in attrs(&p[IFINFOMSG_LEN..]) {
            match a.kind {
                IFLA_IFNAME => info.name = name_from(a.as_str()),
                IFLA_ADDRESS => {
                    if let Ok(mac) = <[u8; 6]>::try_from(a.payload) {
                        info.mac = mac;
                    }
                }
                _ => {}
            }
        }
        Ok(info)
    }
}

fn name_from(s: Option<&str>) -> IfName {
    s.and_then(|s| IfName::try_from(s).ok()).unwrap_or_default()
}

/// One IPv4 address of an interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
    /// IFA_F_SECONDARY: a further address in the subnet of an earlier (primary) one.
    pub secondary: bool,
}

/// Parses an `RTM_NEWADDR` message of an address dump or an `RTM_NEWADDR`/`RTM_DELADDR`
/// notification: `Some((ifindex, address))` for IPv4, `None` for other families. The address
/// is IFA_LOCAL (IFA_ADDRESS is the peer on point-to-point links), else IFA_ADDRESS.
pub fn parse_ipv4_addr(msg: &NlMsg<'_>) -> Result<Option<(u32, IfAddr)>, Error> {
    if msg.msg_type() != RTM_NEWADDR && msg.msg_type() != RTM_DELADDR {
        return Err(Error::Invalid);
    }
    let p = msg.payload();
    if p.len() < IFADDRMSG_LEN {
        return Err(Error::Truncated);
    }
    if p[0] != AF_INET {
        return Ok(None);
    }
    let mut flags = u32::from(p[2]);
    let mut local = None;
    let mut address = None;
    for a in attrs(&p[IFADDRMSG_LEN..]) {
        let v4 = <[u8; 4]>::try_from(a.payload).ok().map(Ipv4Addr::from);
        match a.kind {
            IFA_LOCAL => local = v4,
            IFA_ADDRESS => address = v4,
            IFA_FLAGS => flags = a.as_u32().unwrap_or(flags),
            _ => {}
        }
    }
    let addr = local.or(address).ok_or(Error::Malformed)?;
    Ok(Some((
        u32_at(p, 4),
        IfAddr {
            addr,
            prefix_len: p[1],
            secondary: flags & IFA_F_SECONDARY != 0,
        },
    )))
}

/// The interface's primary address: the first one that is not secondary (the kernel lists
/// addresses in the order they became primary).
pub fn primary_ipv4(addrs: &[IfAddr]) -> Option<Ipv4Addr> {
    addrs.iter().find(|a| !a.secondary).map(|a| a.addr)
}

/// A link notification from the RTMGRP_LINK group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    pub ifindex: u32,
    /// Empty if the name attribute was not in the received bytes.
    pub name: IfName,
    /// IFF_UP. False when `removed`.
    pub up: bool,
    /// IFF_RUNNING (carrier and operstate up). False when `removed`.
    pub running: bool,
    /// `RTM_DELLINK`: the interface is gone.
    pub removed: bool,
}

/// Calls `f` for each link notification (`RTM_NEWLINK`, `RTM_DELLINK` of family AF_UNSPEC)
/// in a datagram read from an RTMGRP_LINK socket; returns how many. Never allocates.
///
/// `datagram` may be cut short (the message was bigger than the receive buffer): a message
/// whose length runs past the end is still read as far as it goes, as long as its fixed
/// headers are complete, since the state is in the fixed `ifinfomsg` header.
/// Other families (AF_BRIDGE port messages also go to this group) and types are skipped.
pub fn link_events(datagram: &[u8], mut f: impl FnMut(LinkEvent)) -> usize {
    let mut count = 0;
    let mut rest = datagram;
    while rest.len() >= HEADER_LEN {
        let len = u32_at(rest, 0) as usize;
        if len < HEADER_LEN {
            break;
        }
        let end = len.min(rest.len());
        let msg = &rest[..end];
        rest = &rest[align(len).min(rest.len())..];
        let msg_type = u16_at(msg, 4);
        let p = &msg[HEADER_LEN..];
        if (msg_type != RTM_NEWLINK && msg_type != RTM_DELLINK)
            || p.len() < IFINFOMSG_LEN
            || p[0] != AF_UNSPEC
        {
            continue;
        }
        let removed = msg_type == RTM_DELLINK;
        let flags = u32_at(p, 8);
        let name = attrs(&p[IFINFOMSG_LEN..])
            .find(|a| a.kind == IFLA_IFNAME)
            .map(|a| name_from(a.as_str()))
            .unwrap_or_default();
        f(LinkEvent {
            ifindex: u32_at(p, 4),
            name,
            up: !removed && flags & IFF_UP != 0,
            running: !removed && flags & IFF_RUNNING != 0,
            removed,
        });
        count += 1;
    }
    count
}

/// An IPv4 address notification from the RTMGRP_IPV4_IFADDR group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrEvent {
    pub ifindex: u32,
    pub addr: IfAddr,
    /// `RTM_DELADDR`: the address is gone.
    pub removed: bool,
}

/// Calls `f` for each IPv4 address notification in a datagram read from an
/// RTMGRP_IPV4_IFADDR socket; other messages and malformed ones are skipped. Never allocates.
pub fn addr_events(datagram: &[u8], mut f: impl FnMut(AddrEvent)) -> usize {
    let mut count = 0;
    for m in super::msg::messages(datagram).map_while(Result::ok) {
        let removed = match m.msg_type() {
            RTM_NEWADDR => false,
            RTM_DELADDR => true,
            _ => continue,
        };
        if let Ok(Some((ifindex, addr))) = parse_ipv4_addr(&m) {
            f(AddrEvent {
                ifindex,
                addr,
                removed,
            });
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::super::msg::{messages, Ack, NLMSG_DONE, NLMSG_ERROR, NLM_F_MULTI};
    use super::*;
    use crate::config::Scope;

    // Captured from iproute2 6.1 and Linux 6.18 by fixtures/capture.sh (eth0 is ifindex 3,
    // MAC 02:00:5e:00:00:01, peer0 is ifindex 2).
    const GETLINK_REQ: &[u8] = include_bytes!("fixtures/getlink_eth0_request.bin");
    const GETLINK_REPLY: &[u8] = include_bytes!("fixtures/getlink_eth0_reply.bin");
    const NEWADDR_REQ: &[u8] = include_bytes!("fixtures/newaddr_100_32_request.bin");
    const NEWADDR_ACK: &[u8] = include_bytes!("fixtures/newaddr_100_32_ack.bin");
    const NEWADDR_EEXIST: &[u8] = include_bytes!("fixtures/newaddr_100_32_eexist.bin");
    const NEWADDR_FULL_REQ: &[u8] = include_bytes!("fixtures/newaddr_101_24_brd_label_request.bin");
    const NEWADDR6_REQ: &[u8] = include_bytes!("fixtures/newaddr6_100_128_nodad_request.bin");
    const DELADDR_REQ: &[u8] = include_bytes!("fixtures/deladdr_100_32_request.bin");
    const DELADDR_ACK: &[u8] = include_bytes!("fixtures/deladdr_100_32_ack.bin");
    const DELADDR_ENOTAVAIL: &[u8] = include_bytes!("fixtures/deladdr_100_32_eaddrnotavail.bin");
    const DUMP_REQ: &[u8] = include_bytes!("fixtures/getaddr_dump_request.bin");
    const DUMP_REPLY_0: &[u8] = include_bytes!("fixtures/getaddr_dump_reply.0.bin");
    const DUMP_REPLY_1: &[u8] = include_bytes!("fixtures/getaddr_dump_reply.1.bin");
    /// peer0 set down; eth0 loses carrier; eth0 goes down as it is deleted; DELLINK peer0, eth0.
    const EVENTS: [&[u8]; 5] = [
        include_bytes!("fixtures/link_event.0.bin"),
        include_bytes!("fixtures/link_event.1.bin"),
        include_bytes!("fixtures/link_event.2.bin"),
        include_bytes!("fixtures/link_event.3.bin"),
        include_bytes!("fixtures/link_event.4.bin"),
    ];

    const ETH0: u32 = 3;

    /// The captured request with its sequence number (bytes 8..12) replaced by ours; iproute2
    /// leaves the port id 0 as we do.
    fn with_seq(captured: &[u8], seq: u32) -> Vec<u8> {
        let mut v = captured.to_vec();
        v[8..12].copy_from_slice(&seq.to_ne_bytes());
        v
    }

    fn vip(s: &str, prefix_len: u8) -> VirtualAddr {
        VirtualAddr {
            addr: s.parse().unwrap(),
            prefix_len,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None,
        }
    }

    fn build(op: AddrOp, seq: u32, a: &VirtualAddr) -> Vec<u8> {
        let mut buf = [0u8; REQUEST_BUF_LEN];
        let n = addr_request(&mut buf, op, seq, ETH0, a).unwrap();
        buf[..n].to_vec()
    }

    #[test]
    fn newaddr_matches_ip_addr_add() {
        // ip addr add 192.0.2.100/32 dev eth0
        let a = vip("192.0.2.100", 32);
        assert_eq!(build(AddrOp::Add, 77, &a), with_seq(NEWADDR_REQ, 77));
    }

    #[test]
    fn newaddr_with_brd_scope_label_matches_ip() {
        // ip addr add 192.0.2.101/24 brd 192.0.2.255 scope link label eth0:1 dev eth0
        let mut a = vip("192.0.2.101", 24);
        a.broadcast = Some(Ipv4Addr::new(192, 0, 2, 255));
        a.scope = Scope::Link;
        a.label = Some("eth0:1".into());
        assert_eq!(build(AddrOp::Add, 5, &a), with_seq(NEWADDR_FULL_REQ, 5));
    }

    #[test]
    fn newaddr6_matches_ip_nodad() {
        // ip -6 addr add 2001:db8::100/128 dev eth0 nodad
        let a = vip("2001:db8::100", 128);
        assert_eq!(build(AddrOp::Add, 9, &a), with_seq(NEWADDR6_REQ, 9));
    }

    #[test]
    fn deladdr_matches_ip_addr_del() {
        // ip addr del 192.0.2.100/32 dev eth0; brd and label are not sent on delete.
        let mut a = vip("192.0.2.100", 32);
        assert_eq!(build(AddrOp::Delete, 1, &a), with_seq(DELADDR_REQ, 1));
        a.broadcast = Some(Ipv4Addr::new(192, 0, 2, 255));
        a.label = Some("eth0:9".into());
        assert_eq!(build(AddrOp::Delete, 1, &a), with_seq(DELADDR_REQ, 1));
    }

    #[test]
    fn addr_request_rejects_what_it_cannot_encode() {
        let mut buf = [0u8; REQUEST_BUF_LEN];
        let bad_len = vip("192.0.2.1", 33);
        assert_eq!(
            addr_request(&mut buf, AddrOp::Add, 1, 1, &bad_len),
            Err(Error::Invalid)
        );
        let mut long_label = vip("192.0.2.1", 32);
        long_label.label = Some("eth0:0123456789ab".into());
        assert_eq!(
            addr_request(&mut buf, AddrOp::Add, 1, 1, &long_label),
            Err(Error::Invalid)
        );
        let mut small = [0u8; 32];
        assert_eq!(
            addr_request(&mut small, AddrOp::Add, 1, 1, &vip("192.0.2.1", 32)),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn link_request_matches_ip_except_ext_mask() {
        let mut buf = [0u8; REQUEST_BUF_LEN];
        let n = link_request(&mut buf, 3, "eth0").unwrap();
        // iproute2 asks for RTEXT_FILTER_VF|RTEXT_FILTER_SKIP_STATS (9); we do not want the
        // per-VF data (it can be kilobytes on SR-IOV NICs), only SKIP_STATS (8).
        let mut expected = with_seq(GETLINK_REQ, 3);
        assert_eq!(&expected[32..40], &[8, 0, 29, 0, 9, 0, 0, 0]);
        expected[36] = 8;
        assert_eq!(&buf[..n], &expected[..]);
        assert_eq!(link_request(&mut buf, 3, ""), Err(Error::Invalid));
        assert_eq!(
            link_request(&mut buf, 3, "sixteen-chars-xx"),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn getlink_reply_parses() {
        let msg = NlMsg::new_checked(GETLINK_REPLY).unwrap();
        assert_eq!(msg.len(), GETLINK_REPLY.len());
        let info = LinkInfo::parse(&msg).unwrap();
        assert_eq!(
            info,
            LinkInfo {
                ifindex: ETH0,
                name: IfName::try_from("eth0").unwrap(),
                up: true,
                running: true,
                mac: [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01],
            }
        );
        // An ack is not a link.
        let ack = NlMsg::new_checked(NEWADDR_ACK).unwrap();
        assert_eq!(LinkInfo::parse(&ack), Err(Error::Invalid));
        // A cut reply is refused by the checked view.
        assert_eq!(
            NlMsg::new_checked(&GETLINK_REPLY[..100]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn acks_and_errors() {
        for (bytes, errno, text) in [
            (NEWADDR_ACK, 0, None),
            (DELADDR_ACK, 0, None),
            (
                NEWADDR_EEXIST,
                libc::EEXIST,
                Some("ipv4: Address already assigned"),
            ),
            (
                DELADDR_ENOTAVAIL,
                libc::EADDRNOTAVAIL,
                Some("ipv4: Address not found"),
            ),
        ] {
            let mut it = messages(bytes);
            let msg = it.next().unwrap().unwrap();
            assert!(it.next().is_none());
            assert_eq!(msg.msg_type(), NLMSG_ERROR);
            let ack = Ack::parse(&msg).unwrap();
            assert_eq!(ack.errno, errno);
            assert_eq!(ack.message, text);
        }
    }

    #[test]
    fn dump_request_matches_ip_except_index() {
        let mut buf = [0u8; REQUEST_BUF_LEN];
        let n = ipv4_addr_dump_request(&mut buf, 4, ETH0).unwrap();
        // `ip -4 addr show` dumps every interface (index 0); we name ours.
        let mut expected = with_seq(DUMP_REQ, 4);
        expected[20..24].copy_from_slice(&ETH0.to_ne_bytes());
        assert_eq!(&buf[..n], &expected[..]);
    }

    #[test]
    fn dump_reply_lists_primary_and_secondary() {
        let mut got = Vec::new();
        for m in messages(DUMP_REPLY_0) {
            let m = m.unwrap();
            assert_eq!(m.flags() & NLM_F_MULTI, NLM_F_MULTI);
            got.push(parse_ipv4_addr(&m).unwrap().unwrap());
        }
        let ip = |a, b, c, d| Ipv4Addr::new(a, b, c, d);
        assert_eq!(
            got,
            vec![
                (
                    ETH0,
                    IfAddr {
                        addr: ip(192, 0, 2, 101),
                        prefix_len: 24,
                        secondary: false
                    }
                ),
                (
                    ETH0,
                    IfAddr {
                        addr: ip(198, 51, 100, 1),
                        prefix_len: 24,
                        secondary: false
                    }
                ),
                (
                    ETH0,
                    IfAddr {
                        addr: ip(198, 51, 100, 2),
                        prefix_len: 24,
                        secondary: true
                    }
                ),
            ]
        );
        let addrs: Vec<IfAddr> = got.iter().map(|g| g.1).collect();
        assert_eq!(primary_ipv4(&addrs), Some(ip(192, 0, 2, 101)));
        assert_eq!(primary_ipv4(&addrs[2..]), None);
        let done = messages(DUMP_REPLY_1).next().unwrap().unwrap();
        assert_eq!(done.msg_type(), NLMSG_DONE);
        assert_eq!(parse_ipv4_addr(&done), Err(Error::Invalid));
    }

    #[test]
    fn ifa_flags_attribute_overrides_header_flags() {
        // Third dump message: header flags 0x81, IFA_FLAGS 0x81. Clear the secondary bit in
        // the attribute only: the attribute wins.
        let third = &DUMP_REPLY_0[88 + 80..];
        let mut m = third.to_vec();
        let at = 16 + 8 + 8 + 8 + 12 + 4; // nlmsghdr, ifaddrmsg, LOCAL, ADDRESS, LABEL, FLAGS hdr
        assert_eq!(&m[at - 4..at], &[8, 0, 8, 0]);
        m[at] = 0x80;
        let msg = NlMsg::new_checked(&m).unwrap();
        assert!(!parse_ipv4_addr(&msg).unwrap().unwrap().1.secondary);
    }

    fn events_of(datagram: &[u8]) -> Vec<LinkEvent> {
        let mut v = Vec::new();
        let n = link_events(datagram, |e| v.push(e));
        assert_eq!(n, v.len());
        v
    }

    fn ev(ifindex: u32, name: &str, up: bool, running: bool, removed: bool) -> LinkEvent {
        LinkEvent {
            ifindex,
            name: IfName::try_from(name).unwrap(),
            up,
            running,
            removed,
        }
    }

    #[test]
    fn link_notifications() {
        let all: Vec<Vec<LinkEvent>> = EVENTS.iter().map(|d| events_of(d)).collect();
        assert_eq!(
            all,
            vec![
                vec![ev(2, "peer0", false, false, false)],
                // Carrier loss: still up, no longer running.
                vec![ev(ETH0, "eth0", true, false, false)],
                vec![ev(ETH0, "eth0", false, false, false)],
                vec![ev(2, "peer0", false, false, true)],
                vec![ev(ETH0, "eth0", false, false, true)],
            ]
        );
    }

    #[test]
    fn link_notification_cut_short_still_reports_state() {
        // 64 of 1496 bytes: fixed headers and the name are there.
        assert_eq!(
            events_of(&EVENTS[1][..64]),
            vec![ev(ETH0, "eth0", true, false, false)]
        );
        // Fixed headers only: no name.
        let e = events_of(&EVENTS[1][..32]);
        assert_eq!(e.len(), 1);
        assert!(e[0].name.is_empty() && e[0].up && !e[0].running);
        // Less than an ifinfomsg: nothing.
        assert!(events_of(&EVENTS[1][..31]).is_empty());
    }

    #[test]
    fn link_notifications_skip_other_messages() {
        // Two notifications in one datagram plus a DONE and a bridge-family NEWLINK.
        let mut d = Vec::new();
        d.extend_from_slice(EVENTS[0]);
        d.extend_from_slice(DUMP_REPLY_1);
        let mut bridge = EVENTS[1].to_vec();
        bridge[16] = 7; // AF_BRIDGE
        d.extend_from_slice(&bridge);
        d.extend_from_slice(EVENTS[4]);
        assert_eq!(
            events_of(&d),
            vec![
                ev(2, "peer0", false, false, false),
                ev(ETH0, "eth0", false, false, true)
            ]
        );
        // Garbage length stops the walk without panicking.
        assert!(events_of(&[4, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_empty());
        assert!(events_of(&[]).is_empty());
    }
}
