//! `check::smtp::SmtpDialogue` (SMTP_CHECK) on any server output, fed in chunks and then
//! `closed`. The first input byte is the chunk size (1 + it; its top bit asks for a
//! `helo_name` over 255 bytes), the rest is what the server sends.
//!
//! Chunked and whole give the same verdict and the same bytes to send; what is sent is at most
//! HELO then QUIT (`MAX_TX`), and a pass has sent both.
#![no_main]

use keepalived_rs::check::smtp::{SmtpDialogue, MAX_TX};
use keepalived_rs::check::{Failure, Step};
use keepalived_rs::config::SmtpCheck;
use libfuzzer_sys::fuzz_target;

fn run<'a>(
    d: &mut SmtpDialogue,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Result<(), Failure>, Vec<u8>) {
    let mut sent = Vec::new();
    let mut tx = Vec::with_capacity(MAX_TX);
    let mut done = None;
    for c in chunks {
        let step = d.received(c, &mut tx);
        assert!(tx.len() <= MAX_TX);
        sent.extend_from_slice(&tx);
        tx.clear();
        match (&done, step) {
            (None, Step::Done(v)) => done = Some(v),
            (None, Step::More) => {}
            (Some(v), step) => assert_eq!(step, Step::Done(v.clone()), "a verdict changed"),
        }
    }
    let closed = d.closed();
    if let Some(v) = done {
        assert_eq!(closed, v, "the close changed the verdict");
    }
    assert!(sent.len() <= MAX_TX, "sent {} bytes", sent.len());
    (closed, sent)
}

/// The bytes in one piece, as one `recv` gets them (none at all when empty: the executor
/// never hands a dialogue an empty read, that is the close).
fn whole(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.chunks(bytes.len().max(1))
}

fuzz_target!(|data: &[u8]| {
    let [step, server @ ..] = data else {
        return;
    };
    let helo_name = if step & 0x80 != 0 {
        "h".repeat(300)
    } else {
        "lb.example".to_string()
    };
    let check = SmtpCheck { helo_name };
    let (v_whole, sent_whole) = run(&mut SmtpDialogue::new(&check), whole(server));
    let chunk = 1 + usize::from(step & 0x7f);
    let (v_cut, sent_cut) = run(&mut SmtpDialogue::new(&check), server.chunks(chunk));
    assert_eq!(v_whole, v_cut, "the verdict depends on the chunking");
    assert_eq!(sent_whole, sent_cut, "what is sent depends on the chunking");
    if v_whole.is_ok() {
        assert_eq!(sent_whole, b"HELO lb.example\r\nQUIT\r\n");
    }
});
