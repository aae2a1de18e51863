//! What the host is told about state changes. For now: keepalived's SMTP alerts ([`smtp`]).
//!
//! Pure like `vrrp`: no sockets and no clock here; `src/io` connects, reads, writes and passes
//! in `now` and the wall-clock time a mail is dated with.

pub mod smtp;
