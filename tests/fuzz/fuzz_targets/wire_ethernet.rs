//! `wire::ethernet`: any bytes through `Frame::new_checked` + `Repr::parse`; a parsed header
//! emitted into exactly `buffer_len()` bytes parses back to the same `Repr`.
#![no_main]

use keepalived_rs::wire::ethernet::{Frame, Repr, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(f) = Frame::new_checked(data) else {
        return;
    };
    // STYLE.md: once check_len passed, no accessor panics.
    let _ = (f.dst_addr(), f.src_addr(), f.ethertype());
    assert_eq!(f.payload(), &data[HEADER_LEN..]);

    let Ok(repr) = Repr::parse(&f) else {
        return;
    };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Frame::new_unchecked(&mut out[..]));
    let again = Frame::new_checked(&out[..]).expect("emitted header fails check_len");
    assert_eq!(Repr::parse(&again), Ok(repr));
    assert_eq!(&out[..], &data[..HEADER_LEN]);
});
