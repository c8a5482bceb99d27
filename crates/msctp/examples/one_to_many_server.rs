//! A one-to-many server (RFC 6458 §3): one socket serves every peer. Each
//! new association is greeted, every message is answered on the
//! association it came from, and associations idle for the autoclose time
//! are shut down by the server (RFC 6458 §8.1.8 SCTP_AUTOCLOSE).
//!
//! ```sh
//! msctp lab up
//! sudo ip netns exec beta cargo run -p msctp --example one_to_many_server -- --autoclose 5
//! # a client; this one sends every 100 ms, so it is never idle long enough to be closed
//! sudo ip netns exec alpha cargo run -p msctp --example path_events_client
//! ```
//!
//! Usage: `one_to_many_server [--udp] [--port P] [--autoclose SECONDS] [ADDR…]`
//! (defaults: beta's lab addresses 192.0.2.2 and 198.51.100.2, port 5001,
//! autoclose after 10 s).

use std::io;
use std::net::IpAddr;
use std::time::Duration;

use msctp::{AssociationChange, Event, EventKinds, Options, SctpSocket, SendInfo, TransportKind};

/// Binds the socket on `addrs` and `port` (over UDP encapsulation if
/// `udp`), reporting association and peer address events, and sets
/// autoclose.
pub async fn bind(
    addrs: &[IpAddr],
    port: u16,
    udp: bool,
    autoclose: Duration,
) -> io::Result<SctpSocket> {
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
    let socket = SctpSocket::bind(addrs, port, opts).await?;
    socket.set_autoclose(Some(autoclose));
    Ok(socket)
}

/// Greets new associations and answers messages, for ever.
pub async fn serve(socket: SctpSocket, log: impl Fn(String)) -> io::Result<()> {
    loop {
        // Both futures are cancel-safe: nothing is taken by the one that loses.
        tokio::select! {
            msg = socket.recv() => {
                let (data, info) = msg?;
                let h = info.association;
                log(format!("[{}] {:?}", h.0, String::from_utf8_lossy(&data)));
                let answer = format!("association {} said {} bytes", h.0, data.len());
                if let Err(e) = socket.send(h, answer, SendInfo::default()).await {
                    log(format!("[{}] cannot answer: {e}", h.0));
                }
            }
            (h, event) = socket.next_event() => {
                log(format!("[{}] {}", h.0, describe(&event)));
                if let Event::Association(AssociationChange::CommUp { .. }) = event {
                    let greeting = format!("hello, association {}", h.0);
                    if let Err(e) = socket.send(h, greeting, SendInfo::default()).await {
                        log(format!("[{}] cannot greet: {e}", h.0));
                    }
                }
            }
        }
    }
}

/// One line for an event.
fn describe(event: &Event) -> String {
    match event {
        Event::Association(change) => format!("association: {change:?}"),
        Event::PeerAddress {
            address, change, ..
        } => format!("path {address}: {change:?}"),
        other => format!("{other:?}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let mut udp = false;
    let mut port = 5001;
    let mut autoclose = Duration::from_secs(10);
    let mut addrs: Vec<IpAddr> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--udp" => udp = true,
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port P"),
            "--autoclose" => {
                let secs = args.next().and_then(|s| s.parse().ok());
                autoclose = Duration::from_secs_f64(secs.expect("--autoclose SECONDS"));
            }
            a => addrs.push(a.parse().expect("an IP address")),
        }
    }
    if addrs.is_empty() {
        addrs = vec![
            "192.0.2.2".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        ];
    }
    let socket = bind(&addrs, port, udp, autoclose).await?;
    println!(
        "serving on {:?}, autoclose after {autoclose:?}",
        socket.local_addrs()
    );
    serve(socket, |line| println!("{line}")).await
}

#[cfg(test)]
mod tests {
    use msctp::SctpStream;
    use msctp::testing::addr::*;
    use msctp::testing::{Lab, require_root};
    use tokio::sync::mpsc::unbounded_channel;
    use tokio::time::timeout;

    use super::*;

    const WAIT: Duration = Duration::from_secs(2);

    /// Two clients in alpha, one per link, against the server in beta: each
    /// is greeted and answered on its own association; once both are idle
    /// for the autoclose time (300 ms) the server shuts both down.
    #[tokio::test(flavor = "current_thread")]
    async fn greets_answers_and_autocloses_two_clients() {
        require_root("the one_to_many_server example's test");
        let lab = Lab::new();
        let socket = {
            let _inside = lab.beta.enter();
            bind(
                &[BETA1_V4, BETA2_V4],
                5001,
                false,
                Duration::from_millis(300),
            )
            .await
            .unwrap()
        };
        let (tx, mut lines) = unbounded_channel();
        let server = tokio::spawn(serve(socket, move |line| {
            println!("server: {line}");
            let _ = tx.send(line);
        }));
        let mut clients = Vec::new();
        for (local, peer) in [([ALPHA1_V4], [BETA1_V4]), ([ALPHA2_V4], [BETA2_V4])] {
            let _inside = lab.alpha.enter();
            let connect = SctpStream::connect(&local, &peer, 5001, Options::default());
            let client = timeout(WAIT, connect).await.expect("connect timed out");
            clients.push(client.expect("connect"));
        }
        let mut ids = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let recv = || async { timeout(WAIT, client.recv()).await.unwrap().unwrap() };
            let (greeting, _) = recv().await.expect("a greeting");
            let greeting = String::from_utf8(greeting.to_vec()).unwrap();
            let id = greeting.strip_prefix("hello, association ").unwrap();
            ids.push(id.to_string());
            let ping = format!("ping {i}");
            client
                .send(ping.clone(), SendInfo::default())
                .await
                .unwrap();
            let (answer, _) = recv().await.expect("an answer");
            let expected = format!("association {id} said {} bytes", ping.len());
            assert_eq!(answer, expected.as_bytes());
        }
        assert_ne!(ids[0], ids[1], "two associations");
        // Autoclose: both clients see their association end without
        // having done anything.
        for client in &clients {
            let end = timeout(WAIT, client.recv()).await.expect("autoclose");
            assert!(
                end.unwrap().is_none(),
                "the server shut the association down"
            );
        }
        let mut closed = Vec::new();
        while closed.len() < 2 {
            let line = timeout(WAIT, lines.recv()).await.unwrap().unwrap();
            if line.ends_with("association: ShutdownComplete") {
                closed.push(line);
            }
        }
        server.abort();
    }
}
