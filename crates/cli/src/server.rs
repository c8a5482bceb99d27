//! `msctp server`: accepts any number of associations on a set of local
//! addresses (multi-homed) and serves each in its own task:
//!
//! * `echo` (default): every complete message goes back on the same stream
//!   with the same PPID and ordering flag (pieces of a partial delivery are
//!   put together first); the server never closes by itself;
//! * `discard`: reads and counts;
//! * `daytime`: sends the current UTC time as text, then shuts down
//!   gracefully.
//!
//! Association changes, peer address changes and primary changes are
//! printed as they happen, with per-second counters (text, or JSON lines
//! with `--json`; see [`crate::net_args`]). On SIGINT or SIGTERM every
//! association is shut down gracefully (aborted after
//! [`SHUTDOWN_LIMIT`]) and the server exits 0; a second signal exits at once.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use msctp::{Config, SctpListener, SctpStream, SendInfo};
use serde_json::{Map, json};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;
use tokio::task::{JoinSet, LocalSet};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use crate::net_args::{
    AssocState, EXIT_FAILURE, EXIT_HELP, NetArgs, ReasonContext, Reporter, TimingArgs, Traffic,
    TransportArg, addrs, bind_error_text, drain_events, graceful_shutdown, on_event, prepare,
    settle,
};

/// How long a graceful shutdown may take before the association is aborted.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(10);

/// What the server does with each association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Send every complete message back on the same stream, same PPID and
    /// ordering; never close by itself.
    Echo,
    /// Read and count everything.
    Discard,
    /// Send the current UTC time as text, then shut down gracefully.
    Daytime,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Echo => "echo",
            Mode::Discard => "discard",
            Mode::Daytime => "daytime",
        }
    }
}

/// Arguments of `msctp server`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_HELP)]
pub struct Args {
    /// Addresses, port, transport, output, capture and timing.
    #[command(flatten)]
    pub net: NetArgs,
    /// What to do with each association.
    #[arg(long, value_enum, default_value_t = Mode::Echo)]
    pub mode: Mode,
    /// Protocol timing.
    #[command(flatten)]
    pub timing: TimingArgs,
}

/// Runs `msctp server` until SIGINT or SIGTERM.
pub fn run(args: &Args) -> ExitCode {
    let (opts, rt) = match prepare("server", &args.net, &args.timing) {
        Ok(x) => x,
        Err(code) => return code,
    };
    LocalSet::new().block_on(&rt, serve(args, opts))
}

/// What every association task needs to know of the server.
#[derive(Debug)]
struct Shared {
    rep: Reporter,
    mode: Mode,
    port: u16,
    transport: TransportArg,
    config: Config,
}

fn signals() -> io::Result<(Signal, Signal)> {
    Ok((
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    ))
}

async fn serve(args: &Args, opts: msctp::Options) -> ExitCode {
    let net = &args.net;
    let shared = Rc::new(Shared {
        rep: Reporter::new(net.json),
        mode: args.mode,
        port: net.port,
        transport: net.transport,
        config: opts.config.clone(),
    });
    let rep = &shared.rep;
    // Signal handlers first: a SIGINT right after "listening" must stop
    // the server gracefully, not kill it.
    let (mut sigint, mut sigterm) = match signals() {
        Ok(s) => s,
        Err(e) => {
            rep.error("server", &format!("cannot install signal handlers: {e}"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let listener = match SctpListener::bind(&net.bind.0, net.port, opts).await {
        Ok(l) => l,
        Err(e) => {
            let text = bind_error_text(&e, &net.bind.0, net.port, net.transport);
            rep.error("server", &text);
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let locals = listener.local_addrs();
    let mut f = Map::new();
    f.insert(
        "addresses".into(),
        json!(locals.iter().map(IpAddr::to_string).collect::<Vec<_>>()),
    );
    f.insert("port".into(), json!(net.port));
    f.insert("transport".into(), json!(net.transport.name()));
    f.insert("udp_port".into(), json!(net.transport.udp_port()));
    f.insert("mode".into(), json!(args.mode.name()));
    rep.emit(
        "listening",
        || {
            format!(
                "listening on {} port {} over {}, mode {} (Ctrl-C to stop)",
                addrs(&locals),
                net.port,
                net.transport.describe(),
                args.mode.name()
            )
        },
        f,
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks: JoinSet<()> = JoinSet::new();
    let signal_name = loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok(stream) => {
                    tasks.spawn_local(association(stream, shared.clone(), stop_rx.clone()));
                }
                Err(e) => {
                    rep.error("server", &format!("accepting an association failed: {e}"));
                    break None;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = sigint.recv() => break Some("SIGINT"),
            _ = sigterm.recv() => break Some("SIGTERM"),
        }
    };
    // No new associations from here on.
    drop(listener);
    let open = tasks.len();
    let mut f = Map::new();
    f.insert("signal".into(), json!(signal_name));
    f.insert("associations".into(), json!(open));
    rep.emit(
        "stopping",
        || {
            format!(
                "{}: shutting down {open} association{} gracefully",
                signal_name.unwrap_or("error"),
                if open == 1 { "" } else { "s" }
            )
        },
        f,
    );
    let _ = stop_tx.send(true);
    let all_done = async { while tasks.join_next().await.is_some() {} };
    let in_time = tokio::select! {
        _ = all_done => true,
        // Each task aborts its association after SHUTDOWN_LIMIT: this only
        // guards against a task stuck elsewhere.
        _ = tokio::time::sleep(SHUTDOWN_LIMIT + Duration::from_secs(2)) => false,
        _ = sigint.recv() => false,
        _ = sigterm.recv() => false,
    };
    if !in_time {
        rep.error(
            "server",
            "stopped before every association had shut down; the rest are aborted",
        );
        tasks.abort_all();
    }
    settle().await;
    if signal_name.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

/// Why an association's service loop ended.
enum End {
    /// The association ended (the peer shut it down, or it failed).
    Ended,
    /// The server is stopping, or the mode is done: shut down gracefully.
    ShutDown,
}

/// Serves one association until it ends or the server stops.
async fn association(stream: SctpStream, shared: Rc<Shared>, mut stop: watch::Receiver<bool>) {
    let rep = &shared.rep;
    let peers = stream.peer_addrs().unwrap_or_default();
    let cx = ReasonContext {
        peers: &peers,
        port: shared.port,
        transport: shared.transport,
        config: &shared.config,
        peer_is_server: false,
    };
    let st = AssocState::default();
    let traffic = Traffic::default();
    let mut memo = None;
    let mut tick = interval_at(
        Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Pieces of messages delivered partially, per stream and ordering.
    let mut pieces: HashMap<(u16, bool), BytesMut> = HashMap::new();
    let mut events_done = false;

    drain_events(rep, &stream, &st, cx).await;
    if shared.mode == Mode::Daytime {
        let info = SendInfo::default();
        let text = Bytes::from(daytime_text(SystemTime::now()));
        let n = text.len();
        match stream.send(text, info).await {
            Ok(()) => traffic.sent(n),
            Err(e) => rep.error(
                "server",
                &format!(
                    "association {}: cannot send the time: {e}",
                    stream.association().0
                ),
            ),
        }
    }

    let end = if shared.mode == Mode::Daytime || *stop.borrow() {
        End::ShutDown
    } else {
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break End::ShutDown,
                e = stream.next_event(), if !events_done => match e {
                    Some(e) => {
                        traffic.remember_paths(&stream);
                        on_event(rep, &stream, &st, &e, cx);
                    }
                    None => events_done = true,
                },
                _ = tick.tick() => rep.counters(&stream, st.get(), &traffic, &mut memo),
                r = stream.recv() => match r {
                    Ok(Some((data, info))) => {
                        traffic.received(data.len(), info.complete);
                        if shared.mode != Mode::Echo {
                            continue;
                        }
                        let key = (info.stream, info.unordered);
                        let message = if info.complete {
                            match pieces.remove(&key) {
                                Some(mut head) => {
                                    head.extend_from_slice(&data);
                                    head.freeze()
                                }
                                None => data,
                            }
                        } else {
                            pieces.entry(key).or_default().extend_from_slice(&data);
                            continue;
                        };
                        let back = SendInfo {
                            stream: info.stream,
                            ppid: info.ppid,
                            unordered: info.unordered,
                            ..SendInfo::default()
                        };
                        let n = message.len();
                        // Sending waits while the send buffer is full (the
                        // client does not read): stay stoppable meanwhile.
                        tokio::select! {
                            r = stream.send(message, back) => match r {
                                Ok(()) => traffic.sent(n),
                                Err(e) if e.kind() == io::ErrorKind::InvalidInput => rep.error(
                                    "server",
                                    &format!(
                                        "association {}: cannot echo a message of {n} bytes on \
                                         stream {}: {e}",
                                        stream.association().0, info.stream
                                    ),
                                ),
                                // The association is going away: the loop
                                // sees it on the next read.
                                Err(_) => {}
                            },
                            _ = stop.changed() => break End::ShutDown,
                        }
                    }
                    Ok(None) | Err(_) => break End::Ended,
                },
            }
        }
    };
    traffic.remember_paths(&stream);
    if let End::ShutDown = end {
        if let Err(e) = graceful_shutdown(rep, &stream, &st, &traffic, cx, SHUTDOWN_LIMIT).await {
            rep.error(
                "server",
                &format!("association {}: {e}", stream.association().0),
            );
        }
    }
    drain_events(rep, &stream, &st, cx).await;
    // The final counters: what this association carried in all.
    rep.counters(&stream, "closed", &traffic, &mut None);
}

/// `2026-05-01T12:34:56Z\r\n`: the time as RFC 3339 UTC text, ended like a
/// daytime (RFC 867) line.
pub fn daytime_text(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z\r\n",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daytime_is_rfc3339_utc() {
        assert_eq!(daytime_text(UNIX_EPOCH), "1970-01-01T00:00:00Z\r\n");
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29
        assert_eq!(daytime_text(t), "2024-02-29T12:34:56Z\r\n");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(daytime_text(t), "2000-02-29T00:00:00Z\r\n");
    }
}
