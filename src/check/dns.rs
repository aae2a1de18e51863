//! DNS_CHECK (keepalived 2.2.7 check/check_dns.c): one query datagram out, one reply in.
//!
//! The query asks for `name` with the configured type, class IN, recursion desired. A reply is
//! the datagram with our id and QR set; keepalived ignores any other datagram and keeps
//! waiting. The check passes when the reply's RCODE is 0 (NOERROR), whatever its sections hold:
//! keepalived does not look at the answer count.

use super::Failure;
use crate::config::DnsCheck;

/// RFC 1035 4.1.1: the fixed header of every message.
mod field {
    pub type Field = core::ops::Range<usize>;
    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const NSCOUNT: Field = 8..10;
    pub const ARCOUNT: Field = 10..12;
    pub const HEADER_LEN: usize = 12;
}

/// RFC 1035 4.1.1 flag bits.
const FLAG_QR: u16 = 0x8000;
const FLAG_RD: u16 = 0x0100;
const RCODE_MASK: u16 = 0x000f;
/// RFC 1035 3.2.4: class IN.
const CLASS_IN: u16 = 1;

/// RFC 1035 2.3.4: a label is at most 63 bytes, a name at most 255 bytes on the wire.
pub const MAX_LABEL: usize = 63;
pub const MAX_NAME: usize = 255;

/// The longest query [`query`] writes: header, name, type and class.
pub const MAX_QUERY: usize = field::HEADER_LEN + MAX_NAME + 4;

/// A read-only view of a DNS message header (smoltcp style: check the length once, then the
/// getters cannot panic).
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// The view, if the buffer holds a whole header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, Failure> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    pub fn check_len(&self) -> Result<(), Failure> {
        if self.buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Failure::NotOurs("shorter than a DNS header"));
        }
        Ok(())
    }

    fn u16_at(&self, f: field::Field) -> u16 {
        let b = &self.buffer.as_ref()[f];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn id(&self) -> u16 {
        self.u16_at(field::ID)
    }
    pub fn flags(&self) -> u16 {
        self.u16_at(field::FLAGS)
    }
    pub fn is_response(&self) -> bool {
        self.flags() & FLAG_QR != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags() & RCODE_MASK) as u8
    }
    pub fn qdcount(&self) -> u16 {
        self.u16_at(field::QDCOUNT)
    }
    pub fn ancount(&self) -> u16 {
        self.u16_at(field::ANCOUNT)
    }
    pub fn nscount(&self) -> u16 {
        self.u16_at(field::NSCOUNT)
    }
    pub fn arcount(&self) -> u16 {
        self.u16_at(field::ARCOUNT)
    }
}

/// Whether `name` can be asked for: labels of 1..=63 bytes, at most 255 bytes on the wire.
/// `""` and `"."` are the root; one trailing dot is allowed. For the config loader: [`query`]
/// assumes a valid name.
pub fn valid_name(name: &str) -> Result<(), &'static str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Ok(());
    }
    let mut wire = 1; // the root label
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label");
        }
        if label.len() > MAX_LABEL {
            return Err("label over 63 bytes");
        }
        wire += 1 + label.len();
    }
    if wire > MAX_NAME {
        return Err("name over 255 bytes");
    }
    Ok(())
}

/// The query datagram for `check` with `id`, appended to `out` (at most [`MAX_QUERY`] bytes).
/// Like keepalived: one question, RD set, class IN. A name [`valid_name`] rejects is still
/// written as a well-formed name (empty labels skipped, labels cut at 63 bytes, the name cut
/// at 255 bytes).
pub fn query(check: &DnsCheck, id: u16, out: &mut Vec<u8>) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAG_RD.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&[0; 6]); // ANCOUNT, NSCOUNT, ARCOUNT
    let mut wire = 1; // the root label
    for label in check.name.split('.').filter(|l| !l.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(MAX_LABEL)];
        if wire + 1 + label.len() > MAX_NAME {
            break;
        }
        wire += 1 + label.len();
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    out.extend_from_slice(&check.qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
}

/// The verdict on a received datagram. `Err(f)` with `f.keep_waiting()` means the datagram is
/// not the reply (too short, another id, not a response): keepalived ignores it and waits on.
pub fn reply(_check: &DnsCheck, id: u16, datagram: &[u8]) -> Result<(), Failure> {
    let packet = Packet::new_checked(datagram)?;
    if packet.id() != id {
        return Err(Failure::NotOurs("another query id"));
    }
    if !packet.is_response() {
        return Err(Failure::NotOurs("a query, not a response"));
    }
    match packet.rcode() {
        0 => Ok(()),
        rcode => Err(Failure::Rcode(rcode)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(qtype: u16, name: &str) -> DnsCheck {
        DnsCheck {
            qtype,
            name: name.into(),
        }
    }

    fn q(c: &DnsCheck, id: u16) -> Vec<u8> {
        let mut out = Vec::new();
        query(c, id, &mut out);
        out
    }

    #[test]
    fn root_query_bytes() {
        // `dig +norec`-style layout: id 0x1234, RD, one question ". A IN".
        let expect = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header
            0, // root
            0, 1, 0, 1, // A IN
        ];
        assert_eq!(q(&check(1, "."), 0x1234), expect);
        assert_eq!(q(&check(1, ""), 0x1234), expect);
    }

    #[test]
    fn name_query_bytes() {
        let got = q(&check(6, "example.com"), 0xbeef);
        let mut expect = vec![0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        expect.extend_from_slice(b"\x07example\x03com\x00");
        expect.extend_from_slice(&[0, 6, 0, 1]); // SOA IN
        assert_eq!(got, expect);
        // One trailing dot is the same name.
        assert_eq!(q(&check(6, "example.com."), 0xbeef), expect);
    }

    #[test]
    fn labels_of_63_bytes() {
        let label = "a".repeat(63);
        let name = format!("{label}.{label}.{label}");
        assert_eq!(valid_name(&name), Ok(()));
        let got = q(&check(28, &name), 1);
        assert_eq!(got.len(), 12 + 3 * 64 + 1 + 4);
        assert_eq!(got[12], 63);
        assert_eq!(&got[13..76], label.as_bytes());
        assert_eq!(got[76], 63);
        assert_eq!(got[12 + 3 * 64], 0);
        assert_eq!(&got[got.len() - 4..], &[0, 28, 0, 1]);

        let long = "b".repeat(64);
        assert_eq!(valid_name(&long), Err("label over 63 bytes"));
        let got = q(&check(1, &long), 1);
        assert_eq!(got[12], 63);
        assert_eq!(got.len(), 12 + 64 + 1 + 4);
    }

    #[test]
    fn name_limits() {
        assert_eq!(valid_name("a..b"), Err("empty label"));
        assert_eq!(valid_name("."), Ok(()));
        // 4 labels of 63: 4 * 64 + 1 = 257 bytes on the wire.
        let l = "c".repeat(63);
        let too_long = format!("{l}.{l}.{l}.{l}");
        assert_eq!(valid_name(&too_long), Err("name over 255 bytes"));
        let got = q(&check(1, &too_long), 1);
        assert!(got.len() <= MAX_QUERY);
        // Three labels fit; the fourth is dropped.
        assert_eq!(got.len(), 12 + 3 * 64 + 1 + 4);
        // 253 bytes of name with short labels still fits exactly.
        let name = [
            "x".repeat(62),
            "y".repeat(62),
            "z".repeat(62),
            "w".repeat(62),
        ]
        .join(".");
        assert_eq!(valid_name(&name), Ok(()));
        assert_eq!(q(&check(1, &name), 1).len(), 12 + 4 * 63 + 1 + 4);
    }

    fn response(id: u16, flags: u16, ancount: u16) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&id.to_be_bytes());
        r.extend_from_slice(&flags.to_be_bytes());
        r.extend_from_slice(&[0, 1]);
        r.extend_from_slice(&ancount.to_be_bytes());
        r.extend_from_slice(&[0, 0, 0, 0]);
        r.extend_from_slice(b"\x00\x00\x06\x00\x01");
        r
    }

    #[test]
    fn replies() {
        let c = check(6, ".");
        // NOERROR with one answer (QR, RD, RA).
        assert_eq!(reply(&c, 7, &response(7, 0x8180, 1)), Ok(()));
        // NOERROR without answers passes too: keepalived only looks at the RCODE.
        assert_eq!(reply(&c, 7, &response(7, 0x8180, 0)), Ok(()));
        // NXDOMAIN, SERVFAIL, REFUSED.
        assert_eq!(
            reply(&c, 7, &response(7, 0x8183, 0)),
            Err(Failure::Rcode(3))
        );
        assert_eq!(
            reply(&c, 7, &response(7, 0x8182, 0)),
            Err(Failure::Rcode(2))
        );
        let refused = reply(&c, 7, &response(7, 0x8185, 0)).unwrap_err();
        assert_eq!(refused.to_string(), "DNS rcode 5 (REFUSED)");
        assert!(!refused.keep_waiting());
    }

    #[test]
    fn stray_datagrams_are_ignored() {
        let c = check(1, ".");
        // Wrong id.
        let e = reply(&c, 7, &response(8, 0x8180, 1)).unwrap_err();
        assert_eq!(e, Failure::NotOurs("another query id"));
        assert!(e.keep_waiting());
        // A query (QR clear), even one with our id, e.g. our own datagram looped back.
        let e = reply(&c, 7, &q(&c, 7)).unwrap_err();
        assert!(e.keep_waiting());
        // Truncated: shorter than the header.
        for n in 0..12 {
            let e = reply(&c, 7, &response(7, 0x8180, 1)[..n]).unwrap_err();
            assert!(e.keep_waiting(), "{n}");
        }
        // Exactly a header is enough.
        assert_eq!(reply(&c, 7, &response(7, 0x8180, 1)[..12]), Ok(()));
    }

    #[test]
    fn header_view() {
        let r = response(0xabcd, 0x8183, 2);
        let p = Packet::new_checked(&r[..]).unwrap();
        assert_eq!(
            (
                p.id(),
                p.rcode(),
                p.qdcount(),
                p.ancount(),
                p.nscount(),
                p.arcount()
            ),
            (0xabcd, 3, 1, 2, 0, 0)
        );
        assert!(p.is_response());
    }

    #[test]
    fn pseudo_random_replies_never_panic() {
        let c = check(1, ".");
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u32
        };
        let mut buf = Vec::new();
        let mut ok = 0;
        for _ in 0..4000 {
            buf.clear();
            let len = next() as usize % 64;
            buf.extend((0..len).map(|_| next() as u8));
            if len >= 4 && next() % 2 == 0 {
                buf[0..2].copy_from_slice(&7u16.to_be_bytes());
                buf[2] |= 0x80;
                buf[3] &= 0xf0;
            }
            if reply(&c, 7, &buf).is_ok() {
                ok += 1;
                assert!(buf.len() >= 12);
            }
        }
        assert!(ok > 0);
    }
}
