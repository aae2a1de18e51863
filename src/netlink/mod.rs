//! rtnetlink messages (filled in by the netlink work).
