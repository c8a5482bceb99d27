//! `bindx`-style construction (RFC 6458 §9.1 `sctp_bindx`): add and remove
//! local addresses, then listen, connect or open a one-to-many socket.

use std::io;
use std::net::IpAddr;

use crate::one_to_many::SctpSocket;
use crate::options::Options;
use crate::socket::{SctpListener, SctpStream, ephemeral_port};

/// Collects local addresses and options before the socket is created.
#[derive(Debug, Clone, Default)]
pub struct SocketBuilder {
    addrs: Vec<IpAddr>,
    port: Option<u16>,
    options: Options,
}

impl SocketBuilder {
    /// An empty builder with default options.
    pub fn new() -> Self {
        SocketBuilder::default()
    }

    /// Adds a local address (`SCTP_BINDX_ADD_ADDR`).
    #[must_use]
    pub fn add_addr(mut self, addr: IpAddr) -> Self {
        if !self.addrs.contains(&addr) {
            self.addrs.push(addr);
        }
        self
    }

    /// Removes a local address (`SCTP_BINDX_REM_ADDR`).
    #[must_use]
    pub fn remove_addr(mut self, addr: IpAddr) -> Self {
        self.addrs.retain(|a| *a != addr);
        self
    }

    /// The local port of a listener or one-to-many socket (an ephemeral
    /// one if not set). `connect` always uses an ephemeral port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// The options.
    #[must_use]
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The local addresses so far.
    pub fn addrs(&self) -> &[IpAddr] {
        &self.addrs
    }

    fn need_port(&self) -> io::Result<u16> {
        self.port.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a listening socket needs a port: call .port(P)",
            )
        })
    }

    /// A one-to-one listener.
    pub async fn listen(self) -> io::Result<SctpListener> {
        let port = self.need_port()?;
        SctpListener::bind(&self.addrs, port, self.options).await
    }

    /// A one-to-many socket.
    pub async fn one_to_many(self) -> io::Result<SctpSocket> {
        let port = match self.port {
            Some(p) => p,
            None => ephemeral_port()?,
        };
        SctpSocket::bind(&self.addrs, port, self.options).await
    }

    /// Connects a one-to-one stream to `peer_addrs` on `port`.
    pub async fn connect(self, peer_addrs: &[IpAddr], port: u16) -> io::Result<SctpStream> {
        SctpStream::connect(&self.addrs, peer_addrs, port, self.options).await
    }
}
