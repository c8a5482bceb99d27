//! Helpers shared by the transport tests: binding inside a namespace,
//! hand-built SCTP packets, waiting for events with a timeout, and a
//! scratch directory for captures.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use msctp::testing::Netns;
use msctp::transport::{
    IcmpReceived, Incoming, Received, Transport, TransportError, TransportKind,
};
use msctp_wire::chunk::{Data, Init};
use msctp_wire::{Chunk, CommonHeader, Packet, Param, Ssn, Tsn};

/// How long any expected event may take. Events on veth links arrive in
/// microseconds; this only bounds a failing test.
pub const WAIT: Duration = Duration::from_secs(5);

/// Binds a transport inside `ns` (the sockets stay there).
pub async fn try_bind_in(
    ns: &Netns,
    kind: TransportKind,
    addrs: &[IpAddr],
    port: u16,
) -> Result<Transport, TransportError> {
    let _inside = ns.enter();
    Transport::bind(kind, addrs, port).await
}

/// Binds a transport inside `ns`, or fails the test.
pub async fn bind_in(ns: &Netns, kind: TransportKind, addrs: &[IpAddr], port: u16) -> Transport {
    try_bind_in(ns, kind, addrs, port)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "binding {kind:?} on {addrs:?} port {port} in {}: {e}",
                ns.name()
            )
        })
}

/// An INIT from `src_port` to `dst_port` listing `addrs` (RFC 9260 §3.3.2),
/// CRC32c filled in.
pub fn init(src_port: u16, dst_port: u16, addrs: &[IpAddr]) -> Vec<u8> {
    let params = addrs
        .iter()
        .map(|a| match a {
            IpAddr::V4(a) => Param::Ipv4Address(*a),
            IpAddr::V6(a) => Param::Ipv6Address(*a),
        })
        .collect();
    Packet {
        header: CommonHeader {
            src_port,
            dst_port,
            verification_tag: 0,
        },
        chunks: vec![Chunk::Init(Init {
            initiate_tag: 0x1234_5678,
            a_rwnd: 65_536,
            outbound_streams: 10,
            inbound_streams: 10,
            initial_tsn: Tsn(1),
            params,
        })],
    }
    .emit()
}

/// A COOKIE ACK (RFC 9260 §3.3.12).
pub fn cookie_ack(src_port: u16, dst_port: u16, tag: u32) -> Vec<u8> {
    Packet {
        header: CommonHeader {
            src_port,
            dst_port,
            verification_tag: tag,
        },
        chunks: vec![Chunk::CookieAck],
    }
    .emit()
}

/// A packet of exactly `len` bytes (a multiple of 4, at least 32): one DATA
/// chunk whose payload fills it; `seq` goes into the TSN.
pub fn data(src_port: u16, dst_port: u16, seq: u32, len: usize) -> Vec<u8> {
    assert!(len >= 32 && len % 4 == 0);
    let p = Packet {
        header: CommonHeader {
            src_port,
            dst_port,
            verification_tag: 0xabcd_0001,
        },
        chunks: vec![Chunk::Data(Data {
            tsn: Tsn(seq),
            stream: 0,
            ssn: Ssn(0),
            ppid: 0,
            unordered: false,
            begin: true,
            end: true,
            immediate: false,
            payload: Bytes::from(vec![seq as u8; len - 12 - 16]),
        })],
    }
    .emit();
    assert_eq!(p.len(), len);
    p
}

/// The next thing `t` receives, within [`WAIT`].
pub async fn next(t: &Transport, what: &str) -> Incoming {
    match tokio::time::timeout(WAIT, t.recv()).await {
        Ok(Ok(incoming)) => incoming,
        Ok(Err(e)) => panic!("receiving {what}: {e}"),
        Err(_) => panic!(
            "timed out after {WAIT:?} waiting for {what} (transport stats: {:?})",
            t.stats()
        ),
    }
}

/// The next thing `t` receives, which must be an SCTP packet.
pub async fn next_packet(t: &Transport, what: &str) -> Received {
    match next(t, what).await {
        Incoming::Packet(r) => r,
        Incoming::Icmp(i) => panic!("waiting for {what}, got an ICMP error: {i:?}"),
    }
}

/// The next thing `t` receives, which must be an ICMP error.
pub async fn next_icmp(t: &Transport, what: &str) -> IcmpReceived {
    match next(t, what).await {
        Incoming::Icmp(i) => i,
        Incoming::Packet(r) => panic!("waiting for {what}, got a packet: {r:?}"),
    }
}

/// A scratch directory for a test's files, removed when the test passes
/// and kept (and named on stderr) when it fails.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "msctp-transport-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    #[allow(dead_code)]
    pub fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
