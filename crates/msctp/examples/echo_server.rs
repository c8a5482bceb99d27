//! A multi-homed echo server: binds several local addresses (all of them are
//! announced to peers in the INIT ACK), accepts associations and sends every
//! message back on the stream it came on, with the same PPID and ordering.
//! It prints association and path events as they happen.
//!
//! ```sh
//! msctp lab up    # namespaces alpha and beta joined by two links
//! sudo ip netns exec beta cargo run -p msctp --example echo_server
//! sudo ip netns exec beta cargo run -p msctp --example echo_server -- --udp 192.0.2.2 198.51.100.2
//! ```
//!
//! Usage: `echo_server [--udp] [--port P] [ADDR…]` (default: beta's lab
//! addresses 192.0.2.2 and 198.51.100.2, port 5001). Raw IP needs
//! `CAP_NET_RAW`; `--udp` (RFC 6951, UDP port 9899) needs no privilege.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use msctp::{Event, EventKinds, Options, SctpListener, SctpStream, SendInfo, TransportKind};

/// Where the server's output lines go: stdout in `main`, a channel in tests.
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Binds the listener on `addrs` and `port`, over UDP encapsulation if
/// `udp`, reporting only association and peer address events.
pub async fn bind(addrs: &[IpAddr], port: u16, udp: bool) -> io::Result<SctpListener> {
    let transport = if udp {
        TransportKind::udp()
    } else {
        TransportKind::Raw
    };
    let opts = Options {
        transport,
        events: EventKinds::ASSOCIATION | EventKinds::PEER_ADDRESS,
        ..Options::default()
    };
    SctpListener::bind(addrs, port, opts).await
}

/// Accepts associations for ever, each echoed by its own task.
pub async fn serve(listener: SctpListener, log: Log) -> io::Result<()> {
    log(format!("listening on {:?}", listener.local_addrs()));
    loop {
        let stream = listener.accept().await?;
        tokio::spawn(echo(stream, log.clone()));
    }
}

/// Echoes one association's messages and reports its events until it ends.
async fn echo(stream: SctpStream, log: Log) {
    let id = stream.association().0;
    let peers = stream.peer_addrs().unwrap_or_default();
    log(format!("[{id}] new association from {peers:?}"));
    loop {
        // Both futures are cancel-safe: a message or an event is only taken
        // by the branch that completes.
        tokio::select! {
            msg = stream.recv() => match msg {
                Ok(Some((data, info))) => {
                    let back = SendInfo {
                        stream: info.stream,
                        ppid: info.ppid,
                        unordered: info.unordered,
                        ..SendInfo::default()
                    };
                    if let Err(e) = stream.send(data, back).await {
                        log(format!("[{id}] send failed: {e}"));
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    log(format!("[{id}] receive failed: {e}"));
                    break;
                }
            },
            Some(event) = stream.next_event() => log(format!("[{id}] {}", describe(&event))),
        }
    }
    // The association has ended: report what is left (shutdown, loss).
    while let Some(event) = stream.next_event().await {
        log(format!("[{id}] {}", describe(&event)));
    }
}

/// One line for an event.
fn describe(event: &Event) -> String {
    match event {
        Event::Association(change) => format!("association: {change:?}"),
        Event::PeerAddress {
            address,
            change,
            from,
            to,
        } => format!("path {address}: {change:?} ({from:?} -> {to:?})"),
        other => format!("{other:?}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let mut udp = false;
    let mut port = 5001;
    let mut addrs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--udp" => udp = true,
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port P"),
            a => addrs.push(a.parse().expect("an IP address")),
        }
    }
    if addrs.is_empty() {
        addrs = vec![
            "192.0.2.2".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        ];
    }
    let listener = bind(&addrs, port, udp).await?;
    serve(listener, Arc::new(|line| println!("{line}"))).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use msctp::testing::addr::*;
    use msctp::testing::{Lab, require_root};
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
    use tokio::time::timeout;

    use super::*;

    /// Waits (at most `secs`) for an output line containing `what`.
    async fn expect_line(lines: &mut UnboundedReceiver<String>, what: &str, secs: u64) {
        let found = timeout(Duration::from_secs(secs), async {
            while let Some(line) = lines.recv().await {
                if line.contains(what) {
                    return;
                }
            }
            panic!("the server stopped before printing {what:?}");
        });
        found
            .await
            .unwrap_or_else(|_| panic!("no line with {what:?} within {secs} s"));
    }

    /// The echo server over UDP encapsulation (RFC 6951) in namespace beta,
    /// a multi-homed client in alpha: every message comes back on its
    /// stream with its PPID and ordering, the server reports the
    /// association, the confirmation of alpha's second address and the
    /// graceful shutdown.
    #[tokio::test(flavor = "current_thread")]
    async fn echoes_over_udp_with_stream_ppid_and_ordering() {
        require_root("the echo_server example's test");
        let lab = Lab::new();
        let listener = {
            let _inside = lab.beta.enter();
            bind(&[BETA1_V4, BETA2_V4], 5001, true).await.unwrap()
        };
        let (tx, mut lines) = unbounded_channel();
        let log: Log = Arc::new(move |line: String| {
            println!("server: {line}");
            let _ = tx.send(line);
        });
        let server = tokio::spawn(serve(listener, log));
        let client = {
            let _inside = lab.alpha.enter();
            let opts = Options::udp(msctp::transport::SCTP_UDP_PORT);
            let connect = SctpStream::connect(&[ALPHA1_V4, ALPHA2_V4], &[BETA1_V4], 5001, opts);
            timeout(Duration::from_secs(3), connect)
                .await
                .expect("connect timed out")
                .expect("connect")
        };
        expect_line(&mut lines, "new association", 2).await;
        for i in 0..20u16 {
            let info = SendInfo {
                stream: i % 4,
                ppid: 1000 + u32::from(i),
                unordered: i % 3 == 0,
                ..SendInfo::default()
            };
            let msg = format!("message {i}").repeat(1 + usize::from(i) * 50);
            client.send(msg.clone(), info).await.unwrap();
            let (data, got) = timeout(Duration::from_secs(2), client.recv())
                .await
                .expect("echo timed out")
                .unwrap()
                .expect("an echo");
            assert_eq!(data, msg.as_bytes());
            assert_eq!(
                (got.stream, got.ppid, got.unordered),
                (info.stream, info.ppid, info.unordered)
            );
        }
        // RFC 9260 §5.4: the server confirms alpha's second address by heartbeat.
        expect_line(&mut lines, "path 198.51.100.1: Confirmed", 3).await;
        timeout(Duration::from_secs(3), client.shutdown())
            .await
            .expect("shutdown timed out")
            .unwrap();
        expect_line(&mut lines, "association: ShutdownComplete", 2).await;
        server.abort();
    }
}
