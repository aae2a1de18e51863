//! VRRP state machine (in progress).
