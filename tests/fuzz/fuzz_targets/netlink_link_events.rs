//! `netlink::route::link_events` on any datagram (an RTMGRP_LINK socket's read, possibly cut).
#![no_main]

use keepalived_rs::netlink::route::link_events;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut seen = 0;
    let count = link_events(data, |ev| {
        seen += 1;
        assert!(ev.name.len() <= 15);
        if ev.removed {
            assert!(!ev.up && !ev.running);
        }
    });
    assert_eq!(count, seen);
    // Each event needs a 16-byte header and a 16-byte ifinfomsg.
    assert!(count <= data.len() / 32);
});
