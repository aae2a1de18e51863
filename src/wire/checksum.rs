//! The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
//! 16-bit big-endian words.
//!
//! [`data`] and [`pseudo_header_v4`] return folded sums (not complemented) so parts can be
//! [`combine`]d; the checksum written in a header is `!combine(&[...])`, and a packet whose
//! checksum field is included in the sum verifies when the combined sum is `0xffff`.

use std::net::Ipv4Addr;

/// Fold a wide sum into 16 bits, adding the carries back in (end-around carry).
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The ones' complement sum of `data` read as big-endian 16-bit words; an odd last byte is
/// padded with a zero byte (RFC 1071 4.1).
pub fn data(data: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(u16::from_be_bytes([*last, 0]));
    }
    fold(sum)
}

/// The ones' complement sum of several partial sums.
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The sum of the IPv4 pseudo-header (RFC 768, used by VRRPv3 for IPv4, RFC 5798 5.2.8):
/// source, destination, a zero byte, the protocol, and the upper-layer length.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    let mut header = [0u8; 12];
    header[0..4].copy_from_slice(&src.octets());
    header[4..8].copy_from_slice(&dst.octets());
    header[9] = protocol;
    header[10..12].copy_from_slice(&length.to_be_bytes());
    data(&header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (carries folded in).
        let bytes = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&bytes), 0xddf2);
        assert_eq!(!data(&bytes), 0x220d);
        // Byte order independence the other way round: the same sum from two halves.
        assert_eq!(combine(&[data(&bytes[..4]), data(&bytes[4..])]), 0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(data(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(data(&[0xab]), 0xab00);
        assert_eq!(data(&[]), 0);
    }

    #[test]
    fn all_ones_stays_all_ones() {
        // 0xffff + 0xffff = 0x1fffe -> 0xffff: ones' complement arithmetic, not modulo 2^16.
        assert_eq!(data(&[0xff, 0xff, 0xff, 0xff]), 0xffff);
        assert_eq!(combine(&[0xffff, 0x0001]), 0x0001);
        assert_eq!(combine(&[0x8000, 0x8000]), 0x0001);
    }

    #[test]
    fn long_input_does_not_overflow() {
        let bytes = vec![0xffu8; 300_000];
        assert_eq!(data(&bytes), 0xffff);
    }

    #[test]
    fn verifies_captured_ipv4_header() {
        // IPv4 header of keepalived's first VRRPv2 advert (tests/fixtures/v2_pass_2vip.advert.hex).
        let header = [
            0x45, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x8d, 0xc0, 0x00,
            0x02, 0x01, 0xe0, 0x00, 0x00, 0x12,
        ];
        assert_eq!(data(&header), 0xffff);
        let mut zeroed = header;
        zeroed[10] = 0;
        zeroed[11] = 0;
        assert_eq!(!data(&zeroed), 0x188d);
    }

    #[test]
    fn vrrpv3_with_pseudo_header_from_capture() {
        // keepalived's VRRPv3 advert, 192.0.2.1 -> 224.0.0.18 (tests/fixtures/v3_1s.advert.hex).
        let vrrp = [
            0x31, 0x35, 0x64, 0x01, 0x00, 0x64, 0x05, 0x6d, 0xc0, 0x00, 0x02, 0x67,
        ];
        let pseudo = pseudo_header_v4(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            112,
            vrrp.len() as u16,
        );
        assert_eq!(combine(&[pseudo, data(&vrrp)]), 0xffff);
        // Without the pseudo-header the same bytes do not verify.
        assert_ne!(data(&vrrp), 0xffff);
    }
}
