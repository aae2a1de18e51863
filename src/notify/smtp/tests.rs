//! The SMTP client driven by byte scripts: what the server says in, what we write out.

use super::*;

const T: Duration = Duration::from_secs(30);

fn settings(recipients: &[&str]) -> Settings {
    Settings {
        server: "192.0.2.25:25".parse().unwrap(),
        helo_name: "lb1.example.org".into(),
        from: "keepalived@lb1.example.org".into(),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        timeout: T,
    }
}

fn message() -> Message {
    instance_alert("lb1", "VI_1", AlertState::Master)
}

/// 2021-03-01 09:44:08 UTC.
const DATE: Rfc5322Date = Rfc5322Date {
    unix_secs: 1_614_591_848,
    utc_offset_secs: 0,
};

fn t(s: u64) -> Instant {
    Instant::from_millis(s * 1000)
}

/// A client connected at 0 s, for two recipients.
fn connected() -> SmtpClient {
    let mut c = SmtpClient::new(
        &settings(&["ops@example.org", "noc@example.org"]),
        &message(),
        DATE,
        t(0),
    )
    .unwrap();
    c.handle_connected(t(0));
    c
}

/// Everything queued for the socket, taken as if the socket took it all.
fn take(c: &mut SmtpClient) -> String {
    let s = String::from_utf8(c.poll_transmit().to_vec()).unwrap();
    c.transmitted(s.len());
    s
}

/// Feeds one server reply at `now` and returns what the client wrote in answer.
fn say(c: &mut SmtpClient, reply: &str, now: Instant) -> String {
    c.handle_input(reply.as_bytes(), now);
    take(c)
}

const CONTENT: &str = "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\n\
    From: keepalived@lb1.example.org\r\n\
    Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\n\
    X-Mailer: Keepalived\r\n\
    To: ops@example.org, noc@example.org\r\n\
    \r\n\
    => VRRP Instance is now owning VRRP VIPs <=\r\n\
    \r\n\
    .\r\n";

/// The server's replies in a good dialogue and what we must write after each.
const DIALOGUE: [(&str, &str); 8] = [
    (
        "220 mx.example.org ESMTP ready\r\n",
        "HELO lb1.example.org\r\n",
    ),
    (
        "250 mx.example.org\r\n",
        "MAIL FROM:<keepalived@lb1.example.org>\r\n",
    ),
    ("250 2.1.0 Ok\r\n", "RCPT TO:<ops@example.org>\r\n"),
    ("250 2.1.5 Ok\r\n", "RCPT TO:<noc@example.org>\r\n"),
    ("250 2.1.5 Ok\r\n", "DATA\r\n"),
    ("354 End data with <CR><LF>.<CR><LF>\r\n", CONTENT),
    ("250 2.0.0 Ok: queued as 1234\r\n", "QUIT\r\n"),
    ("221 2.0.0 Bye\r\n", ""),
];

#[test]
fn normal_dialogue() {
    let mut c = SmtpClient::new(
        &settings(&["ops@example.org", "noc@example.org"]),
        &message(),
        DATE,
        t(0),
    )
    .unwrap();
    assert_eq!(
        c.poll_transmit(),
        b"",
        "nothing is written before the connect"
    );
    assert_eq!(c.poll_timeout(), Some(t(30)), "the connect is bounded");
    c.handle_connected(t(1));
    assert_eq!(c.poll_timeout(), Some(t(31)), "the greeting is bounded");
    for (i, (reply, ours)) in DIALOGUE.iter().enumerate() {
        assert_eq!(c.outcome(), None);
        let now = t(2 + i as u64);
        assert_eq!(&say(&mut c, reply, now), ours, "after {reply:?}");
        if !ours.is_empty() {
            assert_eq!(
                c.poll_timeout(),
                Some(now + T),
                "each reply has its own deadline"
            );
        }
    }
    assert_eq!(c.outcome(), Some(Outcome::Sent));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn multi_line_replies() {
    let mut c = connected();
    let greeting = "220-mx.example.org ESMTP\r\n220-no UCE\r\n220 ready\r\n";
    assert_eq!(say(&mut c, greeting, t(1)), "HELO lb1.example.org\r\n");
    let helo = "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n";
    assert_eq!(
        say(&mut c, helo, t(1)),
        "MAIL FROM:<keepalived@lb1.example.org>\r\n"
    );
    // The code of the last line decides, as keepalived reads it.
    assert_eq!(
        say(&mut c, "250-first\r\n550 no such sender\r\n", t(1)),
        "QUIT\r\n"
    );
    say(&mut c, "221 bye\r\n", t(1));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Rejected {
            code: 550,
            step: Step::Mail
        }))
    );
}

#[test]
fn split_reads_anywhere() {
    let mut c = SmtpClient::new(
        &settings(&["ops@example.org", "noc@example.org"]),
        &message(),
        DATE,
        t(0),
    )
    .unwrap();
    c.handle_connected(t(0));
    let mut written = String::new();
    for (reply, _) in DIALOGUE {
        for b in reply.as_bytes() {
            c.handle_input(core::slice::from_ref(b), t(1));
            written.push_str(&take(&mut c));
        }
    }
    let expected: String = DIALOGUE.iter().map(|(_, ours)| *ours).collect();
    assert_eq!(written, expected);
    assert_eq!(c.outcome(), Some(Outcome::Sent));

    // Bare LF line ends and a code with no text are read too.
    let mut c = connected();
    assert_eq!(say(&mut c, "22", t(1)), "");
    assert_eq!(say(&mut c, "0\r", t(1)), "");
    assert_eq!(say(&mut c, "\n", t(1)), "HELO lb1.example.org\r\n");
    assert_eq!(
        say(&mut c, "250 ok\n", t(1)),
        "MAIL FROM:<keepalived@lb1.example.org>\r\n"
    );
}

#[test]
fn partial_writes_are_resumed() {
    let mut c = connected();
    c.handle_input(b"220 hi\r\n", t(1));
    assert_eq!(c.poll_transmit(), b"HELO lb1.example.org\r\n");
    c.transmitted(5);
    assert_eq!(c.poll_transmit(), b"lb1.example.org\r\n");
    c.transmitted(100);
    assert_eq!(c.poll_transmit(), b"");
}

/// Replies up to step `k` of [`DIALOGUE`], then `reply`.
fn reject_at(k: usize, reply: &str) -> (SmtpClient, String) {
    let mut c = connected();
    for (r, _) in &DIALOGUE[..k] {
        say(&mut c, r, t(1));
    }
    let answer = say(&mut c, reply, t(2));
    (c, answer)
}

#[test]
fn temporary_and_permanent_rejections_at_each_step() {
    let steps = [
        Step::Greeting,
        Step::Helo,
        Step::Mail,
        Step::Rcpt,
        Step::Rcpt,
        Step::Data,
        Step::Body,
    ];
    for (k, step) in steps.into_iter().enumerate() {
        for code in [421u16, 451, 452, 500, 550, 554] {
            let (mut c, answer) = reject_at(k, &format!("{code} no\r\n"));
            assert_eq!(answer, "QUIT\r\n", "{code} at {step}: keepalived says QUIT");
            assert_eq!(
                c.outcome(),
                None,
                "{code} at {step}: waits for the QUIT reply"
            );
            assert_eq!(c.poll_timeout(), Some(t(2) + T));
            say(&mut c, "221 bye\r\n", t(3));
            assert_eq!(
                c.outcome(),
                Some(Outcome::Failed(Failure::Rejected { code, step })),
                "{code} at step {k}"
            );
        }
    }
    // A 250 where 354 is due is as wrong as a 5xx.
    let (mut c, answer) = reject_at(5, "250 ok\r\n");
    assert_eq!(answer, "QUIT\r\n");
    say(&mut c, "221 bye\r\n", t(3));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Rejected {
            code: 250,
            step: Step::Data
        }))
    );
}

#[test]
fn a_bad_quit_reply_after_delivery_is_still_sent() {
    let (c, answer) = reject_at(7, "500 what\r\n");
    assert_eq!(answer, "", "one QUIT only");
    assert_eq!(c.outcome(), Some(Outcome::Sent));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn timeouts() {
    // Nothing answers the connect.
    let mut c = SmtpClient::new(&settings(&["a@b"]), &message(), DATE, t(0)).unwrap();
    c.handle_timeout(t(29));
    assert_eq!(c.outcome(), None, "early calls do nothing");
    c.handle_timeout(t(30));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Stalled(Step::Connect)))
    );
    assert_eq!(c.poll_timeout(), None);

    // Connected, no greeting: QUIT, then give up when that goes unanswered too.
    let mut c = connected();
    c.handle_timeout(t(30));
    assert_eq!(take(&mut c), "QUIT\r\n");
    assert_eq!(c.outcome(), None);
    assert_eq!(c.poll_timeout(), Some(t(60)));
    c.handle_timeout(t(60));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Stalled(Step::Greeting)))
    );

    // A trickle of octets does not push the deadline back.
    let mut c = connected();
    say(&mut c, "220 hi\r\n", t(1));
    for s in 2..31 {
        say(&mut c, "2", t(s));
    }
    assert_eq!(c.poll_timeout(), Some(t(31)));
    c.handle_timeout(t(31));
    assert_eq!(take(&mut c), "QUIT\r\n");
    say(&mut c, "221 bye\r\n", t(32));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Stalled(Step::Helo)))
    );

    // A server that does not take our octets: no QUIT can follow a half-written command.
    let mut c = connected();
    c.handle_input(b"220 hi\r\n", t(1));
    c.transmitted(3);
    c.handle_timeout(t(31));
    assert_eq!(c.poll_transmit(), b"");
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Stalled(Step::Helo)))
    );
}

#[test]
fn endless_greeting_ends_in_failure() {
    let mut c = connected();
    let mut quits = 0;
    for _ in 0..10_000 {
        c.handle_input(b"220-still greeting you\r\n", t(1));
        if take(&mut c) == "QUIT\r\n" {
            quits += 1;
        }
        if c.outcome().is_some() {
            break;
        }
    }
    assert_eq!(quits, 1);
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::BadReply(Step::Greeting)))
    );

    // One line that never ends.
    let mut c = connected();
    let chunk = [b'2'; 100];
    for _ in 0..100 {
        c.handle_input(&chunk, t(1));
        take(&mut c);
    }
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::BadReply(Step::Greeting)))
    );
}

#[test]
fn unreadable_replies() {
    for bad in ["hello\r\n", "22\r\n", "2x0 hi\r\n", "220+hi\r\n", "\r\n"] {
        let mut c = connected();
        assert_eq!(say(&mut c, bad, t(1)), "QUIT\r\n", "{bad:?}");
        say(&mut c, "221 bye\r\n", t(1));
        assert_eq!(
            c.outcome(),
            Some(Outcome::Failed(Failure::BadReply(Step::Greeting))),
            "{bad:?}"
        );
    }
    // A reply before our command was written: the server is not speaking SMTP with us.
    let mut c = connected();
    c.handle_input(b"220 hi\r\n250 early\r\n", t(1));
    assert_eq!(c.poll_transmit(), b"");
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::BadReply(Step::Helo)))
    );
}

#[test]
fn early_close() {
    let mut c = SmtpClient::new(&settings(&["a@b"]), &message(), DATE, t(0)).unwrap();
    c.handle_closed(t(0));
    assert_eq!(c.outcome(), Some(Outcome::Failed(Failure::Refused)));

    let steps = [
        Step::Greeting,
        Step::Helo,
        Step::Mail,
        Step::Rcpt,
        Step::Rcpt,
        Step::Data,
        Step::Body,
    ];
    for (k, step) in steps.into_iter().enumerate() {
        let mut c = connected();
        for (r, _) in &DIALOGUE[..k] {
            say(&mut c, r, t(1));
        }
        c.handle_closed(t(2));
        assert_eq!(
            c.outcome(),
            Some(Outcome::Failed(Failure::ClosedEarly(step)))
        );
        assert_eq!(c.poll_timeout(), None);
        c.handle_input(b"220 late\r\n", t(3));
        assert_eq!(c.poll_transmit(), b"", "nothing after the end");
    }

    // Closed after the mail was taken, before the QUIT reply: delivered all the same.
    let mut c = connected();
    for (r, _) in &DIALOGUE[..7] {
        say(&mut c, r, t(1));
    }
    c.handle_closed(t(2));
    assert_eq!(c.outcome(), Some(Outcome::Sent));

    // Closed after a rejection: the rejection is the reason.
    let (mut c, _) = reject_at(3, "550 unknown user\r\n");
    c.handle_closed(t(3));
    assert_eq!(
        c.outcome(),
        Some(Outcome::Failed(Failure::Rejected {
            code: 550,
            step: Step::Rcpt
        }))
    );
}

#[test]
fn body_lines_are_dot_stuffed() {
    let msg = Message {
        subject: "s".into(),
        body: ".hidden\n..two\n.\nplain.\r\nlast".into(),
    };
    let mut c = SmtpClient::new(&settings(&["a@b"]), &msg, DATE, t(0)).unwrap();
    c.handle_connected(t(0));
    for r in ["220 a\r\n", "250 a\r\n", "250 a\r\n", "250 a\r\n"] {
        say(&mut c, r, t(1));
    }
    let content = say(&mut c, "354 go\r\n", t(1));
    let body = content.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(
        body,
        "..hidden\r\n...two\r\n..\r\nplain.\r\nlast\r\n\r\n.\r\n"
    );
}

#[test]
fn headers_cannot_be_injected() {
    let msg = Message {
        subject: "a\r\nBcc: x@y".into(),
        body: "b".into(),
    };
    let content = mail_content(&settings(&["a@b"]), &msg, DATE);
    assert!(content.contains("Subject: a  Bcc: x@y\r\n"), "{content}");

    let mut s = settings(&["a@b"]);
    s.from = "x@y>\r\nRCPT TO:<z@w".into();
    assert_eq!(
        s.check(),
        Err(SettingsError::LineBreak("notification_email_from"))
    );
    let mut s = settings(&["a@b\n"]);
    assert_eq!(
        s.check(),
        Err(SettingsError::LineBreak("notification_email"))
    );
    s.recipients = vec!["x".repeat(500)];
    assert_eq!(s.check(), Ok(()), "RCPT TO:<x...>CRLF is 512 octets");
    s.recipients = vec!["x".repeat(501)];
    assert_eq!(s.check(), Err(SettingsError::TooLong("notification_email")));
    s.recipients.clear();
    assert_eq!(s.check(), Err(SettingsError::NoRecipients));
    assert_eq!(
        SmtpClient::new(&s, &message(), DATE, t(0)).err(),
        Some(SettingsError::NoRecipients)
    );
}

#[test]
fn long_to_header_is_folded() {
    let rcpts: Vec<String> = (0..8).map(|i| format!("operator{i}@example.org")).collect();
    let refs: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let content = mail_content(&settings(&refs), &message(), DATE);
    let header = content.split("\r\nTo: ").nth(1).unwrap();
    let header = header.split_once("\r\n\r\n").unwrap().0;
    for line in header.split("\r\n") {
        assert!(line.len() <= FOLD_AT, "{line:?}");
    }
    let unfolded = header.replace("\r\n ", " ");
    assert_eq!(unfolded, rcpts.join(", "));
}

#[test]
fn alert_texts_are_keepalived_s() {
    let m = instance_alert("lb1", "VI_1", AlertState::Master);
    assert_eq!(
        m.subject,
        "[lb1] VRRP Instance VI_1 - Entering MASTER state"
    );
    assert_eq!(m.body, "=> VRRP Instance is now owning VRRP VIPs <=");
    let m = instance_alert("lb1", "VI_1", AlertState::from_vrrp(State::Backup));
    assert_eq!(
        m.subject,
        "[lb1] VRRP Instance VI_1 - Entering BACKUP state"
    );
    assert_eq!(m.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
    let m = instance_alert("lb1", "VI_1", AlertState::Fault);
    assert_eq!(m.subject, "[lb1] VRRP Instance VI_1 - Entering FAULT state");
    assert_eq!(m.body, "=> VRRP Instance is no longer owning VRRP VIPs <=");
    let m = instance_alert("lb1", "VI_1", AlertState::from_vrrp(State::Initialize));
    assert_eq!(m.subject, "[lb1] VRRP Instance VI_1 - Stopping");
    assert_eq!(m.body, "=> VRRP Instance stopping <=");
    let m = instance_alert("lb1", "VI_1", AlertState::Deleted);
    assert_eq!(m.subject, "[lb1] VRRP Instance VI_1 - Deleted");
    assert_eq!(m.body, "=> VRRP Deleted at reload <=");

    let g = group_alert("lb1", "G1", AlertState::Master).unwrap();
    assert_eq!(g.subject, "[lb1] VRRP Group G1 - Entering MASTER state");
    assert_eq!(
        g.body,
        "=> All VRRP group instances are now in MASTER state <="
    );
    let g = group_alert("lb1", "G1", AlertState::Backup).unwrap();
    assert_eq!(
        g.body,
        "=> All VRRP group instances are now in BACKUP state <="
    );
    let g = group_alert("lb1", "G1", AlertState::Fault).unwrap();
    assert_eq!(
        g.body,
        "=> All VRRP group instances are now in FAULT state <="
    );
    let g = group_alert("lb1", "G1", AlertState::Stopping).unwrap();
    assert_eq!(g.subject, "[lb1] VRRP Group G1 - Stopping");
    assert_eq!(g.body, "=> All VRRP group instances are now stopping <=");
    assert_eq!(group_alert("lb1", "G1", AlertState::Deleted), None);
}

#[test]
fn rfc5322_dates() {
    let d = |unix_secs, utc_offset_secs| {
        Rfc5322Date {
            unix_secs,
            utc_offset_secs,
        }
        .to_string()
    };
    assert_eq!(d(0, 0), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_eq!(d(1_614_591_848, 0), "Mon, 01 Mar 2021 09:44:08 +0000");
    assert_eq!(d(1_614_591_848, 3600), "Mon, 01 Mar 2021 10:44:08 +0100");
    assert_eq!(
        d(1_614_591_848, -(9 * 3600 + 1800)),
        "Mon, 01 Mar 2021 00:14:08 -0930"
    );
    assert_eq!(
        d(1_614_591_848, -(10 * 3600)),
        "Sun, 28 Feb 2021 23:44:08 -1000"
    );
    // A leap day, the end of a leap year, and before 1970.
    assert_eq!(d(951_782_400, 0), "Tue, 29 Feb 2000 00:00:00 +0000");
    assert_eq!(d(1_735_689_599, 0), "Tue, 31 Dec 2024 23:59:59 +0000");
    assert_eq!(d(-1, 0), "Wed, 31 Dec 1969 23:59:59 +0000");
    assert_eq!(d(5_500_000, 19_800), "Thu, 05 Mar 1970 21:16:40 +0530");
}

#[test]
fn log_lines_are_keepalived_s() {
    let v4: SocketAddr = "192.0.2.25:25".parse().unwrap();
    let v6: SocketAddr = "[2001:db8::25]:2525".parse().unwrap();
    let line = |o: Outcome, s| o.log_line(s).to_string();
    assert_eq!(line(Outcome::Sent, v4), "SMTP alert successfully sent.");
    assert_eq!(
        line(Outcome::Failed(Failure::Refused), v6),
        "SMTP connection ERROR to [2001:db8::25]:2525."
    );
    assert_eq!(
        line(Outcome::Failed(Failure::Stalled(Step::Connect)), v4),
        "Timeout connecting SMTP server [192.0.2.25]:25."
    );
    assert_eq!(
        line(Outcome::Failed(Failure::Stalled(Step::Data)), v4),
        "Timeout reading data to remote SMTP server [192.0.2.25]:25. (at DATA)"
    );
    assert_eq!(
        line(
            Outcome::Failed(Failure::Rejected {
                code: 550,
                step: Step::Rcpt
            }),
            v4
        ),
        "Error processing RCPT cmd on SMTP server [192.0.2.25]:25. SMTP status code = 550"
    );
    assert_eq!(
        line(
            Outcome::Failed(Failure::Rejected {
                code: 554,
                step: Step::Greeting
            }),
            v4
        ),
        "Error processing (E)SMTP cmd on SMTP server [192.0.2.25]:25. SMTP status code = 554"
    );
    assert_eq!(
        line(Outcome::Failed(Failure::ClosedEarly(Step::Helo)), v4),
        "Remote SMTP server [192.0.2.25]:25 has closed the connection. (at HELO)"
    );
}
