//! The Ethernet II header (IEEE 802.3 with an EtherType).
//!
//! keepalived sends its gratuitous ARPs on an `AF_PACKET`/`SOCK_RAW` socket with this header in
//! front: destination ff:ff:ff:ff:ff:ff, source the interface's MAC, type 0x0806. On a
//! `SOCK_DGRAM` packet socket the kernel writes the same header from the `sockaddr_ll`.

use super::{Error, Field, Rest, Result};

mod field {
    use super::{Field, Rest};
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: Rest = 14..;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::PAYLOAD.start;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Address(pub [u8; 6]);

impl Address {
    pub const BROADCAST: Address = Address([0xff; 6]);

    /// From 6 bytes (e.g. a slice of a packet); `None` for another length.
    pub fn from_bytes(bytes: &[u8]) -> Option<Address> {
        let array: [u8; 6] = bytes.try_into().ok()?;
        Some(Address(array))
    }

    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }
}

impl core::fmt::Display for Address {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// The EtherType of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtherType {
    Ipv4,
    Arp,
    Ipv6,
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(value: u16) -> Self {
        match value {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86dd => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(value: EtherType) -> u16 {
        match value {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Unknown(other) => other,
        }
    }
}

/// A read/write view of an Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// The buffer holds the header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn dst_addr(&self) -> Address {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::DESTINATION]);
        Address(a)
    }

    pub fn src_addr(&self) -> Address {
        let mut a = [0; 6];
        a.copy_from_slice(&self.buffer.as_ref()[field::SOURCE]);
        Address(a)
    }

    pub fn ethertype(&self) -> EtherType {
        let b = &self.buffer.as_ref()[field::ETHERTYPE];
        EtherType::from(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    pub fn set_dst_addr(&mut self, value: Address) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&value.0);
    }

    pub fn set_src_addr(&mut self, value: Address) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&value.0);
    }

    pub fn set_ethertype(&mut self, value: EtherType) {
        let v = u16::from(value).to_be_bytes();
        self.buffer.as_mut()[field::ETHERTYPE].copy_from_slice(&v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }
}

/// What an Ethernet header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    pub src_addr: Address,
    pub dst_addr: Address,
    pub ethertype: EtherType,
}

impl Repr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Bytes of header [`emit`](Self::emit) writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of keepalived's VRRP advert to 224.0.0.18 (v2_pass_2vip.advert.hex): the
    /// IPv4 multicast MAC 01:00:5e:00:00:12 from 02:00:00:00:00:01.
    static HEADER: [u8; 14] = [
        0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
    ];

    #[test]
    fn deconstruct_and_parse() {
        let f = Frame::new_checked(&HEADER[..]).unwrap();
        assert_eq!(f.dst_addr(), Address([0x01, 0x00, 0x5e, 0, 0, 0x12]));
        assert_eq!(f.src_addr().to_string(), "02:00:00:00:00:01");
        assert_eq!(f.ethertype(), EtherType::Ipv4);
        assert!(f.payload().is_empty());
        let r = Repr::parse(&f).unwrap();
        assert_eq!(r.ethertype, EtherType::Ipv4);
        assert!(!r.dst_addr.is_broadcast());
    }

    #[test]
    fn construct_and_emit() {
        let r = Repr {
            src_addr: Address([2, 0, 0, 0, 0, 1]),
            dst_addr: Address([0x01, 0x00, 0x5e, 0, 0, 0x12]),
            ethertype: EtherType::Ipv4,
        };
        let mut bytes = [0u8; 14];
        r.emit(&mut Frame::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, HEADER);
        assert_eq!(r.buffer_len(), 14);
    }

    #[test]
    fn bad_lengths_and_unknown_types() {
        for n in 0..14 {
            assert_eq!(Frame::new_checked(&HEADER[..n]), Err(Error::Truncated));
        }
        let mut b = HEADER;
        b[12] = 0x88;
        b[13] = 0xcc;
        let f = Frame::new_checked(&b[..]).unwrap();
        assert_eq!(f.ethertype(), EtherType::Unknown(0x88cc));
        assert_eq!(u16::from(EtherType::Unknown(0x88cc)), 0x88cc);
        assert_eq!(Address::from_bytes(&[1, 2, 3]), None);
        assert_eq!(Address::from_bytes(&[0xff; 6]), Some(Address::BROADCAST));
    }

    #[test]
    fn array_is_the_fixture() {
        let frame =
            crate::wire::hex_bytes(include_str!("../../tests/fixtures/v2_pass_2vip.advert.hex"));
        assert_eq!(&frame[..14], &HEADER[..]);
    }
}
