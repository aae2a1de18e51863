//! Packet formats (filled in by the wire work).
