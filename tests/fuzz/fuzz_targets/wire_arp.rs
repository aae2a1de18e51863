//! `wire::arp`: any bytes through `Packet::new_checked` + `Repr::parse`; a parsed packet
//! emitted into exactly `buffer_len()` bytes parses back to the same `Repr`. The sender's
//! addresses also go through `emit_gratuitous_frame`, which must parse as keepalived's GARP.
#![no_main]

use keepalived_rs::wire::arp::{self, Packet, Repr, GRATUITOUS_FRAME_LEN};
use keepalived_rs::wire::ethernet::{self, EtherType, Frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    // STYLE.md: once check_len passed, no accessor panics.
    let _ = (p.hardware_type(), p.protocol_type(), p.operation());
    let (hlen, plen) = (usize::from(p.hardware_len()), usize::from(p.protocol_len()));
    assert_eq!(p.source_hardware_addr().len(), hlen);
    assert_eq!(p.source_protocol_addr().len(), plen);
    assert_eq!(p.target_hardware_addr().len(), hlen);
    assert_eq!(p.target_protocol_addr().len(), plen);

    let Ok(repr) = Repr::parse(&p) else {
        return;
    };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]));
    let again = Packet::new_checked(&out[..]).expect("emitted ARP fails check_len");
    assert_eq!(Repr::parse(&again), Ok(repr));

    let mut frame = [0u8; GRATUITOUS_FRAME_LEN];
    let (mac, ip) = (repr.source_hardware_addr, repr.source_protocol_addr);
    assert_eq!(
        arp::emit_gratuitous_frame(mac, ip, &mut frame),
        GRATUITOUS_FRAME_LEN
    );
    let eth = Frame::new_checked(&frame[..]).expect("GARP frame fails check_len");
    let eth_repr = ethernet::Repr::parse(&eth).expect("GARP Ethernet header");
    assert_eq!(eth_repr.ethertype, EtherType::Arp);
    assert!(eth_repr.dst_addr.is_broadcast());
    let garp = Packet::new_checked(eth.payload()).expect("GARP fails check_len");
    assert_eq!(Repr::parse(&garp), Ok(Repr::gratuitous(mac, ip)));
});
