//! VRRP advertisements for IPv4: version 2 (RFC 3768 5.1) and version 3 (RFC 5798 5.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IPvX Addr|
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! |                       IPv4 Address(es)  (Count x 4 bytes)       |
//! v2 only: |              Authentication Data (8 bytes)            |
//! ```
//!
//! The v2 checksum covers the VRRP message (auth data included); the v3 checksum for IPv4 also
//! covers the IPv4 pseudo-header (RFC 5798 5.2.8), so it depends on the IP source and
//! destination.
//!
//! Addresses without allocation: [`Addrs`] is either the raw address bytes of a received packet
//! (what [`Repr::parse`] returns, borrowed from the packet) or a borrowed `&[Ipv4Addr]` (what a
//! sender builds from its configuration for [`Repr::emit`]). Both iterate as `Ipv4Addr` and
//! compare equal when they hold the same addresses in the same order.

use super::{checksum, Error, Field, Result};
use std::net::Ipv4Addr;

mod field {
    use super::Field;
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2: Auth Type.
    pub const AUTH_TYPE: usize = 4;
    /// v2: Adver Int, seconds.
    pub const ADVER_INT: usize = 5;
    /// v3: 4 reserved bits, then the 12-bit Max Adver Int in centiseconds.
    pub const MAX_ADVER_INT: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;

    /// The addresses of a packet carrying `count` of them.
    pub const fn addrs(count: u8) -> Field {
        let start = CHECKSUM.end;
        start..start + count as usize * super::ADDR_LEN
    }

    /// v2: the authentication data after `count` addresses.
    pub const fn auth_data(count: u8) -> Field {
        let start = addrs(count).end;
        start..start + super::AUTH_DATA_LEN
    }
}

/// The fixed part before the addresses.
pub const HEADER_LEN: usize = field::CHECKSUM.end;
/// One IPv4 address.
pub const ADDR_LEN: usize = 4;
/// v2 Authentication Data.
pub const AUTH_DATA_LEN: usize = 8;
/// The largest v3 Max Adver Int: 12 bits of centiseconds (40.95 s).
pub const MAX_ADVER_INT_MAX: u16 = 0x0fff;
/// The IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;

/// The Version nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768.
    V2,
    /// RFC 5798.
    V3,
    Unknown(u8),
}

impl From<u8> for Version {
    fn from(value: u8) -> Self {
        match value {
            2 => Version::V2,
            3 => Version::V3,
            other => Version::Unknown(other),
        }
    }
}

impl From<Version> for u8 {
    fn from(value: Version) -> u8 {
        match value {
            Version::V2 => 2,
            Version::V3 => 3,
            Version::Unknown(other) => other,
        }
    }
}

/// The Type nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// 1, the only type defined.
    Advertisement,
    Unknown(u8),
}

impl From<u8> for Type {
    fn from(value: u8) -> Self {
        match value {
            1 => Type::Advertisement,
            other => Type::Unknown(other),
        }
    }
}

impl From<Type> for u8 {
    fn from(value: Type) -> u8 {
        match value {
            Type::Advertisement => 1,
            Type::Unknown(other) => other,
        }
    }
}

/// v2 Auth Type (RFC 3768 5.3.6; RFC 2338 defined 1 and 2, keepalived still speaks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// 0: no authentication.
    None,
    /// 1: simple text password in the Authentication Data.
    Pass,
    /// 2: IPsec AH in front of the VRRP header.
    Ah,
    Unknown(u8),
}

impl From<u8> for AuthType {
    fn from(value: u8) -> Self {
        match value {
            0 => AuthType::None,
            1 => AuthType::Pass,
            2 => AuthType::Ah,
            other => AuthType::Unknown(other),
        }
    }
}

impl From<AuthType> for u8 {
    fn from(value: AuthType) -> u8 {
        match value {
            AuthType::None => 0,
            AuthType::Pass => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// A read/write view of a VRRP message (the IP payload).
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

    /// Make sure every accessor can be used: the buffer holds the header and everything the
    /// version and the address count announce ([`packet_len`](Self::packet_len)). Longer is
    /// accepted here; whether trailing bytes are an error is the caller's rule.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.packet_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The length the message announces: header, Count addresses, and for v2 the
    /// Authentication Data. Needs only [`HEADER_LEN`] bytes.
    pub fn packet_len(&self) -> usize {
        let data = self.buffer.as_ref();
        let addrs = usize::from(data[field::COUNT]) * ADDR_LEN;
        let auth = if self.version() == Version::V2 {
            AUTH_DATA_LEN
        } else {
            0
        };
        HEADER_LEN + addrs + auth
    }

    pub fn version(&self) -> Version {
        Version::from(self.buffer.as_ref()[field::VER_TYPE] >> 4)
    }

    pub fn msg_type(&self) -> Type {
        Type::from(self.buffer.as_ref()[field::VER_TYPE] & 0x0f)
    }

    /// Virtual Rtr ID.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Count IPvX Addr.
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2 Auth Type (byte 4; in a v3 message these bits belong to Max Adver Int).
    pub fn auth_type(&self) -> AuthType {
        AuthType::from(self.buffer.as_ref()[field::AUTH_TYPE])
    }

    /// v2 Adver Int in seconds (byte 5).
    pub fn adver_int(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// v3 Max Adver Int in centiseconds (the low 12 bits of bytes 4..6).
    pub fn max_adver_int(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::MAX_ADVER_INT]) & MAX_ADVER_INT_MAX
    }

    /// v3 reserved bits (the high 4 bits of byte 4); sent as zero, ignored on receipt.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::MAX_ADVER_INT.start] >> 4
    }

    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The address bytes, Count x 4.
    pub fn addrs_raw(&self) -> &[u8] {
        &self.buffer.as_ref()[field::addrs(self.addr_count())]
    }

    /// The addresses.
    pub fn addrs(&self) -> AddrIter<'_> {
        AddrIter::Raw(self.addrs_raw().chunks_exact(ADDR_LEN))
    }

    /// v2 Authentication Data; `None` for other versions.
    pub fn auth_data(&self) -> Option<[u8; AUTH_DATA_LEN]> {
        if self.version() != Version::V2 {
            return None;
        }
        let mut data = [0; AUTH_DATA_LEN];
        data.copy_from_slice(&self.buffer.as_ref()[field::auth_data(self.addr_count())]);
        Some(data)
    }

    /// The sum the checksum field must make whole: the message of
    /// [`packet_len`](Self::packet_len) bytes, plus for v3 the IPv4 pseudo-header.
    fn sum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let len = self.packet_len();
        let message = checksum::data(&self.buffer.as_ref()[..len]);
        if self.version() == Version::V3 {
            let pseudo = checksum::pseudo_header_v4(src, dst, PROTOCOL, len as u16);
            checksum::combine(&[pseudo, message])
        } else {
            message
        }
    }

    /// The checksum is right. v3 (RFC 5798 5.2.8) includes the IPv4 pseudo-header made of
    /// `src` and `dst`, the IP addresses of the datagram; v2 ignores them. An unknown version
    /// is summed like v2.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.sum(src, dst) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    pub fn set_version(&mut self, value: Version) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (*b & 0x0f) | (u8::from(value) << 4);
    }

    pub fn set_msg_type(&mut self, value: Type) {
        let b = &mut self.buffer.as_mut()[field::VER_TYPE];
        *b = (*b & 0xf0) | (u8::from(value) & 0x0f);
    }

    pub fn set_vrid(&mut self, value: u8) {
        self.buffer.as_mut()[field::VRID] = value;
    }

    pub fn set_priority(&mut self, value: u8) {
        self.buffer.as_mut()[field::PRIORITY] = value;
    }

    pub fn set_addr_count(&mut self, value: u8) {
        self.buffer.as_mut()[field::COUNT] = value;
    }

    /// v2 only.
    pub fn set_auth_type(&mut self, value: AuthType) {
        self.buffer.as_mut()[field::AUTH_TYPE] = value.into();
    }

    /// v2 only: seconds.
    pub fn set_adver_int(&mut self, value: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = value;
    }

    /// v3 only: centiseconds, at most [`MAX_ADVER_INT_MAX`] (higher bits are dropped); the
    /// reserved bits are cleared.
    pub fn set_max_adver_int(&mut self, value: u16) {
        let word = value & MAX_ADVER_INT_MAX;
        self.buffer.as_mut()[field::MAX_ADVER_INT].copy_from_slice(&word.to_be_bytes());
    }

    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// The address bytes, Count x 4 (set the count first).
    pub fn addrs_raw_mut(&mut self) -> &mut [u8] {
        let range = field::addrs(self.addr_count());
        &mut self.buffer.as_mut()[range]
    }

    /// v2 only: the Authentication Data after Count addresses (set the count first).
    pub fn set_auth_data(&mut self, value: &[u8; AUTH_DATA_LEN]) {
        let range = field::auth_data(self.addr_count());
        self.buffer.as_mut()[range].copy_from_slice(value);
    }

    /// Compute and write the checksum (see [`verify_checksum`](Packet::verify_checksum)).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let sum = self.sum(src, dst);
        self.set_checksum(!sum);
    }
}

/// The addresses of an advert, borrowed: raw bytes from a received packet, or a list to send.
#[derive(Clone, Copy)]
pub struct Addrs<'a>(AddrsInner<'a>);

#[derive(Clone, Copy)]
enum AddrsInner<'a> {
    /// Count x 4 bytes in network order.
    Raw(&'a [u8]),
    List(&'a [Ipv4Addr]),
}

impl<'a> Addrs<'a> {
    /// Addresses to send; at most 255 (Count is one byte), else [`Error::Malformed`].
    pub fn from_list(list: &'a [Ipv4Addr]) -> Result<Addrs<'a>> {
        if list.len() > usize::from(u8::MAX) {
            return Err(Error::Malformed);
        }
        Ok(Addrs(AddrsInner::List(list)))
    }

    /// Addresses as on the wire: a multiple of 4 bytes, at most 255 addresses.
    pub fn from_bytes(raw: &'a [u8]) -> Result<Addrs<'a>> {
        if !raw.len().is_multiple_of(ADDR_LEN) || raw.len() / ADDR_LEN > usize::from(u8::MAX) {
            return Err(Error::Malformed);
        }
        Ok(Addrs(AddrsInner::Raw(raw)))
    }

    /// How many; at most 255.
    pub fn len(&self) -> usize {
        match self.0 {
            AddrsInner::Raw(raw) => raw.len() / ADDR_LEN,
            AddrsInner::List(list) => list.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> AddrIter<'a> {
        match self.0 {
            AddrsInner::Raw(raw) => AddrIter::Raw(raw.chunks_exact(ADDR_LEN)),
            AddrsInner::List(list) => AddrIter::List(list.iter()),
        }
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.iter().any(|a| a == addr)
    }
}

impl<'a> IntoIterator for Addrs<'a> {
    type Item = Ipv4Addr;
    type IntoIter = AddrIter<'a>;
    fn into_iter(self) -> AddrIter<'a> {
        self.iter()
    }
}

impl PartialEq for Addrs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Addrs<'_> {}

impl core::fmt::Debug for Addrs<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the addresses of [`Addrs`] or a [`Packet`].
#[derive(Debug, Clone)]
pub enum AddrIter<'a> {
    Raw(core::slice::ChunksExact<'a, u8>),
    List(core::slice::Iter<'a, Ipv4Addr>),
}

impl Iterator for AddrIter<'_> {
    type Item = Ipv4Addr;

    fn next(&mut self) -> Option<Ipv4Addr> {
        match self {
            AddrIter::Raw(chunks) => chunks.next().map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3])),
            AddrIter::List(iter) => iter.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            AddrIter::Raw(chunks) => chunks.size_hint(),
            AddrIter::List(iter) => iter.size_hint(),
        }
    }
}

impl ExactSizeIterator for AddrIter<'_> {}

/// v2 authentication as a [`Repr`] carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Auth Type 0; the Authentication Data is sent as zeros and not looked at on receipt.
    None,
    /// Auth Type 1 and the 8 bytes of Authentication Data (a password, zero padded).
    Pass([u8; AUTH_DATA_LEN]),
    /// Auth Type 2 (IPsec AH carries the authentication); the data is sent as zeros.
    Ah,
}

/// The fields that differ between the versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionFields {
    /// RFC 3768: Adver Int in whole seconds and the authentication.
    V2 { adver_int: u8, auth: Auth },
    /// RFC 5798: Max Adver Int in centiseconds (12 bits: [`Repr::emit`] writes larger values
    /// as [`MAX_ADVER_INT_MAX`]).
    V3 { max_adver_int: u16 },
}

/// What an advert says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    pub vrid: u8,
    pub priority: u8,
    pub version: VersionFields,
    pub addrs: Addrs<'a>,
}

impl<'a> Repr<'a> {
    /// Read a checked packet: version 2 or 3, type Advertisement, a known v2 Auth Type, and a
    /// right checksum (`src`/`dst` are the IP addresses of the datagram, used by v3). Bytes
    /// after [`Packet::packet_len`] are ignored; the v3 reserved bits too.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<Repr<'a>> {
        let buffer: &'a T = packet.buffer;
        let data: &'a [u8] = buffer.as_ref();
        if packet.msg_type() != Type::Advertisement {
            return Err(Error::Unrecognized);
        }
        let version = match packet.version() {
            Version::V2 => {
                let auth = match packet.auth_type() {
                    AuthType::None => Auth::None,
                    AuthType::Pass => Auth::Pass(packet.auth_data().unwrap_or_default()),
                    AuthType::Ah => Auth::Ah,
                    AuthType::Unknown(_) => return Err(Error::Unrecognized),
                };
                VersionFields::V2 {
                    adver_int: packet.adver_int(),
                    auth,
                }
            }
            Version::V3 => VersionFields::V3 {
                max_adver_int: packet.max_adver_int(),
            },
            Version::Unknown(_) => return Err(Error::Unrecognized),
        };
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(Repr {
            vrid: packet.vrid(),
            priority: packet.priority(),
            version,
            addrs: Addrs::from_bytes(&data[field::addrs(packet.addr_count())])?,
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        let auth = match self.version {
            VersionFields::V2 { .. } => AUTH_DATA_LEN,
            VersionFields::V3 { .. } => 0,
        };
        HEADER_LEN + self.addrs.len() * ADDR_LEN + auth
    }

    /// Write the advert with its checksum; `src`/`dst` are the IP addresses the datagram will
    /// carry (v3 sums them in). The buffer must be at least [`buffer_len`](Self::buffer_len).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) {
        let count = self.addrs.len() as u8; // at most 255 by construction of Addrs
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_addr_count(count);
        match self.version {
            VersionFields::V2 { adver_int, auth } => {
                packet.set_version(Version::V2);
                packet.set_adver_int(adver_int);
                let (auth_type, data) = match auth {
                    Auth::None => (AuthType::None, [0; AUTH_DATA_LEN]),
                    Auth::Pass(data) => (AuthType::Pass, data),
                    Auth::Ah => (AuthType::Ah, [0; AUTH_DATA_LEN]),
                };
                packet.set_auth_type(auth_type);
                packet.set_auth_data(&data);
            }
            VersionFields::V3 { max_adver_int } => {
                packet.set_version(Version::V3);
                packet.set_max_adver_int(max_adver_int.min(MAX_ADVER_INT_MAX));
            }
        }
        packet.set_msg_type(Type::Advertisement);
        for (chunk, addr) in packet
            .addrs_raw_mut()
            .chunks_exact_mut(ADDR_LEN)
            .zip(self.addrs.iter())
        {
            chunk.copy_from_slice(&addr.octets());
        }
        packet.fill_checksum(src, dst);
    }
}

fn be16(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    /// VRRPv2, vrid 51, prio 100, 2 addresses, auth PASS "pw1234", 1 s
    /// (tests/fixtures/v2_pass_2vip.advert.hex, after the IPv4 header).
    static V2_PASS: [u8; 24] = [
        0x21, 0x33, 0x64, 0x02, 0x01, 0x01, 0x20, 0x21, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02,
        0x65, 0x70, 0x77, 0x31, 0x32, 0x33, 0x34, 0x00, 0x00,
    ];
    /// The same instance stopping: priority 0 (tests/fixtures/v2_pass_2vip.prio0.hex).
    static V2_PASS_PRIO0: [u8; 24] = [
        0x21, 0x33, 0x00, 0x02, 0x01, 0x01, 0x84, 0x21, 0xc0, 0x00, 0x02, 0x64, 0xc0, 0x00, 0x02,
        0x65, 0x70, 0x77, 0x31, 0x32, 0x33, 0x34, 0x00, 0x00,
    ];
    /// VRRPv2, vrid 52, prio 150, 1 address, no auth (tests/fixtures/v2_noauth.advert.hex).
    static V2_NOAUTH: [u8; 20] = [
        0x21, 0x34, 0x96, 0x01, 0x00, 0x01, 0x86, 0x62, 0xc0, 0x00, 0x02, 0x66, 0, 0, 0, 0, 0, 0,
        0, 0,
    ];
    /// VRRPv3, vrid 53, prio 100, 100 cs, 1 address, to 224.0.0.18 (v3_1s.advert.hex).
    static V3_1S: [u8; 12] = [
        0x31, 0x35, 0x64, 0x01, 0x00, 0x64, 0x05, 0x6d, 0xc0, 0x00, 0x02, 0x67,
    ];
    /// VRRPv3, vrid 54, prio 200, 5 cs, 3 addresses (v3_50ms.advert.hex).
    static V3_50MS: [u8; 20] = [
        0x31, 0x36, 0xc8, 0x03, 0x00, 0x05, 0x1c, 0xd0, 0xc0, 0x00, 0x02, 0x68, 0xc0, 0x00, 0x02,
        0x72, 0xc0, 0x00, 0x02, 0x7c,
    ];
    /// VRRPv3 unicast 192.0.2.1 -> 192.0.2.2, vrid 55 (v3_unicast.advert.hex).
    static V3_UNICAST: [u8; 12] = [
        0x31, 0x37, 0x64, 0x01, 0x00, 0x64, 0x23, 0x79, 0xc0, 0x00, 0x02, 0x69,
    ];

    const V2_VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 101)];
    const V3_50MS_VIPS: [Ipv4Addr; 3] = [
        Ipv4Addr::new(192, 0, 2, 104),
        Ipv4Addr::new(192, 0, 2, 114),
        Ipv4Addr::new(192, 0, 2, 124),
    ];

    fn pass(text: &[u8]) -> [u8; 8] {
        let mut data = [0; 8];
        data[..text.len()].copy_from_slice(text);
        data
    }

    #[test]
    fn deconstruct_v2() {
        let p = Packet::new_checked(&V2_PASS[..]).unwrap();
        assert_eq!(p.version(), Version::V2);
        assert_eq!(p.msg_type(), Type::Advertisement);
        assert_eq!(p.vrid(), 51);
        assert_eq!(p.priority(), 100);
        assert_eq!(p.addr_count(), 2);
        assert_eq!(p.auth_type(), AuthType::Pass);
        assert_eq!(p.adver_int(), 1);
        assert_eq!(p.checksum(), 0x2021);
        assert_eq!(p.packet_len(), 24);
        assert_eq!(p.addrs().collect::<Vec<_>>(), V2_VIPS);
        assert_eq!(p.addrs().len(), 2);
        assert_eq!(p.auth_data(), Some(pass(b"pw1234")));
        // v2 ignores the addresses; any will do.
        assert!(p.verify_checksum(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn deconstruct_v3() {
        let p = Packet::new_checked(&V3_50MS[..]).unwrap();
        assert_eq!(p.version(), Version::V3);
        assert_eq!(p.msg_type(), Type::Advertisement);
        assert_eq!(p.vrid(), 54);
        assert_eq!(p.priority(), 200);
        assert_eq!(p.addr_count(), 3);
        assert_eq!(p.max_adver_int(), 5);
        assert_eq!(p.reserved(), 0);
        assert_eq!(p.checksum(), 0x1cd0);
        assert_eq!(p.packet_len(), 20);
        assert_eq!(p.auth_data(), None);
        assert_eq!(p.addrs().collect::<Vec<_>>(), V3_50MS_VIPS);
        assert!(p.verify_checksum(SRC, GROUP));
        // The pseudo-header matters: another source or destination fails.
        assert!(!p.verify_checksum(PEER, GROUP));
        assert!(!p.verify_checksum(SRC, PEER));

        let p = Packet::new_checked(&V3_UNICAST[..]).unwrap();
        assert!(p.verify_checksum(SRC, PEER));
        assert!(!p.verify_checksum(SRC, GROUP));
    }

    #[test]
    fn construct_v2() {
        let mut bytes = [0xa5u8; 24];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(Version::V2);
        p.set_msg_type(Type::Advertisement);
        p.set_vrid(51);
        p.set_priority(100);
        p.set_addr_count(2);
        p.set_auth_type(AuthType::Pass);
        p.set_adver_int(1);
        p.addrs_raw_mut()
            .copy_from_slice(&[192, 0, 2, 100, 192, 0, 2, 101]);
        p.set_auth_data(&pass(b"pw1234"));
        p.fill_checksum(SRC, GROUP);
        assert_eq!(bytes, V2_PASS);
    }

    #[test]
    fn construct_v3() {
        let mut bytes = [0xa5u8; 12];
        let mut p = Packet::new_unchecked(&mut bytes[..]);
        p.set_version(Version::V3);
        p.set_msg_type(Type::Advertisement);
        p.set_vrid(55);
        p.set_priority(100);
        p.set_addr_count(1);
        p.set_max_adver_int(100);
        p.addrs_raw_mut().copy_from_slice(&[192, 0, 2, 105]);
        p.fill_checksum(SRC, PEER);
        assert_eq!(bytes, V3_UNICAST);
    }

    #[test]
    fn parse_v2() {
        let p = Packet::new_checked(&V2_PASS[..]).unwrap();
        let r = Repr::parse(&p, SRC, GROUP).unwrap();
        assert_eq!(r.vrid, 51);
        assert_eq!(r.priority, 100);
        assert_eq!(
            r.version,
            VersionFields::V2 {
                adver_int: 1,
                auth: Auth::Pass(pass(b"pw1234"))
            }
        );
        assert_eq!(r.addrs, Addrs::from_list(&V2_VIPS).unwrap());
        assert!(r.addrs.contains(Ipv4Addr::new(192, 0, 2, 101)));
        assert!(!r.addrs.contains(Ipv4Addr::new(192, 0, 2, 102)));

        let p = Packet::new_checked(&V2_NOAUTH[..]).unwrap();
        let r = Repr::parse(&p, SRC, GROUP).unwrap();
        assert_eq!(
            r.version,
            VersionFields::V2 {
                adver_int: 1,
                auth: Auth::None
            }
        );
        assert_eq!(r.priority, 150);
    }

    #[test]
    fn parse_v3() {
        let p = Packet::new_checked(&V3_1S[..]).unwrap();
        let r = Repr::parse(&p, SRC, GROUP).unwrap();
        let vips = [Ipv4Addr::new(192, 0, 2, 103)];
        assert_eq!(
            r,
            Repr {
                vrid: 53,
                priority: 100,
                version: VersionFields::V3 { max_adver_int: 100 },
                addrs: Addrs::from_list(&vips).unwrap(),
            }
        );
    }

    /// Emit each fixture's Repr and get keepalived's bytes back.
    #[test]
    fn emit_round_trip() {
        let cases: [(&[u8], Ipv4Addr); 6] = [
            (&V2_PASS, GROUP),
            (&V2_PASS_PRIO0, GROUP),
            (&V2_NOAUTH, GROUP),
            (&V3_1S, GROUP),
            (&V3_50MS, GROUP),
            (&V3_UNICAST, PEER),
        ];
        for (bytes, dst) in cases {
            let p = Packet::new_checked(bytes).unwrap();
            let r = Repr::parse(&p, SRC, dst).unwrap();
            assert_eq!(r.buffer_len(), bytes.len());
            let mut out = vec![0xa5u8; r.buffer_len()];
            r.emit(&mut Packet::new_unchecked(&mut out[..]), SRC, dst);
            assert_eq!(out, bytes);
        }
    }

    #[test]
    fn emit_from_list() {
        let r = Repr {
            vrid: 54,
            priority: 200,
            version: VersionFields::V3 { max_adver_int: 5 },
            addrs: Addrs::from_list(&V3_50MS_VIPS).unwrap(),
        };
        let mut out = [0u8; 20];
        r.emit(&mut Packet::new_unchecked(&mut out[..]), SRC, GROUP);
        assert_eq!(out, V3_50MS);
    }

    #[test]
    fn max_adver_int_is_12_bits() {
        let vips = [Ipv4Addr::new(192, 0, 2, 103)];
        let r = Repr {
            vrid: 53,
            priority: 100,
            version: VersionFields::V3 {
                max_adver_int: 5000,
            },
            addrs: Addrs::from_list(&vips).unwrap(),
        };
        let mut out = [0u8; 12];
        r.emit(&mut Packet::new_unchecked(&mut out[..]), SRC, GROUP);
        assert_eq!(&out[4..6], &[0x0f, 0xff]);
        // Reserved bits are ignored on receipt.
        let mut b = V3_1S;
        b[4] |= 0xa0;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum(SRC, GROUP);
        assert_eq!(p.reserved(), 0xa);
        assert_eq!(p.max_adver_int(), 100);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&p, SRC, GROUP).is_ok());
    }

    #[test]
    fn addrs_limits() {
        let many = [Ipv4Addr::LOCALHOST; 256];
        assert_eq!(Addrs::from_list(&many[..255]).unwrap().len(), 255);
        assert_eq!(Addrs::from_list(&many), Err(Error::Malformed));
        assert_eq!(Addrs::from_bytes(&[1, 2, 3]), Err(Error::Malformed));
        assert!(Addrs::from_bytes(&[]).unwrap().is_empty());
        assert_eq!(
            Addrs::from_bytes(&[192, 0, 2, 100, 192, 0, 2, 101]).unwrap(),
            Addrs::from_list(&V2_VIPS).unwrap()
        );
        assert_ne!(
            Addrs::from_bytes(&[192, 0, 2, 101, 192, 0, 2, 100]).unwrap(),
            Addrs::from_list(&V2_VIPS).unwrap()
        );
        assert_eq!(
            format!("{:?}", Addrs::from_list(&V2_VIPS).unwrap()),
            "[192.0.2.100, 192.0.2.101]"
        );
    }

    #[test]
    fn bad_lengths_rejected() {
        for n in 0..V2_PASS.len() {
            assert_eq!(
                Packet::new_checked(&V2_PASS[..n]),
                Err(Error::Truncated),
                "{n}"
            );
        }
        for n in 0..V3_50MS.len() {
            assert_eq!(
                Packet::new_checked(&V3_50MS[..n]),
                Err(Error::Truncated),
                "{n}"
            );
        }
        // A count larger than the buffer.
        let mut b = V3_1S;
        b[3] = 2;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Truncated));
        // Trailing bytes are not a length error of the view.
        let mut long = [0u8; 16];
        long[..12].copy_from_slice(&V3_1S);
        let p = Packet::new_checked(&long[..]).unwrap();
        assert_eq!(p.packet_len(), 12);
        assert!(Repr::parse(&p, SRC, GROUP).is_ok());
    }

    #[test]
    fn bad_values_rejected() {
        // Unknown version (checksum fixed so only the version is wrong).
        let mut b = V3_1S;
        b[0] = 0x41;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum(SRC, GROUP);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.version(), Version::Unknown(4));
        assert_eq!(Repr::parse(&p, SRC, GROUP), Err(Error::Unrecognized));

        // Unknown type.
        let mut b = V2_NOAUTH;
        b[0] = 0x22;
        Packet::new_unchecked(&mut b[..]).fill_checksum(SRC, GROUP);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.msg_type(), Type::Unknown(2));
        assert_eq!(Repr::parse(&p, SRC, GROUP), Err(Error::Unrecognized));

        // Unknown auth type.
        let mut b = V2_NOAUTH;
        b[4] = 3;
        Packet::new_unchecked(&mut b[..]).fill_checksum(SRC, GROUP);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.auth_type(), AuthType::Unknown(3));
        assert_eq!(Repr::parse(&p, SRC, GROUP), Err(Error::Unrecognized));

        // Checksum: one changed byte, or the wrong pseudo-header for v3.
        let mut b = V2_PASS;
        b[2] = 99;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, GROUP), Err(Error::Checksum));
        let p = Packet::new_checked(&V3_UNICAST[..]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, GROUP), Err(Error::Checksum));
    }

    #[test]
    fn v2_with_wrong_version_nibble_changes_length() {
        // The v2 layout (with auth data) depends on the version nibble: as v3 the same
        // bytes announce 8 bytes less.
        let mut b = V2_PASS;
        b[0] = 0x31;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.packet_len(), 16);
        assert_eq!(p.auth_data(), None);
    }

    #[test]
    fn no_accessor_panics_after_check_len() {
        for base in [&V2_PASS[..], &V3_50MS[..]] {
            for len in 0..=base.len() {
                for i in 0..len {
                    for v in [0x00u8, 0x01, 0x21, 0x31, 0x7f, 0xff] {
                        let mut b = base.to_vec();
                        b.truncate(len);
                        b[i] = v;
                        if let Ok(p) = Packet::new_checked(&b[..]) {
                            let _ = (p.version(), p.msg_type(), p.vrid(), p.priority());
                            let _ = (p.auth_type(), p.adver_int(), p.max_adver_int());
                            let _ = (p.auth_data(), p.addrs().count(), p.checksum());
                            let _ = p.verify_checksum(SRC, GROUP);
                            let _ = Repr::parse(&p, SRC, GROUP);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn arrays_are_the_fixtures() {
        let vrrp = |hex: &str| crate::wire::hex_bytes(hex)[14 + 20..].to_vec();
        let f = |name: &str| match name {
            "v2_pass_2vip.advert" => include_str!("../../tests/fixtures/v2_pass_2vip.advert.hex"),
            "v2_pass_2vip.prio0" => include_str!("../../tests/fixtures/v2_pass_2vip.prio0.hex"),
            "v2_noauth.advert" => include_str!("../../tests/fixtures/v2_noauth.advert.hex"),
            "v3_1s.advert" => include_str!("../../tests/fixtures/v3_1s.advert.hex"),
            "v3_50ms.advert" => include_str!("../../tests/fixtures/v3_50ms.advert.hex"),
            _ => include_str!("../../tests/fixtures/v3_unicast.advert.hex"),
        };
        assert_eq!(vrrp(f("v2_pass_2vip.advert")), V2_PASS);
        assert_eq!(vrrp(f("v2_pass_2vip.prio0")), V2_PASS_PRIO0);
        assert_eq!(vrrp(f("v2_noauth.advert")), V2_NOAUTH);
        assert_eq!(vrrp(f("v3_1s.advert")), V3_1S);
        assert_eq!(vrrp(f("v3_50ms.advert")), V3_50MS);
        assert_eq!(vrrp(f("v3_unicast.advert")), V3_UNICAST);
    }
}
