//! `netlink::msg::Ack::parse` (the kernel's NLMSG_ERROR answers, extended acks included) on
//! every message of any datagram.
#![no_main]

use keepalived_rs::netlink::msg::{messages, Ack};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for m in messages(data) {
        let Ok(m) = m else {
            break;
        };
        let Ok(ack) = Ack::parse(&m) else {
            continue;
        };
        assert!(ack.errno >= 0);
        if let Some(text) = ack.message {
            // The text is borrowed from the message, after the errno and an echoed header.
            let payload = m.payload().as_ptr_range();
            let text_at = text.as_bytes().as_ptr_range();
            assert!(payload.start <= text_at.start && text_at.end <= payload.end);
            assert!(!text.contains('\0'));
        }
    }
});
