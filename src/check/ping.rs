//! PING_CHECK (keepalived 2.2.7 check_ping.c): one ICMP (or ICMPv6) echo request; a matching
//! echo reply within `connect_timeout` is success.
//!
//! keepalived takes any echo reply on its socket; we also require our sequence number (and on
//! a raw socket, which sees every ICMP message of the host, our identifier and the checked
//! address), and ignore the rest, waiting on until the timeout.

use super::Failure;
use crate::wire::icmp::{Family, Message, Packet, Repr};
use crate::wire::ipv4;
use std::net::IpAddr;

/// The data in every request (keepalived sends a pattern too), echoed back by the host.
pub const DATA: &[u8; 16] = b"keepalived-rs\0\0\0";

/// Length of a request.
pub const REQUEST_LEN: usize = crate::wire::icmp::HEADER_LEN + DATA.len();

/// What is expected back for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    pub family: Family,
    /// `None` on a datagram ICMP socket: the kernel sets the identifier and only hands us
    /// replies carrying it.
    pub ident: Option<u16>,
    pub seq_no: u16,
    /// The address pinged: a raw socket hears replies from everyone.
    pub dst: IpAddr,
    /// A raw IPv4 socket delivers the IP header in front of the ICMP message.
    pub ip_header: bool,
}

impl Echo {
    /// Writes the request into `out` (exactly [`REQUEST_LEN`] bytes).
    pub fn request(&self, out: &mut [u8; REQUEST_LEN]) {
        let repr = Repr {
            message: Message::EchoRequest,
            ident: self.ident.unwrap_or(0),
            seq_no: self.seq_no,
            data: DATA,
        };
        repr.emit(&mut Packet::new_unchecked(&mut out[..]), self.family);
    }

    /// The verdict on a datagram from `src`: `None` when it is not our reply (someone else's,
    /// a request, malformed), so the wait goes on.
    pub fn reply(&self, src: IpAddr, datagram: &[u8]) -> Option<Result<(), Failure>> {
        if src != self.dst {
            return None;
        }
        let icmp = if self.ip_header {
            let ip = ipv4::Packet::new_checked(datagram).ok()?;
            let len = usize::from(ip.header_len());
            &datagram[len..usize::from(ip.total_len())]
        } else {
            datagram
        };
        let packet = Packet::new_checked(icmp).ok()?;
        let repr = Repr::parse(&packet, self.family).ok()?;
        if repr.message != Message::EchoReply
            || repr.seq_no != self.seq_no
            || self.ident.is_some_and(|i| i != repr.ident)
        {
            return None;
        }
        if repr.data != DATA {
            return Some(Err(Failure::Reply("echo data differs")));
        }
        Some(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(ident: Option<u16>, ip_header: bool) -> Echo {
        Echo {
            family: Family::V4,
            ident,
            seq_no: 7,
            dst: "192.0.2.2".parse().unwrap(),
            ip_header,
        }
    }

    /// The reply a host makes of our request: type 0, same ident, seq and data.
    fn reply_to(req: &[u8]) -> Vec<u8> {
        let mut r = req.to_vec();
        let mut p = Packet::new_unchecked(&mut r[..]);
        p.set_msg_type(0);
        p.fill_checksum();
        r
    }

    #[test]
    fn request_and_matching_reply() {
        let e = echo(Some(0x4242), false);
        let mut req = [0u8; REQUEST_LEN];
        e.request(&mut req);
        assert_eq!(&req[..8], &[8, 0, req[2], req[3], 0x42, 0x42, 0, 7]);
        assert!(Packet::new_checked(&req[..]).unwrap().verify_checksum());
        let src = e.dst;
        assert_eq!(e.reply(src, &reply_to(&req)), Some(Ok(())));
        // Our own request seen on a raw socket, another sequence, another host: not ours.
        assert_eq!(e.reply(src, &req), None);
        let mut other = echo(Some(0x4242), false);
        other.seq_no = 8;
        let mut req8 = [0u8; REQUEST_LEN];
        other.request(&mut req8);
        assert_eq!(e.reply(src, &reply_to(&req8)), None);
        assert_eq!(e.reply("192.0.2.3".parse().unwrap(), &reply_to(&req)), None);
        assert_eq!(e.reply(src, &[0, 0, 0]), None);
    }

    #[test]
    fn datagram_socket_ident_is_the_kernels() {
        let e = echo(None, false);
        let mut req = [0u8; REQUEST_LEN];
        e.request(&mut req);
        let mut rep = reply_to(&req);
        // The kernel rewrote the identifier.
        Packet::new_unchecked(&mut rep[..]).set_ident(999);
        Packet::new_unchecked(&mut rep[..]).fill_checksum();
        assert_eq!(e.reply(e.dst, &rep), Some(Ok(())));
    }

    #[test]
    fn raw_socket_skips_the_ip_header() {
        let e = echo(Some(1), true);
        let mut req = [0u8; REQUEST_LEN];
        e.request(&mut req);
        let icmp = reply_to(&req);
        let mut dgram = vec![0u8; 20 + icmp.len()];
        dgram[0] = 0x45;
        dgram[2..4].copy_from_slice(&((20 + icmp.len()) as u16).to_be_bytes());
        dgram[9] = 1;
        dgram[20..].copy_from_slice(&icmp);
        assert_eq!(e.reply(e.dst, &dgram), Some(Ok(())));
        assert_eq!(e.reply(e.dst, &dgram[..10]), None);
    }

    #[test]
    fn altered_data_is_a_failure() {
        let e = echo(Some(1), false);
        let mut req = [0u8; REQUEST_LEN];
        e.request(&mut req);
        let mut rep = reply_to(&req);
        rep[10] ^= 1;
        Packet::new_unchecked(&mut rep[..]).fill_checksum();
        assert_eq!(
            e.reply(e.dst, &rep),
            Some(Err(Failure::Reply("echo data differs")))
        );
    }
}
