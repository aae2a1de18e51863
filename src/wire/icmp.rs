//! ICMP (RFC 792) and ICMPv6 (RFC 4443) echo messages: what PING_CHECK sends and expects back.
//!
//! ```text
//!  0       1       2               4               6               8
//! | type  | code  |   checksum    |  identifier   |   sequence    | data ...
//! ```
//!
//! The ICMPv4 checksum covers the message only; the ICMPv6 checksum also covers a pseudo-header
//! that the kernel fills in for `IPPROTO_ICMPV6` sockets (and checks on receipt), so here it is
//! computed and verified for IPv4 only.

use super::{checksum, Error, Field, Rest, Result};

mod field {
    use super::{Field, Rest};
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const SEQ_NO: Field = 6..8;
    pub const DATA: Rest = 8..;
}

/// Length of an echo header.
pub const HEADER_LEN: usize = field::SEQ_NO.end;

/// Which ICMP: the type numbers of the echo messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// The message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    EchoRequest,
    EchoReply,
    /// ICMPv4 3 / ICMPv6 1.
    DstUnreachable,
    Unknown(u8),
}

impl Message {
    pub fn from_type(family: Family, value: u8) -> Message {
        match (family, value) {
            (Family::V4, 8) | (Family::V6, 128) => Message::EchoRequest,
            (Family::V4, 0) | (Family::V6, 129) => Message::EchoReply,
            (Family::V4, 3) | (Family::V6, 1) => Message::DstUnreachable,
            (_, other) => Message::Unknown(other),
        }
    }

    pub fn to_type(self, family: Family) -> u8 {
        match (family, self) {
            (Family::V4, Message::EchoRequest) => 8,
            (Family::V6, Message::EchoRequest) => 128,
            (Family::V4, Message::EchoReply) => 0,
            (Family::V6, Message::EchoReply) => 129,
            (Family::V4, Message::DstUnreachable) => 3,
            (Family::V6, Message::DstUnreachable) => 1,
            (_, Message::Unknown(other)) => other,
        }
    }
}

/// A read/write view of an ICMP or ICMPv6 echo message.
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

    /// The buffer holds an echo header.
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

    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    pub fn ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::IDENT])
    }

    pub fn seq_no(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SEQ_NO])
    }

    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA]
    }

    /// The ICMPv4 checksum over the whole message is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.buffer.as_ref()) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_msg_type(&mut self, value: u8) {
        self.buffer.as_mut()[field::TYPE] = value;
    }

    pub fn set_code(&mut self, value: u8) {
        self.buffer.as_mut()[field::CODE] = value;
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_ident(&mut self, value: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&value.to_be_bytes());
    }

    pub fn set_seq_no(&mut self, value: u16) {
        self.buffer.as_mut()[field::SEQ_NO].copy_from_slice(&value.to_be_bytes());
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA]
    }

    /// Computes the ICMPv4 checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.buffer.as_ref());
        self.set_checksum(!sum);
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// An echo request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub message: Message,
    pub ident: u16,
    pub seq_no: u16,
    pub data: &'a [u8],
}

impl<'a> Repr<'a> {
    /// An echo request or reply; anything else is [`Error::Unrecognized`]. The IPv4 checksum
    /// must be right (the kernel checks ICMPv6's).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &'a Packet<&'a T>,
        family: Family,
    ) -> Result<Repr<'a>> {
        packet.check_len()?;
        let message = Message::from_type(family, packet.msg_type());
        if !matches!(message, Message::EchoRequest | Message::EchoReply) || packet.code() != 0 {
            return Err(Error::Unrecognized);
        }
        if family == Family::V4 && !packet.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            message,
            ident: packet.ident(),
            seq_no: packet.seq_no(),
            data: packet.data(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len()
    }

    /// Writes the message; `packet` must be exactly `buffer_len()` long. The checksum is filled
    /// in for IPv4 and left zero for IPv6 (the kernel's).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>, family: Family) {
        packet.set_msg_type(self.message.to_type(family));
        packet.set_code(0);
        packet.set_ident(self.ident);
        packet.set_seq_no(self.seq_no);
        packet.data_mut().copy_from_slice(self.data);
        if family == Family::V4 {
            packet.fill_checksum();
        } else {
            packet.set_checksum(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::hex_bytes;

    // `ping -c1 -p 61 -s 4 192.0.2.2` as tcpdump shows the ICMP part: type 8, ident 0x1234,
    // seq 1, data "aaaa".
    const REQUEST: &str = "0800 2308 1234 0001 61616161";
    const REPLY: &str = "0000 2b08 1234 0001 61616161";

    #[test]
    fn deconstruct() {
        let bytes = hex_bytes(REQUEST);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(p.msg_type(), 8);
        assert_eq!(p.code(), 0);
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(p.seq_no(), 1);
        assert_eq!(p.data(), b"aaaa");
        assert!(p.verify_checksum());
    }

    #[test]
    fn construct_and_emit() {
        let repr = Repr {
            message: Message::EchoRequest,
            ident: 0x1234,
            seq_no: 1,
            data: b"aaaa",
        };
        let mut buf = vec![0xffu8; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), Family::V4);
        assert_eq!(buf, hex_bytes(REQUEST));
        let reply = Repr {
            message: Message::EchoReply,
            ..repr
        };
        reply.emit(&mut Packet::new_unchecked(&mut buf[..]), Family::V4);
        assert_eq!(buf, hex_bytes(REPLY));
        // ICMPv6: types 128/129, checksum left to the kernel.
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), Family::V6);
        assert_eq!(buf, hex_bytes("8000 0000 1234 0001 61616161"));
    }

    #[test]
    fn parse() {
        let bytes = hex_bytes(REPLY);
        let p = Packet::new_checked(&bytes[..]).unwrap();
        let r = Repr::parse(&p, Family::V4).unwrap();
        assert_eq!(r.message, Message::EchoReply);
        assert_eq!((r.ident, r.seq_no, r.data), (0x1234, 1, &b"aaaa"[..]));
        let mut bad = bytes.clone();
        bad[8] = b'b';
        let p = Packet::new_checked(&bad[..]).unwrap();
        assert_eq!(Repr::parse(&p, Family::V4), Err(Error::Checksum));
        let unreachable = hex_bytes("0303 fcfc 0000 0000");
        let p = Packet::new_checked(&unreachable[..]).unwrap();
        assert_eq!(Repr::parse(&p, Family::V4), Err(Error::Unrecognized));
        assert_eq!(Message::from_type(Family::V4, 3), Message::DstUnreachable);
        assert_eq!(
            Packet::new_checked(&bytes[..7]).err(),
            Some(Error::Truncated)
        );
    }
}
