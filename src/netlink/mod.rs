//! Netlink messages in and out, without syscalls: `msg` is the layer every netlink family
//! shares (headers, attributes, acks, a request writer), `route` is rtnetlink for addresses
//! and links. The sockets live in `crate::io::rtnl`.

pub mod msg;
pub mod route;

pub use msg::{Ack, Error, NlMsg};
pub use route::{AddrOp, IfAddr, IfName, LinkEvent, LinkInfo};
