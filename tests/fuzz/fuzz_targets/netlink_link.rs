//! `netlink::msg::messages`, `attrs` and `route::LinkInfo::parse` (the RTM_GETLINK answer) on
//! any datagram. A message LinkInfo accepts is, as a notification, the same link state for
//! `link_events`.
#![no_main]

use keepalived_rs::netlink::msg::{attrs, messages, HEADER_LEN};
use keepalived_rs::netlink::route::{link_events, LinkInfo, AF_UNSPEC, IFINFOMSG_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut consumed = 0;
    for m in messages(data) {
        let Ok(m) = m else {
            break;
        };
        assert!(m.len() >= HEADER_LEN && m.len() == m.as_bytes().len());
        assert_eq!(m.payload().len(), m.len() - HEADER_LEN);
        consumed += m.len();
        assert!(consumed <= data.len());
        let _ = (m.msg_type(), m.flags(), m.seq(), m.port_id());
        for a in attrs(m.payload().get(IFINFOMSG_LEN..).unwrap_or_default()) {
            let _ = (a.as_str(), a.as_u32());
        }
        let Ok(info) = LinkInfo::parse(&m) else {
            continue;
        };
        assert!(info.name.len() <= 15);
        if m.payload()[0] == AF_UNSPEC {
            let mut events = Vec::new();
            assert_eq!(link_events(m.as_bytes(), |e| events.push(e)), 1);
            let e = &events[0];
            assert!(!e.removed);
            assert_eq!(
                (e.ifindex, e.up, e.running),
                (info.ifindex, info.up, info.running)
            );
        }
    }
});
