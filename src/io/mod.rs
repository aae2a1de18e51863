//! The OS edge: poll loop, sockets, signals, child processes, the clock.
#![allow(unsafe_code)]

pub mod rtnl;
