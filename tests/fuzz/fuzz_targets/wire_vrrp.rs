//! `wire::vrrp`: the input is the IPv4 source (4 bytes) and destination (4 bytes) the v3
//! checksum covers, then the VRRP message. A parsed advert emitted into exactly
//! `buffer_len()` bytes parses back to the same `Repr`, and emitting that gives the same bytes.
//! The message is also parsed with its checksum made right, so that a mutated advert gets past
//! the checksum check.
#![no_main]

use keepalived_rs::wire::vrrp::{Packet, Repr};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

fuzz_target!(|data: &[u8]| {
    let Some((addrs, message)) = data.split_first_chunk::<8>() else {
        return;
    };
    let src = Ipv4Addr::new(addrs[0], addrs[1], addrs[2], addrs[3]);
    let dst = Ipv4Addr::new(addrs[4], addrs[5], addrs[6], addrs[7]);
    let Ok(p) = Packet::new_checked(message) else {
        return;
    };
    // STYLE.md: once check_len passed, no accessor panics.
    let _ = (
        p.version(),
        p.msg_type(),
        p.vrid(),
        p.priority(),
        p.checksum(),
    );
    let _ = (
        p.auth_type(),
        p.adver_int(),
        p.max_adver_int(),
        p.reserved(),
    );
    let _ = (p.auth_data(), p.verify_checksum(src, dst));
    assert!(p.packet_len() <= message.len());
    assert_eq!(p.addrs_raw().len(), usize::from(p.addr_count()) * 4);
    assert_eq!(p.addrs().count(), usize::from(p.addr_count()));

    round_trip(message, src, dst);
    let mut fixed = message.to_vec();
    Packet::new_unchecked(&mut fixed[..]).fill_checksum(src, dst);
    assert!(Packet::new_unchecked(&fixed[..]).verify_checksum(src, dst));
    round_trip(&fixed, src, dst);
});

fn round_trip(message: &[u8], src: Ipv4Addr, dst: Ipv4Addr) {
    let p = Packet::new_checked(message).expect("check_len depends on the checksum");
    let Ok(repr) = Repr::parse(&p, src, dst) else {
        return;
    };
    assert_eq!(repr.buffer_len(), p.packet_len());
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]), src, dst);
    let again = Packet::new_checked(&out[..]).expect("emitted advert fails check_len");
    let back = Repr::parse(&again, src, dst).expect("emitted advert does not parse");
    assert_eq!(back, repr);
    let mut twice = vec![0u8; back.buffer_len()];
    back.emit(&mut Packet::new_unchecked(&mut twice[..]), src, dst);
    assert_eq!(twice, out);
}
