//! Netlink messages in and out, without syscalls: `msg` is the layer every netlink family
//! shares (headers, attributes, acks, a request writer), `route` is rtnetlink for addresses
//! and links, `genl` generic netlink's header and family lookup, `ipvs` the IPVS family's
//! messages. The sockets live in `crate::io::rtnl` and `crate::io::ipvs`.

#[cfg(feature = "lb")]
pub mod genl;
#[cfg(feature = "lb")]
pub mod ipvs;
pub mod msg;
pub mod route;

pub use msg::{Ack, Error, NlMsg};
pub use route::{AddrOp, IfAddr, IfName, LinkEvent, LinkInfo};
