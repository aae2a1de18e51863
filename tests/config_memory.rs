//! What a large load-balancer configuration costs in memory while it is parsed and once it is
//! loaded: 1,000 real servers with a TCP_CHECK each (the shape of tests/bench/lb.sh), parsed
//! under a counting `#[global_allocator]` that tracks the bytes alive and their high-water mark.
//!
//! The bounds are per real server, with some margin over what the parser needs today (live
//! 308 B, peak about 730 B): a configuration that keeps a parse-time buffer (a `collect` that
//! reuses a draft Vec, a path copied into every location) or a parse that holds every line
//! alive at once fails here before it shows up in the daemon's resident size
//! (tests/bench/memory.sh measures that).
#![cfg(feature = "lb")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

impl Counting {
    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Relaxed) + by;
        PEAK.fetch_max(now, Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::grew(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            Self::grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const VIRTUAL_SERVERS: usize = 10;
const REAL_SERVERS: usize = 100;
/// Bytes per real server the loaded configuration may keep.
const LIVE_PER_SERVER: usize = 400;
/// Bytes per real server alive at once while parsing (the text excluded).
const PEAK_PER_SERVER: usize = 900;

fn config() -> String {
    let mut c = String::from("global_defs {\n    router_id memory\n}\n");
    for s in 1..=VIRTUAL_SERVERS {
        let port = 10000 + s;
        writeln!(c, "virtual_server 192.0.2.100 {port} {{").unwrap();
        c.push_str("    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n");
        for r in 1..=REAL_SERVERS {
            writeln!(
                c,
                "    real_server 198.51.100.{r} {port} {{\n        weight 1\n        \
                 TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}"
            )
            .unwrap();
        }
        c.push_str("}\n");
    }
    c
}

#[test]
fn real_servers_cost_little_while_parsed_and_once_loaded() {
    let text = config();
    let file = Path::new("/nonexistent/memory.conf");
    // A first parse warms up what is allocated once (the host name for `@` lines, ...).
    drop(keepalived_rs::config::parse_str(&text, file).unwrap());

    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let cfg = keepalived_rs::config::parse_str(&text, file).unwrap();
    let live = LIVE.load(Relaxed) - before;
    let peak = PEAK.load(Relaxed) - before;

    let n: usize = cfg
        .virtual_servers
        .iter()
        .map(|v| v.real_servers.len())
        .sum();
    assert_eq!(n, VIRTUAL_SERVERS * REAL_SERVERS);
    let (live, peak) = (live / n, peak / n);
    println!("per real server: {live} B loaded, {peak} B at the parse's peak");
    assert!(live <= LIVE_PER_SERVER, "{live} B per real server loaded");
    assert!(
        peak <= PEAK_PER_SERVER,
        "{peak} B per real server while parsing"
    );
}
