//! SMTP alerts on the wire: one non-blocking TCP connection per alert, driven by the poll loop
//! for the pure client in `notify::smtp`. A down, refusing or stalling server costs a socket
//! and a timer, never a wait: adverts go out on time whatever the mail server does.

use super::clock;
use super::poller::{Poller, Token};
use crate::notify::smtp::{Message, Outcome, Rfc5322Date, Settings, SmtpClient};
use crate::time::Instant;
use fnv::FnvHashMap;
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

/// The alerts in flight, and what each instance or group was last mailed about.
#[derive(Default)]
pub struct Mails {
    list: Vec<Mail>,
    /// By "INSTANCE name" / "GROUP name" / "RS [ip]:port VS", so a reload keeps it: the state
    /// word last mailed about.
    last_mailed: FnvHashMap<String, &'static str>,
    next_id: u32,
}

impl Mails {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.list.iter().filter_map(Mail::poll_timeout).min()
    }

    /// keepalived's rule: mail when alerts are `on` for the owner (the caller applies its
    /// keepalived rule, e.g. [`crate::config::Smtp::alerts`]) and its state differs from the last one mailed
    /// about; `message` is the mail.
    #[allow(clippy::too_many_arguments)]
    pub fn alert(
        &mut self,
        on: bool,
        settings: Option<&Settings>,
        key: String,
        to: &'static str,
        message: Option<Message>,
        poller: &mut Poller,
        now: Instant,
    ) {
        if !on || self.last_mailed.get(&key) == Some(&to) {
            return;
        }
        self.last_mailed.insert(key, to);
        let (Some(settings), Some(message)) = (settings, message) else {
            return;
        };
        if self.list.len() >= MAX_MAILS {
            warn!(
                "SMTP alert dropped ({MAX_MAILS} in flight): {}",
                message.subject
            );
            return;
        }
        self.next_id = self.next_id.wrapping_add(1);
        debug!("SMTP alert {}: {}", self.next_id, message.subject);
        match Mail::start(self.next_id, settings, &message, now) {
            Ok(m) => {
                poller.add(m.fd(), Token::Mail(m.id));
                self.list.push(m);
                self.progress(self.list.len() - 1, poller);
            }
            Err(e) => warn!("SMTP alert: {e}"),
        }
    }

    /// The socket of alert `id` is ready.
    pub fn handle_ready(&mut self, id: u32, buf: &mut [u8], poller: &mut Poller, now: Instant) {
        if let Some(k) = self.list.iter().position(|m| m.id == id) {
            self.list[k].handle_ready(buf, now);
            self.progress(k, poller);
        }
    }

    pub fn handle_timeout(&mut self, poller: &mut Poller, now: Instant) {
        for k in (0..self.list.len()).rev() {
            if self.list[k].poll_timeout().is_some_and(|t| t <= now) {
                self.list[k].handle_timeout(now);
                self.progress(k, poller);
            }
        }
    }

    /// After a mail moved: poll for what it waits for next, or log its end and drop it.
    fn progress(&mut self, k: usize, poller: &mut Poller) {
        let m = &self.list[k];
        if let Some(outcome) = m.outcome() {
            info!("{}", outcome.log_line(m.server()));
            poller.remove(Token::Mail(m.id));
            self.list.swap_remove(k);
        } else {
            poller.want_write(Token::Mail(m.id), m.wants_write());
        }
    }
}
