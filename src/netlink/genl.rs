//! Generic netlink (include/uapi/linux/genetlink.h): the 4-byte `genlmsghdr` after the netlink
//! header, and the controller's `CTRL_CMD_GETFAMILY`, which turns a family name ("IPVS") into
//! the message type the kernel gave that family at registration. No syscalls, no allocation.

use super::msg::{attrs, u16_at, u32_at, Attrs, Error, MsgWriter, NlMsg};
use super::msg::{NLM_F_ACK, NLM_F_REQUEST};

/// `sizeof(struct genlmsghdr)`: cmd u8, version u8, reserved u16.
pub const GENL_HEADER_LEN: usize = 4;

/// The controller family's fixed message type (`GENL_ID_CTRL`).
pub const GENL_ID_CTRL: u16 = 0x10;
/// The controller's own version (`CTRL_CMD_GETFAMILY` is answered by any).
pub const CTRL_VERSION: u8 = 2;

/// Controller commands.
pub const CTRL_CMD_NEWFAMILY: u8 = 1;
pub const CTRL_CMD_GETFAMILY: u8 = 3;

/// Controller attributes.
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
pub const CTRL_ATTR_VERSION: u16 = 3;
pub const CTRL_ATTR_HDRSIZE: u16 = 4;
pub const CTRL_ATTR_MAXATTR: u16 = 5;

/// `GENL_NAMSIZ`: a family name is at most 15 bytes plus its NUL.
pub const GENL_NAME_MAX: usize = 15;

/// A buffer big enough for a `CTRL_CMD_GETFAMILY` request.
pub const FAMILY_REQUEST_LEN: usize = 64;

/// Starts a generic netlink request of `family` (its message type) with command `cmd` and
/// `version`; the caller appends attributes and calls `finish`.
pub fn writer(
    buf: &mut [u8],
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    version: u8,
) -> Result<MsgWriter<'_>, Error> {
    let mut w = MsgWriter::new(buf, family, flags, seq)?;
    w.push(&[cmd, version, 0, 0])?;
    Ok(w)
}

/// `CTRL_CMD_GETFAMILY` for the family called `name`, with an ack requested so that an
/// unknown name answers `ENOENT` (a known one answers a `CTRL_CMD_NEWFAMILY` message, then
/// the ack). The kernel tries to load the family's module (`net-pf-16-proto-16-family-NAME`)
/// before it says `ENOENT`.
pub fn family_request(buf: &mut [u8], seq: u32, name: &str) -> Result<usize, Error> {
    if name.is_empty() || name.len() > GENL_NAME_MAX || name.contains('\0') {
        return Err(Error::Invalid);
    }
    let mut w = writer(
        buf,
        GENL_ID_CTRL,
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        CTRL_CMD_GETFAMILY,
        CTRL_VERSION,
    )?;
    w.attr_str(CTRL_ATTR_FAMILY_NAME, name)?;
    Ok(w.finish())
}

/// A view of a generic netlink message: the netlink header was checked by `NlMsg`, this
/// checks that the `genlmsghdr` is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenlMsg<'a> {
    msg: NlMsg<'a>,
}

impl<'a> GenlMsg<'a> {
    pub fn new_checked(msg: NlMsg<'a>) -> Result<Self, Error> {
        if msg.payload().len() < GENL_HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(GenlMsg { msg })
    }
    /// The family's message type.
    pub fn family(&self) -> u16 {
        self.msg.msg_type()
    }
    pub fn cmd(&self) -> u8 {
        self.msg.payload()[0]
    }
    pub fn version(&self) -> u8 {
        self.msg.payload()[1]
    }
    pub fn nl(&self) -> &NlMsg<'a> {
        &self.msg
    }
    /// The attribute bytes after the `genlmsghdr`.
    pub fn attr_bytes(&self) -> &'a [u8] {
        &self.msg.payload()[GENL_HEADER_LEN..]
    }
    pub fn attrs(&self) -> Attrs<'a> {
        attrs(self.attr_bytes())
    }
}

/// What the controller tells about a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The message type of the family's messages.
    pub id: u16,
    /// The family's version (IPVS: 1).
    pub version: u32,
    /// The highest attribute number the family's top level knows.
    pub max_attr: u32,
}

impl Family {
    /// Parses the controller's `CTRL_CMD_NEWFAMILY` answer to `CTRL_CMD_GETFAMILY`.
    pub fn parse(msg: &NlMsg<'_>) -> Result<Self, Error> {
        if msg.msg_type() != GENL_ID_CTRL {
            return Err(Error::Invalid);
        }
        let g = GenlMsg::new_checked(*msg)?;
        if g.cmd() != CTRL_CMD_NEWFAMILY {
            return Err(Error::Invalid);
        }
        let mut id = None;
        let mut f = Family {
            id: 0,
            version: 0,
            max_attr: 0,
        };
        for a in g.attrs() {
            match (a.kind, a.payload.len()) {
                (CTRL_ATTR_FAMILY_ID, 2) => id = Some(u16_at(a.payload, 0)),
                (CTRL_ATTR_VERSION, 4) => f.version = u32_at(a.payload, 0),
                (CTRL_ATTR_MAXATTR, 4) => f.max_attr = u32_at(a.payload, 0),
                _ => {}
            }
        }
        f.id = id.ok_or(Error::Truncated)?;
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::msg::{messages, Ack, NLMSG_ERROR};

    /// `CTRL_CMD_GETFAMILY` for "IPVS", seq 1, as `genl ctrl get name IPVS` sends it (with the
    /// ack flag): x86_64 byte order.
    const GETFAMILY_IPVS: [u8; 32] = [
        32, 0, 0, 0, // nlmsg_len
        0x10, 0, // GENL_ID_CTRL
        5, 0, // REQUEST | ACK
        1, 0, 0, 0, // seq
        0, 0, 0, 0, // port id
        3, 2, 0, 0, // CTRL_CMD_GETFAMILY, version 2
        9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0, // CTRL_ATTR_FAMILY_NAME "IPVS\0"
    ];

    #[test]
    fn getfamily_request_bytes() {
        let mut buf = [0u8; FAMILY_REQUEST_LEN];
        let n = family_request(&mut buf, 1, "IPVS").unwrap();
        assert_eq!(&buf[..n], &GETFAMILY_IPVS);
        assert_eq!(family_request(&mut buf, 1, ""), Err(Error::Invalid));
        assert_eq!(
            family_request(&mut buf, 1, "a-name-too-long-"),
            Err(Error::Invalid)
        );
    }

    #[test]
    fn newfamily_reply_parses() {
        // The controller's answer, cut to the attributes we read (the kernel adds ops and
        // multicast groups after them): id 0x25, version 1, hdrsize 0, maxattr 6.
        let reply: [u8; 64] = [
            64, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0x39, 0x30, 0, 0, //
            1, 2, 0, 0, // CTRL_CMD_NEWFAMILY
            9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0, // name
            6, 0, 1, 0, 0x25, 0, 0, 0, // family id
            8, 0, 3, 0, 1, 0, 0, 0, // version
            8, 0, 4, 0, 0, 0, 0, 0, // hdrsize
            8, 0, 5, 0, 6, 0, 0, 0, // maxattr
        ];
        let m = messages(&reply).next().unwrap().unwrap();
        assert_eq!(
            Family::parse(&m),
            Ok(Family {
                id: 0x25,
                version: 1,
                max_attr: 6
            })
        );
        // Without its id the answer is of no use.
        let mut no_id = reply;
        no_id[34] = 0x7f; // the id attribute becomes an unknown type
        let m = messages(&no_id).next().unwrap().unwrap();
        assert_eq!(Family::parse(&m), Err(Error::Truncated));
    }

    #[test]
    fn unknown_family_is_enoent() {
        // What a kernel without IPVS answers: NLMSG_ERROR -ENOENT, the request echoed.
        let mut reply = [0u8; 52];
        reply[0] = 52;
        reply[4] = NLMSG_ERROR as u8;
        reply[8] = 1;
        reply[16..20].copy_from_slice(&(-2i32).to_ne_bytes());
        reply[20..52].copy_from_slice(&GETFAMILY_IPVS);
        let m = messages(&reply).next().unwrap().unwrap();
        assert_eq!(Family::parse(&m), Err(Error::Invalid));
        assert_eq!(Ack::parse(&m).unwrap().errno, 2);
    }
}
