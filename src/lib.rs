//! keepalived-rs: keepalived's VRRP failover as one small single-threaded daemon.
//!
//! Layout (see README.md): `config` parses keepalived.conf into an immutable value, `wire` holds
//! packet formats as typed views, `vrrp` is the pure protocol logic driven by `now`, `netlink`
//! builds and parses rtnetlink messages, and `io` is the only place that makes syscalls, reads
//! the clock or uses `unsafe`.
#![deny(unsafe_code)]

pub mod config;
pub mod io;
pub mod netlink;
pub mod time;
pub mod vrrp;
pub mod wire;
