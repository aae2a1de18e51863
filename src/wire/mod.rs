//! Packet formats: typed views over bytes, in smoltcp's shape.
//!
//! One file per protocol, each with the same parts:
//! - `mod field`: the byte ranges of the header fields;
//! - `Packet<T: AsRef<[u8]>>`: a view with `new_unchecked`, `new_checked` and `check_len`; getters
//!   in one impl, setters in an impl bounded by `AsMut<[u8]>`. Once `check_len` has passed, no
//!   accessor panics, whatever the bytes say;
//! - `Repr`: the meaning of a packet with `parse`, `buffer_len` and `emit`. `emit` never panics
//!   on a buffer exactly `buffer_len()` long. Nothing here allocates.
//!
//! Unknown field values are data (`Version::Unknown(5)`); `parse` rejects them with an [`Error`].
//!
//! - [`checksum`]: the Internet checksum (RFC 1071) and the IPv4 pseudo-header sum.
//! - [`ipv4`]: the IPv4 header (what a raw IPv4 socket hands us in front of a VRRP advert).
//! - [`vrrp`]: VRRP v2 (RFC 3768) and v3 (RFC 5798) adverts for IPv4.
//! - [`arp`]: ARP over Ethernet/IPv4, with keepalived's gratuitous ARP.
//! - [`icmp`]: ICMP and ICMPv6 echo request and reply (PING_CHECK).
//! - [`ethernet`]: the Ethernet II header (for sending a frame on an `AF_PACKET` `SOCK_RAW`).

pub mod arp;
pub mod checksum;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod vrrp;

/// A byte range of a header field.
pub type Field = core::ops::Range<usize>;
/// Everything from a byte offset to the end.
pub type Rest = core::ops::RangeFrom<usize>;

/// Why bytes could not be read as a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the packet says it is.
    Truncated,
    /// Fields contradict each other (e.g. an IPv4 total length shorter than its header).
    Malformed,
    /// A field holds a value this code does not handle (unknown version, type, operation).
    Unrecognized,
    /// The checksum does not match the contents.
    Checksum,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Unrecognized => "unrecognized field value",
            Error::Checksum => "checksum mismatch",
        })
    }
}

impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

/// Test helper: decode a fixture's hex text (whitespace ignored) into bytes.
#[cfg(test)]
pub(crate) fn hex_bytes(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => panic!("not hex: {}", b as char),
        })
        .collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
}
