//! `check::dns::reply` (DNS_CHECK) on any datagram, and `query` for any name. Input: the query
//! id (2 bytes), the query type (2 bytes), then the datagram, which is also read (lossily) as
//! the name to ask for.
//!
//! The verdict is keepalived's rule exactly: not ours (and keep waiting) when shorter than a
//! header, another id, or not a response; else the RCODE, 0 passing. Any name gives a query of
//! at most `MAX_QUERY` bytes, to which the query itself, flagged as a response, is a passing
//! reply.
#![no_main]

use keepalived_rs::check::dns::{query, reply, MAX_QUERY};
use keepalived_rs::check::Failure;
use keepalived_rs::config::DnsCheck;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [i0, i1, t0, t1, datagram @ ..] = data else {
        return;
    };
    let id = u16::from_be_bytes([*i0, *i1]);
    let check = DnsCheck {
        qtype: u16::from_be_bytes([*t0, *t1]),
        name: String::from_utf8_lossy(datagram).into_owned(),
    };
    let v = reply(&check, id, datagram);
    let expected = if datagram.len() < 12 {
        None
    } else if u16::from_be_bytes([datagram[0], datagram[1]]) != id || datagram[2] & 0x80 == 0 {
        None
    } else {
        Some(datagram[3] & 0x0f)
    };
    match (expected, &v) {
        (None, Err(f)) => assert!(f.keep_waiting(), "{f:?}"),
        (Some(0), Ok(())) => {}
        (Some(r), Err(Failure::Rcode(got))) => assert_eq!(r, *got),
        (e, v) => panic!("rcode {e:?} gave {v:?}"),
    }

    let mut q = Vec::with_capacity(MAX_QUERY);
    query(&check, id, &mut q);
    assert!(q.len() <= MAX_QUERY, "a query of {} bytes", q.len());
    assert_eq!(&q[..2], &id.to_be_bytes());
    q[2] |= 0x80;
    assert_eq!(reply(&check, id, &q), Ok(()));
});
