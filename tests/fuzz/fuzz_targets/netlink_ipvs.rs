//! `netlink::ipvs::Service::parse` and `Dest::parse` (the answers to IPVS dumps) on every
//! message of any datagram. The first input byte's bit 0 is the service's family for `Dest`
//! (IPv6 when set), the rest is the datagram.
//!
//! What parses, emitted as a NEW_SERVICE / NEW_DEST request, parses back the same.
#![no_main]

use keepalived_rs::netlink::ipvs::{Dest, Request, Service, ServiceKey, REQUEST_MAX_LEN};
use keepalived_rs::netlink::msg::{messages, NlMsg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, datagram)) = data.split_first() else {
        return;
    };
    let service_ipv6 = selector & 1 != 0;
    for m in messages(datagram) {
        let Ok(m) = m else {
            break;
        };
        let mut buf = [0u8; REQUEST_MAX_LEN];
        if let Ok(s) = Service::parse(&m) {
            if let Ok(n) = Request::NewService(&s).emit(&mut buf, m.msg_type(), 1) {
                let back = NlMsg::new_checked(&buf[..n]).expect("our NEW_SERVICE");
                assert_eq!(Service::parse(&back), Ok(s), "NEW_SERVICE round trip");
            }
        }
        if let Ok(d) = Dest::parse(&m, service_ipv6) {
            let key = ServiceKey::Fwmark {
                ipv6: service_ipv6,
                mark: 1,
            };
            let n = Request::NewDest(&key, &d)
                .emit(&mut buf, m.msg_type(), 1)
                .expect("every Dest fits a NEW_DEST");
            let back = NlMsg::new_checked(&buf[..n]).expect("our NEW_DEST");
            assert_eq!(
                Dest::parse(&back, service_ipv6),
                Ok(d),
                "NEW_DEST round trip"
            );
        }
    }
});
