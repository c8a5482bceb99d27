//! What `msctp server` and `msctp client` share: the network flags (`--bind`,
//! `--port`, `--transport`, `--json`, `--pcap` and the protocol timing flags)
//! with value parsers whose errors name the flag and say how to fix it, the
//! [`msctp::Options`] built from them, and the output both print: events and
//! per-second counters, as text or as JSON lines.
//!
//! # JSON lines (`--json`)
//!
//! One object per line on stdout, `t` (seconds since the command started)
//! and `event` first:
//!
//! | `event` | fields |
//! |---|---|
//! | `listening` (server) | `addresses`, `port`, `transport`, `udp_port`, `mode` |
//! | `connecting` (client) | `local`, `peer`, `port`, `transport`, `udp_port` |
//! | `association_change` | `association`, `change` (`comm_up`, `comm_lost`, `restart`, `shutdown_complete`, `cant_start_association`); `comm_up` adds `peer_addresses`, `local_addresses`, `outbound_streams`, `inbound_streams`; failures add `reason` (a code) and `reason_text` |
//! | `peer_address_change` | `association`, `address`, `change` (`available`, `unreachable`, `potentially_failed`, `confirmed`, `added`), `from`, `to` (path states: `unconfirmed`, `active`, `potentially_failed`, `inactive`) |
//! | `primary_change` | `association`, `address`: the new primary path |
//! | `peer_shutdown` | `association`: the peer started a graceful shutdown |
//! | `send_failed` | `association`, `stream`, `ppid`, `bytes`, `sent` |
//! | `remote_error` | `association`, `causes` |
//! | `counters` | every second per association, and once more when it has closed: `association`, `state` (`established`, `shutdown_received`, `shutting_down`, `closed`), `messages_in`, `bytes_in`, `messages_out`, `bytes_out`, `paths` (per path: `local`, `remote`, `state`, `primary`, `srtt_ms`, `rto_ms`, `cwnd`, `flight_size`, `error_count`, packet, byte, DATA, retransmission, timeout and heartbeat counters) |
//! | `mismatch` (client) | `message`, `offset`, `expected_len`, `received_len`: an echo differed |
//! | `client_result` (client) | `mode`, `messages`, `bytes` (sent), `seconds` (first send to last echo; discard: to the end of the shutdown), `mismatches`, `echoed`, `messages_in`, `bytes_in`, `rtt_ms` (`min`, `avg`, `max` of the echoes, or null), `paths` |
//! | `stopping` (server) | `signal`, `associations` |
//! | `error` | `message`: a failure, said for people (also on stderr); the last line when the command fails |

use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use msctp::transport::{SCTP_UDP_PORT, TransportError};
use msctp::{
    AddressChange, AssociationChange, CloseReason, Config, Event, Options, PathInfo, PathState,
    SctpStream,
};
use msctp_wire::ErrorCause;
use serde_json::{Map, Value, json};

/// Exit status for a bad command line (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the run fails (cannot bind or connect, association
/// lost, echo mismatch).
pub const EXIT_FAILURE: u8 = 1;

/// Text shared by the `--help` of both commands: the exit statuses.
pub const EXIT_HELP: &str = "\
Exit status: 0 success; 1 the run failed (cannot bind: missing CAP_NET_RAW for raw IP, \
address not local, UDP port in use; cannot connect; association lost; echo mismatch); \
2 bad command line; 130 interrupted (client only: the server exits 0 on SIGINT/SIGTERM).";

/// A comma-separated list of IP addresses (`--bind`, `--connect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrList(pub Vec<IpAddr>);

/// Parses `192.0.2.1,198.51.100.1` (IPv4 and IPv6 mixed, no host names, no
/// duplicates).
pub fn parse_addr_list(s: &str) -> Result<AddrList, String> {
    const EXAMPLE: &str = "e.g. 192.0.2.1,198.51.100.1 or 2001:db8:1::1,2001:db8:2::1";
    let mut out: Vec<IpAddr> = Vec::new();
    for part in s.split(',') {
        let p = part.trim();
        if p.is_empty() {
            return Err(format!(
                "an address is missing: give IP addresses separated by commas, {EXAMPLE}"
            ));
        }
        let bare = p
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(p);
        let addr: IpAddr = bare.parse().map_err(|_| {
            format!(
                "`{p}` is not an IP address: give IPv4 or IPv6 addresses separated by commas \
                 (host names are not looked up), {EXAMPLE}"
            )
        })?;
        if out.contains(&addr) {
            return Err(format!("{addr} is given twice: list each address once"));
        }
        out.push(addr);
    }
    Ok(AddrList(out))
}

/// How SCTP packets travel (`--transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportArg {
    /// IP protocol 132 (needs `CAP_NET_RAW`).
    Raw,
    /// UDP encapsulation (RFC 6951) on this UDP port, locally and at the peer.
    Udp(u16),
}

impl TransportArg {
    /// The library's transport and the peer's UDP port.
    pub fn kind(self) -> (msctp::TransportKind, u16) {
        match self {
            TransportArg::Raw => (msctp::TransportKind::Raw, SCTP_UDP_PORT),
            TransportArg::Udp(port) => (msctp::TransportKind::Udp { port }, port),
        }
    }

    /// `raw` or `udp` (JSON).
    pub fn name(self) -> &'static str {
        match self {
            TransportArg::Raw => "raw",
            TransportArg::Udp(_) => "udp",
        }
    }

    /// For people: `raw IP` or `UDP port 9899 (RFC 6951)`.
    pub fn describe(self) -> String {
        match self {
            TransportArg::Raw => "raw IP (protocol 132)".into(),
            TransportArg::Udp(p) => format!("UDP port {p} (RFC 6951)"),
        }
    }

    /// The UDP port, for UDP.
    pub fn udp_port(self) -> Option<u16> {
        match self {
            TransportArg::Raw => None,
            TransportArg::Udp(p) => Some(p),
        }
    }
}

/// Parses `raw`, `udp` (port 9899) or `udp:PORT`.
pub fn parse_transport(s: &str) -> Result<TransportArg, String> {
    const USE: &str = "use raw (IP protocol 132, needs CAP_NET_RAW), udp (UDP encapsulation \
                       on port 9899, RFC 6951, no privilege needed) or udp:PORT";
    match s {
        "raw" => Ok(TransportArg::Raw),
        "udp" => Ok(TransportArg::Udp(SCTP_UDP_PORT)),
        _ => match s.strip_prefix("udp:") {
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 => Ok(TransportArg::Udp(port)),
                _ => Err(format!(
                    "`{p}` is not a UDP port: udp:PORT takes a port from 1 to 65535, \
                     e.g. udp:9899"
                )),
            },
            None => Err(format!("`{s}` is not a transport: {USE}")),
        },
    }
}

/// Parses a positive number of milliseconds.
pub fn parse_ms(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1 (milliseconds)".into()),
        Ok(n) if n > 3_600_000 => Err("must be at most 3600000 (one hour, in milliseconds)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "`{s}` is not a number of milliseconds: give a whole number, e.g. 200"
        )),
    }
}

/// The flags of the network commands.
#[derive(Debug, clap::Args)]
pub struct NetArgs {
    /// Local IP addresses, comma-separated, IPv4 and IPv6 mixed; all are
    /// announced to the peer (multi-homing), e.g. --bind 192.0.2.1,198.51.100.1.
    #[arg(long, value_name = "ADDR[,ADDR…]", value_parser = parse_addr_list)]
    pub bind: AddrList,
    /// SCTP port of the server (it listens there; the client connects
    /// there from an ephemeral port).
    #[arg(long, value_name = "P", default_value_t = 5001,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// How SCTP packets travel: `raw` (IP protocol 132, needs CAP_NET_RAW,
    /// speaks to every SCTP stack), `udp` (UDP encapsulation, RFC 6951, on
    /// UDP port 9899 at both ends, no privilege needed) or `udp:PORT`
    /// (another UDP port, the same at both ends).
    #[arg(long, value_name = "raw|udp[:PORT]", default_value = "raw",
          value_parser = parse_transport)]
    pub transport: TransportArg,
    /// Print one JSON object per line (events, per-second counters, result)
    /// instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write every SCTP packet sent and received to this pcap file (open it
    /// in Wireshark, or `msctp decode FILE`).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
}

/// Protocol parameters worth changing in experiments (RFC 9260 §16 names).
/// Flatten it last: its help heading applies to the flags after it.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Protocol timing (for experiments; RFC 9260 §16 defaults)")]
pub struct TimingArgs {
    /// RTO.Initial in milliseconds [default: 1000, or --rto-min/--rto-max
    /// when 1000 lies outside them].
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub rto_initial: Option<u64>,
    /// RTO.Min in milliseconds [default: 1000, or --rto-max when smaller].
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub rto_min: Option<u64>,
    /// RTO.Max in milliseconds [default: 60000, or --rto-min when larger].
    /// Small values make failure detection and INIT give-up fast.
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub rto_max: Option<u64>,
    /// HB.interval in milliseconds: how often idle paths are probed with
    /// HEARTBEAT [default: 30000].
    #[arg(long, value_name = "MS", value_parser = parse_ms)]
    pub hb_interval: Option<u64>,
    /// Path.Max.Retrans: errors before a path is marked inactive [default: 5].
    #[arg(long, value_name = "N")]
    pub path_max_retrans: Option<u32>,
    /// Association.Max.Retrans: errors before the association is given up
    /// [default: 10].
    #[arg(long, value_name = "N")]
    pub association_max_retrans: Option<u32>,
    /// Max.Init.Retransmits: INIT/COOKIE ECHO retransmissions before the
    /// client gives up [default: 8].
    #[arg(long, value_name = "N")]
    pub max_init_retransmits: Option<u32>,
    /// Turn SCTP-PF (RFC 7829, potentially failed paths) off: a path is only
    /// left after Path.Max.Retrans errors, as in plain RFC 9260.
    #[arg(long)]
    pub no_pf: bool,
}

impl TimingArgs {
    /// The protocol configuration, or an error naming the conflicting flags.
    pub fn config(&self) -> Result<Config, String> {
        let mut c = Config::default();
        let ms = Duration::from_millis;
        let (min, max) = match (self.rto_min.map(ms), self.rto_max.map(ms)) {
            (Some(min), Some(max)) if min > max => {
                return Err(format!(
                    "--rto-min {} exceeds --rto-max {}: RTO.Min must not exceed RTO.Max",
                    min.as_millis(),
                    max.as_millis()
                ));
            }
            (Some(min), Some(max)) => (min, max),
            (Some(min), None) => (min, c.rto_max.max(min)),
            (None, Some(max)) => (c.rto_min.min(max), max),
            (None, None) => (c.rto_min, c.rto_max),
        };
        let initial = match self.rto_initial.map(ms) {
            Some(i) if i < min || i > max => {
                return Err(format!(
                    "--rto-initial {} lies outside RTO.Min {} .. RTO.Max {} ms: choose a value \
                     between them (or change --rto-min/--rto-max)",
                    i.as_millis(),
                    min.as_millis(),
                    max.as_millis()
                ));
            }
            Some(i) => i,
            None => c.rto_initial.clamp(min, max),
        };
        c.rto_min = min;
        c.rto_max = max;
        c.rto_initial = initial;
        if let Some(hb) = self.hb_interval {
            c.hb_interval = ms(hb);
        }
        if let Some(n) = self.path_max_retrans {
            c.path_max_retrans = n;
        }
        if let Some(n) = self.association_max_retrans {
            c.association_max_retrans = n;
        }
        if let Some(n) = self.max_init_retransmits {
            c.max_init_retransmits = n;
        }
        if self.no_pf {
            c.pf_max_retrans = None;
        }
        Ok(c)
    }
}

impl NetArgs {
    /// The library options, or an error naming the conflicting flags.
    pub fn options(&self, timing: &TimingArgs) -> Result<Options, String> {
        let (transport, remote_udp_port) = self.transport.kind();
        Ok(Options {
            config: timing.config()?,
            transport,
            remote_udp_port,
            pcap: self.pcap.clone(),
            ..Options::default()
        })
    }
}

/// `192.0.2.1, 198.51.100.1`.
pub fn addrs(list: &[IpAddr]) -> String {
    list.iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn addrs_json(list: &[IpAddr]) -> Value {
    Value::Array(list.iter().map(|a| json!(a.to_string())).collect())
}

/// JSON name of a path state.
pub fn state_name(s: PathState) -> &'static str {
    match s {
        PathState::Unconfirmed => "unconfirmed",
        PathState::Active => "active",
        PathState::PotentiallyFailed => "potentially_failed",
        PathState::Inactive => "inactive",
    }
}

fn state_text(s: PathState) -> &'static str {
    match s {
        PathState::Unconfirmed => "unconfirmed",
        PathState::Active => "active",
        PathState::PotentiallyFailed => "potentially failed",
        PathState::Inactive => "inactive",
    }
}

fn change_name(c: AddressChange) -> &'static str {
    match c {
        AddressChange::Available => "available",
        AddressChange::Unreachable => "unreachable",
        AddressChange::PotentiallyFailed => "potentially_failed",
        AddressChange::Confirmed => "confirmed",
        AddressChange::MadePrimary => "made_primary",
        AddressChange::Added => "added",
    }
}

fn change_text(c: AddressChange) -> &'static str {
    match c {
        AddressChange::Available => "is available (reachable again)",
        AddressChange::Unreachable => "is unreachable (path inactive)",
        AddressChange::PotentiallyFailed => "is potentially failed (data moves off it)",
        AddressChange::Confirmed => "is confirmed (HEARTBEAT ACK)",
        AddressChange::MadePrimary => "is the primary path",
        AddressChange::Added => "was added",
    }
}

/// A code for a close reason (JSON `reason`).
pub fn reason_code(r: &CloseReason) -> &'static str {
    match r {
        CloseReason::RetransmissionLimit => "retransmission_limit",
        CloseReason::InitRetransmissionLimit => "init_retransmission_limit",
        CloseReason::PeerAborted(_) => "peer_aborted",
        CloseReason::LocalAbort => "local_abort",
        CloseReason::ProtocolError(_) => "protocol_error",
        CloseReason::ShutdownGuardExpired => "shutdown_guard_expired",
        CloseReason::ProtocolUnreachable => "protocol_unreachable",
    }
}

/// An error cause for people.
pub fn cause_text(c: &ErrorCause) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_string();
    match c {
        ErrorCause::UserInitiatedAbort(b) if b.is_empty() => "user-initiated abort".into(),
        ErrorCause::UserInitiatedAbort(b) => format!("user-initiated abort: \"{}\"", text(b)),
        ErrorCause::ProtocolViolation(b) => format!("protocol violation: \"{}\"", text(b)),
        ErrorCause::OutOfResource => "out of resource".into(),
        ErrorCause::StaleCookie(us) => format!("stale cookie ({us} µs late)"),
        ErrorCause::InvalidStreamIdentifier(s) => format!("invalid stream identifier {s}"),
        ErrorCause::CookieReceivedWhileShuttingDown => "cookie received while shutting down".into(),
        ErrorCause::InvalidMandatoryParameter => "invalid mandatory parameter".into(),
        other => format!("{other:?}"),
    }
}

fn causes_text(causes: &[ErrorCause]) -> String {
    if causes.is_empty() {
        "no cause given".into()
    } else {
        causes.iter().map(cause_text).collect::<Vec<_>>().join("; ")
    }
}

/// What the readable text of a close reason depends on.
#[derive(Debug, Clone, Copy)]
pub struct ReasonContext<'a> {
    /// The peer's addresses.
    pub peers: &'a [IpAddr],
    /// The SCTP port.
    pub port: u16,
    /// The transport.
    pub transport: TransportArg,
    /// The configuration in use.
    pub config: &'a Config,
    /// The peer is the server (the client's view): texts suggest checking
    /// that `msctp server` runs there.
    pub peer_is_server: bool,
}

/// Why an association ended or could not start, for people.
pub fn reason_text(r: &CloseReason, cx: ReasonContext<'_>) -> String {
    let peers = addrs(cx.peers);
    let command = match cx.transport {
        TransportArg::Raw => format!("`msctp server --port {}`", cx.port),
        TransportArg::Udp(p) if p == SCTP_UDP_PORT => {
            format!("`msctp server --transport udp --port {}`", cx.port)
        }
        TransportArg::Udp(p) => {
            format!("`msctp server --transport udp:{p} --port {}`", cx.port)
        }
    };
    let check = |what: &str| {
        if cx.peer_is_server {
            format!("; is {command} running there{what}?")
        } else {
            String::new()
        }
    };
    match r {
        CloseReason::InitRetransmissionLimit => format!(
            "no answer from {peers} after {} INIT retransmissions (Max.Init.Retransmits){}",
            cx.config.max_init_retransmits,
            check(", reachable, and on the same --transport")
        ),
        CloseReason::RetransmissionLimit => format!(
            "{peers} stopped answering: {} consecutive retransmissions went unacknowledged \
             (Association.Max.Retrans)",
            cx.config.association_max_retrans
        ),
        CloseReason::PeerAborted(causes) => {
            format!("{peers} aborted the association ({})", causes_text(causes))
        }
        CloseReason::LocalAbort => "the association was aborted locally".into(),
        CloseReason::ProtocolError(c) => format!(
            "{peers} violated the protocol; the association was aborted ({})",
            cause_text(c)
        ),
        CloseReason::ShutdownGuardExpired => {
            "the graceful shutdown did not finish in time (T5-shutdown-guard expired)".into()
        }
        CloseReason::ProtocolUnreachable => match cx.transport {
            TransportArg::Raw => format!(
                "ICMP protocol unreachable from {peers}: nothing there speaks SCTP over raw IP{}",
                check("")
            ),
            TransportArg::Udp(p) => format!(
                "ICMP port unreachable from {peers}: nothing there listens for SCTP on UDP port \
                 {p}{}",
                check("")
            ),
        },
    }
}

/// The library's message for a failed `connect` names the reason with its
/// `Debug` form ("the association could not be started: …"); this finds
/// it again. Only reasons without data can be rebuilt exactly; an abort
/// keeps the library's text of its causes.
pub fn reason_in_message(msg: &str) -> Option<CloseReason> {
    // Longest names first: `RetransmissionLimit` is part of
    // `InitRetransmissionLimit`.
    let rest = msg.split("could not be started: ").nth(1)?;
    if rest.starts_with("InitRetransmissionLimit") {
        Some(CloseReason::InitRetransmissionLimit)
    } else if rest.starts_with("RetransmissionLimit") {
        Some(CloseReason::RetransmissionLimit)
    } else if rest.starts_with("ProtocolUnreachable") {
        Some(CloseReason::ProtocolUnreachable)
    } else if rest.starts_with("ShutdownGuardExpired") {
        Some(CloseReason::ShutdownGuardExpired)
    } else if rest.starts_with("LocalAbort") {
        Some(CloseReason::LocalAbort)
    } else {
        None
    }
}

/// Describes a failure to open the transport (`bind`/`connect`): the
/// library's message, which names CAP_NET_RAW and `--transport udp`, the
/// address that is not local or the port in use.
pub fn bind_error_text(e: &io::Error, local: &[IpAddr], port: u16, t: TransportArg) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<TransportError>());
    let what = format!("cannot open {} on {}", t.describe(), addrs(local));
    match inner {
        Some(TransportError::NeedsCapNetRaw { .. }) => format!("{what}: {e}"),
        Some(TransportError::AddressNotLocal(_)) => {
            format!("{what}: {e}; see `ip address` for this host's addresses")
        }
        Some(TransportError::PortInUse(p)) => format!(
            "{what}: {e}; is another msctp (or other SCTP-over-UDP program) running? Stop it or \
             choose another port with --transport udp:PORT (now {p})"
        ),
        _ if e.to_string().contains("SCTP port") => format!("{what} port {port}: {e}"),
        _ => format!("{what}: {e}"),
    }
}

/// Message and byte counts of one association, shared by the tasks of a
/// command (single-threaded, hence `Cell`).
#[derive(Debug, Default)]
pub struct Traffic {
    /// Complete messages received.
    pub messages_in: Cell<u64>,
    /// Bytes received.
    pub bytes_in: Cell<u64>,
    /// Messages sent.
    pub messages_out: Cell<u64>,
    /// Bytes sent.
    pub bytes_out: Cell<u64>,
    /// The paths as last seen (they are gone once the association ends).
    pub paths: RefCell<Vec<PathInfo>>,
}

impl Traffic {
    /// Counts received bytes, and a message when `complete`.
    pub fn received(&self, bytes: usize, complete: bool) {
        self.bytes_in.set(self.bytes_in.get() + bytes as u64);
        if complete {
            self.messages_in.set(self.messages_in.get() + 1);
        }
    }

    /// Counts a message sent.
    pub fn sent(&self, bytes: usize) {
        self.bytes_out.set(self.bytes_out.get() + bytes as u64);
        self.messages_out.set(self.messages_out.get() + 1);
    }

    /// Remembers the association's paths while it exists.
    pub fn remember_paths(&self, stream: &SctpStream) {
        if let Ok(p) = stream.paths() {
            self.paths.replace(p);
        }
    }

    fn snapshot(&self) -> [u64; 4] {
        [
            self.messages_in.get(),
            self.bytes_in.get(),
            self.messages_out.get(),
            self.bytes_out.get(),
        ]
    }
}

fn ms_value(d: Duration) -> Value {
    json!((d.as_secs_f64() * 1e6).round() / 1e3)
}

/// `0.213 ms`, `12.4 ms`, `1.503 s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.3} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

/// One path as JSON.
pub fn path_json(p: &PathInfo) -> Value {
    let c = &p.counters;
    json!({
        "local": p.local.to_string(),
        "remote": p.remote.to_string(),
        "state": state_name(p.state),
        "primary": p.primary,
        "srtt_ms": p.srtt.map_or(Value::Null, ms_value),
        "rto_ms": ms_value(p.rto),
        "cwnd": p.cwnd,
        "flight_size": p.flight_size,
        "error_count": p.error_count,
        "packets_sent": c.packets_sent,
        "packets_received": c.packets_received,
        "bytes_sent": c.bytes_sent,
        "bytes_received": c.bytes_received,
        "data_chunks_sent": c.data_chunks_sent,
        "retransmissions": c.retransmissions,
        "timeouts": c.timeouts,
        "heartbeats_sent": c.heartbeats_sent,
        "heartbeat_acks": c.heartbeat_acks,
    })
}

/// A table of paths for the end of a run.
pub fn path_table(paths: &[PathInfo]) -> String {
    let mut rows = vec![[
        "path (local → peer)".to_string(),
        "state".into(),
        "primary".into(),
        "srtt".into(),
        "rto".into(),
        "packets out/in".into(),
        "bytes out/in".into(),
        "DATA".into(),
        "rtx".into(),
        "T3".into(),
        "HB/ACK".into(),
    ]];
    for p in paths {
        let c = &p.counters;
        rows.push([
            format!("{} → {}", p.local, p.remote),
            state_text(p.state).into(),
            if p.primary { "yes" } else { "" }.into(),
            p.srtt.map_or("-".into(), duration_text),
            duration_text(p.rto),
            format!("{}/{}", c.packets_sent, c.packets_received),
            format!("{}/{}", c.bytes_sent, c.bytes_received),
            c.data_chunks_sent.to_string(),
            c.retransmissions.to_string(),
            c.timeouts.to_string(),
            format!("{}/{}", c.heartbeats_sent, c.heartbeat_acks),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::from(" ");
        for (cell, w) in r.iter().zip(&widths) {
            line.push(' ');
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 1));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Prints events and counters as text or JSON lines, with the time since
/// the command started.
#[derive(Debug)]
pub struct Reporter {
    start: Instant,
    json: bool,
}

impl Reporter {
    /// Starts the clock.
    pub fn new(json: bool) -> Reporter {
        Reporter {
            start: Instant::now(),
            json,
        }
    }

    /// JSON lines rather than text.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn write(&self, line: &str) {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        // Output is line-buffered; a closed stdout (a pipe whose reader
        // went away) must not stop the server.
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }

    /// Prints `text` (with the time) or the JSON object `fields` (with `t`
    /// and `event` first).
    pub fn emit(&self, event: &str, text: impl FnOnce() -> String, fields: Map<String, Value>) {
        let t = self.elapsed();
        if self.json {
            let mut o = Map::new();
            o.insert("t".into(), json!((t.as_secs_f64() * 1e6).round() / 1e6));
            o.insert("event".into(), json!(event));
            o.extend(fields);
            self.write(&Value::Object(o).to_string());
        } else {
            self.write(&format!("{:>9.3}  {}", t.as_secs_f64(), text()));
        }
    }

    /// Prints a line of text without time (summaries); nothing with --json.
    pub fn text(&self, text: &str) {
        if !self.json {
            self.write(text.trim_end_matches('\n'));
        }
    }

    /// Reports a failure: JSON `error` event with --json; always on stderr
    /// prefixed by `msctp <command>: `.
    pub fn error(&self, command: &str, message: &str) {
        if self.json {
            let mut f = Map::new();
            f.insert("message".into(), json!(message));
            self.emit("error", String::new, f);
        }
        eprintln!("msctp {command}: {message}");
    }

    /// Reports one event of `stream`'s association. `cx` gives what the
    /// text of a close reason needs.
    pub fn event(&self, stream: &SctpStream, e: &Event, cx: ReasonContext<'_>) {
        let id = stream.association().0;
        let mut f = Map::new();
        f.insert("association".into(), json!(id));
        match e {
            Event::Association(change) => {
                let text = match change {
                    AssociationChange::CommUp {
                        outbound_streams,
                        inbound_streams,
                    } => {
                        let peers = stream.peer_addrs().unwrap_or_default();
                        let locals = stream.local_addrs().unwrap_or_default();
                        f.insert("change".into(), json!("comm_up"));
                        f.insert("peer_addresses".into(), addrs_json(&peers));
                        f.insert("local_addresses".into(), addrs_json(&locals));
                        f.insert("outbound_streams".into(), json!(outbound_streams));
                        f.insert("inbound_streams".into(), json!(inbound_streams));
                        format!(
                            "association {id} up: peer {} (from {}), {outbound_streams} streams \
                             out, {inbound_streams} in",
                            addrs(&peers),
                            addrs(&locals)
                        )
                    }
                    AssociationChange::CommLost { reason } => {
                        let t = reason_text(reason, cx);
                        f.insert("change".into(), json!("comm_lost"));
                        f.insert("reason".into(), json!(reason_code(reason)));
                        f.insert("reason_text".into(), json!(t));
                        format!("association {id} lost: {t}")
                    }
                    AssociationChange::Restart => {
                        f.insert("change".into(), json!("restart"));
                        format!("association {id}: the peer restarted")
                    }
                    AssociationChange::ShutdownComplete => {
                        f.insert("change".into(), json!("shutdown_complete"));
                        format!("association {id} shut down gracefully")
                    }
                    AssociationChange::CantStartAssociation { reason } => {
                        let t = reason_text(reason, cx);
                        f.insert("change".into(), json!("cant_start_association"));
                        f.insert("reason".into(), json!(reason_code(reason)));
                        f.insert("reason_text".into(), json!(t));
                        format!("association {id} could not start: {t}")
                    }
                };
                self.emit("association_change", || text, f);
            }
            Event::PeerAddress {
                address,
                change: AddressChange::MadePrimary,
                ..
            } => {
                f.insert("address".into(), json!(address.to_string()));
                self.emit(
                    "primary_change",
                    || format!("association {id}: primary path is now {address}"),
                    f,
                );
            }
            Event::PeerAddress {
                address,
                change,
                from,
                to,
            } => {
                f.insert("address".into(), json!(address.to_string()));
                f.insert("change".into(), json!(change_name(*change)));
                f.insert("from".into(), json!(state_name(*from)));
                f.insert("to".into(), json!(state_name(*to)));
                self.emit(
                    "peer_address_change",
                    || {
                        format!(
                            "association {id}: peer address {address} {} [{} → {}]",
                            change_text(*change),
                            state_text(*from),
                            state_text(*to)
                        )
                    },
                    f,
                );
            }
            Event::SendFailed {
                stream: s,
                ppid,
                data,
                sent,
            } => {
                f.insert("stream".into(), json!(s));
                f.insert("ppid".into(), json!(ppid));
                f.insert("bytes".into(), json!(data.len()));
                f.insert("sent".into(), json!(sent));
                self.emit(
                    "send_failed",
                    || {
                        format!(
                            "association {id}: a message of {} bytes on stream {s} could not be \
                             delivered",
                            data.len()
                        )
                    },
                    f,
                );
            }
            Event::Shutdown => self.emit(
                "peer_shutdown",
                || format!("association {id}: the peer started a graceful shutdown"),
                f,
            ),
            Event::RemoteError(causes) => {
                f.insert(
                    "causes".into(),
                    Value::Array(causes.iter().map(|c| json!(cause_text(c))).collect()),
                );
                self.emit(
                    "remote_error",
                    || {
                        format!(
                            "association {id}: the peer reported {}",
                            causes_text(causes)
                        )
                    },
                    f,
                );
            }
            // Heartbeat RTTs show in the counters; readable/dry are for
            // the reading loop, not for people.
            Event::HeartbeatAcked { .. } | Event::Readable | Event::SenderDry => {}
        }
    }

    /// Reports the per-second counters of an association. In text, only
    /// when something changed since `last` (which is updated).
    pub fn counters(
        &self,
        stream: &SctpStream,
        state: &str,
        traffic: &Traffic,
        last: &mut Option<CounterMemo>,
    ) {
        let paths = match stream.paths() {
            Ok(p) => {
                traffic.paths.replace(p.clone());
                p
            }
            // Ended: the paths as last seen.
            Err(_) => traffic.paths.borrow().clone(),
        };
        let id = stream.association().0;
        let counts = traffic.snapshot();
        let memo = CounterMemo {
            counts,
            paths: paths
                .iter()
                .map(|p| (p.state, p.primary, p.counters.packets_sent))
                .collect(),
        };
        if !self.json && last.as_ref() == Some(&memo) {
            return;
        }
        *last = Some(memo);
        let [mi, bi, mo, bo] = counts;
        let mut f = Map::new();
        f.insert("association".into(), json!(id));
        f.insert("state".into(), json!(state));
        f.insert("messages_in".into(), json!(mi));
        f.insert("bytes_in".into(), json!(bi));
        f.insert("messages_out".into(), json!(mo));
        f.insert("bytes_out".into(), json!(bo));
        f.insert(
            "paths".into(),
            Value::Array(paths.iter().map(path_json).collect()),
        );
        self.emit(
            "counters",
            || {
                let mut t =
                    format!("association {id} {state}: in {mi} msgs/{bi} B, out {mo} msgs/{bo} B");
                for p in &paths {
                    t.push_str(&format!(
                        " | {} {}{} pkts {}↑{}↓",
                        p.remote,
                        state_text(p.state),
                        if p.primary { " (primary)" } else { "" },
                        p.counters.packets_sent,
                        p.counters.packets_received
                    ));
                    if let Some(s) = p.srtt {
                        t.push_str(&format!(" srtt {}", duration_text(s)));
                    }
                }
                t
            },
            f,
        );
    }
}

/// What the last text counters line showed (to print only changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterMemo {
    counts: [u64; 4],
    paths: Vec<(PathState, bool, u64)>,
}

/// What the command knows of an association's state, from its events.
#[derive(Debug)]
pub struct AssocState {
    state: Cell<&'static str>,
    lost: RefCell<Option<CloseReason>>,
}

impl Default for AssocState {
    fn default() -> Self {
        AssocState {
            state: Cell::new("established"),
            lost: RefCell::new(None),
        }
    }
}

impl AssocState {
    /// Follows an event: `established`, `shutdown_received`, `closed`.
    pub fn note(&self, e: &Event) {
        match e {
            Event::Association(
                AssociationChange::CommLost { reason }
                | AssociationChange::CantStartAssociation { reason },
            ) => {
                self.state.set("closed");
                *self.lost.borrow_mut() = Some(reason.clone());
            }
            Event::Association(AssociationChange::ShutdownComplete) => self.state.set("closed"),
            Event::Association(AssociationChange::Restart) => self.state.set("established"),
            Event::Shutdown if self.state.get() == "established" => {
                self.state.set("shutdown_received")
            }
            _ => {}
        }
    }

    /// Sets the state (`shutting_down` when we start a shutdown).
    pub fn set(&self, state: &'static str) {
        self.state.set(state);
    }

    /// The state, for counters.
    pub fn get(&self) -> &'static str {
        self.state.get()
    }

    /// Why the association failed, if it did.
    pub fn lost(&self) -> Option<CloseReason> {
        self.lost.borrow().clone()
    }
}

/// Reports an event and follows the state it implies.
pub fn on_event(
    rep: &Reporter,
    stream: &SctpStream,
    st: &AssocState,
    e: &Event,
    cx: ReasonContext<'_>,
) {
    st.note(e);
    rep.event(stream, e, cx);
}

/// Reports the events already queued, without waiting.
pub async fn drain_events(
    rep: &Reporter,
    stream: &SctpStream,
    st: &AssocState,
    cx: ReasonContext<'_>,
) {
    // `timeout` polls the inner future once before looking at the clock:
    // a zero timeout takes what is queued and returns.
    while let Ok(Some(e)) = tokio::time::timeout(Duration::ZERO, stream.next_event()).await {
        on_event(rep, stream, st, &e, cx);
    }
}

/// Shuts the association down gracefully (RFC 9260 §9.2) within `limit`,
/// aborting it after that; meanwhile reports events and reads (and counts)
/// what still arrives, so that a full receive window cannot hold the
/// peer's last data back. Returns why it failed, for people.
pub async fn graceful_shutdown(
    rep: &Reporter,
    stream: &SctpStream,
    st: &AssocState,
    traffic: &Traffic,
    cx: ReasonContext<'_>,
    limit: Duration,
) -> Result<(), String> {
    drain_events(rep, stream, st, cx).await;
    if st.get() == "closed" {
        return st.lost().map_or(Ok(()), |r| Err(reason_text(&r, cx)));
    }
    st.set("shutting_down");
    let fut = tokio::time::timeout(limit, stream.shutdown());
    tokio::pin!(fut);
    let (mut events_done, mut recv_done) = (false, false);
    loop {
        tokio::select! {
            biased;
            e = stream.next_event(), if !events_done => match e {
                Some(e) => {
                    traffic.remember_paths(stream);
                    on_event(rep, stream, st, &e, cx);
                }
                None => events_done = true,
            },
            r = stream.recv(), if !recv_done => match r {
                Ok(Some((data, info))) => traffic.received(data.len(), info.complete),
                _ => recv_done = true,
            },
            r = &mut fut => {
                drain_events(rep, stream, st, cx).await;
                return match r {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(st.lost().map_or_else(|| e.to_string(), |r| reason_text(&r, cx))),
                    Err(_) => {
                        stream.abort(None);
                        Err(format!(
                            "the graceful shutdown did not finish within {} s; the association \
                             was aborted",
                            limit.as_secs()
                        ))
                    }
                };
            }
        }
    }
}

/// Lets the runtime's driver send what the last step produced (the final
/// SHUTDOWN COMPLETE, an ABORT) before the process exits.
pub async fn settle() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The options and the single-threaded runtime a `server` or `client` run
/// needs, or the exit status after saying what went wrong (as `command`).
pub fn prepare(
    command: &str,
    net: &NetArgs,
    timing: &TimingArgs,
) -> Result<(msctp::Options, tokio::runtime::Runtime), std::process::ExitCode> {
    let opts = net.options(timing).map_err(|e| {
        eprintln!("msctp {command}: {e}");
        std::process::ExitCode::from(EXIT_USAGE)
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("msctp {command}: cannot start the async runtime: {e}");
            std::process::ExitCode::from(EXIT_FAILURE)
        })?;
    Ok((opts, rt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let l = parse_addr_list("192.0.2.1, 2001:db8:1::1,[2001:db8:2::1]").unwrap();
        assert_eq!(l.0.len(), 3);
        assert!(
            parse_addr_list("nonsense")
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(
            parse_addr_list("192.0.2.1,")
                .unwrap_err()
                .contains("missing")
        );
        assert!(
            parse_addr_list("192.0.2.1,192.0.2.1")
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn transports() {
        assert_eq!(parse_transport("raw"), Ok(TransportArg::Raw));
        assert_eq!(parse_transport("udp"), Ok(TransportArg::Udp(9899)));
        assert_eq!(parse_transport("udp:5000"), Ok(TransportArg::Udp(5000)));
        assert!(parse_transport("udp:0").is_err());
        assert!(parse_transport("udp:x").is_err());
        let e = parse_transport("tcp").unwrap_err();
        assert!(e.contains("raw") && e.contains("udp:PORT"), "{e}");
    }

    #[test]
    fn timing_resolves_and_conflicts() {
        let t = TimingArgs {
            rto_max: Some(200),
            ..TimingArgs::default()
        };
        let c = t.config().unwrap();
        assert_eq!(c.rto_min, Duration::from_millis(200));
        assert_eq!(c.rto_initial, Duration::from_millis(200));
        let t = TimingArgs {
            rto_min: Some(500),
            rto_max: Some(200),
            ..TimingArgs::default()
        };
        assert!(t.config().unwrap_err().contains("--rto-min"));
        let t = TimingArgs {
            rto_initial: Some(5),
            rto_min: Some(10),
            ..TimingArgs::default()
        };
        assert!(t.config().unwrap_err().contains("--rto-initial"));
        let t = TimingArgs {
            no_pf: true,
            ..TimingArgs::default()
        };
        assert_eq!(t.config().unwrap().pf_max_retrans, None);
    }

    #[test]
    fn reasons_from_messages() {
        let m = "the association could not be started: InitRetransmissionLimit";
        assert_eq!(
            reason_in_message(m),
            Some(CloseReason::InitRetransmissionLimit)
        );
        let m = "the association could not be started: RetransmissionLimit";
        assert_eq!(reason_in_message(m), Some(CloseReason::RetransmissionLimit));
        assert_eq!(reason_in_message("other"), None);
    }
}
