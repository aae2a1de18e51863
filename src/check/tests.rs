//! The epilogue on a virtual clock: each test jumps to the next deadline, reports a verdict and
//! looks at the events and the times they came at.

use super::*;
use crate::config::{
    Command, Conn, Forward, Location, MiscCheck, RealServer, Scheduler, VirtualServer, VsKey,
};
use std::path::PathBuf;

fn loc() -> Location {
    Location {
        file: PathBuf::from("t.conf").into(),
        line: 1,
    }
}

pub(crate) fn checker(kind: CheckKind, dst: &str) -> Checker {
    Checker {
        at: loc(),
        kind,
        conn: Conn {
            dst: dst.parse().unwrap(),
            bind_ip: None,
            bind_port: None,
            timeout: Duration::from_secs(5),
        },
        delay_loop: Duration::from_secs(10),
        retry: 3,
        delay_before_retry: Duration::from_secs(2),
        warmup: Duration::ZERO,
        alpha: false,
        log_all_failures: false,
    }
}

pub(crate) fn misc(dynamic: bool) -> CheckKind {
    CheckKind::Misc(Box::new(MiscCheck {
        path: Command {
            line: "/bin/true".into(),
            at: loc(),
        },
        timeout: Duration::from_secs(5),
        dynamic,
        user: None,
    }))
}

pub(crate) fn real_server(addr: &str, weight: u32, checkers: Vec<Checker>) -> RealServer {
    RealServer {
        at: loc(),
        addr: addr.parse().unwrap(),
        weight,
        method: Forward::Nat,
        uthreshold: 0,
        lthreshold: 0,
        inhibit_on_failure: false,
        notify_up: None,
        notify_down: None,
        alpha: false,
        smtp_alert: None,
        checkers,
    }
}

pub(crate) fn virtual_server(real_servers: Vec<RealServer>) -> VirtualServer {
    VirtualServer {
        at: loc(),
        key: VsKey::Addr("192.0.2.100:80".parse().unwrap()),
        protocol: None,
        sched: Scheduler::default(),
        flags: 0,
        method: Forward::Nat,
        persistence_timeout: 0,
        persistence_granularity: None,
        quorum: 1,
        hysteresis: 0,
        quorum_up: None,
        quorum_down: None,
        sorry_server: None,
        ha_suspend: false,
        omega: false,
        smtp_alert: None,
        real_servers,
    }
}

const T0: Instant = Instant::from_millis(1_000_000);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// One attempt: jump to the next due time, pop, report `outcome` `took` later. Returns the
/// start time.
fn run(ch: &mut Checks, outcome: Outcome, took: Duration) -> (Instant, CheckerId) {
    let t = ch.next_due().expect("a checker is due");
    let id = ch.pop_due(t).expect("pop at its due time");
    ch.done(id, outcome, t + took);
    (t, id)
}

fn events(ch: &mut Checks) -> Vec<Event> {
    core::iter::from_fn(|| ch.poll_event()).collect()
}

fn one_tcp(retry: u32) -> (Vec<VirtualServer>, Checks) {
    let mut c = checker(CheckKind::Tcp, "192.0.2.10:80");
    c.retry = retry;
    let vss = vec![virtual_server(vec![real_server(
        "192.0.2.10:80",
        1,
        vec![c],
    )])];
    let ch = Checks::new(&vss, T0, 1);
    (vss, ch)
}

const DOWN: Outcome = Outcome::Down(Failure::Refused);
const UP: Outcome = Outcome::Up(None);
const RS00_UP: Event = Event::RealServerUp { vs: 0, rs: 0 };
const RS00_DOWN: Event = Event::RealServerDown { vs: 0, rs: 0 };

#[test]
fn first_check_after_bootstrap_delay_and_first_failure_is_enough() {
    let (_, mut ch) = one_tcp(3);
    assert!(ch.is_up(0, 0), "non-alpha starts up");
    assert_eq!(ch.next_due(), Some(T0 + BOOTSTRAP_DELAY), "warmup 0");
    assert!(ch.pop_due(T0).is_none(), "not due yet");
    // retry_it = retry at start: one failure takes it down although retry is 3.
    let (t, _) = run(&mut ch, DOWN, secs(0.1));
    assert_eq!(events(&mut ch), [RS00_DOWN]);
    assert!(!ch.is_up(0, 0));
    // Down: the next check after delay_loop, from the end of the attempt.
    assert_eq!(ch.next_due(), Some(t + secs(0.1) + secs(10.0)));
}

#[test]
fn retry_budget_exactly_retry_plus_one_failures() {
    let (_, mut ch) = one_tcp(3);
    let (t, _) = run(&mut ch, UP, Duration::ZERO);
    assert!(events(&mut ch).is_empty(), "already up: no event");
    assert_eq!(ch.next_due(), Some(t + secs(10.0)));
    // First failure of the regular check, then 3 retries spaced by delay_before_retry.
    let mut starts = vec![];
    for k in 0..4 {
        let (t, _) = run(&mut ch, DOWN, secs(0.5));
        starts.push(t);
        let ev = events(&mut ch);
        if k < 3 {
            assert!(
                ev.is_empty(),
                "down only after retry+1 failures (attempt {k})"
            );
            assert!(ch.is_up(0, 0));
            assert_eq!(ch.next_due(), Some(t + secs(0.5) + secs(2.0)));
        } else {
            assert_eq!(ev, [RS00_DOWN]);
            assert!(!ch.is_up(0, 0));
        }
    }
    for w in starts.windows(2) {
        assert_eq!(
            w[1].saturating_since(w[0]),
            secs(2.5),
            "attempt + delay_before_retry"
        );
    }
    // Down: failures keep it down, one every delay_loop, no retries, no events.
    for _ in 0..3 {
        let (t, _) = run(&mut ch, DOWN, Duration::ZERO);
        assert!(events(&mut ch).is_empty());
        assert_eq!(ch.next_due(), Some(t + secs(10.0)));
    }
    // Recovery: one success is enough.
    let (t, _) = run(&mut ch, UP, Duration::ZERO);
    assert_eq!(events(&mut ch), [RS00_UP]);
    assert_eq!(ch.next_due(), Some(t + secs(10.0)));
}

#[test]
fn a_success_between_failures_resets_the_budget() {
    let (_, mut ch) = one_tcp(2);
    run(&mut ch, UP, Duration::ZERO);
    for _ in 0..5 {
        run(&mut ch, DOWN, Duration::ZERO);
        run(&mut ch, DOWN, Duration::ZERO);
        run(&mut ch, UP, Duration::ZERO);
    }
    assert!(events(&mut ch).is_empty());
    assert!(ch.is_up(0, 0));
    for _ in 0..3 {
        run(&mut ch, DOWN, Duration::ZERO);
    }
    assert_eq!(events(&mut ch), [RS00_DOWN]);
}

#[test]
fn retry_zero_goes_down_at_the_first_failure() {
    let (_, mut ch) = one_tcp(0);
    run(&mut ch, UP, Duration::ZERO);
    let (t, _) = run(&mut ch, DOWN, Duration::ZERO);
    assert_eq!(events(&mut ch), [RS00_DOWN]);
    assert_eq!(ch.next_due(), Some(t + secs(10.0)));
}

#[test]
fn alpha_starts_down_and_comes_up_at_the_first_success() {
    let mut c = checker(CheckKind::Tcp, "192.0.2.10:80");
    c.alpha = true;
    let vss = vec![virtual_server(vec![real_server(
        "192.0.2.10:80",
        1,
        vec![c],
    )])];
    let mut ch = Checks::new(&vss, T0, 1);
    assert!(!ch.is_up(0, 0), "alpha starts down");
    // Failures of a down checker: no event, delay_loop apart.
    let (t, _) = run(&mut ch, DOWN, Duration::ZERO);
    assert!(events(&mut ch).is_empty());
    assert_eq!(ch.next_due(), Some(t + secs(10.0)));
    run(&mut ch, UP, Duration::ZERO);
    assert_eq!(events(&mut ch), [RS00_UP]);
}

#[test]
fn warmup_spreads_first_checks_within_the_window() {
    let mut rss = vec![];
    for k in 0..200 {
        let mut c = checker(CheckKind::Tcp, "192.0.2.10:80");
        c.warmup = secs(5.0);
        rss.push(real_server(&format!("192.0.2.{}:80", k % 250), 1, vec![c]));
    }
    let vss = vec![virtual_server(rss)];
    let mut ch = Checks::new(&vss, T0, 42);
    let start = T0 + BOOTSTRAP_DELAY;
    let mut firsts = vec![];
    while let Some(t) = ch.next_due() {
        let id = ch.pop_due(t).unwrap();
        assert!(
            t >= start && t < start + secs(5.0),
            "{t} outside the warmup"
        );
        firsts.push((t, id));
    }
    assert_eq!(firsts.len(), 200);
    // Spread, not lumped: both halves of the window are used.
    let early = firsts
        .iter()
        .filter(|(t, _)| *t < start + secs(2.5))
        .count();
    assert!(
        (50..150).contains(&early),
        "{early} of 200 in the first half"
    );
    // Each popped once, in time order.
    assert!(firsts.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn a_server_is_up_only_when_all_its_checkers_are() {
    let tcp = checker(CheckKind::Tcp, "192.0.2.10:80");
    let mut ping = checker(CheckKind::Ping, "192.0.2.10:0");
    ping.delay_loop = secs(7.0);
    let vss = vec![virtual_server(vec![
        real_server("192.0.2.10:80", 1, vec![tcp, ping]),
        real_server(
            "192.0.2.11:80",
            1,
            vec![checker(CheckKind::Tcp, "192.0.2.11:80")],
        ),
    ])];
    let mut ch = Checks::new(&vss, T0, 1);
    assert_eq!(ch.len(), 3);
    let t = T0 + BOOTSTRAP_DELAY;
    let ids: Vec<_> = core::iter::from_fn(|| ch.pop_due(t)).collect();
    assert_eq!(ids, [CheckerId(0), CheckerId(1), CheckerId(2)]);
    assert_eq!(ch.path(CheckerId(1)), (0, 0, 1));
    assert_eq!(ch.path(CheckerId(2)), (0, 1, 0));
    ch.done(CheckerId(0), DOWN, t); // tcp of rs 0 down (first failure is enough)
    assert_eq!(events(&mut ch), [RS00_DOWN]);
    ch.done(CheckerId(1), DOWN, t); // its ping down too: the server is already down
    ch.done(CheckerId(2), UP, t);
    assert!(events(&mut ch).is_empty());
    // The ping recovers first: the tcp checker still fails, so the server stays down.
    let t1 = t + secs(7.0);
    assert_eq!(ch.next_due(), Some(t1));
    assert_eq!(ch.pop_due(t1), Some(CheckerId(1)));
    ch.done(CheckerId(1), UP, t1);
    assert!(events(&mut ch).is_empty());
    assert!(!ch.is_up(0, 0));
    let t2 = t + secs(10.0);
    let mut due: Vec<_> = core::iter::from_fn(|| ch.pop_due(t2)).collect();
    due.sort();
    assert_eq!(due, [CheckerId(0), CheckerId(2)]);
    ch.done(CheckerId(0), UP, t2);
    ch.done(CheckerId(2), UP, t2);
    assert_eq!(events(&mut ch), [RS00_UP]);
    assert!(ch.is_up(0, 0) && ch.is_up(0, 1));
}

#[test]
fn misc_dynamic_weights() {
    let mut c = checker(misc(true), "192.0.2.10:80");
    c.retry = 1;
    let vss = vec![virtual_server(vec![real_server(
        "192.0.2.10:80",
        5,
        vec![c],
    )])];
    let mut ch = Checks::new(&vss, T0, 1);
    assert_eq!(ch.weight(0, 0), 5);
    // exit 12: up with weight 10.
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(12)),
        Duration::ZERO,
    );
    assert_eq!(
        events(&mut ch),
        [Event::WeightChanged {
            vs: 0,
            rs: 0,
            weight: 10
        }]
    );
    assert_eq!(ch.weight(0, 0), 10);
    // The same status again: nothing.
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(12)),
        Duration::ZERO,
    );
    assert!(events(&mut ch).is_empty());
    // exit 2: weight 0 (still up).
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(2)),
        Duration::ZERO,
    );
    assert_eq!(
        events(&mut ch),
        [Event::WeightChanged {
            vs: 0,
            rs: 0,
            weight: 0
        }]
    );
    assert!(ch.is_up(0, 0));
    // exit 0: back to the configured weight.
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(0)),
        Duration::ZERO,
    );
    assert_eq!(
        events(&mut ch),
        [Event::WeightChanged {
            vs: 0,
            rs: 0,
            weight: 5
        }]
    );
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(100)),
        Duration::ZERO,
    );
    events(&mut ch);
    // exit 1 twice (retry 1): down, and the dynamic share is dropped.
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(1)),
        Duration::ZERO,
    );
    assert!(events(&mut ch).is_empty());
    assert_eq!(ch.weight(0, 0), 98, "kept during the retries");
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(1)),
        Duration::ZERO,
    );
    assert_eq!(
        events(&mut ch),
        [
            Event::WeightChanged {
                vs: 0,
                rs: 0,
                weight: 5
            },
            RS00_DOWN
        ]
    );
    // Up again with a weight: the weight comes before the up, so the server is added with it.
    run(
        &mut ch,
        misc::outcome(true, misc::Exit::Status(9)),
        Duration::ZERO,
    );
    assert_eq!(
        events(&mut ch),
        [
            Event::WeightChanged {
                vs: 0,
                rs: 0,
                weight: 7
            },
            RS00_UP
        ]
    );
}

#[test]
fn misc_is_timed_from_the_start_of_the_run() {
    let c = checker(misc(false), "192.0.2.10:80");
    let vss = vec![virtual_server(vec![real_server(
        "192.0.2.10:80",
        1,
        vec![c],
    )])];
    let mut ch = Checks::new(&vss, T0, 1);
    let (t, _) = run(&mut ch, UP, secs(3.0));
    assert_eq!(ch.next_due(), Some(t + secs(10.0)), "last_ran + delay_loop");
    // A run longer than the delay: the next starts at once.
    let (t, _) = run(&mut ch, UP, secs(12.0));
    assert_eq!(ch.next_due(), Some(t + secs(12.0)));
}

/// A reload keeps a failed server failed: its new checkers start down, so a server that
/// answers again at their first run is reported up (it used to stay out for good).
#[test]
fn a_server_failed_before_a_reload_starts_failed_and_comes_up_at_its_first_success() {
    let tcp = checker(CheckKind::Tcp, "192.0.2.10:80");
    let ping = checker(CheckKind::Ping, "192.0.2.10:0");
    let ssl = checker(CheckKind::SslUnsupported, "192.0.2.10:443");
    let vss = vec![virtual_server(vec![
        real_server(
            "192.0.2.9:80",
            1,
            vec![checker(CheckKind::Tcp, "192.0.2.9:80")],
        ),
        real_server("192.0.2.10:80", 1, vec![tcp, ping, ssl]),
        real_server(
            "192.0.2.11:80",
            1,
            vec![checker(CheckKind::Tcp, "192.0.2.11:80")],
        ),
    ])];
    let mut ch = Checks::new(&vss, T0, 1);
    ch.start_failed(0, 1);
    assert!(!ch.is_up(0, 1));
    assert!(ch.is_up(0, 0) && ch.is_up(0, 2), "only that server");
    assert!(events(&mut ch).is_empty(), "starting failed is not news");
    let t = T0 + BOOTSTRAP_DELAY;
    let ids: Vec<_> = core::iter::from_fn(|| ch.pop_due(t)).collect();
    // rs 1's TCP and ping checkers (the SSL_GET one never runs, and is not counted down).
    let rs1: Vec<_> = ids
        .iter()
        .filter(|&&id| ch.path(id).1 == 1)
        .copied()
        .collect();
    assert_eq!(rs1.len(), 2);
    ch.done(rs1[0], DOWN, t);
    assert!(events(&mut ch).is_empty(), "still down: no news");
    ch.done(rs1[1], UP, t);
    assert!(events(&mut ch).is_empty(), "one checker still down");
    let t1 = t + secs(10.0);
    while ch.pop_due(t1).is_some() {}
    ch.done(rs1[0], UP, t1);
    assert_eq!(
        events(&mut ch),
        [Event::RealServerUp { vs: 0, rs: 1 }],
        "both checkers up: the server is back"
    );
}

#[test]
fn ssl_get_never_runs_and_stays_up() {
    let vss = vec![virtual_server(vec![real_server(
        "192.0.2.10:443",
        1,
        vec![checker(CheckKind::SslUnsupported, "192.0.2.10:443")],
    )])];
    let ch = Checks::new(&vss, T0, 1);
    assert_eq!(ch.next_due(), None);
    assert!(ch.is_up(0, 0));
}

#[test]
fn a_report_for_a_checker_not_running_is_ignored() {
    let (_, mut ch) = one_tcp(0);
    ch.done(CheckerId(0), DOWN, T0);
    assert!(events(&mut ch).is_empty());
    assert_eq!(ch.next_due(), Some(T0 + BOOTSTRAP_DELAY));
}

#[test]
fn ten_thousand_checkers_only_the_due_ones_are_touched() {
    let mut rss = vec![];
    for k in 0..10_000u32 {
        let mut c = checker(CheckKind::Tcp, "192.0.2.10:80");
        c.warmup = secs(60.0);
        rss.push(real_server(
            &format!("192.0.2.{}:{}", k % 250, 1000 + k / 250),
            1,
            vec![c],
        ));
    }
    let vss = vec![virtual_server(rss)];
    let mut ch = Checks::new(&vss, T0, 7);
    let cap = ch.due.capacity();
    // Ten simulated minutes: every run reschedules without growing the heap.
    let end = T0 + secs(600.0);
    let mut runs = 0u32;
    while let Some(t) = ch.next_due().filter(|t| *t < end) {
        while let Some(id) = ch.pop_due(t) {
            ch.done(id, UP, t);
            runs += 1;
        }
    }
    assert!(runs > 10_000 * 50, "{runs} runs");
    assert_eq!(ch.due.capacity(), cap);
    assert_eq!(ch.due.len(), 10_000);
}

#[test]
fn ha_suspend_parks_the_checkers_and_resumes_them_with_their_state() {
    let (_, mut ch) = one_tcp(0);
    run(&mut ch, DOWN, secs(0.1));
    assert_eq!(events(&mut ch), [RS00_DOWN]);
    ch.set_suspended(0, true, T0);
    // Due, but suspended: nothing runs, for as long as it lasts.
    let due = ch.next_due().unwrap();
    assert!(ch.pop_due(due + secs(1000.0)).is_none());
    assert_eq!(ch.next_due(), None, "parked, off the schedule");
    assert!(!ch.is_up(0, 0), "the state is kept");
    // Resumed: runs at once; a success brings the server up.
    let resume = due + secs(1000.0);
    ch.set_suspended(0, false, resume);
    assert_eq!(ch.next_due(), Some(resume));
    run(&mut ch, UP, secs(0.1));
    assert_eq!(events(&mut ch), [RS00_UP]);
}
