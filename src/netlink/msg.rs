//! The netlink message layer shared by every netlink family (netlink(7), include/uapi/linux/netlink.h):
//! the 16-byte `nlmsghdr`, 4-byte aligned attributes (`rtattr`/`nlattr` have the same shape),
//! acks, and a writer that builds one request into a caller's buffer without allocating.
//!
//! All integers in these headers are in host byte order.

use core::fmt;

/// `sizeof(struct nlmsghdr)`.
pub const HEADER_LEN: usize = 16;
/// `sizeof(struct rtattr)` / `sizeof(struct nlattr)`.
pub const ATTR_HEADER_LEN: usize = 4;

/// Message types every family shares.
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;
/// Types below this are control messages; families number theirs from here.
pub const NLMSG_MIN_TYPE: u16 = 0x10;

/// `nlmsg_flags` bits.
pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
/// The dump was interrupted by a change: its contents may be inconsistent.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
/// For NEW requests: fail if the object exists.
pub const NLM_F_EXCL: u16 = 0x200;
/// For NEW requests: create the object if it does not exist.
pub const NLM_F_CREATE: u16 = 0x400;
/// For NLMSG_ERROR: the echoed request was cut to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// For NLMSG_ERROR: extended-ack attributes follow the echoed request.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

/// Extended ack attribute carrying a text message (`NLMSGERR_ATTR_MSG`).
pub const NLMSGERR_ATTR_MSG: u16 = 1;

/// Attribute type bits that are flags, not part of the type (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`).
const NLA_TYPE_MASK: u16 = 0x3fff;
/// Attribute type flag: the payload is a run of attributes.
pub const NLA_F_NESTED: u16 = 0x8000;

/// Rounds up to the 4-byte netlink alignment (`NLMSG_ALIGN`, `RTA_ALIGN`).
/// Saturating: a hostile length near `usize::MAX` (a 32-bit router) must not wrap to 0 and
/// leave a parse loop where it started.
pub const fn align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// What can be wrong with netlink bytes or a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than a header or a length field claims.
    Truncated,
    /// A length field that cannot be right (smaller than its own header).
    Malformed,
    /// The request does not fit the buffer it is built in.
    BufferTooSmall,
    /// A value the request cannot carry (e.g. a label longer than IFNAMSIZ-1).
    Invalid,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "netlink message truncated",
            Error::Malformed => "malformed netlink message",
            Error::BufferTooSmall => "netlink request does not fit its buffer",
            Error::Invalid => "value cannot be encoded in a netlink request",
        })
    }
}

impl std::error::Error for Error {}

pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A view of one netlink message (`nlmsghdr` + payload), exactly `nlmsg_len` bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlMsg<'a> {
    bytes: &'a [u8],
}

impl<'a> NlMsg<'a> {
    /// Checks the header and that `nlmsg_len` bytes are present; the view ends at `nlmsg_len`.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = u32_at(bytes, 0) as usize;
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > bytes.len() {
            return Err(Error::Truncated);
        }
        Ok(NlMsg {
            bytes: &bytes[..len],
        })
    }

    /// `nlmsg_len`: header plus payload, without trailing alignment.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    /// Never true: a checked message holds at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn msg_type(&self) -> u16 {
        u16_at(self.bytes, 4)
    }
    pub fn flags(&self) -> u16 {
        u16_at(self.bytes, 6)
    }
    pub fn seq(&self) -> u32 {
        u32_at(self.bytes, 8)
    }
    /// `nlmsg_pid`: the sender's port id (0 for the kernel's notifications).
    pub fn port_id(&self) -> u32 {
        u32_at(self.bytes, 12)
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..]
    }
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The messages of one datagram, in order. A malformed or cut message ends the walk with one
/// `Err`.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    rest: &'a [u8],
}

/// Walks the messages of a datagram received from a netlink socket.
pub fn messages(datagram: &[u8]) -> Messages<'_> {
    Messages { rest: datagram }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<'a>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match NlMsg::new_checked(self.rest) {
            Ok(m) => {
                let step = align(m.len()).min(self.rest.len());
                self.rest = &self.rest[step..];
                Some(Ok(m))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// One attribute: its type (flag bits removed) and payload (without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The payload as a NUL-terminated (or unterminated) UTF-8 string.
    pub fn as_str(&self) -> Option<&'a str> {
        let end = self
            .payload
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.payload.len());
        core::str::from_utf8(&self.payload[..end]).ok()
    }
    pub fn as_u32(&self) -> Option<u32> {
        if self.payload.len() == 4 {
            Some(u32_at(self.payload, 0))
        } else {
            None
        }
    }
}

/// The attributes in a run of bytes. Stops (without error) at the first attribute whose
/// length is impossible or runs past the end: a cut datagram still yields its leading ones.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

/// Walks the attributes that follow a family header.
pub fn attrs(bytes: &[u8]) -> Attrs<'_> {
    Attrs { rest: bytes }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Attr<'a>;
    fn next(&mut self) -> Option<Attr<'a>> {
        if self.rest.len() < ATTR_HEADER_LEN {
            return None;
        }
        let len = u16_at(self.rest, 0) as usize;
        if len < ATTR_HEADER_LEN || len > self.rest.len() {
            self.rest = &[];
            return None;
        }
        let attr = Attr {
            kind: u16_at(self.rest, 2) & NLA_TYPE_MASK,
            payload: &self.rest[ATTR_HEADER_LEN..len],
        };
        let step = align(len).min(self.rest.len());
        self.rest = &self.rest[step..];
        Some(attr)
    }
}

/// The kernel's answer in an `NLMSG_ERROR` message: errno 0 is a positive ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack<'a> {
    /// Positive errno (`EEXIST` = 17, ...) or 0 for success.
    pub errno: i32,
    /// The extended-ack text, when the socket enabled `NETLINK_EXT_ACK`.
    pub message: Option<&'a str>,
}

impl<'a> Ack<'a> {
    /// Parses the payload of an `NLMSG_ERROR` message (`struct nlmsgerr` + optional TLVs).
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, Error> {
        let p = msg.payload();
        if p.len() < 4 {
            return Err(Error::Truncated);
        }
        // The kernel sends 0 or a negative errno.
        let errno = match (u32_at(p, 0) as i32).checked_neg() {
            Some(e) if e >= 0 => e,
            _ => return Err(Error::Malformed),
        };
        let mut message = None;
        if msg.flags() & NLM_F_ACK_TLVS != 0 && p.len() >= 4 + HEADER_LEN {
            // The echoed request: only its header if capped, else all of it.
            let echoed = if msg.flags() & NLM_F_CAPPED != 0 {
                HEADER_LEN
            } else {
                align(u32_at(p, 4) as usize).max(HEADER_LEN)
            };
            if let Some(tlvs) = p.get(echoed.saturating_add(4)..) {
                message = attrs(tlvs)
                    .find(|a| a.kind == NLMSGERR_ATTR_MSG)
                    .and_then(|a| a.as_str());
            }
        }
        Ok(Ack { errno, message })
    }
}

/// Builds one netlink request into a borrowed buffer: header, then a family header, then
/// attributes, each padded to 4 bytes with zeros. `finish` writes `nlmsg_len`.
#[derive(Debug)]
pub struct MsgWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> MsgWriter<'a> {
    /// Starts a request with port id 0 (the kernel fills in the sender).
    pub fn new(buf: &'a mut [u8], msg_type: u16, flags: u16, seq: u32) -> Result<Self, Error> {
        let mut w = MsgWriter { buf, len: 0 };
        let mut hdr = [0u8; HEADER_LEN];
        hdr[4..6].copy_from_slice(&msg_type.to_ne_bytes());
        hdr[6..8].copy_from_slice(&flags.to_ne_bytes());
        hdr[8..12].copy_from_slice(&seq.to_ne_bytes());
        w.push(&hdr)?;
        Ok(w)
    }

    /// Appends raw bytes (a family header) and pads to 4.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = align(self.len + bytes.len());
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.buf[self.len + bytes.len()..end].fill(0);
        self.len = end;
        Ok(())
    }

    /// Appends an attribute.
    pub fn attr(&mut self, kind: u16, payload: &[u8]) -> Result<(), Error> {
        let attr_len = ATTR_HEADER_LEN + payload.len();
        let len = u16::try_from(attr_len).map_err(|_| Error::Invalid)?;
        if align(self.len + attr_len) > self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let mut hdr = [0u8; ATTR_HEADER_LEN];
        hdr[0..2].copy_from_slice(&len.to_ne_bytes());
        hdr[2..4].copy_from_slice(&kind.to_ne_bytes());
        let start = self.len;
        self.buf[start..start + ATTR_HEADER_LEN].copy_from_slice(&hdr);
        self.len = start + ATTR_HEADER_LEN;
        self.push(payload)
    }

    /// Appends a string attribute with its terminating NUL, as the kernel expects for names.
    pub fn attr_str(&mut self, kind: u16, s: &str) -> Result<(), Error> {
        let attr_len = ATTR_HEADER_LEN + s.len() + 1;
        let len = u16::try_from(attr_len).map_err(|_| Error::Invalid)?;
        let end = align(self.len + attr_len);
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let start = self.len;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.buf[start + 2..start + 4].copy_from_slice(&kind.to_ne_bytes());
        self.buf[start + 4..start + 4 + s.len()].copy_from_slice(s.as_bytes());
        self.buf[start + 4 + s.len()..end].fill(0);
        self.len = end;
        Ok(())
    }

    /// Opens a nested attribute (`NLA_F_NESTED` set): the attributes appended until
    /// `end_nested(start)` are its payload. Returns where it starts.
    pub fn begin_nested(&mut self, kind: u16) -> Result<usize, Error> {
        let start = self.len;
        self.attr(kind | NLA_F_NESTED, &[])?;
        Ok(start)
    }

    /// Closes the nested attribute opened at `start`: writes its length.
    pub fn end_nested(&mut self, start: usize) -> Result<(), Error> {
        let len = u16::try_from(self.len - start).map_err(|_| Error::Invalid)?;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        Ok(())
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: a started request holds at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes `nlmsg_len` and returns the message length (the bytes to send are `buf[..len]`).
    pub fn finish(self) -> usize {
        let len = self.len as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.len
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn align_saturates_instead_of_wrapping_to_zero() {
        assert_eq!(align(5), 8);
        assert_eq!(align(8), 8);
        // On a 32-bit router a hostile nlmsg_len near u32::MAX is near usize::MAX: wrapping
        // to 0 would leave a parse loop where it started.
        assert_eq!(align(usize::MAX - 1), usize::MAX & !3);
        assert_ne!(align(usize::MAX), 0);
    }

    use super::*;

    #[test]
    fn writer_pads_and_sets_length() {
        let mut buf = [0xaau8; 64];
        let mut w = MsgWriter::new(&mut buf, 18, NLM_F_REQUEST, 7).unwrap();
        w.push(&[1, 2, 3]).unwrap();
        w.attr_str(3, "eth0").unwrap();
        let n = w.finish();
        assert_eq!(n, 16 + 4 + 12);
        assert_eq!(&buf[0..4], &32u32.to_ne_bytes());
        assert_eq!(&buf[16..20], &[1, 2, 3, 0]);
        assert_eq!(
            &buf[20..32],
            &[9, 0, 3, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0]
        );
        assert_eq!(buf[32], 0xaa, "nothing written past the message");
    }

    #[test]
    fn writer_refuses_overflow() {
        let mut buf = [0u8; 24];
        let mut w = MsgWriter::new(&mut buf, 18, 0, 0).unwrap();
        assert_eq!(w.attr(1, &[0; 8]), Err(Error::BufferTooSmall));
        assert_eq!(w.attr_str(1, "abcd"), Err(Error::BufferTooSmall));
        w.attr(1, &[0; 4]).unwrap();
        assert_eq!(w.finish(), 24);
        assert_eq!(
            MsgWriter::new(&mut [0u8; 15], 1, 0, 0).unwrap_err(),
            Error::BufferTooSmall
        );
    }

    #[test]
    fn nested_attribute_covers_its_members() {
        let mut buf = [0u8; 64];
        let mut w = MsgWriter::new(&mut buf, 18, 0, 0).unwrap();
        let n = w.begin_nested(1).unwrap();
        w.attr(2, &[7]).unwrap();
        w.attr(3, &[1, 2, 3, 4]).unwrap();
        w.end_nested(n).unwrap();
        let len = w.finish();
        assert_eq!(len, 16 + 4 + 8 + 8);
        assert_eq!(&buf[16..20], &[20, 0, 1, 0x80]);
        let outer: Vec<_> = attrs(&buf[16..len]).collect();
        assert_eq!(outer.len(), 1);
        assert_eq!(outer[0].kind, 1);
        let inner: Vec<_> = attrs(outer[0].payload).map(|a| a.kind).collect();
        assert_eq!(inner, vec![2, 3]);
    }

    #[test]
    fn messages_rejects_bad_lengths() {
        // nlmsg_len 8 < header.
        let mut bad = [0u8; 16];
        bad[0] = 8;
        assert_eq!(messages(&bad).next(), Some(Err(Error::Malformed)));
        // nlmsg_len 32 > 16 bytes present.
        bad[0] = 32;
        let mut it = messages(&bad);
        assert_eq!(it.next(), Some(Err(Error::Truncated)));
        assert_eq!(it.next(), None);
        assert_eq!(messages(&bad[..10]).next(), Some(Err(Error::Truncated)));
    }

    #[test]
    fn attrs_stop_at_impossible_length() {
        // One good attribute (len 5, padded to 8), then one claiming 200 bytes.
        let bytes = [5, 0, 1, 0, 42, 0, 0, 0, 200, 0, 2, 0, 0, 0];
        let got: Vec<_> = attrs(&bytes).collect();
        assert_eq!(
            got,
            vec![Attr {
                kind: 1,
                payload: &[42]
            }]
        );
        // Length below the header.
        assert_eq!(attrs(&[2, 0, 1, 0]).count(), 0);
        // The nested flag bit is not part of the type.
        let nested = [4u8, 0, 0x05, 0x80];
        assert_eq!(attrs(&nested).next().unwrap().kind, 5);
    }
}
