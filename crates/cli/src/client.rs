//! `msctp client`: starts one association from a set of local addresses to
//! a server's addresses (tried in turn for the INIT), sends `--count`
//! messages of `--size` bytes at `--rate` messages per second and, in
//! `echo` mode, waits for each echo and verifies it byte for byte (stream
//! and PPID too). Path events are printed while it runs, per-second
//! counters, and a summary at the end (messages, bytes, elapsed time, echo
//! round-trip times, per-path counters and states); then the association is
//! shut down gracefully.
//!
//! With `--json` the same as JSON lines (see [`crate::net_args`]), the last
//! one `{"event":"client_result","messages":…,"bytes":…,"seconds":…,
//! "mismatches":…,…}`.
//!
//! Exit status 0 when every message was sent (and, in echo mode, echoed
//! intact) and the shutdown completed; 1 with a readable message otherwise;
//! 2 for a bad command line; 130 when interrupted (SIGINT/SIGTERM: the
//! association is still shut down gracefully and the summary printed).

use std::cell::{Cell, RefCell};
use std::io;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use msctp::{SctpStream, SendInfo};
use serde_json::{Map, Value, json};
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};

use crate::net_args::{
    AddrList, AssocState, EXIT_FAILURE, EXIT_HELP, NetArgs, ReasonContext, Reporter, TimingArgs,
    Traffic, addrs, bind_error_text, drain_events, duration_text, graceful_shutdown, on_event,
    parse_addr_list, path_json, path_table, prepare, reason_code, reason_in_message, reason_text,
    settle,
};

/// How long to wait for one echo before giving up.
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the final graceful shutdown may take.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(30);
/// Largest `--size` (the library's default `max_message_size`).
pub const MAX_SIZE: u32 = 16 << 20;
/// Exit status when interrupted by a signal.
const EXIT_INTERRUPTED: u8 = 130;

/// What the client does with the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Wait for each message's echo and verify it byte for byte (the server
    /// must run `--mode echo`; an echo must come within 60 s).
    Echo,
    /// Only send (anything the server sends back is read and counted).
    Discard,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Discard => "discard",
        }
    }
}

/// Parses `--rate`: messages per second, more than 0.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e7 => Ok(r),
        Ok(_) => Err(format!(
            "{s} messages per second is not a rate: give a number above 0 (at most 10000000), \
             e.g. --rate 100, or leave --rate out to send as fast as allowed"
        )),
        Err(_) => Err(format!(
            "`{s}` is not a number of messages per second: e.g. --rate 100 or --rate 0.5"
        )),
    }
}

/// Arguments of `msctp client`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_HELP)]
pub struct Args {
    /// The server's IP addresses, comma-separated; the INIT tries them in
    /// turn, and the server announces its others itself, e.g. --connect
    /// 192.0.2.2,198.51.100.2.
    #[arg(long, value_name = "ADDR[,ADDR…]", value_parser = parse_addr_list)]
    pub connect: AddrList,
    /// Addresses, port, transport, output, capture and timing.
    #[command(flatten)]
    pub net: NetArgs,
    /// Number of messages to send. 0 with `--mode discard`: send nothing and
    /// read until the server ends the association (a daytime server); 0
    /// with `--mode echo`: connect and shut down.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub count: u64,
    /// Size of each message in bytes (1 to 16777216).
    #[arg(long, value_name = "BYTES", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SIZE)))]
    pub size: u32,
    /// Messages per second (e.g. 100, or 0.5); without it, as fast as the
    /// association allows (echo mode: one message in flight at a time).
    #[arg(long, value_name = "MSGS_PER_S", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Verify echoes, or only send.
    #[arg(long, value_enum, default_value_t = Mode::Echo)]
    pub mode: Mode,
    /// Protocol timing.
    #[command(flatten)]
    pub timing: TimingArgs,
}

/// Runs `msctp client`.
pub fn run(args: &Args) -> ExitCode {
    let (opts, rt) = match prepare("client", &args.net, &args.timing) {
        Ok(x) => x,
        Err(code) => return code,
    };
    rt.block_on(client(args, opts))
}

/// The payload of message `i`: `size` bytes that differ from message to
/// message (SplitMix64 of the index and position), so a stale or mixed-up
/// echo is caught.
pub fn message(i: u64, size: usize) -> Bytes {
    let mut out = Vec::with_capacity(size + 8);
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x6d73_6374_7021;
    while out.len() < size {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(size);
    Bytes::from(out)
}

/// What the run measured.
#[derive(Debug, Default)]
struct Outcome {
    sent: Cell<u64>,
    echoed: Cell<u64>,
    mismatches: Cell<u64>,
    rtts: RefCell<Vec<Duration>>,
    first_send: Cell<Option<Instant>>,
    last_echo: Cell<Option<Instant>>,
}

/// Why the sending loop stopped early.
enum Stop {
    /// The association ended (the reason comes from its events).
    Ended(String),
    /// Anything else, said for people.
    Failed(String),
}

async fn client(args: &Args, opts: msctp::Options) -> ExitCode {
    let net = &args.net;
    let rep = Reporter::new(net.json);
    let (mut sigint, mut sigterm) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            rep.error("client", &format!("cannot install signal handlers: {e}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let config = opts.config.clone();
    let peers = &args.connect.0;
    let cx = ReasonContext {
        peers,
        port: net.port,
        transport: net.transport,
        config: &config,
        peer_is_server: true,
    };
    let mut f = Map::new();
    f.insert("local".into(), addrs_value(&net.bind.0));
    f.insert("peer".into(), addrs_value(peers));
    f.insert("port".into(), json!(net.port));
    f.insert("transport".into(), json!(net.transport.name()));
    f.insert("udp_port".into(), json!(net.transport.udp_port()));
    rep.emit(
        "connecting",
        || {
            format!(
                "connecting from {} to {} port {} over {}",
                addrs(&net.bind.0),
                addrs(peers),
                net.port,
                net.transport.describe()
            )
        },
        f,
    );
    let connected = tokio::select! {
        r = SctpStream::connect(&net.bind.0, peers, net.port, opts) => r,
        _ = sigint.recv() => return interrupted(&rep),
        _ = sigterm.recv() => return interrupted(&rep),
    };
    let stream = match connected {
        Ok(s) => s,
        Err(e) => {
            rep.error("client", &connect_error_text(&rep, &e, args, cx));
            return ExitCode::from(EXIT_FAILURE);
        }
    };

    let st = AssocState::default();
    let traffic = Traffic::default();
    let out = Outcome::default();
    let mut memo = None;
    let mut tick = interval_at(
        Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut events_done, mut recv_done) = (false, false);
    // `--count 0 --mode discard` only receives, until the server ends the
    // association (a daytime server, say).
    let receive_only = args.count == 0 && args.mode == Mode::Discard;
    let mut work_done = false;
    let mut interrupt = false;
    let result = {
        let work = send_messages(args, &stream, &traffic, &out, &rep);
        tokio::pin!(work);
        loop {
            if receive_only && (recv_done || events_done) {
                break Ok(());
            }
            tokio::select! {
                biased;
                e = stream.next_event(), if !events_done => match e {
                    Some(e) => on_event(&rep, &stream, &st, &e, cx),
                    None => events_done = true,
                },
                r = &mut work, if !work_done => {
                    if receive_only && r.is_ok() {
                        work_done = true;
                    } else {
                        break r;
                    }
                }
                _ = tick.tick() => rep.counters(&stream, st.get(), &traffic, &mut memo),
                // Discard mode: read (and count) whatever the server sends, so
                // that its data never blocks the shutdown.
                r = stream.recv(), if args.mode == Mode::Discard && !recv_done => match r {
                    Ok(Some((data, info))) => traffic.received(data.len(), info.complete),
                    _ => recv_done = true,
                },
                _ = sigint.recv() => { interrupt = true; break Ok(()) }
                _ = sigterm.recv() => { interrupt = true; break Ok(()) }
            }
        }
    };
    drain_events(&rep, &stream, &st, cx).await;
    let failure = match result {
        Ok(()) => None,
        Err(Stop::Failed(m)) => Some(m),
        Err(Stop::Ended(m)) => Some(match st.lost() {
            Some(r) => format!("{m}: {}", reason_text(&r, cx)),
            None if matches!(st.get(), "shutdown_received" | "closed") => format!(
                "{m}: the server shut the association down (after {} of {} messages)",
                out.sent.get(),
                args.count
            ),
            None => format!("{m}: the association ended"),
        }),
    };
    if interrupt {
        rep.text("interrupted: shutting down gracefully");
    }
    // The paths as they were at the end of the transfer (they are gone once
    // the association has shut down).
    let paths = stream
        .paths()
        .unwrap_or_else(|_| traffic.paths.borrow().clone());
    let shutdown = if st.get() == "closed" {
        Ok(())
    } else {
        // A (further) signal meanwhile aborts instead of waiting.
        tokio::select! {
            r = graceful_shutdown(&rep, &stream, &st, &traffic, cx, SHUTDOWN_LIMIT) => r,
            _ = sigint.recv() => { interrupt = true; Err("interrupted".to_string()) }
            _ = sigterm.recv() => { interrupt = true; Err("interrupted".to_string()) }
        }
    };
    if shutdown.is_err() {
        stream.abort(None);
    }
    let end = Instant::now();
    drop(stream);
    settle().await;

    let seconds = match (out.first_send.get(), args.mode) {
        (None, _) => 0.0,
        // Echo: until the last echo arrived.
        (Some(first), Mode::Echo) => out
            .last_echo
            .get()
            .unwrap_or(end)
            .duration_since(first)
            .as_secs_f64(),
        // Discard: until the shutdown completed, that is until every
        // message was acknowledged.
        (Some(first), Mode::Discard) => end.duration_since(first).as_secs_f64(),
    };
    summary(args, &rep, &out, &traffic, &paths, seconds);

    if let Some(m) = failure {
        rep.error("client", &m);
        return ExitCode::from(EXIT_FAILURE);
    }
    if interrupt {
        rep.error(
            "client",
            &format!(
                "interrupted after {} of {} messages",
                out.sent.get(),
                args.count
            ),
        );
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if let Err(m) = shutdown {
        rep.error("client", &format!("the shutdown failed: {m}"));
        return ExitCode::from(EXIT_FAILURE);
    }
    if out.mismatches.get() > 0 {
        rep.error(
            "client",
            &format!(
                "{} of {} echoes differed from the message sent (see the mismatch lines above)",
                out.mismatches.get(),
                out.sent.get()
            ),
        );
        return ExitCode::from(EXIT_FAILURE);
    }
    ExitCode::SUCCESS
}

fn interrupted(rep: &Reporter) -> ExitCode {
    rep.error("client", "interrupted while connecting");
    ExitCode::from(EXIT_INTERRUPTED)
}

fn addrs_value(list: &[IpAddr]) -> Value {
    json!(list.iter().map(IpAddr::to_string).collect::<Vec<_>>())
}

/// Why `connect` failed, for people (and as a `cant_start_association`
/// event when the handshake failed).
fn connect_error_text(rep: &Reporter, e: &io::Error, args: &Args, cx: ReasonContext<'_>) -> String {
    let net = &args.net;
    if e.get_ref()
        .is_some_and(|i| i.is::<msctp::transport::TransportError>())
    {
        return bind_error_text(e, &net.bind.0, net.port, net.transport);
    }
    let msg = e.to_string();
    if let Some(reason) = reason_in_message(&msg) {
        let text = reason_text(&reason, cx);
        let mut f = Map::new();
        f.insert("change".into(), json!("cant_start_association"));
        f.insert("reason".into(), json!(reason_code(&reason)));
        f.insert("reason_text".into(), json!(text));
        rep.emit(
            "association_change",
            || format!("the association could not start: {text}"),
            f,
        );
        return text;
    }
    if msg.contains("could not be started: PeerAborted") {
        return format!(
            "{} refused the association (ABORT): {}",
            addrs(cx.peers),
            msg.split("could not be started: ").nth(1).unwrap_or(&msg)
        );
    }
    if msg.contains("no local address can reach") {
        return format!(
            "{msg}: --bind needs an address of the same family (IPv4 or IPv6) as the --connect \
             addresses"
        );
    }
    format!(
        "cannot connect to {} port {}: {msg}",
        addrs(cx.peers),
        net.port
    )
}

/// Sends the messages (echo mode: one at a time, each verified).
async fn send_messages(
    args: &Args,
    stream: &SctpStream,
    traffic: &Traffic,
    out: &Outcome,
    rep: &Reporter,
) -> Result<(), Stop> {
    let size = args.size as usize;
    let info = SendInfo::default();
    let start = Instant::now();
    for i in 0..args.count {
        if let Some(rate) = args.rate {
            sleep_until(start + Duration::from_secs_f64(i as f64 / rate)).await;
        }
        let msg = message(i, size);
        let sent_at = Instant::now();
        if out.first_send.get().is_none() {
            out.first_send.set(Some(sent_at));
        }
        stream.send(msg.clone(), info).await.map_err(|e| {
            if e.kind() == io::ErrorKind::NotConnected {
                Stop::Ended(format!("cannot send message {i}"))
            } else {
                Stop::Failed(format!("cannot send message {i}: {e}"))
            }
        })?;
        traffic.sent(size);
        out.sent.set(i + 1);
        if args.mode == Mode::Discard {
            continue;
        }
        let mut echo = BytesMut::new();
        let first = loop {
            let r = timeout(ECHO_TIMEOUT, stream.recv()).await.map_err(|_| {
                Stop::Failed(format!(
                    "no echo of message {i} within {} s: is the server running with --mode echo?",
                    ECHO_TIMEOUT.as_secs()
                ))
            })?;
            match r {
                Ok(Some((data, rinfo))) => {
                    traffic.received(data.len(), rinfo.complete);
                    echo.extend_from_slice(&data);
                    if rinfo.complete {
                        break rinfo;
                    }
                }
                Ok(None) => {
                    return Err(Stop::Ended(format!(
                        "the echo of message {i} did not arrive"
                    )));
                }
                Err(e) => {
                    return Err(Stop::Failed(format!(
                        "receiving the echo of message {i}: {e}"
                    )));
                }
            }
        };
        let now = Instant::now();
        out.rtts.borrow_mut().push(now - sent_at);
        out.last_echo.set(Some(now));
        let same_info = first.stream == info.stream && first.ppid == info.ppid;
        if echo[..] == msg[..] && same_info {
            out.echoed.set(out.echoed.get() + 1);
        } else {
            out.mismatches.set(out.mismatches.get() + 1);
            let offset = echo
                .iter()
                .zip(msg.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(echo.len().min(msg.len()));
            let mut f = Map::new();
            f.insert("message".into(), json!(i));
            f.insert("offset".into(), json!(offset));
            f.insert("expected_len".into(), json!(msg.len()));
            f.insert("received_len".into(), json!(echo.len()));
            f.insert("stream".into(), json!(first.stream));
            f.insert("ppid".into(), json!(first.ppid));
            rep.emit(
                "mismatch",
                || {
                    if same_info {
                        format!(
                            "MISMATCH: the echo of message {i} differs from byte {offset} on \
                             ({} bytes received, {} sent)",
                            echo.len(),
                            msg.len()
                        )
                    } else {
                        format!(
                            "MISMATCH: the echo of message {i} came on stream {} with PPID {} \
                             (sent on stream {} with PPID {})",
                            first.stream, first.ppid, info.stream, info.ppid
                        )
                    }
                },
                f,
            );
        }
    }
    Ok(())
}

/// The summary: text, or the `client_result` JSON line.
fn summary(
    args: &Args,
    rep: &Reporter,
    out: &Outcome,
    traffic: &Traffic,
    paths: &[msctp::PathInfo],
    seconds: f64,
) {
    let rtts = out.rtts.borrow();
    let rtt = (!rtts.is_empty()).then(|| {
        let min = rtts.iter().min().copied().unwrap_or_default();
        let max = rtts.iter().max().copied().unwrap_or_default();
        let avg = rtts.iter().sum::<Duration>() / rtts.len() as u32;
        (min, avg, max)
    });
    let sent = out.sent.get();
    let bytes = traffic.bytes_out.get();
    if rep.json() {
        let ms = |d: Duration| json!((d.as_secs_f64() * 1e6).round() / 1e3);
        let mut f = Map::new();
        f.insert("mode".into(), json!(args.mode.name()));
        f.insert("messages".into(), json!(sent));
        f.insert("bytes".into(), json!(bytes));
        f.insert("seconds".into(), json!((seconds * 1e6).round() / 1e6));
        f.insert("mismatches".into(), json!(out.mismatches.get()));
        f.insert("echoed".into(), json!(out.echoed.get()));
        f.insert("messages_in".into(), json!(traffic.messages_in.get()));
        f.insert("bytes_in".into(), json!(traffic.bytes_in.get()));
        f.insert(
            "rtt_ms".into(),
            rtt.map_or(
                Value::Null,
                |(min, avg, max)| json!({"min": ms(min), "avg": ms(avg), "max": ms(max)}),
            ),
        );
        f.insert(
            "paths".into(),
            Value::Array(paths.iter().map(path_json).collect()),
        );
        rep.emit("client_result", String::new, f);
        return;
    }
    let rate = if seconds > 0.0 {
        format!(
            " ({:.0} msgs/s, {:.3} MB/s)",
            sent as f64 / seconds,
            bytes as f64 / seconds / 1e6
        )
    } else {
        String::new()
    };
    let mut t = String::from("\nsummary:\n");
    match args.mode {
        Mode::Echo => t.push_str(&format!(
            "  {sent} message{} of {} bytes ({bytes} bytes) sent, {} echoed intact, {} \
             mismatch{} in {seconds:.3} s{rate}\n",
            if sent == 1 { "" } else { "s" },
            args.size,
            out.echoed.get(),
            out.mismatches.get(),
            if out.mismatches.get() == 1 { "" } else { "es" },
        )),
        Mode::Discard => t.push_str(&format!(
            "  {sent} message{} of {} bytes ({bytes} bytes) sent and acknowledged in \
             {seconds:.3} s{rate}; {} bytes received\n",
            if sent == 1 { "" } else { "s" },
            args.size,
            traffic.bytes_in.get(),
        )),
    }
    if let Some((min, avg, max)) = rtt {
        t.push_str(&format!(
            "  echo round trip: min {}, avg {}, max {}\n",
            duration_text(min),
            duration_text(avg),
            duration_text(max)
        ));
    }
    if !paths.is_empty() {
        t.push_str("  paths at the end of the transfer:\n");
        t.push_str(&path_table(paths));
    }
    rep.text(&t);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_differ_and_have_the_size() {
        assert_eq!(message(0, 1).len(), 1);
        assert_eq!(message(3, 1000).len(), 1000);
        assert_ne!(message(1, 64), message(2, 64));
        assert_eq!(message(7, 100), message(7, 100));
    }

    #[test]
    fn rates() {
        assert!(parse_rate("0").unwrap_err().contains("above 0"));
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("x").is_err());
        assert_eq!(parse_rate("0.5"), Ok(0.5));
    }
}
