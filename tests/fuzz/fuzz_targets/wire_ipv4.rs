//! `wire::ipv4`: any bytes through `Packet::new_checked` + `Repr::parse`; a parsed header
//! emitted into exactly `buffer_len()` bytes, with the same payload behind it, parses back to
//! the same `Repr`. The datagram is also parsed with its header checksum made right, so that
//! a mutated header gets past the checksum check.
#![no_main]

use keepalived_rs::wire::ipv4::{Packet, Repr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::new_checked(data) else {
        return;
    };
    // STYLE.md: once check_len passed, no accessor panics.
    let _ = (
        p.version(),
        p.tos(),
        p.ident(),
        p.ttl(),
        p.protocol(),
        p.checksum(),
    );
    let _ = (p.dont_frag(), p.more_frags(), p.frag_offset());
    let _ = (p.src_addr(), p.dst_addr(), p.verify_checksum());
    let header_len = usize::from(p.header_len());
    let total_len = usize::from(p.total_len());
    assert!(header_len <= total_len && total_len <= data.len());
    assert_eq!(p.payload(), &data[header_len..total_len]);

    round_trip(data);
    let mut fixed = data.to_vec();
    Packet::new_unchecked(&mut fixed[..]).fill_checksum();
    assert!(Packet::new_unchecked(&fixed[..]).verify_checksum());
    round_trip(&fixed);
});

fn round_trip(data: &[u8]) {
    let p = Packet::new_checked(data).expect("check_len depends on the checksum");
    let Ok(repr) = Repr::parse(&p) else {
        return;
    };
    assert_eq!(repr.payload_len, p.payload().len());
    let mut out = vec![0u8; repr.buffer_len() + repr.payload_len];
    repr.emit(&mut Packet::new_unchecked(&mut out[..repr.buffer_len()]));
    out[repr.buffer_len()..].copy_from_slice(p.payload());
    let again = Packet::new_checked(&out[..]).expect("emitted header fails check_len");
    assert_eq!(Repr::parse(&again), Ok(repr));
    assert_eq!(again.payload(), p.payload());
}
