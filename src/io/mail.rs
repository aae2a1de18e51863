//! SMTP alerts on the wire: one non-blocking TCP connection per alert, driven by the poll loop
//! for the pure client in `notify::smtp`. A down, refusing or stalling server costs a socket
//! and a timer, never a wait: adverts go out on time whatever the mail server does.

use super::clock;
use crate::notify::smtp::{Message, Outcome, Rfc5322Date, Settings, SmtpClient};
use crate::time::Instant;
use nix::errno::Errno;
use nix::sys::socket::{
    connect, getsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage,
};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// Alerts in flight at once; past it an alert is dropped and logged (keepalived has no bound).
pub const MAX_MAILS: usize = 16;

pub struct Mail {
    pub id: u32,
    sock: OwnedFd,
    client: SmtpClient,
    connected: bool,
    settings_server: std::net::SocketAddr,
}

impl Mail {
    /// Starts the connect for one alert.
    pub fn start(
        id: u32,
        settings: &Settings,
        message: &Message,
        now: Instant,
    ) -> io::Result<Mail> {
        let wall = clock::wall_now();
        let date = Rfc5322Date {
            unix_secs: wall.micros.div_euclid(1_000_000),
            utc_offset_secs: wall.utc_offset,
        };
        let client = SmtpClient::new(settings, message, date, now)
            .map_err(|e| super::error(io::ErrorKind::InvalidInput, e.to_string()))?;
        let family = match settings.server {
            std::net::SocketAddr::V4(_) => AddressFamily::Inet,
            std::net::SocketAddr::V6(_) => AddressFamily::Inet6,
        };
        let sock = socket(
            family,
            SockType::Stream,
            SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
            None,
        )?;
        let mut mail = Mail {
            id,
            sock,
            client,
            connected: false,
            settings_server: settings.server,
        };
        let addr = SockaddrStorage::from(settings.server);
        match connect(mail.sock.as_raw_fd(), &addr) {
            Ok(()) => {
                mail.connected = true;
                mail.client.handle_connected(now);
            }
            Err(Errno::EINPROGRESS) => {}
            Err(_) => mail.client.handle_closed(now),
        }
        Ok(mail)
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Whether the loop should wait for the socket to become writable.
    pub fn wants_write(&self) -> bool {
        !self.connected || !self.client.poll_transmit().is_empty()
    }

    /// The socket is ready: finish the connect, read replies, write what is due.
    pub fn handle_ready(&mut self, buf: &mut [u8], now: Instant) {
        if !self.connected {
            match getsockopt(&self.sock, sockopt::SocketError) {
                Ok(0) => {
                    self.connected = true;
                    self.client.handle_connected(now);
                }
                _ => {
                    self.client.handle_closed(now);
                    return;
                }
            }
        }
        loop {
            match nix::unistd::read(&self.sock, buf) {
                Ok(0) => {
                    self.client.handle_closed(now);
                    return;
                }
                Ok(n) => self.client.handle_input(&buf[..n], now),
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => {}
                Err(_) => {
                    self.client.handle_closed(now);
                    return;
                }
            }
            if self.client.outcome().is_some() {
                return;
            }
        }
        self.write(now);
    }

    fn write(&mut self, now: Instant) {
        while !self.client.poll_transmit().is_empty() {
            match nix::unistd::write(&self.sock, self.client.poll_transmit()) {
                Ok(n) => self.client.transmitted(n),
                Err(Errno::EAGAIN) => return,
                Err(Errno::EINTR) => {}
                Err(_) => {
                    self.client.handle_closed(now);
                    return;
                }
            }
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.client.handle_timeout(now);
        if self.connected {
            self.write(now);
        }
    }

    /// The end of this alert, logged as keepalived words it.
    pub fn outcome(&self) -> Option<Outcome> {
        self.client.outcome()
    }

    pub fn server(&self) -> std::net::SocketAddr {
        self.settings_server
    }
}
