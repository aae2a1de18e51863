//! `netlink::route::parse_ipv4_addr` (an RTM_GETADDR dump's messages) on any datagram. An
//! address it reads, requested back with `addr_request`, reads the same.
#![no_main]

use keepalived_rs::config::{Scope, VirtualAddr};
use keepalived_rs::netlink::msg::{messages, NlMsg};
use keepalived_rs::netlink::route::{addr_request, parse_ipv4_addr, AddrOp, REQUEST_BUF_LEN};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    for m in messages(data) {
        let Ok(m) = m else {
            break;
        };
        let Ok(Some((ifindex, a))) = parse_ipv4_addr(&m) else {
            continue;
        };
        let vip = VirtualAddr {
            addr: IpAddr::V4(a.addr),
            prefix_len: a.prefix_len,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None,
        };
        let mut buf = [0u8; REQUEST_BUF_LEN];
        let Ok(n) = addr_request(&mut buf, AddrOp::Add, 1, ifindex, &vip) else {
            assert!(a.prefix_len > 32);
            continue;
        };
        let req = NlMsg::new_checked(&buf[..n]).expect("built request fails new_checked");
        let (index, back) = parse_ipv4_addr(&req)
            .expect("built request does not parse")
            .expect("built request is not IPv4");
        assert_eq!(index, ifindex);
        assert_eq!((back.addr, back.prefix_len), (a.addr, a.prefix_len));
        assert!(!back.secondary);
    }
});
