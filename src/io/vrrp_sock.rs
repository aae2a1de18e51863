//! The raw IPPROTO_VRRP socket of one interface: receives every advert that arrives on it and
//! sends ours, multicast or unicast, with the source address each instance wants.

use super::sys;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// IANA protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// keepalived marks adverts as network control traffic (IPTOS_PREC_INTERNETCONTROL).
const TOS_INTERNETCONTROL: i32 = 0xc0;

pub struct VrrpSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl VrrpSocket {
    /// Opens the socket bound to `ifname`, joined to `group` on it (when given), with TTL 255
    /// for multicast and unicast (RFC 5798 5.1.1.3) and our own multicast not looped back.
    pub fn open(ifname: &str, ifindex: u32, groups: &[Ipv4Addr]) -> io::Result<Self> {
        let fd = sys::socket(libc::AF_INET, libc::SOCK_RAW, IPPROTO_VRRP)?;
        let mut name = [0u8; libc::IFNAMSIZ];
        let n = ifname.len().min(libc::IFNAMSIZ - 1);
        name[..n].copy_from_slice(&ifname.as_bytes()[..n]);
        sys::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_BINDTODEVICE, &name)?;
        let ttl: libc::c_int = 255;
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_TTL, &ttl)?;
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &ttl)?;
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_TOS, &TOS_INTERNETCONTROL)?;
        let off: libc::c_int = 0;
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &off)?;
        // Only the groups this socket joined, not every group any socket on the host joined.
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_ALL, &off)?;
        // No DF bit, as keepalived's adverts.
        let dont: libc::c_int = libc::IP_PMTUDISC_DONT;
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, &dont)?;
        let mreqn = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr { s_addr: 0 },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: ifindex as libc::c_int,
        };
        sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreqn)?;
        for g in groups {
            let m = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(g.octets()),
                },
                ..mreqn
            };
            sys::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &m)?;
        }
        Ok(VrrpSocket { fd, ifindex })
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// One datagram (IPv4 header included) into `buf`, or `None` when the queue is empty.
    pub fn recv<'a>(&self, buf: &'a mut [u8]) -> io::Result<Option<&'a [u8]>> {
        Ok(sys::recv(self.fd(), buf)?.map(|n| &buf[..n]))
    }

    /// Sends one VRRP payload from `src` to `dst` (the kernel writes the IPv4 header). The
    /// source is chosen per packet with IP_PKTINFO, so instances with different
    /// `mcast_src_ip`/`unicast_src_ip` share the socket. No allocation.
    pub fn send(&self, payload: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> io::Result<()> {
        let to = sys::sockaddr_in(dst);
        let info = libc::in_pktinfo {
            ipi_ifindex: self.ifindex as libc::c_int,
            ipi_spec_dst: libc::in_addr {
                s_addr: u32::from_ne_bytes(src.octets()),
            },
            ipi_addr: libc::in_addr { s_addr: 0 },
        };
        // Room for one cmsghdr + in_pktinfo, aligned as the kernel expects.
        let mut control = [0u64; 8];
        let space = cmsg_space(core::mem::size_of::<libc::in_pktinfo>());
        debug_assert!(space <= core::mem::size_of_val(&control));
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        // SAFETY: all pointers reference live locals sized as declared; CMSG_* macros only walk
        // inside `control`, which is large enough for one in_pktinfo message.
        let rc = unsafe {
            let mut msg: libc::msghdr = core::mem::zeroed();
            msg.msg_name = &to as *const _ as *mut libc::c_void;
            msg.msg_namelen = core::mem::size_of_val(&to) as libc::socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(core::mem::size_of::<libc::in_pktinfo>() as u32) as _;
            core::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::in_pktinfo, info);
            libc::sendmsg(self.fd(), &msg, 0)
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

fn cmsg_space(len: usize) -> usize {
    // SAFETY: CMSG_SPACE is pure arithmetic.
    unsafe { libc::CMSG_SPACE(len as u32) as usize }
}
