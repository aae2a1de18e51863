//! The load balancer's keywords: defaults and inheritance as keepalived 2.2.7 resolves them,
//! its corrections (counted as mistakes for `-t`), and errors with file:line.

use super::*;
use std::net::SocketAddr;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The seeds' LVS example: DR round robin over two web servers with TCP_CHECK.
pub(super) fn seed_master_virtual_server(c: &Config) {
    assert_eq!(c.virtual_servers.len(), 1);
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.at.line, 31);
    assert_eq!(vs.key, VsKey::Addr(sa("192.168.192.200:80")));
    assert_eq!(vs.protocol, Some(Protocol::Tcp));
    assert_eq!(vs.sched, Scheduler("rr"));
    assert_eq!(vs.method, Forward::Dr);
    assert_eq!(
        (vs.quorum, vs.hysteresis, vs.persistence_timeout),
        (1, 0, 0)
    );
    assert_eq!(vs.show(), "[192.168.192.200]:tcp:80");
    let addrs: Vec<_> = vs.real_servers.iter().map(|r| r.addr).collect();
    assert_eq!(addrs, [sa("192.168.192.112:80"), sa("192.168.192.114:80")]);
    for rs in &vs.real_servers {
        assert_eq!((rs.weight, rs.method), (1, Forward::Dr));
        let [ch] = &rs.checkers[..] else {
            panic!("{:?}", rs.checkers)
        };
        assert_eq!(ch.kind, CheckKind::Tcp);
        assert_eq!(ch.conn.dst, rs.addr);
        assert_eq!(ch.conn.timeout, Duration::from_secs(3));
        assert_eq!(ch.delay_loop, Duration::from_secs(6));
        assert_eq!(ch.retry, 3);
        assert_eq!(ch.delay_before_retry, Duration::from_secs(3));
        assert_eq!(ch.warmup, Duration::from_secs(6));
        assert!(!ch.alpha);
    }
    // nat_mask (warned, no effect) is not a mistake; nb_get_retry (deprecated) is, twice.
    assert_eq!(c.mistakes.len(), 2);
    assert!(c.unhandled.is_empty(), "{:?}", c.unhandled);
}

fn vs(body: &str) -> Config {
    ok(&format!(
        "virtual_server 192.0.2.10 80 {{\nprotocol TCP\nlb_kind NAT\n{body}\n}}\n"
    ))
}

#[test]
fn defaults_follow_keepalived() {
    let c = vs("real_server 192.0.2.20 {\nTCP_CHECK { }\n}");
    let v = &c.virtual_servers[0];
    assert_eq!(v.sched, Scheduler("wlc"));
    let rs = &v.real_servers[0];
    // NAT without a port: the virtual server's port.
    assert_eq!(rs.addr, sa("192.0.2.20:80"));
    assert_eq!(rs.weight, 1);
    let ch = &rs.checkers[0];
    assert_eq!(ch.delay_loop, Duration::from_secs(60));
    assert_eq!(ch.conn.timeout, Duration::from_secs(5));
    assert_eq!(
        (ch.retry, ch.delay_before_retry),
        (1, Duration::from_secs(1))
    );
    assert_eq!(ch.warmup, ch.delay_loop);
    assert!(c.mistakes.is_empty());
}

#[test]
fn checker_values_inherit_real_server_then_virtual_server() {
    let c = vs("delay_loop 10\nretry 4\nconnect_timeout 2\nalpha\n\
         real_server 192.0.2.20 8080 {\ndelay_before_retry 0.5\nweight 7\n\
         HTTP_GET { url { path /health } }\n\
         MISC_CHECK { misc_path \"/bin/true x\"\nretry 2 }\n}");
    let rs = &c.virtual_servers[0].real_servers[0];
    assert_eq!(rs.addr, sa("192.0.2.20:8080"));
    assert_eq!(rs.weight, 7);
    assert!(rs.alpha);
    let http = &rs.checkers[0];
    assert_eq!(http.delay_loop, Duration::from_secs(10));
    assert_eq!(
        (http.retry, http.delay_before_retry),
        (4, Duration::from_millis(500))
    );
    assert_eq!(http.conn.timeout, Duration::from_secs(2));
    assert!(http.alpha);
    let CheckKind::Http(h) = &http.kind else {
        panic!()
    };
    assert_eq!(h.urls[0].path, "/health");
    assert!(h.urls[0].status.accepts(204) && !h.urls[0].status.accepts(301));
    let misc = &rs.checkers[1];
    assert_eq!(misc.retry, 2);
    let CheckKind::Misc(m) = &misc.kind else {
        panic!()
    };
    assert_eq!(m.path.line, "/bin/true x");
    assert_eq!(m.timeout, Duration::from_secs(10));
}

#[test]
fn http_url_options() {
    let c = vs(
        "virtualhost vs.example\nreal_server 192.0.2.20 80 {\nHTTP_GET {\n\
         url { path /a\nstatus_code 200 301-302\ndigest 9b3e61bd8c3c0b6e1e6b0e9a3f2d3a4b }\n\
         url { path /b\nvirtualhost b.example }\nhttp_protocol 1.1\n}\n}",
    );
    let CheckKind::Http(h) = &c.virtual_servers[0].real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert!(h.http11 && h.connection_close);
    let a = &h.urls[0];
    assert!(a.status.accepts(200) && a.status.accepts(302) && !a.status.accepts(201));
    assert_eq!(a.digest.unwrap()[..2], [0x9b, 0x3e]);
    assert_eq!(a.virtualhost.as_deref(), Some("vs.example"));
    assert_eq!(h.urls[1].virtualhost.as_deref(), Some("b.example"));
}

#[test]
fn udp_dns_smtp_ping_options() {
    let c = vs("real_server 192.0.2.20 53 {\n\
         UDP_CHECK { payload 0a0B\nrequire_reply 4f4b\nmin_reply_length 2\nmax_reply_length 64 }\n\
         DNS_CHECK { type AAAA\nname www.example }\n\
         SMTP_CHECK { helo_name me.example\nconnect_port 25 }\n\
         PING_CHECK { connect_ip 192.0.2.21 }\n}");
    let ch = &c.virtual_servers[0].real_servers[0].checkers;
    assert_eq!(
        ch[0].kind,
        CheckKind::Udp(Box::new(UdpCheck {
            payload: vec![0x0a, 0x0b],
            require_reply: Some(b"OK".to_vec()),
            min_reply_length: 2,
            max_reply_length: 64,
        }))
    );
    assert_eq!(
        ch[1].kind,
        CheckKind::Dns(DnsCheck {
            qtype: 28,
            name: "www.example".into()
        })
    );
    assert_eq!(
        (ch[1].retry, ch[1].delay_before_retry),
        (3, ch[1].delay_loop)
    );
    assert_eq!(ch[2].conn.dst, sa("192.0.2.20:25"));
    assert_eq!(ch[3].kind, CheckKind::Ping);
    assert_eq!(ch[3].conn.dst.ip(), v4("192.0.2.21"));
}

#[test]
fn scheduler_flags_and_persistence() {
    let c = vs(
        "lvs_sched sh\nsh-port\nmh-port\nhashed\npersistence_timeout 50\n\
         persistence_granularity 255.255.255.0\nsorry_server 192.0.2.99 8080\n\
         sorry_server_inhibit\nreal_server 192.0.2.20 80 { }",
    );
    let v = &c.virtual_servers[0];
    assert_eq!(v.sched, Scheduler("sh"));
    assert_eq!(v.flags, 0x10 | 0x02);
    assert_eq!(v.persistence_timeout, 50);
    assert_eq!(
        v.persistence_granularity,
        Some(Ipv4Addr::new(255, 255, 255, 0))
    );
    let s = v.sorry_server.as_ref().unwrap();
    assert_eq!(
        (s.addr, s.method, s.inhibit),
        (sa("192.0.2.99:8080"), Forward::Nat, true)
    );
    // mh-port with sh: reported and ignored.
    assert_eq!(c.mistakes.len(), 1);
}

#[test]
fn fwmark_and_groups() {
    let c = ok(
        "virtual_server_group WEB {\n192.0.2.10-12 80\nfwmark 7\n}\n\
         virtual_server group WEB {\nprotocol TCP\nlb_kind DR\nreal_server 192.0.2.20 80 { }\n}\n\
         virtual_server fwmark 5 {\nlb_kind DR\nprotocol TCP\nha_suspend\n\
         real_server 192.0.2.20 80 { }\n}\n",
    );
    let g = &c.vs_groups[0];
    assert_eq!(g.addrs.len(), 3);
    assert_eq!(g.addrs[2], sa("192.0.2.12:80"));
    assert_eq!(g.fwmarks, [7]);
    let fw = &c.virtual_servers[1];
    assert_eq!(fw.key, VsKey::Fwmark(5));
    // A fwmark service has no protocol, its DR real servers no port, and no ha_suspend.
    assert_eq!(fw.protocol, None);
    assert_eq!(fw.real_servers[0].addr, sa("192.0.2.20:0"));
    assert!(!fw.ha_suspend);
    assert_eq!(c.mistakes.len(), 1);
}

#[test]
fn keepalived_corrections_are_mistakes() {
    // Duplicate real server, quorum above the total weight, hysteresis >= quorum.
    let c = vs(
        "quorum 5\nhysteresis 9\nreal_server 192.0.2.20 80 { weight 2 }\n\
         real_server 192.0.2.20 80 { weight 3 }",
    );
    let v = &c.virtual_servers[0];
    assert_eq!(v.real_servers.len(), 1);
    assert_eq!((v.quorum, v.hysteresis), (2, 1));
    assert_eq!(c.mistakes.len(), 3);
    // No real server: the virtual server is dropped, reported.
    let c = vs("");
    assert!(c.virtual_servers.is_empty());
    assert_eq!(c.mistakes.len(), 1);
}

#[test]
fn ssl_get_is_kept_unchecked_and_nat_mask_accepted() {
    let c = vs("nat_mask 255.255.255.0\nreal_server 192.0.2.20 443 {\n\
         SSL_GET { url { path / } }\n}");
    let rs = &c.virtual_servers[0].real_servers[0];
    assert_eq!(rs.checkers[0].kind, CheckKind::SslUnsupported);
    assert!(c.mistakes.is_empty() && c.unhandled.is_empty());
}

#[test]
fn errors_name_file_line_and_keyword() {
    let cases = [
        ("protocol ICMP", "protocol", "unknown protocol"),
        (
            "real_server 192.0.2.999 80 { }",
            "real_server",
            "is not an IP address",
        ),
        (
            "real_server 192.0.2.20 80 { weight 70000 }",
            "weight",
            "out of range",
        ),
        (
            "real_server 192.0.2.20 80 { HTTP_GET { url { path / \ndigest 12 } } }",
            "digest",
            "32 hex digits",
        ),
        (
            "real_server 192.0.2.20 80 { UDP_CHECK { payload xyz } }",
            "payload",
            "hex digits",
        ),
        (
            "persistence_granularity 255.0.255.0",
            "persistence_granularity",
            "contiguous",
        ),
    ];
    for (body, keyword, msg) in cases {
        let e = err_of(&format!(
            "virtual_server 192.0.2.10 80 {{\nprotocol TCP\n{body}\n}}\n"
        ));
        assert_eq!(e.keyword.as_deref(), Some(keyword), "{body}: {e}");
        assert!(e.message.contains(msg), "{body}: {e}");
        assert!(e.at.as_ref().is_some_and(|a| a.line >= 3), "{body}: {e}");
    }
    let e = err_of("virtual_server group NOPE {\nreal_server 192.0.2.20 80 { }\n}\n");
    assert!(e.message.contains("not defined"), "{e}");
    let e = err_of(
        "virtual_server 192.0.2.10 80 {\nprotocol TCP\nreal_server 192.0.2.20 80 { }\n}\n\
         virtual_server 192.0.2.10 80 {\nprotocol TCP\nreal_server 192.0.2.20 80 { }\n}\n",
    );
    assert!(e.message.contains("already defined at"), "{e}");
}

#[test]
fn checker_keywords_of_another_checker_are_unknown() {
    let c = vs("real_server 192.0.2.20 80 {\nTCP_CHECK { payload 00\nregex x }\n}");
    assert_eq!(keywords(&c), [("payload", false), ("regex", true)]);
}

#[test]
fn lvs_flush_keywords() {
    let c = ok("global_defs {\nlvs_flush\nlvs_flush_on_stop VS\n}\n");
    assert!(c.global.lvs_flush);
    assert_eq!(c.global.lvs_flush_on_stop, LvsFlushOnStop::Vs);
    let c = ok("global_defs {\nlvs_flush_onstop\n}\n");
    assert_eq!(c.global.lvs_flush_on_stop, LvsFlushOnStop::Full);
    let e = err_of("global_defs {\nlvs_flush_on_stop RS\n}\n");
    assert!(e.message.contains("unknown lvs_flush_on_stop type"), "{e}");
}

#[test]
fn mistakes_keepalived_carries_on_from() {
    // Each is reported (file:line, counted for -t) and the rest of the file runs, as keepalived
    // does: the seeds' "persistence_timeout 0", an unknown scheduler or method (the defaults
    // stay), quorum 0, a checker without what it needs (dropped).
    let c = vs(
        "lb_algo foo\nlb_kind XYZ\npersistence_timeout 0\nquorum 0\n\
         real_server 192.0.2.20 80 {\nHTTP_GET { }\nMISC_CHECK { }\nTCP_CHECK { }\n}",
    );
    let v = &c.virtual_servers[0];
    assert_eq!(v.sched, Scheduler("wlc"));
    assert_eq!(v.method, Forward::Nat);
    assert_eq!((v.persistence_timeout, v.quorum), (0, 1));
    let kinds: Vec<_> = v.real_servers[0]
        .checkers
        .iter()
        .map(|c| c.kind.keyword())
        .collect();
    assert_eq!(kinds, ["TCP_CHECK"]);
    assert_eq!(c.mistakes.len(), 6, "{:?}", c.mistakes);
}

#[test]
fn seed_lvs_example_with_persistence_timeout_0_runs() {
    // ../shared/seeds/001: the guide's DR round robin, as written there.
    let c = ok(
        "virtual_server 192.168.91.188 80 {\n    delay_loop 6\n    lb_algo rr\n    \
         lb_kind DR\n    persistence_timeout 0\n    protocol TCP\n    \
         real_server 192.168.91.103 80 {\n        weight 1\n        TCP_CHECK {\n            \
         connect_port 80\n            connect_timeout 3\n            nb_get_retry 3\n            \
         delay_before_retry 3\n        }\n    }\n    real_server 192.168.91.105 80 {\n        \
         weight 1\n        TCP_CHECK {\n            connect_port 80\n            \
         connect_timeout 3\n            nb_get_retry 3\n            delay_before_retry 3\n        \
         }\n    }\n}\n",
    );
    let v = &c.virtual_servers[0];
    assert_eq!(
        (v.sched, v.method, v.persistence_timeout),
        (Scheduler("rr"), Forward::Dr, 0)
    );
    assert_eq!(v.real_servers.len(), 2);
    assert_eq!(v.real_servers[1].checkers[0].retry, 3);
}

#[test]
fn checker_values_the_checkers_could_not_send_are_refused_at_load() {
    let long = format!("/{}", "a".repeat(2100));
    let e = err_of(&format!(
        "virtual_server 192.0.2.10 80 {{\nprotocol TCP\nreal_server 192.0.2.20 80 {{\n\
         HTTP_GET {{ url {{ path {long} }} }}\n}}\n}}\n"
    ));
    assert!(e.message.contains("makes a request over 2048 bytes"), "{e}");
    let e = err_of(
        "virtual_server 192.0.2.10 53 {\nprotocol UDP\nreal_server 192.0.2.20 53 {\n\
         DNS_CHECK { name a..b }\n}\n}\n",
    );
    assert!(e.message.contains("is not a DNS name: empty label"), "{e}");
}
