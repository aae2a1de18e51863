//! ARP (RFC 826) for Ethernet and IPv4: the payload of an `AF_PACKET`/`SOCK_DGRAM` socket bound
//! to ETH_P_ARP (the kernel adds the Ethernet header from the `sockaddr_ll`).
//!
//! keepalived 2.2.7's gratuitous ARP, as captured (tests/fixtures/v2_pass_2vip.garp.hex): an ARP
//! **request**, sender = (interface MAC, VIP), target = (ff:ff:ff:ff:ff:ff, VIP), in an Ethernet
//! frame to ff:ff:ff:ff:ff:ff from the interface MAC, 42 bytes (no padding). See
//! [`Repr::gratuitous`] and [`emit_gratuitous_frame`].

use super::ethernet::{self, Address as EthernetAddress, EtherType};
use super::{Error, Field, Result};
use std::net::Ipv4Addr;

mod field {
    use super::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;

    /// Sender hardware address for hardware length `hlen`.
    pub const fn sha(hlen: u8, _plen: u8) -> Field {
        let start = OPER.end;
        start..start + hlen as usize
    }
    pub const fn spa(hlen: u8, plen: u8) -> Field {
        let start = sha(hlen, plen).end;
        start..start + plen as usize
    }
    pub const fn tha(hlen: u8, plen: u8) -> Field {
        let start = spa(hlen, plen).end;
        start..start + hlen as usize
    }
    pub const fn tpa(hlen: u8, plen: u8) -> Field {
        let start = tha(hlen, plen).end;
        start..start + plen as usize
    }
}

/// Length of the fixed part before the addresses.
pub const HEADER_LEN: usize = field::OPER.end;
/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = HEADER_LEN + 2 * (6 + 4);
/// Length of keepalived's gratuitous ARP frame: Ethernet header and ARP packet.
pub const GRATUITOUS_FRAME_LEN: usize = ethernet::HEADER_LEN + ETHERNET_IPV4_LEN;

/// Hardware type (ARPHRD_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hardware {
    /// 1.
    Ethernet,
    Unknown(u16),
}

impl From<u16> for Hardware {
    fn from(value: u16) -> Self {
        match value {
            1 => Hardware::Ethernet,
            other => Hardware::Unknown(other),
        }
    }
}

impl From<Hardware> for u16 {
    fn from(value: Hardware) -> u16 {
        match value {
            Hardware::Ethernet => 1,
            Hardware::Unknown(other) => other,
        }
    }
}

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// 1.
    Request,
    /// 2.
    Reply,
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(value: u16) -> Self {
        match value {
            1 => Operation::Request,
            2 => Operation::Reply,
            other => Operation::Unknown(other),
        }
    }
}

impl From<Operation> for u16 {
    fn from(value: Operation) -> u16 {
        match value {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(other) => other,
        }
    }
}

/// A read/write view of an ARP packet of any hardware and protocol address lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// The buffer holds the fixed part and the four addresses their lengths announce.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let end = field::tpa(self.hardware_len(), self.protocol_len()).end;
        if len < end {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn hardware_type(&self) -> Hardware {
        Hardware::from(be16(&self.buffer.as_ref()[field::HTYPE]))
    }

    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(be16(&self.buffer.as_ref()[field::PTYPE]))
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> Operation {
        Operation::from(be16(&self.buffer.as_ref()[field::OPER]))
    }

    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::sha(self.hardware_len(), self.protocol_len())]
    }

    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::spa(self.hardware_len(), self.protocol_len())]
    }

    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tha(self.hardware_len(), self.protocol_len())]
    }

    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tpa(self.hardware_len(), self.protocol_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_hardware_type(&mut self, value: Hardware) {
        let v = u16::from(value).to_be_bytes();
        self.buffer.as_mut()[field::HTYPE].copy_from_slice(&v);
    }

    pub fn set_protocol_type(&mut self, value: EtherType) {
        let v = u16::from(value).to_be_bytes();
        self.buffer.as_mut()[field::PTYPE].copy_from_slice(&v);
    }

    pub fn set_hardware_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::HLEN] = value;
    }

    pub fn set_protocol_len(&mut self, value: u8) {
        self.buffer.as_mut()[field::PLEN] = value;
    }

    pub fn set_operation(&mut self, value: Operation) {
        let v = u16::from(value).to_be_bytes();
        self.buffer.as_mut()[field::OPER].copy_from_slice(&v);
    }

    /// Set the lengths first; `value` must be hardware_len bytes.
    pub fn set_source_hardware_addr(&mut self, value: &[u8]) {
        let range = field::sha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    pub fn set_source_protocol_addr(&mut self, value: &[u8]) {
        let range = field::spa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    pub fn set_target_hardware_addr(&mut self, value: &[u8]) {
        let range = field::tha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    pub fn set_target_protocol_addr(&mut self, value: &[u8]) {
        let range = field::tpa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }
}

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub operation: Operation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// keepalived's gratuitous ARP for `addr` on an interface with MAC `mac`: a request from
    /// (`mac`, `addr`) for (ff:ff:ff:ff:ff:ff, `addr`).
    pub const fn gratuitous(mac: EthernetAddress, addr: Ipv4Addr) -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: addr,
            target_hardware_addr: EthernetAddress::BROADCAST,
            target_protocol_addr: addr,
        }
    }

    /// Read a checked packet: Ethernet hardware (6-byte addresses), IPv4 (4-byte addresses),
    /// a request or a reply; anything else is [`Error::Unrecognized`].
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        if packet.hardware_type() != Hardware::Ethernet
            || packet.protocol_type() != EtherType::Ipv4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Unrecognized);
        }
        let operation = match packet.operation() {
            Operation::Unknown(_) => return Err(Error::Unrecognized),
            known => known,
        };
        let mac = |b: &[u8]| EthernetAddress::from_bytes(b).ok_or(Error::Malformed);
        let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        Ok(Repr {
            operation,
            source_hardware_addr: mac(packet.source_hardware_addr())?,
            source_protocol_addr: ip(packet.source_protocol_addr()),
            target_hardware_addr: mac(packet.target_hardware_addr())?,
            target_protocol_addr: ip(packet.target_protocol_addr()),
        })
    }

    /// Bytes [`emit`](Self::emit) writes: 28.
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_hardware_type(Hardware::Ethernet);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr.as_bytes());
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(self.target_hardware_addr.as_bytes());
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

/// Write keepalived's whole gratuitous ARP frame for `addr` (Ethernet header to broadcast from
/// `mac`, then [`Repr::gratuitous`]) into the first [`GRATUITOUS_FRAME_LEN`] bytes of `frame`,
/// for an `AF_PACKET`/`SOCK_RAW` socket. Returns the length written. `frame` must be at least
/// [`GRATUITOUS_FRAME_LEN`] long.
pub fn emit_gratuitous_frame(mac: EthernetAddress, addr: Ipv4Addr, frame: &mut [u8]) -> usize {
    let frame = &mut frame[..GRATUITOUS_FRAME_LEN];
    let eth = ethernet::Repr {
        src_addr: mac,
        dst_addr: EthernetAddress::BROADCAST,
        ethertype: EtherType::Arp,
    };
    let mut eth_frame = ethernet::Frame::new_unchecked(&mut *frame);
    eth.emit(&mut eth_frame);
    Repr::gratuitous(mac, addr).emit(&mut Packet::new_unchecked(eth_frame.payload_mut()));
    GRATUITOUS_FRAME_LEN
}

fn be16(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

    /// keepalived's gratuitous ARP for 192.0.2.100 from 02:00:00:00:00:01, the whole frame
    /// (tests/fixtures/v2_pass_2vip.garp.hex).
    static GARP_FRAME: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08,
        0x06, // eth
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // Ethernet, IPv4, 6, 4, request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x64, // sender
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x64, // target
    ];

    /// The kernel's ordinary reply to 192.0.2.1's request for 192.0.2.2, seen in
    /// tests/fixtures/v3_unicast.txt (ARP payload only).
    static REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0,
        0x00, 0x02, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
    ];

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&GARP_FRAME[14..]).unwrap();
        assert_eq!(p.hardware_type(), Hardware::Ethernet);
        assert_eq!(p.protocol_type(), EtherType::Ipv4);
        assert_eq!(p.hardware_len(), 6);
        assert_eq!(p.protocol_len(), 4);
        assert_eq!(p.operation(), Operation::Request);
        assert_eq!(p.source_hardware_addr(), &[2, 0, 0, 0, 0, 1]);
        assert_eq!(p.source_protocol_addr(), &[192, 0, 2, 100]);
        assert_eq!(p.target_hardware_addr(), &[0xff; 6]);
        assert_eq!(p.target_protocol_addr(), &[192, 0, 2, 100]);
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 28];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_hardware_type(Hardware::Ethernet);
        p.set_protocol_type(EtherType::Ipv4);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(Operation::Request);
        p.set_source_hardware_addr(&[2, 0, 0, 0, 0, 1]);
        p.set_source_protocol_addr(&[192, 0, 2, 100]);
        p.set_target_hardware_addr(&[0xff; 6]);
        p.set_target_protocol_addr(&[192, 0, 2, 100]);
        assert_eq!(&bytes[..], &GARP_FRAME[14..]);
    }

    #[test]
    fn parse_gratuitous_and_reply() {
        let p = Packet::new_checked(&GARP_FRAME[14..]).unwrap();
        assert_eq!(Repr::parse(&p), Ok(Repr::gratuitous(MAC1, VIP)));

        let p = Packet::new_checked(&REPLY[..]).unwrap();
        assert_eq!(
            Repr::parse(&p),
            Ok(Repr {
                operation: Operation::Reply,
                source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
                source_protocol_addr: Ipv4Addr::new(192, 0, 2, 2),
                target_hardware_addr: MAC1,
                target_protocol_addr: Ipv4Addr::new(192, 0, 2, 1),
            })
        );
    }

    #[test]
    fn emit_round_trip() {
        for bytes in [&GARP_FRAME[14..], &REPLY[..]] {
            let r = Repr::parse(&Packet::new_checked(bytes).unwrap()).unwrap();
            let mut out = [0u8; 28];
            assert_eq!(r.buffer_len(), out.len());
            r.emit(&mut Packet::new_unchecked(&mut out[..]));
            assert_eq!(&out[..], bytes);
        }
    }

    #[test]
    fn gratuitous_frame_matches_keepalived() {
        let mut frame = [0u8; 64];
        let n = emit_gratuitous_frame(MAC1, VIP, &mut frame);
        assert_eq!(n, 42);
        assert_eq!(&frame[..n], &GARP_FRAME[..]);
        assert!(frame[n..].iter().all(|&b| b == 0));
    }

    #[test]
    fn bad_lengths_rejected() {
        for n in 0..28 {
            assert_eq!(
                Packet::new_checked(&GARP_FRAME[14..14 + n]),
                Err(Error::Truncated),
                "{n}"
            );
        }
        // Longer addresses announced than present.
        let mut b = REPLY;
        b[4] = 16;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Truncated));
    }

    #[test]
    fn bad_values_rejected() {
        let cases: [(usize, u8); 5] = [(1, 6), (2, 0x86), (4, 8), (5, 16), (7, 3)];
        for (i, v) in cases {
            let mut b = [0u8; 60];
            b[..28].copy_from_slice(&REPLY);
            b[i] = v;
            let p = Packet::new_checked(&b[..]).unwrap();
            assert_eq!(Repr::parse(&p), Err(Error::Unrecognized), "byte {i} = {v}");
        }
        let mut b = REPLY;
        b[7] = 3;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().operation(),
            Operation::Unknown(3)
        );
    }

    #[test]
    fn other_address_lengths_are_readable() {
        // An ARP for 8-byte hardware addresses (e.g. hypothetical) must not panic.
        let mut b = [0u8; 8 + 2 * (8 + 4)];
        b[4] = 8;
        b[5] = 4;
        b[8..16].copy_from_slice(&[1; 8]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.source_hardware_addr(), &[1; 8]);
        assert_eq!(p.target_protocol_addr().len(), 4);
        assert_eq!(Repr::parse(&p), Err(Error::Unrecognized));
    }

    #[test]
    fn array_is_the_fixture() {
        let frame =
            crate::wire::hex_bytes(include_str!("../../tests/fixtures/v2_pass_2vip.garp.hex"));
        assert_eq!(&frame[..], &GARP_FRAME[..]);
    }
}
