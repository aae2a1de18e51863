//! `check::http::HttpDialogue` (HTTP_GET) on any response, fed in chunks and then `closed`.
//! The first input byte picks the checker, the second the chunk size, the rest is what the
//! server sends:
//!
//! - bit 0: `http_protocol 1.1`; bit 1: `Connection: close`; bit 2: a `digest` (all zeros,
//!   which no body hashes to); bits 3..5: the accepted status codes (any 2xx, 200, 404,
//!   100..=599);
//! - chunks of 1 + the second byte.
//!
//! The verdict must not depend on how the bytes were cut: chunked and whole, the same. Once
//! `received` says `Done`, the verdict stays; a passing response has an accepted status.
#![no_main]

use keepalived_rs::check::http::HttpDialogue;
use keepalived_rs::check::{Failure, Step};
use keepalived_rs::config::{HttpCheck, StatusCodes, Url};
use libfuzzer_sys::fuzz_target;

fn checker(selector: u8) -> HttpCheck {
    let mut status = StatusCodes::default();
    match (selector >> 3) & 3 {
        0 => {}
        1 => status.insert(200),
        2 => status.insert(404),
        _ => (100..=599).for_each(|c| status.insert(c)),
    }
    HttpCheck {
        urls: vec![Url {
            path: "/health".into(),
            status,
            digest: (selector & 4 != 0).then_some([0; 16]),
            virtualhost: None,
        }],
        http11: selector & 1 != 0,
        connection_close: selector & 2 != 0,
    }
}

/// Feeds `chunks`, then the close when no verdict came first.
fn run<'a>(d: &mut HttpDialogue, chunks: impl Iterator<Item = &'a [u8]>) -> Result<(), Failure> {
    let mut done: Option<Result<(), Failure>> = None;
    for c in chunks {
        let step = d.received(c);
        match (&done, step) {
            (None, Step::Done(v)) => {
                assert_eq!(d.verdict(), Some(v.clone()));
                done = Some(v);
            }
            (None, Step::More) => assert_eq!(d.verdict(), None),
            (Some(v), step) => assert_eq!(step, Step::Done(v.clone()), "a verdict changed"),
        }
    }
    let closed = d.closed();
    if let Some(v) = done {
        assert_eq!(closed, v, "the close changed the verdict");
    }
    assert_eq!(d.verdict(), Some(closed.clone()));
    closed
}

/// The bytes in one piece, as one `recv` gets them (none at all when empty: the executor
/// never hands a dialogue an empty read, that is the close).
fn all_at_once(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.chunks(bytes.len().max(1))
}

fuzz_target!(|data: &[u8]| {
    let [selector, step, response @ ..] = data else {
        return;
    };
    let check = checker(*selector);
    let fresh = || HttpDialogue::new(&check, 0, "192.0.2.80:80");
    let mut whole = fresh();
    let mut tx = Vec::new();
    whole.request(&mut tx);
    assert!(tx.starts_with(b"GET /health HTTP/1.") && tx.ends_with(b"\r\n\r\n"));
    let v_whole = run(&mut whole, all_at_once(response));
    let mut cut = fresh();
    let v_cut = run(&mut cut, response.chunks(1 + usize::from(*step)));
    assert_eq!(v_whole, v_cut, "the verdict depends on the chunking");
    assert_eq!(whole.status(), cut.status());
    if v_whole.is_ok() {
        assert!(
            check.urls[0].status.accepts(whole.status()),
            "passed with status {}",
            whole.status()
        );
        assert!(check.urls[0].digest.is_none(), "an all-zero MD5 matched");
    }
});
