//! The IPv4 header (RFC 791 3.1), as a raw `IPPROTO_VRRP` socket returns it in front of the
//! VRRP advert on Linux.
//!
//! keepalived 2.2.7 sends its adverts with its own header (`IP_HDRINCL`): TOS 0xc0 (internetwork
//! control), TTL 255, no DF, an identification that counts up from 1 per instance, protocol 112
//! (see tests/fixtures/README.md).

use super::{checksum, Error, Field, Result};
use std::net::Ipv4Addr;

mod field {
    use super::Field;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// TOS keepalived puts on its adverts: precedence 6, internetwork control (DSCP CS6).
pub const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

/// The flag bits of the flags/fragment-offset word.
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// The upper-layer protocol (IANA protocol numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// 51: IPsec AH (keepalived's VRRPv2 `auth_type AH` puts it in front of VRRP).
    Ah,
    /// 112: VRRP.
    Vrrp,
    Unknown(u8),
}

impl From<u8> for Protocol {
    fn from(value: u8) -> Self {
        match value {
            51 => Protocol::Ah,
            112 => Protocol::Vrrp,
            other => Protocol::Unknown(other),
        }
    }
}

impl From<Protocol> for u8 {
    fn from(value: Protocol) -> u8 {
        match value {
            Protocol::Ah => 51,
            Protocol::Vrrp => 112,
            Protocol::Unknown(other) => other,
        }
    }
}

/// A read/write view of an IPv4 datagram (header and payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// A view without any check; accessors may panic until [`check_len`](Self::check_len) passed.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// A view of bytes that passed [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Make sure every accessor can be used: the buffer holds the whole header (options too)
    /// and the whole datagram the total length announces. A longer buffer (link padding) is
    /// fine: [`payload`](Self::payload) ends where the total length says.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let header_len = usize::from(self.header_len());
        let total_len = usize::from(self.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            Err(Error::Malformed)
        } else if len < header_len || len < total_len {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (4 for IPv4).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// The header length in bytes (IHL x 4).
    pub fn header_len(&self) -> u8 {
        (self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Type of service: DSCP (high 6 bits) and ECN (low 2 bits).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Length of header and payload in bytes.
    pub fn total_len(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::LENGTH])
    }

    pub fn ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::IDENT])
    }

    /// The Don't Fragment flag.
    pub fn dont_frag(&self) -> bool {
        be16(&self.buffer.as_ref()[field::FLG_OFF]) & FLAG_DF != 0
    }

    /// The More Fragments flag.
    pub fn more_frags(&self) -> bool {
        be16(&self.buffer.as_ref()[field::FLG_OFF]) & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (be16(&self.buffer.as_ref()[field::FLG_OFF]) & OFFSET_MASK) << 3
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> Protocol {
        Protocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// The header checksum is right (options included).
    pub fn verify_checksum(&self) -> bool {
        let header = &self.buffer.as_ref()[..usize::from(self.header_len())];
        checksum::data(header) == 0xffff
    }

    /// The payload: from the end of the header to the end of the total length.
    pub fn payload(&self) -> &[u8] {
        let range = usize::from(self.header_len())..usize::from(self.total_len());
        &self.buffer.as_ref()[range]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (value << 4);
    }

    /// Set the header length in bytes (a multiple of 4, 20..=60).
    pub fn set_header_len(&mut self, value: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ((value / 4) & 0x0f);
    }

    pub fn set_tos(&mut self, value: u8) {
        self.buffer.as_mut()[field::TOS] = value;
    }

    pub fn set_total_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_ident(&mut self, value: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&value.to_be_bytes());
    }

    /// Clear the flags and the fragment offset (an unfragmented datagram without DF).
    pub fn clear_flags(&mut self) {
        self.buffer.as_mut()[field::FLG_OFF].copy_from_slice(&[0, 0]);
    }

    pub fn set_dont_frag(&mut self, value: bool) {
        let word = be16(&self.buffer.as_ref()[field::FLG_OFF]);
        let word = if value {
            word | FLAG_DF
        } else {
            word & !FLAG_DF
        };
        self.buffer.as_mut()[field::FLG_OFF].copy_from_slice(&word.to_be_bytes());
    }

    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    pub fn set_protocol(&mut self, value: Protocol) {
        self.buffer.as_mut()[field::PROTOCOL] = value.into();
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_src_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&value.octets());
    }

    pub fn set_dst_addr(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&value.octets());
    }

    /// Compute the header checksum and write it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = usize::from(self.header_len());
        let sum = checksum::data(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(!sum);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = usize::from(self.header_len())..usize::from(self.total_len());
        &mut self.buffer.as_mut()[range]
    }
}

/// What an IPv4 header says, for a datagram that is not a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub protocol: Protocol,
    /// Bytes after the header. At most 65515; [`emit`](Repr::emit) writes larger values as a
    /// total length of 65535.
    pub payload_len: usize,
    pub ttl: u8,
    pub tos: u8,
}

impl Repr {
    /// Read a checked packet: version 4, a right header checksum, not a fragment. Options
    /// are skipped.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        if packet.version() != 4 {
            return Err(Error::Unrecognized);
        }
        if !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Unrecognized);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - usize::from(packet.header_len()),
            ttl: packet.ttl(),
            tos: packet.tos(),
        })
    }

    /// Length of the header this emits (no options).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header (no options, identification 0, no DF) with its checksum. The payload is
    /// the caller's.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN as u8);
        packet.set_tos(self.tos);
        let total = HEADER_LEN.saturating_add(self.payload_len);
        packet.set_total_len(u16::try_from(total).unwrap_or(u16::MAX));
        packet.set_ident(0);
        packet.clear_flags();
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}

fn be16(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

fn addr(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived's first VRRPv2 advert (tests/fixtures/v2_pass_2vip.advert.hex) without the
    /// Ethernet header: 192.0.2.1 -> 224.0.0.18, TOS 0xc0, id 1, no DF, TTL 255, proto 112.
    static DATAGRAM: [u8; 44] = [
        0x45, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x8d, 0xc0, 0x00, 0x02,
        0x01, 0xe0, 0x00, 0x00, 0x12, // IPv4 header
        0x21, 0x33, 0x64, 0x02, 0x01, 0x01, 0x20, 0x21, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02,
        0x65, 0x70, 0x77, 0x31, 0x32, 0x33, 0x34, 0x00, 0x00, // VRRPv2
    ];

    fn repr() -> Repr {
        Repr {
            src_addr: Ipv4Addr::new(192, 0, 2, 1),
            dst_addr: Ipv4Addr::new(224, 0, 0, 18),
            protocol: Protocol::Vrrp,
            payload_len: 24,
            ttl: 255,
            tos: TOS_INTERNETWORK_CONTROL,
        }
    }

    #[test]
    fn deconstruct() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.tos(), 0xc0);
        assert_eq!(p.total_len(), 44);
        assert_eq!(p.ident(), 1);
        assert!(!p.dont_frag());
        assert!(!p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 255);
        assert_eq!(p.protocol(), Protocol::Vrrp);
        assert_eq!(p.checksum(), 0x188d);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(224, 0, 0, 18));
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &DATAGRAM[20..]);
    }

    #[test]
    fn construct() {
        let mut bytes = [0xa5u8; 44];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(4);
        p.set_header_len(20);
        p.set_tos(0xc0);
        p.set_total_len(44);
        p.set_ident(1);
        p.clear_flags();
        p.set_ttl(255);
        p.set_protocol(Protocol::Vrrp);
        p.set_src_addr(Ipv4Addr::new(192, 0, 2, 1));
        p.set_dst_addr(Ipv4Addr::new(224, 0, 0, 18));
        p.fill_checksum();
        p.payload_mut().copy_from_slice(&DATAGRAM[20..]);
        assert_eq!(bytes, DATAGRAM);
    }

    #[test]
    fn flags() {
        let mut bytes = DATAGRAM;
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_dont_frag(true);
        assert!(p.dont_frag());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(bytes[6], 0x40);
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_dont_frag(false);
        assert_eq!(bytes[6], 0x00);
        bytes[6] = 0x20;
        bytes[7] = 0x03;
        let p = Packet::new_unchecked(&bytes[..]);
        assert!(p.more_frags());
        assert_eq!(p.frag_offset(), 24);
    }

    #[test]
    fn parse() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!(Repr::parse(&p), Ok(repr()));
    }

    #[test]
    fn emit_matches_capture_but_ident() {
        let r = repr();
        let mut bytes = DATAGRAM;
        bytes[..20].fill(0);
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        r.emit(&mut p);
        assert_eq!(r.buffer_len(), 20);
        // keepalived numbers its datagrams (id 1 here); emit leaves 0 for the kernel to fill.
        assert_eq!(&bytes[..4], &DATAGRAM[..4]);
        assert_eq!(&bytes[4..6], &[0, 0]);
        assert_eq!(&bytes[6..10], &DATAGRAM[6..10]);
        assert_eq!(&bytes[12..20], &DATAGRAM[12..20]);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(Repr::parse(&p), Ok(r));
    }

    #[test]
    fn emit_saturates_oversized_payload() {
        let mut r = repr();
        r.payload_len = 70_000;
        let mut bytes = [0u8; 20];
        r.emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(Packet::new_unchecked(&bytes[..]).total_len(), 65535);
    }

    #[test]
    fn options_are_skipped() {
        // Same datagram with a 4-byte option (NOP x4): IHL 6.
        let mut bytes = [0u8; 48];
        bytes[..20].copy_from_slice(&DATAGRAM[..20]);
        bytes[20..24].copy_from_slice(&[1, 1, 1, 1]);
        bytes[24..].copy_from_slice(&DATAGRAM[20..]);
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_header_len(24);
        p.set_total_len(48);
        p.fill_checksum();
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload(), &DATAGRAM[20..]);
        assert_eq!(Repr::parse(&p).unwrap().payload_len, 24);
    }

    #[test]
    fn link_padding_is_not_payload() {
        let mut bytes = [0u8; 60];
        bytes[..44].copy_from_slice(&DATAGRAM);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.payload().len(), 24);
    }

    #[test]
    fn bad_lengths_rejected() {
        for n in 0..20 {
            assert_eq!(
                Packet::new_checked(&DATAGRAM[..n]),
                Err(Error::Truncated),
                "{n}"
            );
        }
        // Shorter than the total length says.
        assert_eq!(Packet::new_checked(&DATAGRAM[..43]), Err(Error::Truncated));
        // IHL below 5.
        let mut b = DATAGRAM;
        b[0] = 0x44;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        // IHL 15 (60 bytes) longer than the 44-byte buffer and the total length.
        b[0] = 0x4f;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        b[2..4].copy_from_slice(&60u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Truncated));
        // Total length shorter than the header.
        let mut b = DATAGRAM;
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
    }

    #[test]
    fn bad_values_rejected() {
        let mut b = DATAGRAM;
        b[0] = 0x65; // version 6
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::Unrecognized));

        let mut b = DATAGRAM;
        b[8] = 1; // TTL changed, checksum now wrong
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(!p.verify_checksum());
        assert_eq!(Repr::parse(&p), Err(Error::Checksum));

        let mut b = DATAGRAM;
        b[6] = 0x20; // more fragments
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::Unrecognized));

        let mut b = DATAGRAM;
        b[9] = 6;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().protocol(),
            Protocol::Unknown(6)
        );
    }

    #[test]
    fn no_accessor_panics_after_check_len() {
        // Every 1-byte mutation of every prefix: either check_len refuses or accessors work.
        for len in 0..=DATAGRAM.len() {
            for i in 0..len {
                for v in [0x00u8, 0x0f, 0x40, 0x4f, 0xff] {
                    let mut b = DATAGRAM;
                    b[i] = v;
                    if let Ok(p) = Packet::new_checked(&b[..len]) {
                        let _ = (p.version(), p.tos(), p.ident(), p.ttl(), p.protocol());
                        let _ = (p.src_addr(), p.dst_addr(), p.verify_checksum());
                        let _ = (p.frag_offset(), p.payload().len());
                        let _ = Repr::parse(&p);
                    }
                }
            }
        }
    }

    #[test]
    fn array_is_the_fixture() {
        let frame =
            crate::wire::hex_bytes(include_str!("../../tests/fixtures/v2_pass_2vip.advert.hex"));
        assert_eq!(&frame[14..], &DATAGRAM[..]);
    }
}
