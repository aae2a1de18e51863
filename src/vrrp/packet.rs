//! The adverts an instance receives and sends, for IPv4: keepalived 2.2.7's receive checks
//! (`vrrp_check_packet` in vrrp/vrrp.c, in its order) and advert building, as pure functions.
//!
//! Receiving: the socket code reads a datagram from a raw `IPPROTO_VRRP` socket (IPv4 header
//! included), demultiplexes it with [`peek_vrid`], and hands it to [`check`] (or [`check_in`]
//! with the instance's context). A drop is counted with `counters[reason.index()] += 1` in a
//! `[u64; DropReason::COUNT]`.
//!
//! Sending: [`build_advert`] writes the VRRP message only; the kernel adds the IPv4 header on a
//! raw socket without `IP_HDRINCL`. To look like keepalived on the wire the socket needs TOS
//! 0xc0, TTL 255 (`IP_MULTICAST_TTL` for the group, `IP_TTL` for unicast) and no DF
//! (`IP_MTU_DISCOVER` = `IP_PMTUDISC_DONT`); see tests/fixtures/README.md.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};

use crate::config::{Auth, GlobalDefs, VrrpInstance, VrrpVersion};
use crate::vrrp::Advert;
use crate::wire::ipv4;
use crate::wire::vrrp::{self as wire, Addrs, AuthType, Type, Version, VersionFields};

/// The TTL an advert must arrive with in multicast mode, and the TTL we send with
/// (RFC 5798 5.1.1.3).
pub const VRRP_TTL: u8 = 255;

/// Why a received advert was dropped: one variant per check, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// The datagram is shorter than its IPv4 header, its VRRP header, or than the addresses
    /// and auth data the header announces, or longer than that, or the IPv4 total length
    /// differs from what was received.
    Length,
    /// Neither VRRP (112) nor AH (51) in the IPv4 protocol field (a raw VRRP socket never
    /// delivers these).
    Protocol,
    /// TTL is not 255 (multicast mode only).
    Ttl,
    /// The VRRP version is not the instance's.
    Version,
    /// v2: an Auth Type keepalived does not know (not 0, 1 or 2).
    InvalidAuthType,
    /// v2: the Auth Type is not the instance's (also: an AH datagram to an instance without
    /// AH, as keepalived counts it).
    AuthTypeMismatch,
    /// v2 PASS: the 8 bytes of Authentication Data differ from the password.
    AuthFailure,
    /// v2: Adver Int differs from the instance's `advert_int`.
    AdverInt,
    /// Type is not 1 (Advertisement).
    InvalidType,
    /// Count IPvX Addr differs from the number of the instance's IPv4 VIPs.
    AddressCount,
    /// Wrong checksum (v3: including the IPv4 pseudo-header).
    Checksum,
    /// Multicast mode and not sent to the group, or unicast mode and not sent to us.
    Destination,
    /// One of the instance's IPv4 VIPs is missing from the advert.
    AddressList,
    /// Unicast mode and the source is not one of `unicast_peer`.
    UnicastSource,
}

impl DropReason {
    pub const COUNT: usize = 14;

    /// Every reason, in check order (`ALL[r.index()] == r`).
    pub const ALL: [DropReason; DropReason::COUNT] = [
        DropReason::Length,
        DropReason::Protocol,
        DropReason::Ttl,
        DropReason::Version,
        DropReason::InvalidAuthType,
        DropReason::AuthTypeMismatch,
        DropReason::AuthFailure,
        DropReason::AdverInt,
        DropReason::InvalidType,
        DropReason::AddressCount,
        DropReason::Checksum,
        DropReason::Destination,
        DropReason::AddressList,
        DropReason::UnicastSource,
    ];

    /// Position in a `[u64; DropReason::COUNT]` table of counters.
    pub fn index(self) -> usize {
        self as usize
    }

    /// A short name, keepalived's wording where it has one.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Length => "Length",
            DropReason::Protocol => "Protocol",
            DropReason::Ttl => "TTL",
            DropReason::Version => "Version",
            DropReason::InvalidAuthType => "Invalid Auth Type",
            DropReason::AuthTypeMismatch => "Auth Type Mismatch",
            DropReason::AuthFailure => "Auth Failure",
            DropReason::AdverInt => "Advertisement Interval",
            DropReason::InvalidType => "Invalid Type",
            DropReason::AddressCount => "Address Count Mismatch",
            DropReason::Checksum => "Checksum",
            DropReason::Destination => "Destination Mismatch",
            DropReason::AddressList => "Address List Mismatch",
            DropReason::UnicastSource => "Unicast Source",
        }
    }

    /// The line of keepalived's stats file (`/tmp/keepalived.stats`, SIGUSR2) that keepalived
    /// increments for this drop, as `(section, line)`; `None` where it counts nothing there.
    pub fn keepalived_stat(self) -> Option<(&'static str, &'static str)> {
        const PACKET: &str = "Packet Errors";
        const AUTH: &str = "Authentication Errors";
        match self {
            DropReason::Length => Some((PACKET, "Length")),
            DropReason::Ttl => Some((PACKET, "TTL")),
            DropReason::InvalidType => Some((PACKET, "Invalid Type")),
            DropReason::AddressCount | DropReason::Destination | DropReason::AddressList => {
                Some((PACKET, "Address List"))
            }
            DropReason::InvalidAuthType => Some((AUTH, "Invalid Type")),
            DropReason::AuthTypeMismatch => Some((AUTH, "Type Mismatch")),
            DropReason::AuthFailure => Some((AUTH, "Failure")),
            // keepalived drops these without a stats-file counter (version and checksum
            // errors only reach SNMP; an interval mismatch is dropped silently but for a log).
            DropReason::Protocol
            | DropReason::Version
            | DropReason::AdverInt
            | DropReason::Checksum
            | DropReason::UnicastSource => None,
        }
    }
}

impl core::fmt::Display for DropReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a check needs to know about the instance beyond its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckContext {
    /// In BACKUP, the source of the master whose adverts were last accepted. With
    /// `vrrp_skip_check_adv_addr`, keepalived skips the address count, VIP list and unicast
    /// source checks for adverts from that same address (and always checks in MASTER: pass
    /// `None` there).
    pub master: Option<Ipv4Addr>,
    /// Check that a unicast advert comes from one of `unicast_peer`. keepalived 2.2.7 checks
    /// only with `vrrp_check_unicast_src`, `check_unicast_src` or a peer's `min_ttl`/`max_ttl`;
    /// [`check`] turns it on.
    pub check_unicast_src: bool,
}

/// The VRID of a datagram from a raw IPv4 `IPPROTO_VRRP` socket, to find its instance:
/// `None` when it is too short to hold an IPv4 header and a VRRP header (keepalived drops
/// those before looking for an instance).
pub fn peek_vrid(ip_datagram: &[u8]) -> Option<u8> {
    if ip_datagram.len() < ipv4::HEADER_LEN {
        return None;
    }
    let header_len = usize::from(ipv4::Packet::new_unchecked(ip_datagram).header_len());
    let vrrp = ip_datagram.get(header_len.max(ipv4::HEADER_LEN)..)?;
    if vrrp.len() < wire::HEADER_LEN {
        return None;
    }
    Some(wire::Packet::new_unchecked(vrrp).vrid())
}

/// [`check_in`] with no known master and the unicast source check on.
pub fn check(
    cfg: &VrrpInstance,
    global: &GlobalDefs,
    ip_datagram: &[u8],
    expected_dst: Ipv4Addr,
) -> Result<Advert, DropReason> {
    let ctx = CheckContext {
        master: None,
        check_unicast_src: true,
    };
    check_in(cfg, global, ip_datagram, expected_dst, ctx)
}

/// keepalived's receive checks on `ip_datagram` (what a raw IPv4 `IPPROTO_VRRP` socket returns
/// on Linux: IPv4 header, then VRRP), in keepalived's order; the first that fails is the
/// reason. On success, the advert for the state machine.
///
/// `expected_dst` is the address the datagram must be sent to: in multicast mode the group
/// (`global.vrrp_mcast_group4`), in unicast mode our own address (the `unicast_src_ip`, else
/// the interface's primary address: keepalived binds its receive socket to it), or
/// `UNSPECIFIED` to accept any unicast destination.
///
/// keepalived accepts a v3 advert whose interval differs from ours (a backup learns the
/// master's interval): [`Advert::adver_int`] carries it. The IPv4 header checksum is not
/// checked (the kernel already dropped bad ones).
pub fn check_in(
    cfg: &VrrpInstance,
    global: &GlobalDefs,
    ip_datagram: &[u8],
    expected_dst: Ipv4Addr,
    ctx: CheckContext,
) -> Result<Advert, DropReason> {
    let ip = ipv4::Packet::new_checked(ip_datagram).map_err(|_| DropReason::Length)?;
    if ip.version() != 4 || usize::from(ip.total_len()) != ip_datagram.len() {
        return Err(DropReason::Length);
    }
    // keepalived's first check: an AH header exactly when the instance uses AH (never here).
    match ip.protocol() {
        ipv4::Protocol::Vrrp => {}
        ipv4::Protocol::Ah => return Err(DropReason::AuthTypeMismatch),
        ipv4::Protocol::Unknown(_) => return Err(DropReason::Protocol),
    }
    // RFC 5798 7.1: the whole message, exactly: header, Count addresses, v2 auth data.
    let vrrp = wire::Packet::new_checked(ip.payload()).map_err(|_| DropReason::Length)?;
    if vrrp.packet_len() != ip.payload().len() {
        return Err(DropReason::Length);
    }
    // RFC 5798 7.1: TTL 255, so the advert cannot have been routed (not for unicast).
    if !cfg.is_unicast() && ip.ttl() != VRRP_TTL {
        return Err(DropReason::Ttl);
    }
    let version = match cfg.version {
        VrrpVersion::V2 => Version::V2,
        VrrpVersion::V3 => Version::V3,
    };
    if vrrp.version() != version {
        return Err(DropReason::Version);
    }
    if version == Version::V2 {
        // RFC 3768 7.1: the authentication the instance is configured with.
        let ours = match &cfg.auth {
            None => AuthType::None,
            Some(Auth::Pass(_)) => AuthType::Pass,
        };
        let theirs = vrrp.auth_type();
        if let AuthType::Unknown(_) = theirs {
            return Err(DropReason::InvalidAuthType);
        }
        if theirs != ours {
            return Err(DropReason::AuthTypeMismatch);
        }
        if let Some(Auth::Pass(password)) = &cfg.auth {
            if !same_bytes(&vrrp.auth_data().unwrap_or_default(), password) {
                return Err(DropReason::AuthFailure);
            }
        }
        // RFC 3768 7.1: Adver Int must be ours.
        if Duration::from_secs(u64::from(vrrp.adver_int())) != cfg.advert_int {
            return Err(DropReason::AdverInt);
        }
    }
    if vrrp.msg_type() != Type::Advertisement {
        return Err(DropReason::InvalidType);
    }
    let src = ip.src_addr();
    let dst = ip.dst_addr();
    let check_addrs = !(global.vrrp_skip_check_adv_addr && ctx.master == Some(src));
    if check_addrs && usize::from(vrrp.addr_count()) != ipv4_vips(cfg).count() {
        return Err(DropReason::AddressCount);
    }
    if !vrrp.verify_checksum(src, dst) {
        return Err(DropReason::Checksum);
    }
    let to_expected = if cfg.is_unicast() {
        !dst.is_multicast() && (expected_dst.is_unspecified() || dst == expected_dst)
    } else {
        dst.is_multicast() && dst == expected_dst
    };
    if !to_expected {
        return Err(DropReason::Destination);
    }
    if check_addrs {
        // RFC 5798 7.1 (MAY): the addresses are the ones we back up.
        let addrs = Addrs::from_bytes(vrrp.addrs_raw()).map_err(|_| DropReason::Length)?;
        if !ipv4_vips(cfg).all(|vip| addrs.contains(vip)) {
            return Err(DropReason::AddressList);
        }
        if cfg.is_unicast()
            && ctx.check_unicast_src
            && !cfg.unicast_peers.contains(&IpAddr::V4(src))
        {
            return Err(DropReason::UnicastSource);
        }
    }
    let adver_int = match version {
        Version::V3 => Duration::from_millis(u64::from(vrrp.max_adver_int()) * 10),
        _ => Duration::from_secs(u64::from(vrrp.adver_int())),
    };
    Ok(Advert {
        src: IpAddr::V4(src),
        priority: vrrp.priority(),
        adver_int,
    })
}

/// Length of the VRRP message [`build_advert`] writes for `cfg`: 8 bytes, 4 per IPv4 VIP (at
/// most 255), and 8 of authentication data for v2.
pub fn advert_len(cfg: &VrrpInstance) -> usize {
    let auth = match cfg.version {
        VrrpVersion::V2 => wire::AUTH_DATA_LEN,
        VrrpVersion::V3 => 0,
    };
    wire::HEADER_LEN + ipv4_vips(cfg).count() * wire::ADDR_LEN + auth
}

/// Write the advert `cfg` sends with `priority` (0 when stopping) into `out`: the VRRP
/// message only, no IPv4 header. `src`/`dst` are the IP addresses the datagram will carry (v3
/// sums them into the checksum; v2 ignores them); for unicast, one advert per peer. Carries
/// the IPv4 VIPs of `cfg.vips` in order (IPv6 ones are left out), v2 Adver Int in seconds and
/// the PASS password, or v3 Max Adver Int in centiseconds. Returns the length written,
/// [`advert_len`], or 0 if `out` is shorter than that.
pub fn build_advert(
    cfg: &VrrpInstance,
    priority: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    out: &mut [u8],
) -> usize {
    let len = advert_len(cfg);
    if out.len() < len {
        return 0;
    }
    let mut list = [Ipv4Addr::UNSPECIFIED; u8::MAX as usize];
    let mut count = 0;
    for (slot, vip) in list.iter_mut().zip(ipv4_vips(cfg)) {
        *slot = vip;
        count += 1;
    }
    let Ok(addrs) = Addrs::from_list(&list[..count]) else {
        return 0; // cannot happen: count <= 255
    };
    let version = match cfg.version {
        VrrpVersion::V2 => VersionFields::V2 {
            adver_int: u8::try_from(cfg.advert_int.as_secs()).unwrap_or(u8::MAX),
            auth: match &cfg.auth {
                None => wire::Auth::None,
                Some(Auth::Pass(password)) => wire::Auth::Pass(*password),
            },
        },
        VrrpVersion::V3 => VersionFields::V3 {
            max_adver_int: u16::try_from(cfg.advert_int.as_millis() / 10)
                .unwrap_or(wire::MAX_ADVER_INT_MAX),
        },
    };
    let repr = wire::Repr {
        vrid: cfg.vrid,
        priority,
        version,
        addrs,
    };
    repr.emit(&mut wire::Packet::new_unchecked(&mut out[..len]), src, dst);
    len
}

/// The instance's IPv4 VIPs in configuration order, at most 255 (the Count field is a byte).
fn ipv4_vips(cfg: &VrrpInstance) -> impl Iterator<Item = Ipv4Addr> + '_ {
    cfg.vips
        .iter()
        .filter_map(|v| match v.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .take(usize::from(u8::MAX))
}

/// Compare without stopping at the first difference (as keepalived compares passwords).
fn same_bytes(a: &[u8; 8], b: &[u8; 8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{InitialState, Location, Scope, VirtualAddr};
    use crate::wire::{checksum, ethernet, hex_bytes};
    use std::path::PathBuf;

    const N1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const N2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

    /// A fixture frame without its Ethernet header: the datagram a raw socket returns.
    fn datagram(hex: &str) -> Vec<u8> {
        hex_bytes(hex)[ethernet::HEADER_LEN..].to_vec()
    }

    fn v2_pass_2vip() -> Vec<u8> {
        datagram(include_str!("../../tests/fixtures/v2_pass_2vip.advert.hex"))
    }
    fn v2_pass_2vip_prio0() -> Vec<u8> {
        datagram(include_str!("../../tests/fixtures/v2_pass_2vip.prio0.hex"))
    }
    fn v2_noauth() -> Vec<u8> {
        datagram(include_str!("../../tests/fixtures/v2_noauth.advert.hex"))
    }
    fn v3_1s() -> Vec<u8> {
        datagram(include_str!("../../tests/fixtures/v3_1s.advert.hex"))
    }
    fn v3_unicast() -> Vec<u8> {
        datagram(include_str!("../../tests/fixtures/v3_unicast.advert.hex"))
    }

    fn vip(a: [u8; 4]) -> VirtualAddr {
        VirtualAddr {
            addr: IpAddr::V4(Ipv4Addr::from(a)),
            prefix_len: 32,
            broadcast: None,
            dev: None,
            scope: Scope::Global,
            label: None,
        }
    }

    fn password(text: &[u8]) -> [u8; 8] {
        let mut p = [0; 8];
        p[..text.len()].copy_from_slice(text);
        p
    }

    /// An instance as the fixture configs in tests/fixtures/README.md describe it.
    fn instance(
        vrid: u8,
        version: VrrpVersion,
        advert_int: Duration,
        vips: &[[u8; 4]],
    ) -> VrrpInstance {
        VrrpInstance {
            name: "VI_1".into(),
            at: Location {
                file: PathBuf::from("keepalived.conf").into(),
                line: 1,
            },
            initial_state: InitialState::Master,
            interface: "eth0".into(),
            vrid,
            priority: 100,
            advert_int,
            version,
            preempt: true,
            preempt_delay: Duration::ZERO,
            auth: None,
            vips: vips.iter().map(|a| vip(*a)).collect(),
            excluded_vips: Vec::new(),
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            mcast_src_ip: None,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: None,
            accept: true,
            dont_track_primary: false,
            track_interfaces: vec![],
            track_scripts: vec![],
            track_files: vec![],
            notify: Default::default(),
            smtp_alert: None,
        }
    }

    /// tests/fixtures v2_pass_2vip: vrid 51, v2, 1 s, PASS "pw1234", 192.0.2.100 and .101.
    fn cfg_v2_pass() -> VrrpInstance {
        let mut cfg = instance(
            51,
            VrrpVersion::V2,
            Duration::from_secs(1),
            &[[192, 0, 2, 100], [192, 0, 2, 101]],
        );
        cfg.auth = Some(Auth::Pass(password(b"pw1234")));
        cfg
    }

    /// v2_noauth: vrid 52, priority 150, v2, 1 s, 192.0.2.102.
    fn cfg_v2_noauth() -> VrrpInstance {
        let mut cfg = instance(
            52,
            VrrpVersion::V2,
            Duration::from_secs(1),
            &[[192, 0, 2, 102]],
        );
        cfg.priority = 150;
        cfg
    }

    /// v3_1s: vrid 53, v3, 1 s, 192.0.2.103.
    fn cfg_v3() -> VrrpInstance {
        instance(
            53,
            VrrpVersion::V3,
            Duration::from_secs(1),
            &[[192, 0, 2, 103]],
        )
    }

    /// v3_unicast as the receiving peer n2 would configure it: vrid 55, unicast_src_ip
    /// 192.0.2.2, unicast_peer 192.0.2.1, 192.0.2.105.
    fn cfg_v3_unicast() -> VrrpInstance {
        let mut cfg = instance(
            55,
            VrrpVersion::V3,
            Duration::from_secs(1),
            &[[192, 0, 2, 105]],
        );
        cfg.unicast_src_ip = Some(IpAddr::V4(N2));
        cfg.unicast_peers = vec![IpAddr::V4(N1)];
        cfg
    }

    fn global() -> GlobalDefs {
        GlobalDefs::default()
    }

    /// Change bytes of the VRRP message of a datagram and fix its checksum, so the only fault
    /// is the one the test made (v3 sums the datagram's addresses in).
    fn mutate_vrrp(mut d: Vec<u8>, f: impl FnOnce(&mut wire::Packet<&mut [u8]>)) -> Vec<u8> {
        let (src, dst) = {
            let ip = ipv4::Packet::new_checked(&d[..]).unwrap();
            (ip.src_addr(), ip.dst_addr())
        };
        let mut p = wire::Packet::new_unchecked(&mut d[20..]);
        f(&mut p);
        p.fill_checksum(src, dst);
        d
    }

    /// Change the IPv4 header and fix its checksum.
    fn mutate_ip(mut d: Vec<u8>, f: impl FnOnce(&mut ipv4::Packet<&mut [u8]>)) -> Vec<u8> {
        let mut p = ipv4::Packet::new_unchecked(&mut d[..]);
        f(&mut p);
        p.fill_checksum();
        d
    }

    // ---- interop: our adverts are keepalived's, byte for byte ----

    fn vrrp_part(d: &[u8]) -> &[u8] {
        &d[ipv4::HEADER_LEN..]
    }

    #[test]
    fn builds_keepalived_v2_pass_advert() {
        let cfg = cfg_v2_pass();
        let mut out = [0u8; 64];
        let n = build_advert(&cfg, 100, N1, GROUP, &mut out);
        assert_eq!(n, advert_len(&cfg));
        assert_eq!(&out[..n], vrrp_part(&v2_pass_2vip()));
        // Stopping: priority 0, as keepalived sent it on SIGTERM.
        let n = build_advert(&cfg, 0, N1, GROUP, &mut out);
        assert_eq!(&out[..n], vrrp_part(&v2_pass_2vip_prio0()));
    }

    #[test]
    fn builds_keepalived_v2_noauth_advert() {
        let cfg = cfg_v2_noauth();
        let mut out = [0u8; 20];
        let n = build_advert(&cfg, 150, N1, GROUP, &mut out);
        assert_eq!(n, 20);
        assert_eq!(&out[..], vrrp_part(&v2_noauth()));
        let prio0 = datagram(include_str!("../../tests/fixtures/v2_noauth.prio0.hex"));
        build_advert(&cfg, 0, N1, GROUP, &mut out);
        assert_eq!(&out[..], vrrp_part(&prio0));
    }

    #[test]
    fn builds_keepalived_v2_truncated_password_advert() {
        // keepalived cut "abcdefghij" to 8 bytes; advert_int 2.
        let mut cfg = instance(
            56,
            VrrpVersion::V2,
            Duration::from_secs(2),
            &[[192, 0, 2, 106]],
        );
        cfg.auth = Some(Auth::Pass(*b"abcdefgh"));
        let mut out = [0u8; 20];
        build_advert(&cfg, 100, N1, GROUP, &mut out);
        let d = datagram(include_str!("../../tests/fixtures/v2_longpass.advert.hex"));
        assert_eq!(&out[..], vrrp_part(&d));
        assert!(check(&cfg, &global(), &d, GROUP).is_ok());
    }

    #[test]
    fn builds_keepalived_v3_adverts() {
        let mut out = [0u8; 32];
        let n = build_advert(&cfg_v3(), 100, N1, GROUP, &mut out);
        assert_eq!(&out[..n], vrrp_part(&v3_1s()));
        let prio0 = datagram(include_str!("../../tests/fixtures/v3_1s.prio0.hex"));
        let n = build_advert(&cfg_v3(), 0, N1, GROUP, &mut out);
        assert_eq!(&out[..n], vrrp_part(&prio0));

        // 50 ms = 5 centiseconds, three VIPs, priority 200.
        let mut cfg = instance(
            54,
            VrrpVersion::V3,
            Duration::from_millis(50),
            &[[192, 0, 2, 104], [192, 0, 2, 114], [192, 0, 2, 124]],
        );
        cfg.priority = 200;
        let n = build_advert(&cfg, 200, N1, GROUP, &mut out);
        let d = datagram(include_str!("../../tests/fixtures/v3_50ms.advert.hex"));
        assert_eq!(&out[..n], vrrp_part(&d));

        // Unicast: the pseudo-header carries the peer's address.
        let mut sender = cfg_v3_unicast();
        sender.unicast_src_ip = Some(IpAddr::V4(N1));
        sender.unicast_peers = vec![IpAddr::V4(N2)];
        let n = build_advert(&sender, 100, N1, N2, &mut out);
        assert_eq!(&out[..n], vrrp_part(&v3_unicast()));
        let prio0 = datagram(include_str!("../../tests/fixtures/v3_unicast.prio0.hex"));
        let n = build_advert(&sender, 0, N1, N2, &mut out);
        assert_eq!(&out[..n], vrrp_part(&prio0));
    }

    #[test]
    fn build_skips_ipv6_vips_and_short_buffers() {
        let mut cfg = cfg_v3();
        let mut v6 = vip([0; 4]);
        v6.addr = "2001:db8::1".parse().unwrap();
        cfg.vips.insert(0, v6);
        assert_eq!(advert_len(&cfg), 12);
        let mut out = [0u8; 12];
        assert_eq!(build_advert(&cfg, 100, N1, GROUP, &mut out), 12);
        assert_eq!(&out[..], vrrp_part(&v3_1s()));
        let mut short = [0u8; 11];
        assert_eq!(build_advert(&cfg, 100, N1, GROUP, &mut short), 0);
    }

    #[test]
    fn build_encodes_v3_interval_in_centiseconds() {
        let mut cfg = cfg_v3();
        let mut out = [0u8; 12];
        for (interval, field) in [
            (Duration::from_millis(10), 1u16),
            (Duration::from_millis(1230), 123),
            (Duration::from_millis(40_950), 4095),
        ] {
            cfg.advert_int = interval;
            build_advert(&cfg, 100, N1, GROUP, &mut out);
            assert_eq!(u16::from_be_bytes([out[4], out[5]]), field);
            let p = wire::Packet::new_checked(&out[..]).unwrap();
            assert!(p.verify_checksum(N1, GROUP));
        }
    }

    // ---- receive: keepalived's adverts are accepted ----

    #[test]
    fn accepts_fixtures() {
        let g = global();
        assert_eq!(
            check(&cfg_v2_pass(), &g, &v2_pass_2vip(), GROUP),
            Ok(Advert {
                src: IpAddr::V4(N1),
                priority: 100,
                adver_int: Duration::from_secs(1)
            })
        );
        let a = check(&cfg_v2_pass(), &g, &v2_pass_2vip_prio0(), GROUP).unwrap();
        assert_eq!(a.priority, 0);
        let a = check(&cfg_v2_noauth(), &g, &v2_noauth(), GROUP).unwrap();
        assert_eq!((a.priority, a.adver_int), (150, Duration::from_secs(1)));
        let a = check(&cfg_v3(), &g, &v3_1s(), GROUP).unwrap();
        assert_eq!((a.priority, a.adver_int), (100, Duration::from_secs(1)));
        let a = check(&cfg_v3_unicast(), &g, &v3_unicast(), N2).unwrap();
        assert_eq!(a.src, IpAddr::V4(N1));
        // Any unicast destination when the caller does not pin one.
        assert!(check(&cfg_v3_unicast(), &g, &v3_unicast(), Ipv4Addr::UNSPECIFIED).is_ok());
    }

    #[test]
    fn v3_learns_the_masters_interval() {
        // keepalived's 50 ms advert reaches a backup configured for 1 s: accepted, and the
        // advert says 50 ms.
        let d = datagram(include_str!("../../tests/fixtures/v3_50ms.advert.hex"));
        let cfg = instance(
            54,
            VrrpVersion::V3,
            Duration::from_secs(1),
            &[[192, 0, 2, 104], [192, 0, 2, 114], [192, 0, 2, 124]],
        );
        let a = check(&cfg, &global(), &d, GROUP).unwrap();
        assert_eq!(a.adver_int, Duration::from_millis(50));
        assert_eq!(a.priority, 200);
    }

    #[test]
    fn vip_order_does_not_matter() {
        let mut cfg = cfg_v2_pass();
        cfg.vips.reverse();
        assert!(check(&cfg, &global(), &v2_pass_2vip(), GROUP).is_ok());
    }

    #[test]
    fn peek_vrid_demultiplexes() {
        assert_eq!(peek_vrid(&v2_pass_2vip()), Some(51));
        assert_eq!(peek_vrid(&v3_unicast()), Some(55));
        let d = v3_1s();
        assert_eq!(peek_vrid(&d[..28]), Some(53)); // the headers only: enough for the VRID
        assert_eq!(peek_vrid(&d[..27]), None);
        assert_eq!(peek_vrid(&d[..10]), None);
        assert_eq!(peek_vrid(&[]), None);
    }

    // ---- receive: each check drops with its reason ----

    fn assert_drop(cfg: &VrrpInstance, d: &[u8], dst: Ipv4Addr, want: DropReason) {
        assert_eq!(check(cfg, &global(), d, dst), Err(want));
    }

    #[test]
    fn drops_bad_lengths() {
        let cfg = cfg_v2_pass();
        let d = v2_pass_2vip();
        // Every truncation, as received (the IP total length still says 44).
        for n in 0..d.len() {
            assert_drop(&cfg, &d[..n], GROUP, DropReason::Length);
        }
        // Truncated and the IP total length made to agree: the VRRP message is short.
        for n in 20..d.len() {
            let short = mutate_ip(d[..n].to_vec(), |p| p.set_total_len(n as u16));
            assert_drop(&cfg, &short, GROUP, DropReason::Length);
        }
        // Trailing bytes after the message.
        let mut long = d.clone();
        long.extend_from_slice(&[0; 4]);
        assert_drop(&cfg, &long, GROUP, DropReason::Length);
        let long = mutate_ip(long, |p| p.set_total_len(48));
        assert_drop(&cfg, &long, GROUP, DropReason::Length);
        // A count announcing more addresses than present.
        let mut more = d;
        more[20 + 3] = 3;
        assert_drop(&cfg, &more, GROUP, DropReason::Length);
    }

    #[test]
    fn drops_other_protocols() {
        let ah = mutate_ip(v2_pass_2vip(), |p| p.set_protocol(ipv4::Protocol::Ah));
        assert_drop(&cfg_v2_pass(), &ah, GROUP, DropReason::AuthTypeMismatch);
        let udp = mutate_ip(v2_pass_2vip(), |p| {
            p.set_protocol(ipv4::Protocol::Unknown(17))
        });
        assert_drop(&cfg_v2_pass(), &udp, GROUP, DropReason::Protocol);
    }

    #[test]
    fn drops_ttl_below_255_in_multicast_only() {
        for ttl in [254, 64, 1] {
            let d = mutate_ip(v3_1s(), |p| p.set_ttl(ttl));
            assert_drop(&cfg_v3(), &d, GROUP, DropReason::Ttl);
            let d = mutate_ip(v3_unicast(), |p| p.set_ttl(ttl));
            assert!(check(&cfg_v3_unicast(), &global(), &d, N2).is_ok());
        }
    }

    #[test]
    fn drops_other_version() {
        // keepalived's v3 advert to a v2 instance and the other way round.
        let mut cfg = cfg_v3();
        cfg.version = VrrpVersion::V2;
        assert_drop(&cfg, &v3_1s(), GROUP, DropReason::Version);
        let mut cfg = cfg_v2_noauth();
        cfg.version = VrrpVersion::V3;
        // keepalived sizes the message by the version it carries, so a whole v2 message
        // reaches the version check.
        assert_drop(&cfg, &v2_noauth(), GROUP, DropReason::Version);
        // An unknown version.
        let d = mutate_vrrp(v3_1s(), |p| p.set_version(Version::Unknown(4)));
        assert_drop(&cfg_v3(), &d, GROUP, DropReason::Version);
    }

    #[test]
    fn drops_v2_auth_errors() {
        let cfg = cfg_v2_pass();
        let d = mutate_vrrp(v2_pass_2vip(), |p| p.set_auth_type(AuthType::Unknown(3)));
        assert_drop(&cfg, &d, GROUP, DropReason::InvalidAuthType);
        let d = mutate_vrrp(v2_pass_2vip(), |p| p.set_auth_type(AuthType::None));
        assert_drop(&cfg, &d, GROUP, DropReason::AuthTypeMismatch);
        // keepalived's own no-auth advert to a PASS instance, and PASS to a no-auth one.
        let mut noauth_cfg = cfg_v2_noauth();
        noauth_cfg.auth = Some(Auth::Pass(password(b"pw1234")));
        assert_drop(
            &noauth_cfg,
            &v2_noauth(),
            GROUP,
            DropReason::AuthTypeMismatch,
        );
        let mut pass_cfg = cfg_v2_pass();
        pass_cfg.auth = None;
        assert_drop(
            &pass_cfg,
            &v2_pass_2vip(),
            GROUP,
            DropReason::AuthTypeMismatch,
        );
        // Wrong password, and a password differing only in the padding.
        for wrong in [password(b"pw1235"), password(b"pw12345"), *b"pw1234\0x"] {
            let d = mutate_vrrp(v2_pass_2vip(), |p| p.set_auth_data(&wrong));
            assert_drop(&cfg, &d, GROUP, DropReason::AuthFailure);
        }
        // v3 ignores authentication entirely.
        let mut v3 = cfg_v3();
        v3.auth = Some(Auth::Pass(password(b"pw1234")));
        assert!(check(&v3, &global(), &v3_1s(), GROUP).is_ok());
    }

    #[test]
    fn drops_v2_interval_mismatch_but_not_v3() {
        let mut cfg = cfg_v2_pass();
        cfg.advert_int = Duration::from_secs(2);
        assert_drop(&cfg, &v2_pass_2vip(), GROUP, DropReason::AdverInt);
        let d = mutate_vrrp(v2_pass_2vip(), |p| p.set_adver_int(3));
        assert_drop(&cfg_v2_pass(), &d, GROUP, DropReason::AdverInt);
        let d = mutate_vrrp(v3_1s(), |p| p.set_max_adver_int(300));
        assert_eq!(
            check(&cfg_v3(), &global(), &d, GROUP).map(|a| a.adver_int),
            Ok(Duration::from_secs(3))
        );
    }

    #[test]
    fn drops_other_type() {
        let d = mutate_vrrp(v3_1s(), |p| p.set_msg_type(Type::Unknown(2)));
        assert_drop(&cfg_v3(), &d, GROUP, DropReason::InvalidType);
        let d = mutate_vrrp(v2_pass_2vip(), |p| p.set_msg_type(Type::Unknown(0)));
        assert_drop(&cfg_v2_pass(), &d, GROUP, DropReason::InvalidType);
    }

    #[test]
    fn drops_address_count_mismatch() {
        let mut cfg = cfg_v2_pass();
        cfg.vips.pop();
        assert_drop(&cfg, &v2_pass_2vip(), GROUP, DropReason::AddressCount);
        let mut cfg = cfg_v3();
        cfg.vips.push(vip([192, 0, 2, 200]));
        assert_drop(&cfg, &v3_1s(), GROUP, DropReason::AddressCount);
    }

    #[test]
    fn drops_bad_checksum() {
        for i in [6usize, 7, 2] {
            let mut d = v3_1s();
            d[20 + i] ^= 0x01;
            // Changing the priority (i = 2) without fixing the checksum breaks it too.
            assert_drop(&cfg_v3(), &d, GROUP, DropReason::Checksum);
        }
        let mut d = v2_pass_2vip();
        d[20 + 7] ^= 0x80;
        assert_drop(&cfg_v2_pass(), &d, GROUP, DropReason::Checksum);
        // v3 sums the destination in: the unicast advert re-addressed to the group fails
        // the checksum before the destination check.
        let d = mutate_ip(v3_unicast(), |p| {
            p.set_dst_addr(Ipv4Addr::new(192, 0, 2, 9))
        });
        assert_drop(&cfg_v3_unicast(), &d, N2, DropReason::Checksum);
        // v2 does not: a re-addressed v2 advert passes the checksum.
        let d = mutate_ip(v2_noauth(), |p| p.set_src_addr(Ipv4Addr::new(192, 0, 2, 7)));
        assert!(check(&cfg_v2_noauth(), &global(), &d, GROUP).is_ok());
    }

    #[test]
    fn drops_wrong_destination() {
        // Multicast mode: unicast or another group.
        let to = |d: Vec<u8>, dst: Ipv4Addr| {
            let d = mutate_ip(d, |p| p.set_dst_addr(dst));
            mutate_vrrp(d, |_| {})
        };
        let d = to(v3_1s(), N2);
        assert_drop(&cfg_v3(), &d, GROUP, DropReason::Destination);
        let d = to(v3_1s(), Ipv4Addr::new(224, 0, 0, 19));
        assert_drop(&cfg_v3(), &d, GROUP, DropReason::Destination);
        let d = to(v2_noauth(), N2);
        assert_drop(&cfg_v2_noauth(), &d, GROUP, DropReason::Destination);
        // The configured group is the expected one.
        let d = to(v3_1s(), Ipv4Addr::new(224, 0, 0, 19));
        assert!(check(&cfg_v3(), &global(), &d, Ipv4Addr::new(224, 0, 0, 19)).is_ok());
        // Unicast mode: the group, or another host.
        let d = to(v3_unicast(), GROUP);
        assert_drop(&cfg_v3_unicast(), &d, N2, DropReason::Destination);
        assert_drop(
            &cfg_v3_unicast(),
            &d,
            Ipv4Addr::UNSPECIFIED,
            DropReason::Destination,
        );
        let d = to(v3_unicast(), Ipv4Addr::new(192, 0, 2, 3));
        assert_drop(&cfg_v3_unicast(), &d, N2, DropReason::Destination);
        // keepalived's multicast advert reaching a unicast instance.
        let mut cfg = cfg_v3();
        cfg.unicast_peers = vec![IpAddr::V4(N1)];
        assert_drop(&cfg, &v3_1s(), N2, DropReason::Destination);
    }

    #[test]
    fn drops_missing_vip() {
        let mut cfg = cfg_v2_pass();
        cfg.vips[1] = vip([192, 0, 2, 111]);
        assert_drop(&cfg, &v2_pass_2vip(), GROUP, DropReason::AddressList);
        let d = mutate_vrrp(v3_1s(), |p| p.addrs_raw_mut()[3] = 99);
        assert_drop(&cfg_v3(), &d, GROUP, DropReason::AddressList);
        // The advert carrying the same VIP twice misses the other one.
        let d = mutate_vrrp(v2_pass_2vip(), |p| p.addrs_raw_mut()[7] = 100);
        assert_drop(&cfg_v2_pass(), &d, GROUP, DropReason::AddressList);
    }

    #[test]
    fn drops_unknown_unicast_source() {
        let d = mutate_ip(v3_unicast(), |p| {
            p.set_src_addr(Ipv4Addr::new(192, 0, 2, 3))
        });
        let d = mutate_vrrp(d, |_| {});
        assert_drop(&cfg_v3_unicast(), &d, N2, DropReason::UnicastSource);
        // keepalived's default: no source check without check_unicast_src.
        let ctx = CheckContext {
            master: None,
            check_unicast_src: false,
        };
        let a = check_in(&cfg_v3_unicast(), &global(), &d, N2, ctx).unwrap();
        assert_eq!(a.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3)));
    }

    #[test]
    fn skip_check_adv_addr_trusts_the_known_master_only() {
        let mut cfg = cfg_v2_pass();
        cfg.vips[1] = vip([192, 0, 2, 111]);
        let mut g = global();
        g.vrrp_skip_check_adv_addr = true;
        let from_master = CheckContext {
            master: Some(N1),
            check_unicast_src: true,
        };
        assert!(check_in(&cfg, &g, &v2_pass_2vip(), GROUP, from_master).is_ok());
        cfg.vips.pop();
        assert!(check_in(&cfg, &g, &v2_pass_2vip(), GROUP, from_master).is_ok());
        // Another master, no known master, or the flag off: the addresses are checked.
        let other = CheckContext {
            master: Some(N2),
            ..from_master
        };
        assert_eq!(
            check_in(&cfg, &g, &v2_pass_2vip(), GROUP, other),
            Err(DropReason::AddressCount)
        );
        assert_eq!(
            check(&cfg, &g, &v2_pass_2vip(), GROUP),
            Err(DropReason::AddressCount)
        );
        assert_eq!(
            check_in(&cfg, &global(), &v2_pass_2vip(), GROUP, from_master),
            Err(DropReason::AddressCount)
        );
        // Skipping the addresses does not skip the other checks.
        let d = mutate_ip(v2_pass_2vip(), |p| p.set_ttl(1));
        assert_eq!(
            check_in(&cfg, &g, &d, GROUP, from_master),
            Err(DropReason::Ttl)
        );
    }

    #[test]
    fn checks_run_in_keepalived_order() {
        // A datagram wrong in several ways reports the earliest check; fixing the faults one
        // by one walks down keepalived's list.
        let cfg = cfg_v2_pass();
        let bad = |ttl: u8, auth: AuthType, int: u8, ty: Type, count: u8| {
            let d = mutate_ip(v2_pass_2vip(), |p| p.set_ttl(ttl));
            let mut d = mutate_vrrp(d, |p| {
                p.set_auth_type(auth);
                p.set_adver_int(int);
                p.set_msg_type(ty);
            });
            d[20 + 2] ^= 0x01; // the priority, leaving the checksum wrong
            let mut cfg = cfg.clone();
            cfg.vips.truncate(usize::from(count));
            (d, cfg)
        };
        let pass = AuthType::Pass;
        let adv = Type::Advertisement;
        let junk = Type::Unknown(7);
        let unknown = AuthType::Unknown(9);
        let cases = [
            (bad(1, unknown, 9, junk, 1), DropReason::Ttl),
            (bad(255, unknown, 9, junk, 1), DropReason::InvalidAuthType),
            (
                bad(255, AuthType::None, 9, junk, 1),
                DropReason::AuthTypeMismatch,
            ),
            (bad(255, pass, 9, junk, 1), DropReason::AdverInt),
            (bad(255, pass, 1, junk, 1), DropReason::InvalidType),
            (bad(255, pass, 1, adv, 1), DropReason::AddressCount),
            (bad(255, pass, 1, adv, 2), DropReason::Checksum),
        ];
        for (i, ((d, cfg), want)) in cases.into_iter().enumerate() {
            assert_eq!(check(&cfg, &global(), &d, GROUP), Err(want), "case {i}");
        }
        // The destination comes after the checksum, the VIP list after the destination.
        let mut d = v3_1s();
        d[27] ^= 1;
        assert_eq!(
            check(&cfg_v3(), &global(), &d, N2),
            Err(DropReason::Checksum)
        );
        let mut cfg = cfg_v3();
        cfg.vips[0] = vip([192, 0, 2, 99]);
        assert_eq!(
            check(&cfg, &global(), &v3_1s(), N2),
            Err(DropReason::Destination)
        );
    }

    #[test]
    fn drop_reason_table() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert!(!r.name().is_empty());
        }
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        assert_eq!(DropReason::Ttl.to_string(), "TTL");
        assert_eq!(DropReason::AuthFailure.name(), "Auth Failure");
        assert_eq!(
            DropReason::AddressList.keepalived_stat(),
            Some(("Packet Errors", "Address List"))
        );
        assert_eq!(DropReason::Checksum.keepalived_stat(), None);
        let mut counters = [0u64; DropReason::COUNT];
        counters[DropReason::UnicastSource.index()] += 1;
        assert_eq!(counters[DropReason::COUNT - 1], 1);
    }

    #[test]
    fn fixture_checksums_are_keepalived_own() {
        // Sanity of the fixtures themselves: both IPv4 and VRRP checksums verify as captured.
        for d in [v2_pass_2vip(), v2_noauth(), v3_1s(), v3_unicast()] {
            let ip = ipv4::Packet::new_checked(&d[..]).unwrap();
            assert_eq!(checksum::data(&d[..20]), 0xffff);
            let v = wire::Packet::new_checked(ip.payload()).unwrap();
            assert!(v.verify_checksum(ip.src_addr(), ip.dst_addr()));
        }
    }
}
