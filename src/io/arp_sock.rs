//! An AF_PACKET socket for gratuitous ARP on one interface.

use super::sys;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

const ETH_P_ARP: u16 = 0x0806;

pub struct ArpSocket {
    fd: OwnedFd,
    to: libc::sockaddr_ll,
}

impl ArpSocket {
    /// A SOCK_RAW packet socket that sends whole Ethernet frames (as keepalived does) on
    /// `ifindex`. It never receives (protocol 0).
    pub fn open(ifindex: u32) -> io::Result<Self> {
        let fd = sys::socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
        let mut to: libc::sockaddr_ll = sockaddr_ll_zeroed();
        to.sll_family = libc::AF_PACKET as u16;
        to.sll_protocol = ETH_P_ARP.to_be();
        to.sll_ifindex = ifindex as i32;
        to.sll_halen = 6;
        to.sll_addr[..6].copy_from_slice(&[0xff; 6]);
        Ok(ArpSocket { fd, to })
    }

    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        sys::sendto(self.fd.as_raw_fd(), frame, &self.to).map(|_| ())
    }
}

fn sockaddr_ll_zeroed() -> libc::sockaddr_ll {
    libc::sockaddr_ll {
        sll_family: 0,
        sll_protocol: 0,
        sll_ifindex: 0,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    }
}
