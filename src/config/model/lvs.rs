//! The load balancer's half of keepalived.conf: `virtual_server` blocks, their real servers and
//! the health checkers of each (keepalived 2.2.7 check/check_parser.c, check_data.c and one
//! `check_*.c` per checker). Every default and inheritance (checker <- real server <- virtual
//! server) is resolved by the parser, so these values are final.

use super::{Command, Location};
use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `virtual_server IP PORT | fwmark N | group NAME { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    pub at: Location,
    pub key: VsKey,
    /// `protocol TCP|UDP|SCTP`; `None` for a fwmark service (the kernel ignores it there).
    pub protocol: Option<Protocol>,
    /// `lb_algo` / `lvs_sched` (default `wlc`, as keepalived's IPVS_DEF_SCHED).
    pub sched: Scheduler,
    /// IPVS service flags from `hashed`, `ops`, `flag-1..3`, `sh-port`, `sh-fallback`,
    /// `mh-port`, `mh-fallback` (values of include/uapi/linux/ip_vs.h IP_VS_SVC_F_*).
    pub flags: u32,
    /// `lb_kind` / `lvs_method`: the default forwarding method of its real servers.
    pub method: Forward,
    /// `persistence_timeout` in seconds; 0 is not persistent.
    pub persistence_timeout: u32,
    /// `persistence_granularity` (an IPv4 netmask).
    pub persistence_granularity: Option<Ipv4Addr>,
    /// `quorum` (default 1): the sum of weights of live real servers needed to be "up".
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    pub quorum_up: Option<Command>,
    pub quorum_down: Option<Command>,
    pub sorry_server: Option<SorryServer>,
    /// `ha_suspend`: check only while a VRRP instance has the virtual address.
    pub ha_suspend: bool,
    /// `omega`: run `quorum_down` and remove the servers at shutdown too.
    pub omega: bool,
    /// `smtp_alert [BOOL]` (unset: `smtp_alert_checker`, then `smtp_alert`, then no).
    pub smtp_alert: Option<bool>,
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    /// The name keepalived's logs use: `[192.0.2.10]:tcp:80`, `FWM 5`, `[group]`.
    pub fn show(&self) -> String {
        let proto = self.protocol.map_or("", Protocol::name);
        match &self.key {
            VsKey::Addr(a) => format!("[{}]:{proto}:{}", a.ip(), a.port()),
            VsKey::Fwmark(m) => format!("FWM {m}"),
            VsKey::Group(g) => format!("[{g}]:{proto}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VsKey {
    Addr(SocketAddr),
    Fwmark(u32),
    /// `virtual_server group NAME`: the members of `virtual_server_group NAME`.
    Group(String),
}

/// `virtual_server_group NAME { IP PORT | IP-LASTOCTET PORT | fwmark N }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsGroup {
    pub name: String,
    pub at: Location,
    /// Address ranges, each expanded: `192.0.2.10-12 80` is three addresses.
    pub addrs: Vec<SocketAddr>,
    pub fwmarks: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The IP protocol number IPVS keys services by.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// An IPVS scheduler keepalived 2.2.7 accepts (`lvs_schedulers[]` in check_parser.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduler(pub &'static str);

impl Scheduler {
    pub const KNOWN: [&'static str; 13] = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "fo", "ovf", "mh",
    ];
    pub fn parse(s: &str) -> Option<Scheduler> {
        Self::KNOWN.iter().find(|&&k| k == s).map(|&k| Scheduler(k))
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler("wlc")
    }
}

/// IPVS forwarding methods (IP_VS_CONN_F_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Forward {
    /// `NAT`: masquerading, keepalived's default.
    #[default]
    Nat,
    /// `DR`: direct routing.
    Dr,
    /// `TUN`: IP-in-IP tunnelling.
    Tun,
}

impl Forward {
    pub fn name(self) -> &'static str {
        match self {
            Forward::Nat => "NAT",
            Forward::Dr => "DR",
            Forward::Tun => "TUN",
        }
    }
}

/// `sorry_server IP [PORT]`: the destination used while the quorum is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServer {
    pub addr: SocketAddr,
    pub method: Forward,
    /// `sorry_server_inhibit`: kept with weight 0 instead of removed while not needed.
    pub inhibit: bool,
}

/// `real_server IP [PORT] { }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    pub at: Location,
    /// The port is the virtual server's when not given (and 0 for fwmark services, unless NAT).
    pub addr: SocketAddr,
    /// `weight` (default: the virtual server's `weight`, itself 1), 0..=65535.
    pub weight: u32,
    pub method: Forward,
    pub uthreshold: u32,
    pub lthreshold: u32,
    /// `inhibit_on_failure`: a failed server stays with weight 0 instead of being removed.
    pub inhibit_on_failure: bool,
    /// Boxed: most real servers have none, and inline they would make each one 80 B larger.
    pub notify_up: Option<Box<Command>>,
    pub notify_down: Option<Box<Command>>,
    /// `alpha`: start down until the checkers say otherwise (else start up).
    pub alpha: bool,
    /// `smtp_alert [BOOL]` (unset: `smtp_alert_checker`, then `smtp_alert`, then yes).
    pub smtp_alert: Option<bool>,
    pub checkers: Vec<Checker>,
}

/// One health checker of a real server, with its timing resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checker {
    pub at: Location,
    pub kind: CheckKind,
    /// Where to connect and from where (TCP, HTTP, UDP, DNS, SMTP, PING). Unused by MISC_CHECK.
    pub conn: Conn,
    /// `delay_loop`: the time between checks of a healthy server (default 60 s).
    pub delay_loop: Duration,
    /// `retry` (`nb_get_retry`): failed attempts after the first before the server is down.
    pub retry: u32,
    /// `delay_before_retry`: the time between those attempts.
    pub delay_before_retry: Duration,
    /// `warmup`: the first check starts at a random point of [0, warmup).
    pub warmup: Duration,
    /// `alpha`: this checker starts failed.
    pub alpha: bool,
    /// `log_all_failures`: log each failed attempt, not only the transition.
    pub log_all_failures: bool,
}

/// The connection options every network checker shares (`connect_ip`, `connect_port`,
/// `bindto`, `bind_port`, `connect_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conn {
    /// Default: the real server's address and port.
    pub dst: SocketAddr,
    pub bind_ip: Option<IpAddr>,
    pub bind_port: Option<u16>,
    /// `connect_timeout` (default 5 s): also the time allowed for a whole exchange.
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    Tcp,
    Http(HttpCheck),
    Ping,
    /// Boxed, as `Misc`: rare, and inline they would make every checker 88 B larger.
    Udp(Box<UdpCheck>),
    Dns(DnsCheck),
    Smtp(SmtpCheck),
    Misc(Box<MiscCheck>),
    /// `SSL_GET`: this build has no TLS library; the server keeps its configured weight.
    SslUnsupported,
}

impl CheckKind {
    /// keepalived's keyword for the checker.
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http(_) => "HTTP_GET",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::Dns(_) => "DNS_CHECK",
            CheckKind::Smtp(_) => "SMTP_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::SslUnsupported => "SSL_GET",
        }
    }
}

/// `HTTP_GET { url { } ... virtualhost; http_protocol }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    pub urls: Vec<Url>,
    /// `http_protocol 1.1` (else 1.0) as the request's version.
    pub http11: bool,
    /// `Connection: close` in the request: with `http_protocol 1.1` or `1.0C`.
    pub connection_close: bool,
}

/// `url { path; status_code; digest; virtualhost }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub path: String,
    /// Acceptable status codes (`status_code 200`, `200-299`, `200 302`): a bitmap of 100..=599.
    /// Empty means keepalived's default, any 2xx.
    pub status: StatusCodes,
    /// `digest`: the MD5 of the body, as keepalived's `genhash` prints it.
    pub digest: Option<[u8; 16]>,
    /// The Host header: the url's `virtualhost`, else the checker's, else the virtual
    /// server's, else the address.
    pub virtualhost: Option<String>,
}

/// A set of HTTP status codes 100..=599.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatusCodes([u64; 8]);

impl StatusCodes {
    pub fn insert(&mut self, code: u16) {
        if (100..600).contains(&code) {
            let i = usize::from(code - 100);
            self.0[i / 64] |= 1 << (i % 64);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
    /// Whether `code` is acceptable: in the set, or 2xx when the set is empty.
    pub fn accepts(&self, code: u16) -> bool {
        if self.is_empty() {
            return (200..300).contains(&code);
        }
        (100..600).contains(&code) && {
            let i = usize::from(code - 100);
            self.0[i / 64] & (1 << (i % 64)) != 0
        }
    }
}

/// `UDP_CHECK { payload; require_reply; min_reply_length; max_reply_length }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCheck {
    /// `payload HEX`: the datagram sent (default: empty).
    pub payload: Vec<u8>,
    /// `require_reply [HEX]`: a reply is needed (and must start with these bytes, when given).
    /// Without it, no ICMP port unreachable within the timeout is success.
    pub require_reply: Option<Vec<u8>>,
    pub min_reply_length: usize,
    pub max_reply_length: usize,
}

/// `DNS_CHECK { type; name }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// The query type (default SOA = 6, as keepalived).
    pub qtype: u16,
    /// The name asked for (default `.`).
    pub name: String,
}

/// `SMTP_CHECK { helo_name }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCheck {
    /// Default: the global `smtp_helo_name`, else the host name.
    pub helo_name: String,
}

/// `MISC_CHECK { misc_path; misc_timeout; misc_dynamic; user }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscCheck {
    pub path: Command,
    /// `misc_timeout` (default: the delay loop).
    pub timeout: Duration,
    /// `misc_dynamic`: exit 0 up, 1 down, 2..=255 up with weight status - 2.
    pub dynamic: bool,
    /// `user USER [GROUP]`, else `script_user`.
    pub user: Option<(String, Option<String>)>,
}
