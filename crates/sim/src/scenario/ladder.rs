//! The packet ladder of a scenario: every datagram that entered a link, in
//! the order it did (which is also its frame number in the combined
//! capture), decoded chunk by chunk, with what became of it, and every ICMP
//! error a blocked link sent back.
//!
//! The ladder is rebuilt from what the simulator leaves behind: the event
//! log says when each datagram entered which link and direction and what
//! became of it, and the combined capture holds its bytes (one frame per
//! `Sent` and per `IcmpSent` log entry, in log order).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use msctp_wire::capture::{self, Decap};
use msctp_wire::{Chunk, Packet as WirePacket, Param};

use crate::agent::IcmpKind;
use crate::link::Direction;
use crate::log::{DropReason, LogEntry, LogKind};

use super::apps::message_number;

/// One of the two hosts of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The client, which sends INIT and the `msg N` messages.
    Alpha,
    /// The server, which echoes them.
    Beta,
}

impl Side {
    /// The host a direction of a lab link leaves from (alpha is end `a`).
    pub fn sender_of(direction: Direction) -> Side {
        match direction {
            Direction::AToB => Side::Alpha,
            Direction::BToA => Side::Beta,
        }
    }

    /// The other host.
    pub fn peer(self) -> Side {
        match self {
            Side::Alpha => Side::Beta,
            Side::Beta => Side::Alpha,
        }
    }

    /// `alpha` or `beta`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Alpha => "alpha",
            Side::Beta => "beta",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What became of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Handed to the far end at this virtual time.
    Delivered(Duration),
    /// Dropped at this virtual time.
    Dropped {
        /// When.
        at: Duration,
        /// Why (`Rejected`: an ICMP error went back; `LinkDown`: silently).
        reason: DropReason,
    },
    /// Still on the way when the run ended.
    InFlight,
}

impl Fate {
    /// True if it reached the far end.
    pub fn delivered(self) -> bool {
        matches!(self, Fate::Delivered(_))
    }
}

/// One chunk, as much of it as the ladder shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkInfo {
    /// INIT (RFC 9260 §3.3.2) with the addresses it lists (§5.1.2).
    Init {
        /// Initiate Tag.
        initiate_tag: u32,
        /// Initial TSN.
        initial_tsn: u32,
        /// IPv4/IPv6 Address parameters, in order.
        addresses: Vec<IpAddr>,
    },
    /// INIT ACK (RFC 9260 §3.3.3) with the addresses it lists.
    InitAck {
        /// Initiate Tag.
        initiate_tag: u32,
        /// Initial TSN.
        initial_tsn: u32,
        /// IPv4/IPv6 Address parameters, in order.
        addresses: Vec<IpAddr>,
    },
    /// COOKIE ECHO.
    CookieEcho,
    /// COOKIE ACK.
    CookieAck,
    /// DATA.
    Data {
        /// Its TSN.
        tsn: u32,
        /// Stream.
        stream: u16,
        /// Stream sequence number.
        ssn: u16,
        /// User data length.
        len: usize,
        /// The `msg N` number it carries, if it is one whole message.
        message: Option<u32>,
        /// True if this TSN was sent before in the same direction of the
        /// association (a retransmission, RFC 9260 §6.3.3, §6.4.1).
        retransmission: bool,
    },
    /// SACK.
    Sack {
        /// Cumulative TSN Ack.
        cum_tsn_ack: u32,
        /// Advertised receiver window.
        a_rwnd: u32,
        /// Gap ack blocks (offsets from the cumulative ack).
        gaps: Vec<(u16, u16)>,
        /// Duplicate TSNs reported.
        dups: Vec<u32>,
    },
    /// HEARTBEAT.
    Heartbeat {
        /// Number of the packet whose HEARTBEAT ACK echoes this one's info.
        answered_by: Option<usize>,
    },
    /// HEARTBEAT ACK.
    HeartbeatAck {
        /// Number of the packet whose HEARTBEAT this one echoes.
        answers: Option<usize>,
    },
    /// SHUTDOWN.
    Shutdown {
        /// Cumulative TSN Ack.
        cum_tsn_ack: u32,
    },
    /// SHUTDOWN ACK.
    ShutdownAck,
    /// SHUTDOWN COMPLETE.
    ShutdownComplete,
    /// ABORT.
    Abort,
    /// ERROR.
    Error,
    /// Any other chunk, by name.
    Other(String),
}

impl ChunkInfo {
    /// The chunk type's RFC name (`DATA`, `INIT ACK`, ...).
    pub fn name(&self) -> &str {
        match self {
            ChunkInfo::Init { .. } => "INIT",
            ChunkInfo::InitAck { .. } => "INIT ACK",
            ChunkInfo::CookieEcho => "COOKIE ECHO",
            ChunkInfo::CookieAck => "COOKIE ACK",
            ChunkInfo::Data { .. } => "DATA",
            ChunkInfo::Sack { .. } => "SACK",
            ChunkInfo::Heartbeat { .. } => "HEARTBEAT",
            ChunkInfo::HeartbeatAck { .. } => "HEARTBEAT ACK",
            ChunkInfo::Shutdown { .. } => "SHUTDOWN",
            ChunkInfo::ShutdownAck => "SHUTDOWN ACK",
            ChunkInfo::ShutdownComplete => "SHUTDOWN COMPLETE",
            ChunkInfo::Abort => "ABORT",
            ChunkInfo::Error => "ERROR",
            ChunkInfo::Other(name) => name,
        }
    }
}

fn write_addresses(f: &mut fmt::Formatter<'_>, addresses: &[IpAddr]) -> fmt::Result {
    f.write_str(" addresses [")?;
    for (i, a) in addresses.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{a}")?;
    }
    f.write_str("]")
}

impl fmt::Display for ChunkInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            ChunkInfo::Init {
                initial_tsn,
                addresses,
                ..
            }
            | ChunkInfo::InitAck {
                initial_tsn,
                addresses,
                ..
            } => {
                write!(f, " initial TSN {initial_tsn}")?;
                write_addresses(f, addresses)
            }
            ChunkInfo::Data {
                tsn,
                message,
                len,
                retransmission,
                ..
            } => {
                write!(f, " TSN {tsn}")?;
                match message {
                    Some(n) => write!(f, " \"msg {n}\"")?,
                    None => write!(f, " ({len} bytes)")?,
                }
                if *retransmission {
                    f.write_str(" (retransmission)")?;
                }
                Ok(())
            }
            ChunkInfo::Sack {
                cum_tsn_ack,
                gaps,
                dups,
                ..
            } => {
                write!(f, " cum TSN ack {cum_tsn_ack}")?;
                for (s, e) in gaps {
                    write!(f, " gap {s}-{e}")?;
                }
                if !dups.is_empty() {
                    write!(f, " dup {dups:?}")?;
                }
                Ok(())
            }
            ChunkInfo::Heartbeat { answered_by } => match answered_by {
                Some(n) => write!(f, " (acked by #{n})"),
                None => f.write_str(" (not acked)"),
            },
            ChunkInfo::HeartbeatAck { answers: Some(n) } => write!(f, " (for #{n})"),
            ChunkInfo::Shutdown { cum_tsn_ack } => write!(f, " cum TSN ack {cum_tsn_ack}"),
            _ => Ok(()),
        }
    }
}

/// What a datagram of the ladder carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// An SCTP packet.
    Sctp {
        /// Verification tag of the common header.
        vtag: u32,
        /// Its chunks, in order.
        chunks: Vec<ChunkInfo>,
    },
    /// An ICMP error sent back by a rejecting link.
    Icmp {
        /// What it says.
        kind: IcmpKind,
        /// The packet it is about (the one that was rejected).
        about: Option<usize>,
    },
    /// Bytes that could not be decoded, with the reason.
    Undecodable(String),
}

/// One datagram of the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LadderPacket {
    /// Its number from 1, which is its frame number in the combined capture.
    pub number: usize,
    /// Virtual time it entered the link.
    pub time: Duration,
    /// Link number: 1 or 2.
    pub link: usize,
    /// Direction (`AToB`: alpha → beta).
    pub direction: Direction,
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// SCTP packet length (IP packet length for ICMP errors).
    pub len: usize,
    /// What it carries.
    pub content: Content,
    /// What became of it.
    pub fate: Fate,
}

impl LadderPacket {
    /// The host that sent it (for an ICMP error: the host behind the
    /// rejecting link end).
    pub fn sender(&self) -> Side {
        Side::sender_of(self.direction)
    }

    /// Its chunks (none for ICMP errors).
    pub fn chunks(&self) -> &[ChunkInfo] {
        match &self.content {
            Content::Sctp { chunks, .. } => chunks,
            _ => &[],
        }
    }

    /// True for an ICMP error.
    pub fn is_icmp(&self) -> bool {
        matches!(self.content, Content::Icmp { .. })
    }

    /// True if one of its chunks matches.
    pub fn has(&self, f: impl Fn(&ChunkInfo) -> bool) -> bool {
        self.chunks().iter().any(f)
    }

    /// TSNs of its DATA chunks, with their retransmission flag.
    pub fn data_tsns(&self) -> impl Iterator<Item = (u32, bool)> + '_ {
        self.chunks().iter().filter_map(|c| match c {
            ChunkInfo::Data {
                tsn,
                retransmission,
                ..
            } => Some((*tsn, *retransmission)),
            _ => None,
        })
    }

    /// The cumulative TSN ack of its SACK, if it has one.
    pub fn sack(&self) -> Option<u32> {
        self.chunks().iter().find_map(|c| match c {
            ChunkInfo::Sack { cum_tsn_ack, .. } => Some(*cum_tsn_ack),
            _ => None,
        })
    }
}

/// The link number of a log entry (`0` when it has none).
fn link_number(e: &LogEntry) -> usize {
    e.link.map_or(0, |l| l.number())
}

fn decode_sctp(bytes: Bytes) -> Result<(u32, Vec<Chunk>), String> {
    let packet = WirePacket::parse(bytes).map_err(|e| e.to_string())?;
    Ok((packet.header.verification_tag, packet.chunks))
}

fn addresses(params: &[Param]) -> Vec<IpAddr> {
    params
        .iter()
        .filter_map(|p| match p {
            Param::Ipv4Address(a) => Some(IpAddr::V4(*a)),
            Param::Ipv6Address(a) => Some(IpAddr::V6(*a)),
            _ => None,
        })
        .collect()
}

/// State of the walk over the log.
#[derive(Default)]
struct Builder {
    packets: Vec<LadderPacket>,
    /// Per (link, direction): packets on the way, oldest first.
    in_flight: HashMap<(usize, Direction), VecDeque<usize>>,
    /// ICMP errors on the way, per (link, direction).
    icmp_in_flight: HashMap<(usize, Direction), VecDeque<usize>>,
    /// The last packet rejected on each (link, direction).
    last_rejected: HashMap<(usize, Direction), usize>,
    /// (verification tag, TSN) of every DATA chunk seen.
    tsns: HashSet<(u32, u32)>,
    /// Heartbeat info → index of the packet that carried the HEARTBEAT.
    heartbeats: HashMap<Bytes, usize>,
}

impl Builder {
    fn chunk_info(&mut self, index: usize, vtag: u32, chunk: Chunk) -> ChunkInfo {
        match chunk {
            Chunk::Init(i) => ChunkInfo::Init {
                initiate_tag: i.initiate_tag,
                initial_tsn: i.initial_tsn.0,
                addresses: addresses(&i.params),
            },
            Chunk::InitAck(i) => ChunkInfo::InitAck {
                initiate_tag: i.initiate_tag,
                initial_tsn: i.initial_tsn.0,
                addresses: addresses(&i.params),
            },
            Chunk::CookieEcho(_) => ChunkInfo::CookieEcho,
            Chunk::CookieAck => ChunkInfo::CookieAck,
            Chunk::Data(d) => ChunkInfo::Data {
                tsn: d.tsn.0,
                stream: d.stream,
                ssn: d.ssn.0,
                len: d.payload.len(),
                message: (d.begin && d.end)
                    .then(|| message_number(&d.payload))
                    .flatten(),
                retransmission: !self.tsns.insert((vtag, d.tsn.0)),
            },
            Chunk::Sack(s) => ChunkInfo::Sack {
                cum_tsn_ack: s.cum_tsn_ack.0,
                a_rwnd: s.a_rwnd,
                gaps: s.gap_blocks.iter().map(|g| (g.start, g.end)).collect(),
                dups: s.dup_tsns.iter().map(|t| t.0).collect(),
            },
            Chunk::Heartbeat(h) => {
                self.heartbeats.insert(h.info, index);
                ChunkInfo::Heartbeat { answered_by: None }
            }
            Chunk::HeartbeatAck(h) => {
                let answers = self.heartbeats.get(&h.info).copied();
                if let Some(hb) = answers {
                    for c in self.packets[hb].content_chunks_mut() {
                        if let ChunkInfo::Heartbeat { answered_by } = c {
                            answered_by.get_or_insert(index + 1);
                        }
                    }
                }
                ChunkInfo::HeartbeatAck {
                    answers: answers.map(|i| i + 1),
                }
            }
            Chunk::Shutdown(s) => ChunkInfo::Shutdown {
                cum_tsn_ack: s.cum_tsn_ack.0,
            },
            Chunk::ShutdownAck => ChunkInfo::ShutdownAck,
            Chunk::ShutdownComplete(_) => ChunkInfo::ShutdownComplete,
            Chunk::Abort(_) => ChunkInfo::Abort,
            Chunk::Error(_) => ChunkInfo::Error,
            other => ChunkInfo::Other(
                other
                    .chunk_type()
                    .name()
                    .map_or_else(|| format!("chunk {}", other.chunk_type().0), str::to_owned),
            ),
        }
    }

    fn sent(&mut self, e: &LogEntry, frame: Option<Bytes>) {
        let index = self.packets.len();
        let (link, direction) = (link_number(e), e.direction.unwrap_or(Direction::AToB));
        let content = match frame.map(decode_sctp) {
            None => Content::Undecodable("no frame in the capture".into()),
            Some(Err(reason)) => Content::Undecodable(reason),
            Some(Ok((vtag, chunks))) => {
                // A HEARTBEAT ACK here marks the earlier HEARTBEAT it
                // answers, so the chunks are read before this packet is added.
                let chunks = chunks
                    .into_iter()
                    .map(|c| self.chunk_info(index, vtag, c))
                    .collect();
                Content::Sctp { vtag, chunks }
            }
        };
        self.packets
            .push(new_packet(index, e, link, direction, content));
        self.in_flight
            .entry((link, direction))
            .or_default()
            .push_back(index);
    }

    /// The packet a fate entry is about: for drops on entry (loss, queue,
    /// MTU, filter) the one just sent; otherwise the oldest on the way with
    /// the same addresses and length.
    fn take(&mut self, e: &LogEntry, on_entry: bool) -> Option<usize> {
        let key = (link_number(e), e.direction?);
        let queue = self.in_flight.get_mut(&key)?;
        if on_entry {
            return queue.pop_back();
        }
        let pos = queue.iter().position(|&i| {
            let p = &self.packets[i];
            p.src == e.src && p.dst == e.dst && p.len == e.len
        })?;
        queue.remove(pos)
    }

    fn entry(&mut self, e: &LogEntry, frames: &mut impl Iterator<Item = (IpAddr, IpAddr, Bytes)>) {
        match e.kind {
            LogKind::Sent => {
                let frame = frames
                    .next()
                    .filter(|(s, d, _)| *s == e.src && *d == e.dst)
                    .map(|(_, _, b)| b);
                self.sent(e, frame);
            }
            LogKind::Delivered => {
                if let Some(i) = self.take(e, false) {
                    if self.packets[i].fate == Fate::InFlight {
                        self.packets[i].fate = Fate::Delivered(e.time);
                    }
                }
            }
            LogKind::Duplicated => {
                // The copy arrives right after the original: expect it.
                if let Some(last) = self.packets.len().checked_sub(1) {
                    let key = (link_number(e), e.direction.unwrap_or(Direction::AToB));
                    self.in_flight.entry(key).or_default().push_back(last);
                }
            }
            LogKind::Dropped { reason } => {
                let on_entry = matches!(
                    reason,
                    DropReason::Loss | DropReason::QueueFull | DropReason::Mtu | DropReason::Filter
                );
                if e.link.is_none() {
                    return;
                }
                if let Some(i) = self.take(e, on_entry) {
                    if self.packets[i].fate == Fate::InFlight {
                        self.packets[i].fate = Fate::Dropped { at: e.time, reason };
                    }
                    if reason == DropReason::Rejected {
                        let key = (link_number(e), e.direction.unwrap_or(Direction::AToB));
                        self.last_rejected.insert(key, i);
                    }
                }
            }
            LogKind::IcmpSent { kind } => {
                let _ = frames.next();
                let index = self.packets.len();
                let (link, back) = (link_number(e), e.direction.unwrap_or(Direction::AToB));
                let about = self
                    .last_rejected
                    .get(&(link, back.reverse()))
                    .map(|i| i + 1);
                let content = Content::Icmp { kind, about };
                self.packets.push(new_packet(index, e, link, back, content));
                self.icmp_in_flight
                    .entry((link, back))
                    .or_default()
                    .push_back(index);
            }
            LogKind::IcmpDelivered { .. } => {
                let key = (link_number(e), e.direction.unwrap_or(Direction::AToB));
                if let Some(i) = self
                    .icmp_in_flight
                    .get_mut(&key)
                    .and_then(VecDeque::pop_front)
                {
                    self.packets[i].fate = Fate::Delivered(e.time);
                }
            }
            LogKind::Reordered | LogKind::LinkStateChanged { .. } | LogKind::LinkConfigChanged => {}
        }
    }
}

impl LadderPacket {
    fn content_chunks_mut(&mut self) -> &mut [ChunkInfo] {
        match &mut self.content {
            Content::Sctp { chunks, .. } => chunks,
            _ => &mut [],
        }
    }
}

/// The ladder packet at `index` for log entry `e`, still on its way.
fn new_packet(
    index: usize,
    e: &LogEntry,
    link: usize,
    direction: Direction,
    content: Content,
) -> LadderPacket {
    LadderPacket {
        number: index + 1,
        time: e.time,
        link,
        direction,
        src: e.src,
        dst: e.dst,
        len: e.len,
        content,
        fate: Fate::InFlight,
    }
}

/// Builds the ladder from the simulator's log and its combined capture.
pub(crate) fn build(log: &[LogEntry], combined_pcap: &[u8]) -> Vec<LadderPacket> {
    let frames: Vec<(IpAddr, IpAddr, Bytes)> =
        match capture::read(Bytes::copy_from_slice(combined_pcap)) {
            Ok(reader) => reader
                .map_while(Result::ok)
                .map(|frame| {
                    let (src, dst) = ip_addresses(&frame.data);
                    let sctp = match capture::sctp_in_frame(&frame) {
                        Decap::Sctp(d) => d.sctp,
                        _ => Bytes::new(),
                    };
                    (src, dst, sctp)
                })
                .collect(),
            Err(_) => Vec::new(),
        };
    let mut frames = frames.into_iter();
    let mut b = Builder::default();
    for e in log {
        b.entry(e, &mut frames);
    }
    b.packets
}

/// Source and destination of a raw IPv4 or IPv6 frame (unspecified if it
/// is too short).
fn ip_addresses(frame: &[u8]) -> (IpAddr, IpAddr) {
    let unspecified = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    match frame.first().map(|b| b >> 4) {
        Some(4) if frame.len() >= 20 => {
            let a: [u8; 4] = frame[12..16].try_into().unwrap_or_default();
            let b: [u8; 4] = frame[16..20].try_into().unwrap_or_default();
            (IpAddr::from(a), IpAddr::from(b))
        }
        Some(6) if frame.len() >= 40 => {
            let a: [u8; 16] = frame[8..24].try_into().unwrap_or_default();
            let b: [u8; 16] = frame[24..40].try_into().unwrap_or_default();
            (IpAddr::from(a), IpAddr::from(b))
        }
        _ => (unspecified, unspecified),
    }
}
