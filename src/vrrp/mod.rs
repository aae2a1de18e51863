//! VRRP (RFC 3768 v2, RFC 5798 v3): the protocol logic, pure and driven by `now`.
//!
//! - [`packet`]: receive checks keepalived does on an advert, and building the adverts we send.
//! - [`machine`]: the Initialize/Backup/Master state machine with its timer table.
//! - [`garp`]: pacing of gratuitous ARPs by `vrrp_garp_interval`.

use core::time::Duration;
use std::net::IpAddr;

pub mod garp;
pub mod machine;
pub mod packet;
pub mod router;

/// An advertisement that passed every receive check, as the state machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert {
    /// The IP source address of the advert (the sender's primary or unicast source address).
    pub src: IpAddr,
    /// The sender's priority; 0 means the master is stopping (RFC 5798 6.4.2).
    pub priority: u8,
    /// The advert interval the packet carries: v3 Max Advertise Interval (centiseconds on the
    /// wire), v2 Adver Int (seconds on the wire).
    pub adver_int: Duration,
}

/// Protocol state of an instance (RFC 5798 6.4), plus keepalived's FAULT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Initialize,
    Backup,
    Master,
    /// keepalived's FAULT: the interface is down; the instance holds no address and is silent.
    Fault,
}

impl State {
    /// The word keepalived uses in logs and notify scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }
}
