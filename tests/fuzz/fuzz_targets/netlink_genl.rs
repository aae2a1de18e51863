//! `netlink::genl::Family::parse` (the controller's answer to CTRL_CMD_GETFAMILY) and the
//! `GenlMsg` view on every message of any datagram: a family is only read from a controller
//! message with a family id.
#![no_main]

use keepalived_rs::netlink::genl::{
    Family, GenlMsg, CTRL_ATTR_FAMILY_ID, GENL_HEADER_LEN, GENL_ID_CTRL,
};
use keepalived_rs::netlink::msg::messages;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for m in messages(data) {
        let Ok(m) = m else {
            break;
        };
        if let Ok(g) = GenlMsg::new_checked(m) {
            let _ = (g.family(), g.cmd(), g.version(), g.nl());
            for a in g.attrs() {
                let _ = (a.as_str(), a.as_u32());
            }
            assert_eq!(g.attr_bytes().len() + GENL_HEADER_LEN, m.payload().len());
        }
        if let Ok(f) = Family::parse(&m) {
            assert_eq!(m.msg_type(), GENL_ID_CTRL, "a family from another message");
            let g = GenlMsg::new_checked(m).expect("a parsed family has a genl header");
            let id = f.id.to_ne_bytes();
            assert!(g
                .attrs()
                .any(|a| a.kind == CTRL_ATTR_FAMILY_ID && a.payload == &id[..]));
        }
    }
});
