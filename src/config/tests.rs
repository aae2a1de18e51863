//! Parsing whole configurations: seeds from real guides, includes, defaults, errors.
//!
//! What `keepalived -t -f FILE` (2.2.7, Debian) says about the same inputs, and what we do:
//!
//! | input                                   | keepalived -t                               | us |
//! |-----------------------------------------|---------------------------------------------|----|
//! | `advert_int 1.5` (v2)                   | "must be an integer. rounding" -> 2 s, rc 5 | warn, 2 s |
//! | `advert_int 0.015` (v3)                 | "units of 10ms - rounding" -> 0.02, rc 5    | warn, 0.02 s |
//! | `advert_int 41` (v3)                    | "out of range", set to 40.95, rc 5          | error |
//! | `advert_int 0` / `abc`                  | "not valid ... ignoring" (1 s), rc 5        | error |
//! | `priority 0` / `256`                    | "not valid ... Using default 100", rc 5     | error |
//! | `virtual_router_id 0` / missing         | "must be set", rc 5                         | error |
//! | no `interface`                          | "Unknown interface!", rc 5                  | error |
//! | `state FOO`                             | "defaulting to BACKUP", rc 5                | error |
//! | `preempt_delay 1001`                    | "must be between 0-1000", rc 5              | error |
//! | `garp_master_repeat 0`                  | "setting to 1", rc 5                        | warn, 1 |
//! | VIP `192.0.2.300`, `/33`                | "invalid IP ... skipping" / "using 32", rc 5| error |
//! | unknown VIP option `foo`                | "Unknown configuration entry", rc 5         | warn + unhandled |
//! | IPv4 and IPv6 VIPs mixed                | "family must match ... ignoring", rc 5      | error |
//! | same VRID, interface, family            | "both use VRID 51 ... on interface", rc 5   | error |
//! | extra `}` / missing `}`                 | "Extra '}' found" / "missing '}'s", rc 5    | error |
//! | unterminated `"`                        | "Unterminated quote", rc 5                  | error |
//! | unknown keyword (with a block)          | "Unknown keyword", block misparsed, rc 5    | warn + unhandled, block skipped |
//! | `notify_master`, `track_interface`, ... | accepted (rc 0, or 6 for script security)   | warn + unhandled (known) |
//! | no VIP, v2 / v3                         | "at least one is sensible" / "required"     | warn / error |
//! | v3 + authentication                     | "does not support authentication", rc 5     | warn, no auth |
//! | vrrp_strict + authentication            | "Strict mode does not support auth", rc 5   | warn, no auth |
//! | `auth_type AH`                          | accepted, rc 0 (AH implemented)             | error: not supported |
//! | `auth_pass` longer than 8               | "Truncating auth_pass to 8", rc 5           | warn, truncated |
//! | IPv6 VIPs with `version 2`              | accepted as v2, rc 0 (v3 only if strict)    | warn, v3 |
//! | `vrrp_garp_interval 0`                  | "outside range [0.000001, ...]", rc 5 (0)   | 0, silently |
//! | `nopreempt` with `state MASTER`         | "will not work ... clearing", rc 5          | warn, cleared |
//! | unicast_src_ip without unicast_peer     | "deprecated ... multicast", rc 5            | warn, multicast |
//! | `include` of a missing file             | "Config files missing", rc 5 in -t          | warn |
//! | `include` of itself                     | "Too many open files", then carries on      | error: include loop |
//!
//! keepalived -t exits 5 for anything it reports; our `-t` can exit non-zero when
//! `Config::unhandled` has an entry with `known == false`.

#[cfg(feature = "lb")]
mod lvs;

use super::*;
use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/config")
        .join(name)
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_str(text, Path::new("/etc/keepalived/keepalived.conf"))
}

fn ok(text: &str) -> Config {
    parse(text).unwrap_or_else(|e| panic!("{e}\n--- in:\n{text}"))
}

fn one(body: &str) -> VrrpInstance {
    let text = format!("vrrp_instance VI_1 {{\n{body}\n}}\n");
    ok(&text).instances.remove(0)
}

/// Instance with the required keywords plus `body`.
fn inst(body: &str) -> VrrpInstance {
    one(&format!(
        "interface eth0\nvirtual_router_id 51\nvirtual_ipaddress {{ 192.0.2.100 }}\n{body}"
    ))
}

fn err_of(text: &str) -> ConfigError {
    match parse(text) {
        Ok(c) => panic!("accepted: {c:?}\n--- in:\n{text}"),
        Err(e) => e,
    }
}

fn keywords(c: &Config) -> Vec<(&str, bool)> {
    c.unhandled
        .iter()
        .map(|u| (u.keyword.as_str(), u.known))
        .collect()
}

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "keepalived-rs-config-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn seed_master_config_from_a_guide() {
    let c = load(&fixture("seed-master.conf")).unwrap();
    assert_eq!(c.global.router_id.as_deref(), Some("NodeA"));
    assert_eq!(c.instances.len(), 1);
    let i = &c.instances[0];
    assert_eq!(i.name, "HA_Group");
    assert_eq!(i.at.line, 15);
    assert_eq!(i.initial_state, InitialState::Master);
    assert_eq!(i.interface, "ens33");
    assert_eq!((i.vrid, i.priority), (51, 100));
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    // "secure123" is 9 bytes: keepalived keeps the first 8.
    assert_eq!(i.auth, Some(Auth::Pass(*b"secure12")));
    assert_eq!(i.vips.len(), 1);
    assert_eq!(i.vips[0].addr, v4("192.168.192.200"));
    assert_eq!(i.vips[0].prefix_len, 24);
    assert!(i.accept && i.preempt);
    let smtp = &c.global.smtp;
    assert_eq!(smtp.from.as_deref(), Some("keepalived@example.loc"));
    assert_eq!(smtp.server, Some(("192.168.200.1".to_string(), 25)));
    assert_eq!(smtp.emails, ["admin@example.loc", "ops@example.loc"]);
    assert_eq!(smtp.connect_timeout, Duration::from_secs(30));
    #[cfg(not(feature = "lb"))]
    {
        assert_eq!(keywords(&c), [("virtual_server", true)]);
        let vs = &c.unhandled[0];
        assert_eq!(vs.args, ["192.168.192.200", "80"]);
        assert_eq!(vs.at.line, 31);
    }
    #[cfg(feature = "lb")]
    lvs::seed_master_virtual_server(&c);
}

#[test]
fn seed_guide_config_runs_its_placeholder_state_as_backup() {
    // The guide writes `state MASTER|BACKUP` meaning "one of". keepalived reports it and
    // starts as BACKUP; so do we, and the mistake makes `-t` exit 5.
    let path = fixture("seed-guide.conf");
    let c = load(&path).unwrap();
    assert_eq!(c.instances[0].initial_state, InitialState::Backup);
    assert_eq!(
        c.mistakes,
        [Location {
            file: path.as_path().into(),
            line: 21
        }]
    );

    // Filled in, it is a strict-mode configuration.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("MASTER|BACKUP", "BACKUP");
    let c = parse_str(&text, &path).unwrap();
    let g = &c.global;
    assert!(g.vrrp_strict && g.vrrp_skip_check_adv_addr);
    assert_eq!(g.router_id.as_deref(), Some("LVS01"));
    assert_eq!(g.vrrp_mcast_group4, Ipv4Addr::new(225, 0, 0, 18));
    assert_eq!(g.vrrp_garp_interval, Duration::ZERO);
    let i = &c.instances[0];
    assert_eq!(i.auth, None, "strict mode ignores authentication");
    assert!(!i.accept, "strict mode, not owner: no accept");
    assert_eq!(i.vips.len(), 3);
    assert_eq!(i.vips[1].dev.as_deref(), Some("eth1"));
    assert_eq!(i.vips[2].label.as_deref(), Some("eth2:1"));
    assert_eq!(c.interfaces().collect::<Vec<_>>(), ["eth0", "eth1", "eth2"]);
    assert_eq!(
        keywords(&c),
        [("vrrp_gna_interval", true), ("vrrp_iptables", true),]
    );
    assert_eq!(i.track_interfaces[0].name, "eth0");
}

#[test]
fn seed_script_config_records_script_tracking() {
    let c = load(&fixture("seed-script.conf")).unwrap();
    let i = &c.instances[0];
    assert_eq!(i.vips[0].addr, v4("192.168.91.188"));
    assert_eq!(i.auth, Some(Auth::Pass(*b"1111\0\0\0\0")));
    assert!(c.unhandled.is_empty());
    let s = &c.scripts[0];
    assert_eq!(s.name, "check_nginx");
    assert_eq!(s.script.line, "/etc/keepalived/ng.sh");
    assert!(!s.script.needs_shell());
    assert_eq!(s.interval, Duration::from_secs(5));
    assert_eq!(s.timeout, s.interval, "timeout defaults to the interval");
    assert_eq!((s.weight.weight, s.weight.reverse), (-30, false));
    assert_eq!((s.rise, s.fall, s.init_fail), (2, 2, false));
    assert_eq!(i.track_scripts[0].name, "check_nginx");
    assert_eq!(i.track_scripts[0].weight, None);
    assert_eq!(i.track_scripts[0].at.line, 21);
}

#[test]
fn tracking_and_notify_keywords() {
    let c = ok("vrrp_script chk {\n script \"/bin/pidof nginx || exit 1\"\n interval 2\n timeout 1\n                 weight 10 reverse\n init_fail\n user nobody\n}\n\
                vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 }\n\
                track_interface {\n eth1 weight -254\n eth2\n eth2\n }\n\
                track_script {\n chk weight 0\n }\n\
                notify_master \"/n.sh master\"\n notify /n.sh\n notify_master_rx_lower_pri /lp.sh\n}\n\
                global_defs {\n notify_fifo /run/k.fifo\n notify_fifo_script /r.sh\n}\n");
    let s = &c.scripts[0];
    assert!(s.script.needs_shell());
    assert_eq!(s.script.program(), "/bin/pidof");
    assert_eq!(
        (s.interval, s.timeout),
        (Duration::from_secs(2), Duration::from_secs(1))
    );
    assert_eq!(
        (s.weight.weight, s.weight.reverse, s.init_fail),
        (10, true, true)
    );
    assert_eq!(s.user, Some(("nobody".to_string(), None)));
    let i = &c.instances[0];
    let ifs: Vec<_> = i
        .track_interfaces
        .iter()
        .map(|t| (t.name.as_str(), t.weight.map(|w| w.weight)))
        .collect();
    assert_eq!(
        ifs,
        [("eth1", Some(-253)), ("eth2", None)],
        "254 lowered, duplicate ignored"
    );
    assert_eq!(i.track_scripts[0].weight.map(|w| w.weight), Some(0));
    assert_eq!(
        i.notify.master.as_ref().map(|c| c.line.as_str()),
        Some("/n.sh master")
    );
    assert_eq!(
        i.notify.generic.as_ref().map(|c| c.line.as_str()),
        Some("/n.sh")
    );
    assert!(i.notify.master_rx_lower_pri.is_some() && i.notify.backup.is_none());
    let f = c.global.notify_fifo.as_ref().unwrap();
    assert_eq!(f.path, Path::new("/run/k.fifo"));
    assert_eq!(f.script.as_ref().map(|c| c.line.as_str()), Some("/r.sh"));

    // keepalived ignores a track_script naming no vrrp_script, with a message; -t exits 5.
    let c =
        ok("vrrp_instance A {\ninterface eth0\nvirtual_router_id 1\ntrack_script {\n nope\n}\n}\n");
    assert!(c.instances[0].track_scripts.is_empty());
    assert_eq!(c.mistakes.len(), 1);
    assert_eq!(c.mistakes[0].line, 5);
    let e = err_of("vrrp_script s {\n interval 1\n}\n");
    assert!(e.to_string().contains("script is required"), "{e}");
    let e = err_of("vrrp_script s {\n script /x\n weight 300\n}\n");
    assert!(
        e.to_string().contains("weight '300' is not in -253..253"),
        "{e}"
    );
}

#[test]
fn defaults() {
    let i = inst("");
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(i.priority, 100);
    assert_eq!(i.advert_int, Duration::from_secs(1));
    assert_eq!(i.version, VrrpVersion::V2);
    assert!(i.preempt && i.accept && !i.dont_track_primary);
    assert_eq!(i.preempt_delay, Duration::ZERO);
    assert_eq!(i.auth, None);
    assert_eq!(i.garp_master_delay, Duration::from_secs(5));
    assert_eq!(i.garp_master_repeat, 5);
    assert_eq!(i.garp_master_refresh, None);
    assert_eq!((i.unicast_src_ip, i.mcast_src_ip), (None, None));
    assert!(!i.is_unicast() && !i.is_ipv6());
    let vip = &i.vips[0];
    assert_eq!(
        vip,
        &VirtualAddr {
            addr: v4("192.0.2.100"),
            prefix_len: 32,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None
        }
    );
    let g = ok("").global;
    assert_eq!(g, GlobalDefs::default());
}

#[test]
fn master_without_priority_is_the_address_owner() {
    // vrrp_complete_instance: no priority and state MASTER -> 255; no state -> from priority.
    let i = inst("state MASTER");
    assert_eq!((i.priority, i.initial_state), (255, InitialState::Master));
    assert!(i.is_address_owner());
    let i = inst("priority 255");
    assert_eq!(i.initial_state, InitialState::Master);
    let i = inst("priority 200\nstate MASTER");
    assert_eq!((i.priority, i.initial_state), (200, InitialState::Master));
    // strict: the state must follow ownership.
    let c = ok(
        "global_defs { vrrp_strict }\nvrrp_instance A {\ninterface eth0\nvirtual_router_id 1\n\
                priority 200\nstate MASTER\nvirtual_ipaddress { 192.0.2.1 }\n}",
    );
    assert_eq!(c.instances[0].initial_state, InitialState::Backup);
}

#[test]
fn global_defaults_flow_into_instances() {
    let c = ok("global_defs {\n vrrp_version 3\n vrrp_garp_master_delay 10\n\
                vrrp_garp_master_repeat 0\n vrrp_garp_master_refresh 60\n vrrp_garp_interval 0.001\n\
                script_user nobody nogroup\n enable_script_security\n}\n\
                vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 }\n}\n\
                vrrp_instance B {\n interface eth0\n virtual_router_id 2\n version 2\n garp_master_delay 1\n\
                garp_master_repeat 2\n garp_master_refresh 0\n virtual_ipaddress { 192.0.2.2 }\n}\n");
    let g = &c.global;
    assert_eq!(g.vrrp_garp_master_repeat, 1, "0 becomes 1 as in keepalived");
    assert_eq!(g.vrrp_garp_interval, Duration::from_millis(1));
    assert_eq!(
        g.script_user,
        Some(("nobody".into(), Some("nogroup".into())))
    );
    assert!(g.enable_script_security);
    let (a, b) = (&c.instances[0], &c.instances[1]);
    assert_eq!(a.version, VrrpVersion::V3);
    assert_eq!(a.garp_master_delay, Duration::from_secs(10));
    assert_eq!(a.garp_master_repeat, 1);
    assert_eq!(a.garp_master_refresh, Some(Duration::from_secs(60)));
    assert_eq!(b.version, VrrpVersion::V2);
    assert_eq!(b.garp_master_delay, Duration::from_secs(1));
    assert_eq!(b.garp_master_repeat, 2);
    assert_eq!(b.garp_master_refresh, None, "0 means no refresh");
}

#[test]
fn advert_int_rules_per_version() {
    let adv = |body: &str| inst(body).advert_int;
    assert_eq!(adv("advert_int 3"), Duration::from_secs(3));
    assert_eq!(adv("advert_int 255"), Duration::from_secs(255));
    // v2 rounds fractions to whole seconds, at least 1.
    assert_eq!(adv("advert_int 1.5"), Duration::from_secs(2));
    assert_eq!(adv("advert_int 1.4"), Duration::from_secs(1));
    assert_eq!(adv("advert_int 0.2"), Duration::from_secs(1));
    // v3: 10 ms steps, rounded, below 40.96 s; `version` may come after advert_int.
    assert_eq!(
        adv("advert_int 0.015\nversion 3"),
        Duration::from_millis(20)
    );
    assert_eq!(adv("version 3\nadvert_int 0.01"), Duration::from_millis(10));
    assert_eq!(adv("version 3\nadvert_int .05"), Duration::from_millis(50));
    assert_eq!(
        adv("version 3\nadvert_int 40.95"),
        Duration::from_millis(40_950)
    );
    assert_eq!(
        adv("version 3\nadvert_int 0.0149"),
        Duration::from_millis(10)
    );

    let base =
        "vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress { 192.0.2.1 }\n";
    for (body, msg) in [
        ("version 3\nadvert_int 41", "41 s is out of range (VRRPv3"),
        ("version 3\nadvert_int 40.96", "out of range"),
        ("advert_int 256", "out of range [0.01, 255]"),
        ("advert_int 0", "out of range"),
        ("advert_int 0.005", "out of range"),
        ("advert_int abc", "not a number of seconds"),
        ("advert_int -1", "not a number of seconds"),
        ("advert_int 1.0000001", "at most 6 decimals"),
        ("advert_int", "missing value"),
    ] {
        let e = err_of(&format!("{base}{body}\n}}\n"));
        assert_eq!(e.keyword.as_deref(), Some("advert_int"), "{body}");
        assert_eq!(
            e.at.as_ref().unwrap().line,
            5 + body.matches('\n').count() as u32,
            "{body}"
        );
        assert!(e.message.contains(msg), "{body}: {e}");
    }
}

#[test]
fn authentication_rules() {
    let pass = |body: &str| inst(&format!("authentication {{\n{body}\n}}")).auth;
    assert_eq!(
        pass("auth_type PASS\nauth_pass abc"),
        Some(Auth::Pass(*b"abc\0\0\0\0\0"))
    );
    assert_eq!(
        pass("auth_type PASS\nauth_pass 0123456789"),
        Some(Auth::Pass(*b"01234567"))
    );
    assert_eq!(
        pass("auth_pass \"a b\"\nauth_type PASS"),
        Some(Auth::Pass(*b"a b\0\0\0\0\0"))
    );
    assert_eq!(pass("auth_type PASS"), None, "no password: ignored");
    assert_eq!(pass("auth_pass x"), None, "no type: none");
    // v3 has no authentication: keepalived ignores it, also AH.
    let i = inst("version 3\nauthentication {\nauth_type AH\nauth_pass x\n}");
    assert_eq!(i.auth, None);

    let e = err_of(
        "vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\nauthentication {\n\
                    auth_type AH\nauth_pass x\n}\nvirtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (5, Some("auth_type"))
    );
    assert!(e.message.contains("AH"), "{e}");
    let e = err_of("vrrp_instance V {\nauthentication {\nauth_type MD5\n}\n}\n");
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (3, Some("auth_type"))
    );
}

#[test]
fn virtual_address_lines() {
    let i = inst(
        "virtual_ipaddress_excluded {\n\
           192.0.2.10/24 brd + dev eth1 scope link label eth1:vip\n\
           198.51.100.7/30 broadcast - scope 200\n\
           203.0.113.9/24 brd 203.0.113.255 scope 7 no_track preferred_lft forever\n\
           2001:db8::1/64 dev eth2\n\
           fe80::1 label x scope host\n\
         }",
    );
    let x = &i.excluded_vips;
    assert_eq!(x.len(), 5);
    assert_eq!(x[0].broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
    assert_eq!(x[0].dev.as_deref(), Some("eth1"));
    assert_eq!(x[0].scope, Scope::Link);
    assert_eq!(x[0].label.as_deref(), Some("eth1:vip"));
    assert_eq!(x[1].broadcast, Some(Ipv4Addr::new(198, 51, 100, 4)));
    assert_eq!(x[1].scope, Scope::Site);
    assert_eq!(x[2].scope, Scope::Other(7));
    assert_eq!(x[2].broadcast, Some(Ipv4Addr::new(203, 0, 113, 255)));
    assert_eq!(
        x[3].addr,
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))
    );
    assert_eq!((x[3].prefix_len, x[4].prefix_len), (64, 128));
    // label and scope do not apply to IPv6: dropped with a warning, as keepalived.
    assert_eq!((x[4].label.clone(), x[4].scope), (None, Scope::Global));
    // excluded addresses may mix families; the instance stays IPv4.
    assert!(!i.is_ipv6());

    let c = ok("vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\n\
                virtual_ipaddress {\n192.0.2.1 no_track foo\n}\n}\n");
    assert_eq!(keywords(&c), [("no_track", true), ("foo", false)]);
    assert_eq!(c.unhandled[1].at.line, 5);

    let base = "vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n";
    for (line, msg) in [
        ("192.0.2.300", "not an IP address"),
        ("192.0.2.1/33", "not a prefix length"),
        ("192.0.2.1/", "not a prefix length"),
        ("192.0.2.1 192.0.2.2", "one address per line"),
        ("192.0.2.1 dev", "no dev value"),
        ("192.0.2.1 scope galaxy", "not a scope"),
        ("192.0.2.1/31 brd +", "too long for a broadcast"),
        ("2001:db8::1 brd +", "IPv6"),
        ("192.0.2.1 label abcdefghijklmnop", "longer than 15"),
        (
            "192.0.2.1 dev abcdefghijklmnop",
            "not a valid interface name",
        ),
        ("2001:db8::5", "address family must match"),
    ] {
        let e = err_of(&format!("{base}192.0.2.50\n{line}\n}}\n}}\n"));
        assert_eq!(e.at.as_ref().unwrap().line, 6, "{line}");
        assert_eq!(
            e.keyword.as_deref(),
            Some("virtual_ipaddress"),
            "{line}: {e}"
        );
        assert!(e.message.contains(msg), "{line}: {e}");
    }
}

#[test]
fn unicast_and_source_addresses() {
    let i = inst("unicast_src_ip 192.0.2.1\nunicast_peer {\n 192.0.2.2\n 192.0.2.3 min_ttl 3\n}");
    assert!(i.is_unicast());
    assert_eq!(i.unicast_peers, [v4("192.0.2.2"), v4("192.0.2.3")]);
    assert_eq!(i.unicast_src_ip, Some(v4("192.0.2.1")));
    // keepalived keeps one source address for both keywords.
    assert_eq!(i.mcast_src_ip, Some(v4("192.0.2.1")));
    let i = inst("mcast_src_ip 192.0.2.9");
    assert_eq!(
        (i.mcast_src_ip, i.is_unicast()),
        (Some(v4("192.0.2.9")), false)
    );
    // A unicast keyword with no peers stays multicast (keepalived: deprecated usage).
    assert!(!inst("unicast_src_ip 192.0.2.1").is_unicast());

    let e = err_of(
        "vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\n\
                    virtual_ipaddress { 192.0.2.1 }\nunicast_peer {\n2001:db8::2\n}\n}\n",
    );
    assert_eq!(e.at.as_ref().unwrap().line, 6);
    assert!(e.message.contains("family"), "{e}");
    let e = err_of("vrrp_instance V {\nunicast_peer { 192.0.2.2 ttl 3 }\n}\n");
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (2, Some("unicast_peer"))
    );
    let e = err_of("global_defs {\nvrrp_strict\n}\nvrrp_instance V {\ninterface eth0\n\
                    virtual_router_id 1\nvirtual_ipaddress { 192.0.2.1 }\nunicast_peer { 192.0.2.2 }\n}\n");
    assert!(e.message.contains("strict"), "{e}");
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (8, Some("unicast_peer"))
    );
}

#[test]
fn source_and_peer_addresses_drop_a_prefix_length_or_range_as_keepalived_does() {
    // keepalived reads these with inet_stosockaddr, which cuts the text at a '-' (a range) or,
    // failing that, at a '/' (a prefix length) and reads the address before it.
    let i = inst(
        "unicast_src_ip 198.51.100.7/26\nunicast_peer {\n 198.51.100.8/26\n 198.51.100.9-12\n}",
    );
    assert_eq!(i.unicast_src_ip, Some(v4("198.51.100.7")));
    assert_eq!(i.unicast_peers, [v4("198.51.100.8"), v4("198.51.100.9")]);
    assert_eq!(
        inst("mcast_src_ip 198.51.100.7/32").mcast_src_ip,
        Some(v4("198.51.100.7"))
    );
    let text = "global_defs {\n vrrp_mcast_group4 239.1.2.3/8\n}\n";
    assert_eq!(
        ok(text).global.vrrp_mcast_group4,
        Ipv4Addr::new(239, 1, 2, 3)
    );
    // What is left must still be an address, and the error shows the whole word.
    for bad in ["/24", "198.51.100/24", "198.51.100.7/24-1", "-198.51.100.7"] {
        let e = err_of(&format!(
            "vrrp_instance V {{\ninterface eth0\nvirtual_router_id 1\n\
             virtual_ipaddress {{ 192.0.2.1 }}\nunicast_src_ip {bad}\n}}\n"
        ));
        assert!(
            e.message.contains(&format!("'{bad}' is not an IP address")),
            "{e}"
        );
        assert_eq!(e.at.as_ref().unwrap().line, 5);
    }
}

#[test]
fn ipv6_instances_use_version_3() {
    let i = inst_v6("");
    assert!(i.is_ipv6());
    assert_eq!(i.version, VrrpVersion::V3);
    assert_eq!(inst_v6("version 2").version, VrrpVersion::V3);
    let c = ok(
        "global_defs {\n vrrp_version 2\n}\nvrrp_instance V {\ninterface eth0\n\
                virtual_router_id 1\nvirtual_ipaddress { fe80::1 }\n}\n",
    );
    assert_eq!(c.instances[0].version, VrrpVersion::V3);
}

fn inst_v6(body: &str) -> VrrpInstance {
    one(&format!("interface eth0\nvirtual_router_id 1\nvirtual_ipaddress {{\nfe80::1\n2001:db8::1/64\n}}\n{body}"))
}

#[test]
fn preempt_and_accept() {
    let i = inst("nopreempt\npreempt_delay 2.5");
    // keepalived clears preempt_delay with nopreempt.
    assert_eq!((i.preempt, i.preempt_delay), (false, Duration::ZERO));
    let i = inst("preempt_delay 2.5");
    assert_eq!(
        (i.preempt, i.preempt_delay),
        (true, Duration::from_millis(2500))
    );
    assert!(
        inst("state MASTER\npriority 150\nnopreempt").preempt,
        "nopreempt needs BACKUP"
    );
    assert!(
        inst("priority 255\nnopreempt").preempt,
        "owner always preempts"
    );
    assert!(!inst("no_accept").accept);
    assert!(inst("no_accept\naccept").accept);
    assert!(inst("dont_track_primary").dont_track_primary);
    let strict = |body: &str| {
        let text = format!(
            "global_defs {{ vrrp_strict }}\nvrrp_instance V {{\ninterface eth0\n\
             virtual_router_id 1\nvirtual_ipaddress {{ 192.0.2.1 }}\n{body}\n}}\n"
        );
        ok(&text).instances.remove(0)
    };
    assert!(!strict("").accept);
    assert!(strict("priority 255").accept, "the owner accepts");
    assert!(!strict("accept").accept, "strict VRRPv2 cannot accept");
    assert!(strict("version 3\naccept").accept);
    assert_eq!(strict("preempt_delay 3").preempt_delay, Duration::ZERO);
}

#[test]
fn instance_errors_name_file_line_and_keyword() {
    let base =
        "vrrp_instance V {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress { 192.0.2.1 }\n";
    for (body, keyword, msg) in [
        ("priority 0", "priority", "out of range [1, 255]"),
        ("priority 256", "priority", "out of range"),
        ("priority high", "priority", "not a number"),
        ("priority { 1 }", "priority", "does not take a { } block"),
        (
            "virtual_router_id 0",
            "virtual_router_id",
            "out of range [1, 255]",
        ),
        ("virtual_router_id 256", "virtual_router_id", "out of range"),
        ("version 4", "version", "not a VRRP version"),
        ("preempt_delay 1001", "preempt_delay", "out of range"),
        ("garp_master_delay -1", "garp_master_delay", "not a number"),
        (
            "interface eth0123456789abcd",
            "interface",
            "not a valid interface name",
        ),
        ("mcast_src_ip 192.0.2", "mcast_src_ip", "not an IP address"),
        ("unicast_src_ip 2001:db8::1", "unicast_src_ip", "family"),
        (
            "virtual_ipaddress 192.0.2.1",
            "virtual_ipaddress",
            "expects a { } block",
        ),
    ] {
        let e = err_of(&format!("{base}{body}\n}}\n"));
        assert_eq!(e.kind, ConfigErrorKind::Invalid);
        assert_eq!(e.at.as_ref().unwrap().line, 5, "{body}");
        assert_eq!(
            *e.at.as_ref().unwrap().file,
            *Path::new("/etc/keepalived/keepalived.conf")
        );
        assert_eq!(e.keyword.as_deref(), Some(keyword), "{body}");
        assert!(e.message.contains(msg), "{body}: {e}");
    }
    // Whole-instance errors point at the vrrp_instance line.
    for (text, msg) in [
        (
            "\nvrrp_instance V {\ninterface eth0\nvirtual_ipaddress { 192.0.2.1 }\n}\n",
            "virtual_router_id is required",
        ),
        (
            "\nvrrp_instance V {\nvirtual_router_id 1\nvirtual_ipaddress { 192.0.2.1 }\n}\n",
            "interface is required",
        ),
        (
            "\nvrrp_instance V {\ninterface eth0\nvirtual_router_id 1\nversion 3\n}\n",
            "at least one is required",
        ),
        ("\nvrrp_instance {\n}\n", "needs exactly one name"),
    ] {
        let e = err_of(text);
        assert_eq!(e.at.as_ref().unwrap().line, 2, "{text}");
        assert_eq!(e.keyword.as_deref(), Some("vrrp_instance"));
        assert!(e.message.contains(msg), "{text}: {e}");
    }
    // v2 without VIPs: keepalived only calls it "sensible".
    assert!(one("interface eth0\nvirtual_router_id 1").vips.is_empty());
}

#[test]
fn global_errors() {
    for (body, keyword, msg) in [
        ("vrrp_version 1", "vrrp_version", "not a VRRP version"),
        (
            "vrrp_mcast_group4 192.0.2.1",
            "vrrp_mcast_group4",
            "not an IPv4 multicast",
        ),
        (
            "vrrp_mcast_group4 ff02::12",
            "vrrp_mcast_group4",
            "not an IPv4 multicast",
        ),
        (
            "vrrp_garp_master_delay 1.5",
            "vrrp_garp_master_delay",
            "not a number",
        ),
        (
            "vrrp_garp_master_refresh x",
            "vrrp_garp_master_refresh",
            "not a number",
        ),
        (
            "vrrp_garp_interval 1,5",
            "vrrp_garp_interval",
            "not a number of seconds",
        ),
        ("router_id", "router_id", "missing value"),
        (
            "vrrp_strict {\n}",
            "vrrp_strict",
            "does not take a { } block",
        ),
    ] {
        let e = err_of(&format!("# c\nglobal_defs {{\n{body}\n}}\n"));
        assert_eq!(e.at.as_ref().unwrap().line, 3, "{body}");
        assert_eq!(e.keyword.as_deref(), Some(keyword), "{body}");
        assert!(e.message.contains(msg), "{body}: {e}");
    }
}

#[test]
fn duplicate_vrids() {
    let two = |a: &str, b: &str| {
        format!(
            "vrrp_instance A {{\nvirtual_router_id 7\n{a}\n}}\n\
             vrrp_instance B {{\nvirtual_router_id 7\n{b}\n}}\n"
        )
    };
    let vip4 = "virtual_ipaddress { 192.0.2.1 }";
    let e = err_of(&two(
        &format!("interface eth0\n{vip4}"),
        &format!("interface eth0\n{vip4}"),
    ));
    assert_eq!(e.at.as_ref().unwrap().line, 6);
    assert_eq!(
        e.message,
        "A and B both use VRID 7 with IPv4 on interface eth0"
    );
    // Other interface, other family, or unicast next to multicast: no conflict.
    ok(&two(
        &format!("interface eth0\n{vip4}"),
        &format!("interface eth1\n{vip4}"),
    ));
    ok(&two(
        &format!("interface eth0\n{vip4}"),
        "interface eth0\nvirtual_ipaddress { fe80::1 }",
    ));
    let uni = |peer: &str| format!("interface eth0\n{vip4}\nunicast_peer {{ {peer} }}");
    ok(&two(&format!("interface eth0\n{vip4}"), &uni("192.0.2.2")));
    ok(&two(&uni("192.0.2.2"), &uni("192.0.2.3")));
    err_of(&two(&uni("192.0.2.2"), &uni("192.0.2.2")));
    // Instance names are unique too.
    let e = err_of("vrrp_instance A {\n}\nvrrp_instance A {\n}\n");
    assert_eq!(e.at.as_ref().unwrap().line, 3);
}

#[test]
fn braces_quotes_and_comments() {
    let c = ok(
        "# comment\n! another\nvrrp_instance VI_1   # trailing\n{\n  interface eth0 ! x\n\
                virtual_router_id 9\n  virtual_ipaddress\n  {\n 192.0.2.1 }\n\
                notify_master \"/usr/local/bin/notify master # not a comment\"\n\
                unicast_peer { 192.0.2.2 }\n}\n",
    );
    let i = &c.instances[0];
    assert_eq!((i.name.as_str(), i.vrid), ("VI_1", 9));
    assert_eq!(i.vips[0].addr, v4("192.0.2.1"));
    assert_eq!(i.unicast_peers, [v4("192.0.2.2")]);
    let notify = i.notify.master.as_ref().unwrap();
    assert_eq!(notify.line, "/usr/local/bin/notify master # not a comment");
    assert_eq!(notify.at.line, 10);

    let e = err_of("vrrp_instance A {\ninterface eth0\n}\n}\n");
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (4, Some("}"))
    );
    let e = err_of(
        "global_defs {\n}\nvrrp_instance A {\ninterface eth0\nvirtual_ipaddress {\n192.0.2.1\n}\n",
    );
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (3, Some("vrrp_instance"))
    );
    assert!(e.message.contains("missing '}'"));
    let e = err_of("global_defs {\n}\n{\n}\n");
    assert_eq!(
        (e.at.as_ref().unwrap().line, e.keyword.as_deref()),
        (3, Some("{"))
    );
}

#[test]
fn unknown_and_unsupported_keywords_are_recorded_not_fatal() {
    let c = ok("foo_bar {\n  x 1\n  nested { y }\n}\nvrrp_sync_group G {\n group {\n VI_1\n }\n}\n\
                global_defs {\n lvs_id LVS1\n no_such_global 3\n}\n\
                vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 }\n\
                track_interface {\n eth1 weight 10\n }\n notify \"/bin/n x\"\n typo_keyword\n\
                authentication {\n auth_type PASS\n auth_pass p\n auth_extra 1\n }\n strict_mode\n}\n");
    assert_eq!(
        keywords(&c),
        [
            ("foo_bar", false),
            ("lvs_id", true),
            ("no_such_global", false),
            ("typo_keyword", false),
            ("auth_extra", false),
            ("strict_mode", true),
        ]
    );
    let lines: Vec<u32> = c.unhandled.iter().map(|u| u.at.line).collect();
    assert_eq!(lines, [1, 11, 12, 22, 26, 28]);
    assert_eq!(c.sync_groups[0].members, ["VI_1"]);
    assert_eq!(c.instances.len(), 1);
    assert_eq!(c.instances[0].auth, Some(Auth::Pass(*b"p\0\0\0\0\0\0\0")));
}

#[test]
fn interfaces_are_distinct() {
    let c = ok("vrrp_instance A {\ninterface eth1\nvirtual_router_id 1\n\
                virtual_ipaddress {\n192.0.2.1 dev eth2\n192.0.2.2 dev eth1\n}\n}\n\
                vrrp_instance B {\ninterface eth0\nvirtual_router_id 2\n\
                virtual_ipaddress { 192.0.2.3 }\nvirtual_ipaddress_excluded { 192.0.2.4 dev eth2 }\n}\n\
                vrrp_instance C {\ninterface eth1\nvirtual_router_id 3\nvirtual_ipaddress { 192.0.2.5 }\n}\n");
    assert_eq!(c.interfaces().collect::<Vec<_>>(), ["eth1", "eth2", "eth0"]);
}

#[test]
fn load_missing_file_is_exit_4() {
    let e = load(Path::new("/nonexistent/keepalived-rs/keepalived.conf")).unwrap_err();
    assert_eq!(e.kind, ConfigErrorKind::FileMissing);
    assert_eq!(e.exit_code(), 4);
    assert!(e
        .to_string()
        .contains("/nonexistent/keepalived-rs/keepalived.conf"));
}

#[test]
fn includes_with_globs_in_sorted_order() {
    let d = TempDir::new("glob");
    let main = d.write(
        "keepalived.conf",
        "global_defs {\n include defs/*.conf\n}\n\
         include conf.d/vrrp-[0-9]*.conf\n\
         include conf.d/missing-*.conf\n\
         include /nonexistent/keepalived-rs/x.conf\n",
    );
    d.write("defs/g.conf", "router_id from_include\n");
    // Written out of order: the glob result is sorted.
    d.write(
        "conf.d/vrrp-2.conf",
        "vrrp_instance B {\n interface eth0\n virtual_router_id 2\n include ../vips/b.conf\n}\n",
    );
    d.write(
        "conf.d/vrrp-1.conf",
        "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    d.write(
        "conf.d/.vrrp-0.conf",
        "this is hidden and must not be read {\n",
    );
    d.write("conf.d/vrrp-3.conf.bak", "nor this {\n");
    d.write("conf.d/other.conf", "nor this {\n");
    std::fs::create_dir_all(d.0.join("conf.d/vrrp-4.conf")).unwrap();
    d.write(
        "vips/b.conf",
        "virtual_ipaddress {\n 192.0.2.2\n}\nnotify_master /bin/true\n",
    );

    let c = load(&main).unwrap();
    assert_eq!(c.global.router_id.as_deref(), Some("from_include"));
    let names: Vec<&str> = c.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["A", "B"]);
    assert_eq!(c.instances[1].vips[0].addr, v4("192.0.2.2"));
    assert_eq!(*c.instances[0].at.file, *d.0.join("conf.d/vrrp-1.conf"));
    // Locations inside included files name the included file and its own line.
    let u = &c.instances[1].notify.master.as_ref().unwrap().at;
    assert!(u.file.ends_with("vips/b.conf"), "{u}");
    assert_eq!(u.line, 4);

    // parse_str resolves includes relative to the given file's directory.
    let c = parse_str("include conf.d/vrrp-1.conf\n", &main).unwrap();
    assert_eq!(c.instances.len(), 1);
    // {a,b} alternatives, as glob(3) with GLOB_BRACE.
    let c = parse_str("include conf.d/vrrp-{2,1}.conf\n", &main).unwrap();
    assert_eq!(c.instances.len(), 2);
}

#[test]
fn include_errors_point_into_the_included_file() {
    let d = TempDir::new("incerr");
    let main = d.write("main.conf", "\n\ninclude sub/bad.conf\n");
    d.write(
        "sub/bad.conf",
        "vrrp_instance A {\n interface eth0\n priority 300\n}\n",
    );
    let e = load(&main).unwrap_err();
    assert_eq!(
        e.at,
        Some(Location {
            file: d.0.join("sub/bad.conf").into(),
            line: 3
        })
    );
    assert_eq!(e.keyword.as_deref(), Some("priority"));

    // An unclosed block in an included file.
    d.write("sub/bad.conf", "global_defs {\n");
    let e = load(&main).unwrap_err();
    assert_eq!(
        e.at,
        Some(Location {
            file: d.0.join("sub/bad.conf").into(),
            line: 1
        })
    );
}

#[test]
fn include_loops_and_depth_are_bounded() {
    let d = TempDir::new("loop");
    let a = d.write("a.conf", "include b.conf\n");
    d.write("b.conf", "\ninclude ./a.conf\n");
    let e = load(&a).unwrap_err();
    assert_eq!(e.kind, ConfigErrorKind::Invalid);
    assert_eq!(
        e.at,
        Some(Location {
            file: d.0.join("b.conf").into(),
            line: 2
        })
    );
    assert_eq!(e.keyword.as_deref(), Some("include"));
    assert!(e.message.contains("include loop"), "{e}");

    let s = d.write("self.conf", "include self.conf\n");
    assert!(load(&s).unwrap_err().message.contains("include loop"));

    // A chain of 8 includes is fine, 9 is too deep.
    for n in 0..10 {
        d.write(&format!("d{n}.conf"), &format!("include d{}.conf\n", n + 1));
    }
    d.write("d10.conf", "global_defs {\n router_id deep\n}\n");
    let c = load(&d.0.join("d2.conf")).unwrap();
    assert_eq!(c.global.router_id.as_deref(), Some("deep"));
    let e = load(&d.0.join("d1.conf")).unwrap_err();
    assert!(e.message.contains("nested deeper than 8"), "{e}");
    assert_eq!(*e.at.as_ref().unwrap().file, *d.0.join("d9.conf"));
}

#[test]
fn vips_past_255_go_in_front_of_the_excluded_ones() {
    let vips: String = (0..260)
        .map(|n| format!("10.{}.{}.1\n", n / 256, n % 256))
        .collect();
    let i = one(&format!(
        "interface eth0\nvirtual_router_id 51\nvirtual_ipaddress {{\n{vips}}}\n\
         virtual_ipaddress_excluded {{\n192.0.2.9\n}}"
    ));
    assert_eq!(i.vips.len(), 255);
    assert_eq!(i.vips[254].addr, v4("10.0.254.1"));
    let x: Vec<IpAddr> = i.excluded_vips.iter().map(|v| v.addr).collect();
    let want: Vec<IpAddr> = ["10.0.255.1", "10.1.0.1", "10.1.1.1", "10.1.2.1", "10.1.3.1"]
        .iter()
        .chain(&["192.0.2.9"])
        .map(|s| v4(s))
        .collect();
    assert_eq!(x, want);
}

#[test]
fn crlf_line_endings_parse_like_lf() {
    for name in ["seed-master.conf", "seed-script.conf"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let crlf = text.replace('\n', "\r\n");
        let (a, b) = (ok(&text), ok(&crlf));
        assert_eq!(a.instances, b.instances, "{name}");
        assert_eq!(a.global, b.global, "{name}");
        let words = |c: &Config| -> Vec<(String, Vec<String>, u32)> {
            c.unhandled
                .iter()
                .map(|u| (u.keyword.clone(), u.args.clone(), u.at.line))
                .collect()
        };
        assert_eq!(words(&a), words(&b), "{name}");
    }
}

#[test]
fn unbalanced_braces_name_the_place() {
    let cases = [
        // The innermost open block is reported, at its keyword's line.
        (
            "global_defs {\nrouter_id x\n}\nvrrp_instance V {\nunicast_peer {\n192.0.2.1\n",
            5,
            "unicast_peer",
            "block is not closed",
        ),
        (
            "vrrp_instance V {\nunicast_peer {\n192.0.2.1\n}\n",
            1,
            "vrrp_instance",
            "block is not closed",
        ),
        (
            "vrrp_instance V {\n",
            1,
            "vrrp_instance",
            "block is not closed",
        ),
        ("global_defs {\n}\n}\n", 3, "}", "without an open block"),
        ("{\n}\n", 1, "{", "without a keyword"),
        ("global_defs {\n}\n{\n}\n", 3, "{", "without a keyword"),
    ];
    for (text, line, keyword, msg) in cases {
        let e = err_of(text);
        assert_eq!(e.at.as_ref().map(|a| a.line), Some(line), "{text:?}: {e}");
        assert_eq!(e.keyword.as_deref(), Some(keyword), "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs: each is a clear error with file:line, quickly.

#[test]
fn seconds_past_u64_microseconds_are_out_of_range_not_wrapped() {
    // 18446744073709.999999 s is 448383 us past u64::MAX microseconds: it used to wrap to
    // 448 ms (preempt_delay) or round to 1 s (advert_int).
    for (keyword, range) in [
        ("advert_int", "[0.01, 255]"),
        ("preempt_delay", "[0, 1000]"),
    ] {
        for value in [
            "18446744073709.999999",
            "99999999999999999999999",
            "18446744073710",
        ] {
            let e = err_of(&format!(
                "vrrp_instance V {{\ninterface eth0\nvirtual_router_id 1\n\
                 virtual_ipaddress {{ 192.0.2.1 }}\n{keyword} {value}\n}}\n"
            ));
            assert_eq!(e.keyword.as_deref(), Some(keyword), "{value}");
            assert_eq!(e.at.as_ref().unwrap().line, 5, "{value}");
            assert!(
                e.message.contains(value) && e.message.contains(range),
                "{keyword} {value}: {e}"
            );
        }
    }
    let e = err_of("global_defs {\nvrrp_garp_interval 18446744073709.999999\n}\n");
    assert!(e.message.contains("out of range"), "{e}");
}

/// Runs `f`, which must fail, and returns its error. The limits bound the work; the 60 s guard
/// only catches a hang (the aarch64 run under qemu-user is ten times slower than native).
fn quick_err(f: impl FnOnce() -> Result<Config, ConfigError>) -> ConfigError {
    let start = std::time::Instant::now();
    let e = f().expect_err("hostile input accepted");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}: {e}");
    e
}

#[test]
fn include_brace_expansion_is_bounded() {
    // 2^24 paths, built in memory before the file system was looked at.
    let groups = "{a,b}".repeat(24);
    let e = quick_err(|| parse(&format!("\n\ninclude /nonexistent/{groups}\n")));
    assert_eq!(e.at.as_ref().unwrap().line, 3);
    assert_eq!(e.keyword.as_deref(), Some("include"));
    assert!(e.message.contains("more than 1024 paths"), "{e}");
    // Groups nested inside one another: few paths, deep recursion.
    let nested = format!("{}x{}", "{a".repeat(40), ",}".repeat(40));
    let e = quick_err(|| parse(&format!("include /nonexistent/{nested}\n")));
    assert!(e.message.contains("more than 32 {a,b} groups"), "{e}");
    let long = "x".repeat(5000);
    let e = quick_err(|| parse(&format!("include /nonexistent/{long}\n")));
    assert!(e.message.contains("longer than 4096 bytes"), "{e}");
    // Within the limits, all alternatives are tried.
    assert!(parse(&format!("include /nonexistent/{}\n", "{a,b}".repeat(10))).is_ok());
}

#[test]
fn include_walk_of_the_whole_file_system_is_bounded() {
    let e = quick_err(|| parse("global_defs {\ninclude /*/*/*/*/*\n}\n"));
    assert_eq!(e.at.as_ref().unwrap().line, 2, "{e}");
    assert_eq!(e.keyword.as_deref(), Some("include"), "{e}");
    assert!(
        e.message.contains("more than 100000 directory entries"),
        "{e}"
    );
}

#[test]
fn included_files_are_bounded_in_all() {
    // No loop: each file includes the next one four times, 4^7 reads in all.
    let d = TempDir::new("fanout");
    for n in 0..7 {
        let line = format!("include f{}.conf\n", n + 1);
        d.write(&format!("f{n}.conf"), &line.repeat(4));
    }
    d.write("f7.conf", "! leaf\n");
    let main = d.0.join("f0.conf");
    let e = quick_err(|| load(&main));
    assert_eq!(e.keyword.as_deref(), Some("include"), "{e}");
    assert!(e.message.contains("more than 4096 included files"), "{e}");
    // 4^5 reads are fine.
    assert!(load(&d.0.join("f2.conf")).is_ok());
}

#[test]
fn include_directory_entries_are_counted_against_the_budget() {
    let d = TempDir::new("budget");
    for n in 0..5 {
        d.write(&format!("sub/{n}.conf"), "");
    }
    let expand = |pattern: &str, mut left: usize| {
        let r = super::lexer::expand(pattern, &d.0, &mut left);
        (r.map(|p| p.len()), left)
    };
    assert_eq!(expand("sub/*.conf", 5), (Ok(5), 0));
    assert_eq!(expand("sub/*.conf", 9), (Ok(5), 4));
    // `*` lists the top directory (1 entry) then sub (5).
    assert_eq!(expand("*/*.conf", 6), (Ok(5), 0));
    let (r, _) = expand("*/*.conf", 5);
    assert!(r.unwrap_err().contains("directory entries"));
    // Literal components read no directory.
    assert_eq!(expand("sub/3.conf", 0), (Ok(1), 0));
}

// ---------------------------------------------------------------------------------------------
// keepalived's parameters, sequences and conditional lines in whole configurations.

#[test]
fn parameters_build_instances() {
    let c = ok("$INST= \\\n\
         vrrp_instance VI_${N} { \\\n\
         interface eth0 \\\n\
         virtual_router_id ${N} \\\n\
         virtual_ipaddress { \\\n\
         ~SEQ(h, 1, 3) 192.0.2.${h}/32 \\\n\
         } \\\n\
         }\n\
         ~LST(N, 10, 20) $INST\n");
    let names: Vec<&str> = c.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["VI_10", "VI_20"]);
    assert_eq!(c.instances[1].vrid, 20);
    let vips: Vec<IpAddr> = c.instances[1].vips.iter().map(|v| v.addr).collect();
    assert_eq!(vips, [v4("192.0.2.1"), v4("192.0.2.2"), v4("192.0.2.3")]);
    // A generated line's errors point at the line that generated it.
    let e = err_of("\n$P=300\nvrrp_instance V {\ninterface eth0\npriority $P\n}\n");
    assert_eq!(e.at.as_ref().unwrap().line, 5);
    assert!(e.message.contains("300 is out of range"), "{e}");
}

#[test]
fn pwd_is_the_directory_of_the_file_being_read() {
    let d = TempDir::new("pwd");
    let main = d.write(
        "keepalived.conf",
        "$SCRIPT=${_PWD}/check.sh\ninclude ${_PWD}/sub/*.conf\nnotify_master $SCRIPT\n",
    );
    d.write(
        "sub/a.conf",
        "notify_backup ${_PWD}/b.sh\nnotify_fault $SCRIPT\n",
    );
    let c = load(&main).unwrap();
    let dir = std::fs::canonicalize(&d.0).unwrap();
    let args: Vec<(&str, String)> = c
        .unhandled
        .iter()
        .map(|u| (u.keyword.as_str(), u.args.join(" ")))
        .collect();
    let at = |rel: &str| dir.join(rel).display().to_string();
    assert_eq!(
        args,
        [
            ("notify_backup", at("sub/b.sh")),
            // Expanded where used: in sub/, _PWD is sub/.
            ("notify_fault", at("sub/check.sh")),
            ("notify_master", at("check.sh")),
        ]
    );
}

#[test]
fn conditional_lines_use_the_host_name_as_config_id() {
    // keepalived's config id defaults to the host name up to its first '.'.
    let id = super::lexer::default_config_id().unwrap_or_default();
    let c = ok(&format!(
        "global_defs {{\n@{id} router_id this_host\n@^{id} router_id other_host\n}}\n"
    ));
    let want = if id.is_empty() {
        "other_host"
    } else {
        "this_host"
    };
    assert_eq!(c.global.router_id.as_deref(), Some(want));
    let c = ok("global_defs {\nrouter_id ${_INSTANCE}x\n}\n");
    assert_eq!(c.global.router_id, Some(format!("{id}x")));
}

#[test]
fn sync_groups() {
    let two = "vrrp_instance A {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress { 192.0.2.1 }\n}\n\
               vrrp_instance B {\ninterface eth0\nvirtual_router_id 2\nvirtual_ipaddress { 192.0.2.2 }\n}\n";
    let c = ok(&format!(
        "{two}vrrp_sync_group G {{\n group {{\n A B\n }}\n notify_master /m.sh\n notify /n.sh\n \
         sync_group_tracking_weight\n track_interface {{\n eth1\n }}\n}}\n"
    ));
    let g = &c.sync_groups[0];
    assert_eq!(g.members, ["A", "B"]);
    assert!(g.tracking_weight && g.notify.master.is_some() && g.notify.generic.is_some());
    assert_eq!(g.track_interfaces[0].name, "eth1");
    // keepalived ignores a member that does not exist or is in a group already, and a group
    // left empty, with a message; -t exits 5.
    let c = ok(&format!(
        "{two}vrrp_sync_group G {{\n group {{\n A C\n }}\n}}\n"
    ));
    assert_eq!(c.sync_groups[0].members, ["A"]);
    assert_eq!(c.mistakes.len(), 1);
    let c = ok(&format!(
        "{two}vrrp_sync_group G {{\n group {{\n A\n }}\n}}\nvrrp_sync_group H {{\n group {{\n A\n }}\n}}\n"
    ));
    assert_eq!(c.sync_groups.len(), 1, "H lost its only member and is gone");
    assert_eq!(c.mistakes.len(), 1);
}
