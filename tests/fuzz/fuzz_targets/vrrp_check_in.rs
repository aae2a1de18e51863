//! The advert receive checks: `vrrp::packet::check_in` and `peek_vrid` on any datagram, for
//! the instances of tests/fixtures (one config, parsed once). The first input byte picks the
//! instance and the context, the rest is the datagram (IPv4 header, then VRRP):
//!
//! - bits 0..3: the instance, modulo their number, in config order;
//! - bit 3: `vrrp_skip_check_adv_addr`; bit 4: the datagram's source is the known master;
//! - bit 5: check the unicast source; bit 6: accept any destination (`UNSPECIFIED`) instead of
//!   the group (multicast) or `unicast_src_ip` (unicast);
//! - bit 7: write the right VRRP checksum first, so that the checks after the checksum
//!   (destination, address list, unicast source) see mutated adverts too.
//!
//! An accepted advert must be one the wire parser accepts too, with the same fields.
#![no_main]

use keepalived_rs::config::{self, Config, VrrpVersion};
use keepalived_rs::vrrp::packet::{self, CheckContext};
use keepalived_rs::wire::{ipv4, vrrp as wire};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

const CONFIG: &str = "
vrrp_instance v2_pass_2vip {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass pw1234
    }
    virtual_ipaddress {
        192.0.2.100
        192.0.2.101
    }
}
vrrp_instance v2_noauth {
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.102
    }
}
vrrp_instance v3_1s {
    interface eth0
    version 3
    virtual_router_id 53
    advert_int 1
    virtual_ipaddress {
        192.0.2.103
    }
}
vrrp_instance v3_50ms {
    interface eth0
    version 3
    virtual_router_id 54
    priority 200
    advert_int 0.05
    virtual_ipaddress {
        192.0.2.104
        192.0.2.114
        192.0.2.124
    }
}
vrrp_instance v3_unicast {
    interface eth0
    version 3
    virtual_router_id 55
    advert_int 1
    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.1
    }
    virtual_ipaddress {
        192.0.2.105
    }
}
vrrp_instance v2_longpass {
    interface eth0
    virtual_router_id 56
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass abcdefgh
    }
    virtual_ipaddress {
        192.0.2.106/24
    }
}
";

fn config() -> &'static Config {
    static CONFIG_PARSED: OnceLock<Config> = OnceLock::new();
    CONFIG_PARSED.get_or_init(|| {
        config::parse_str(CONFIG, Path::new("/nonexistent/vrrp_check_in.conf"))
            .expect("the target's config parses")
    })
}

/// The datagram with the VRRP checksum its IPv4 addresses make, where both headers are long
/// enough to have one.
fn with_vrrp_checksum(datagram: &[u8]) -> Vec<u8> {
    let mut fixed = datagram.to_vec();
    let Ok(ip) = ipv4::Packet::new_checked(datagram) else {
        return fixed;
    };
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    let range = usize::from(ip.header_len())..usize::from(ip.total_len());
    if wire::Packet::new_checked(&fixed[range.clone()]).is_ok() {
        wire::Packet::new_unchecked(&mut fixed[range]).fill_checksum(src, dst);
    }
    fixed
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, datagram)) = data.split_first() else {
        return;
    };
    let fixed;
    let datagram = if selector & 0x80 != 0 {
        fixed = with_vrrp_checksum(datagram);
        &fixed[..]
    } else {
        datagram
    };
    let cfg = config();
    let inst = &cfg.instances[usize::from(selector & 7) % cfg.instances.len()];
    let mut global = cfg.global.clone();
    global.vrrp_skip_check_adv_addr = selector & 0x08 != 0;
    let src = datagram
        .get(12..16)
        .map(|b| Ipv4Addr::new(b[0], b[1], b[2], b[3]));
    let ctx = CheckContext {
        master: if selector & 0x10 != 0 { src } else { None },
        check_unicast_src: selector & 0x20 != 0,
    };
    let expected_dst = if selector & 0x40 != 0 {
        Ipv4Addr::UNSPECIFIED
    } else if inst.is_unicast() {
        match inst.unicast_src_ip {
            Some(IpAddr::V4(a)) => a,
            _ => Ipv4Addr::UNSPECIFIED,
        }
    } else {
        global.vrrp_mcast_group4
    };

    let vrid = packet::peek_vrid(datagram);
    let Ok(advert) = packet::check_in(inst, &global, datagram, expected_dst, ctx) else {
        return;
    };
    let ip = ipv4::Packet::new_checked(datagram).expect("accepted datagram fails check_len");
    assert_eq!(usize::from(ip.total_len()), datagram.len());
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    assert_eq!(advert.src, IpAddr::V4(src));
    let vrrp = wire::Packet::new_checked(ip.payload()).expect("accepted advert fails check_len");
    let repr = wire::Repr::parse(&vrrp, src, dst).expect("accepted advert does not parse");
    assert_eq!(vrid, Some(repr.vrid));
    assert_eq!(advert.priority, repr.priority);
    match (inst.version, repr.version) {
        (VrrpVersion::V2, wire::VersionFields::V2 { adver_int, .. }) => {
            assert_eq!(advert.adver_int, inst.advert_int);
            assert_eq!(advert.adver_int, Duration::from_secs(u64::from(adver_int)));
        }
        (VrrpVersion::V3, wire::VersionFields::V3 { max_adver_int }) => {
            assert_eq!(
                advert.adver_int,
                Duration::from_millis(u64::from(max_adver_int) * 10)
            );
        }
        (ours, theirs) => panic!("accepted a {theirs:?} advert for a {ours:?} instance"),
    }
});
