//! A multi-homed client that shows what multi-homing does: it connects to
//! all of a server's addresses, sends a message every 100 ms, prints every
//! path event (confirmed, potentially failed, unreachable, available,
//! primary changes) as it happens and a table of the paths once a second.
//! Block a link while it runs and watch the association move to the other.
//!
//! ```sh
//! msctp lab up
//! sudo ip netns exec beta cargo run -p msctp --example echo_server &
//! sudo ip netns exec alpha cargo run -p msctp --example path_events_client
//! sudo ip netns exec beta iptables -I INPUT -p sctp -i link1 -j REJECT   # and back: -D
//! ```
//!
//! Usage: `path_events_client [--udp] [--port P] [--bind ADDR,ADDR…] [PEER…]`
//! (defaults: alpha's lab addresses 192.0.2.1,198.51.100.1 to beta's
//! 192.0.2.2 and 198.51.100.2 on port 5001).

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use msctp::{
    AddressChange, Config, Event, EventKinds, Options, PathInfo, SctpStream, SendInfo,
    TransportKind,
};

/// Options with timers short enough to see path changes within a second or
/// two (RFC 9260 §16 names): RTO.Min 100 ms instead of 1 s, RTO.Max 1 s
/// instead of 60 s, HB.interval 1 s instead of 30 s. Only association and
/// peer address events are reported (no heartbeat round trips).
pub fn options(udp: bool) -> Options {
    Options {
        config: Config {
            rto_initial: Duration::from_millis(300),
            rto_min: Duration::from_millis(100),
            rto_max: Duration::from_secs(1),
            hb_interval: Duration::from_secs(1),
            ..Config::default()
        },
        transport: if udp {
            TransportKind::udp()
        } else {
            TransportKind::Raw
        },
        events: EventKinds::ASSOCIATION | EventKinds::PEER_ADDRESS,
        ..Options::default()
    }
}

/// Connects from `local` to `peers` (the INIT goes to the first that
/// answers; the others are learnt from the INIT ACK as well).
pub async fn connect(
    local: &[IpAddr],
    peers: &[IpAddr],
    port: u16,
    opts: Options,
) -> io::Result<SctpStream> {
    SctpStream::connect(local, peers, port, opts).await
}

/// Sends a message every 100 ms, reads the echoes (if the server sends
/// any), and reports events and, once a second, the path table through
/// `log`. Returns when the association ends.
pub async fn run(stream: SctpStream, log: impl Fn(String)) -> io::Result<()> {
    let mut send_tick = tokio::time::interval(Duration::from_millis(100));
    let mut table_tick = tokio::time::interval(Duration::from_secs(1));
    let (mut sent, mut echoed) = (0u64, 0u64);
    loop {
        tokio::select! {
            _ = send_tick.tick() => {
                stream.send(format!("message {sent}"), SendInfo::default()).await?;
                sent += 1;
            }
            _ = table_tick.tick() => log(table(&stream.paths()?, sent, echoed)),
            msg = stream.recv() => match msg? {
                Some(_) => echoed += 1,
                None => return Ok(()),
            },
            Some(event) = stream.next_event() => {
                if let Some(line) = describe(&event) {
                    log(line);
                }
            }
        }
    }
}

/// One line per association or path event.
fn describe(event: &Event) -> Option<String> {
    let (address, change, from, to) = match event {
        Event::PeerAddress {
            address,
            change,
            from,
            to,
        } => (address, change, from, to),
        Event::Association(change) => return Some(format!("association: {change:?}")),
        _ => return None,
    };
    let what = match change {
        AddressChange::Confirmed => "confirmed",
        AddressChange::PotentiallyFailed => "potentially failed",
        AddressChange::Unreachable => "unreachable",
        AddressChange::Available => "available",
        AddressChange::MadePrimary => "is the primary path now",
        other => return Some(format!("path {address}: {other:?}")),
    };
    Some(format!("path {address}: {what} ({from:?} -> {to:?})"))
}

/// The path table: state, primary, round-trip time, RTO and counters.
fn table(paths: &[PathInfo], sent: u64, echoed: u64) -> String {
    let mut s = format!("paths (sent {sent}, echoed {echoed}):\n");
    s += "    local          peer           state              srtt      rto";
    s += "    data  rtx  hb/ack\n";
    for p in paths {
        let srtt = p.srtt.map_or("-".into(), |d| format!("{:.1?}", d));
        let c = &p.counters;
        let _ = writeln!(
            s,
            "  {} {:<14} {:<14} {:<18} {:>7} {:>8} {:>6} {:>4}  {}/{}",
            if p.primary { '*' } else { ' ' },
            p.local.to_string(),
            p.remote.to_string(),
            format!("{:?}", p.state),
            srtt,
            format!("{:?}", p.rto),
            c.data_chunks_sent,
            c.retransmissions,
            c.heartbeats_sent,
            c.heartbeat_acks
        );
    }
    s.truncate(s.trim_end().len());
    s
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let mut udp = false;
    let mut port = 5001;
    let mut local: Vec<IpAddr> = vec![
        "192.0.2.1".parse().unwrap(),
        "198.51.100.1".parse().unwrap(),
    ];
    let mut peers: Vec<IpAddr> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--udp" => udp = true,
            "--port" => port = args.next().and_then(|p| p.parse().ok()).expect("--port P"),
            "--bind" => {
                let list = args.next().expect("--bind ADDR,ADDR");
                local = list
                    .split(',')
                    .map(|a| a.parse().expect("an IP address"))
                    .collect();
            }
            a => peers.push(a.parse().expect("an IP address")),
        }
    }
    if peers.is_empty() {
        peers = vec![
            "192.0.2.2".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
        ];
    }
    let stream = connect(&local, &peers, port, options(udp)).await?;
    println!("connected to {:?}", stream.peer_addrs()?);
    run(stream, |line| println!("{line}")).await
}

#[cfg(test)]
#[path = "echo_server.rs"]
#[allow(dead_code)]
mod echo_server;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use msctp::testing::addr::*;
    use msctp::testing::{Lab, require_root};
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
    use tokio::time::timeout;

    use super::*;

    /// The client's output so far, and the lines still to come.
    struct Output {
        lines: UnboundedReceiver<String>,
        seen: Vec<String>,
    }

    impl Output {
        /// Waits (at most `secs`) for a new line starting with `what`.
        async fn expect(&mut self, what: &str, secs: u64) {
            let found = timeout(Duration::from_secs(secs), async {
                while let Some(line) = self.lines.recv().await {
                    self.seen.push(line);
                    if self.seen.last().unwrap().starts_with(what) {
                        return;
                    }
                }
                panic!("the client stopped before printing {what:?}");
            });
            found
                .await
                .unwrap_or_else(|_| panic!("no line starting with {what:?} within {secs} s"));
        }
    }

    /// The DATA chunks column of `peer`'s row in a path table.
    fn data_sent_to(table: &str, peer: &str) -> u64 {
        let row = table.lines().find(|l| l.contains(peer)).expect("a row");
        let columns: Vec<&str> = row.split_whitespace().collect();
        columns[columns.len() - 3].parse().expect("a number")
    }

    /// The reference experiment with the two examples: the echo server in
    /// beta, this client in alpha. Link 1 is blocked with iptables REJECT
    /// in both namespaces while messages flow: the client reports the
    /// primary path potentially failed (RFC 7829) and, once the rules are
    /// removed, available again (RFC 9260 §8.3 heartbeats).
    #[tokio::test(flavor = "current_thread")]
    async fn reports_failover_and_return_against_echo_server() {
        require_root("the path_events_client example's test");
        let lab = Lab::new();
        let listener = {
            let _inside = lab.beta.enter();
            echo_server::bind(&[BETA1_V4, BETA2_V4], 5001, false)
                .await
                .unwrap()
        };
        let server = tokio::spawn(echo_server::serve(
            listener,
            Arc::new(|line| println!("server: {line}")),
        ));
        let stream = {
            let _inside = lab.alpha.enter();
            let connect = connect(
                &[ALPHA1_V4, ALPHA2_V4],
                &[BETA1_V4, BETA2_V4],
                5001,
                options(false),
            );
            timeout(Duration::from_secs(3), connect)
                .await
                .expect("connect timed out")
                .expect("connect")
        };
        let (tx, lines) = unbounded_channel();
        let client = tokio::spawn(run(stream, move |line| {
            println!("client: {line}");
            let _ = tx.send(line);
        }));
        let mut out = Output {
            lines,
            seen: Vec::new(),
        };
        // RFC 9260 §5.4: addresses given to connect count as confirmed, so
        // the first table (printed at once) shows both paths active.
        out.expect("paths (", 2).await;
        let table = out.seen.last().unwrap();
        assert_eq!(table.matches("Active").count(), 2, "{table}");
        assert!(table.contains("198.51.100.2"), "{table}");
        // A second later, messages have been echoed.
        out.expect("paths (", 2).await;
        let table = out.seen.last().unwrap();
        assert!(!table.contains("echoed 0)"), "{table}");

        let rule = ["INPUT", "-p", "sctp", "-i", "link1", "-j", "REJECT"];
        for ns in [&lab.alpha, &lab.beta] {
            ns.exec_ok("iptables", &[&["-I"], &rule[..]].concat());
        }
        out.expect("path 192.0.2.2: potentially failed", 2).await;
        // RFC 9260 §6.4.1: the messages now go to 198.51.100.2.
        out.expect("paths (", 2).await;
        let table = out.seen.last().unwrap();
        assert!(data_sent_to(table, "198.51.100.2") > 0, "{table}");
        for ns in [&lab.alpha, &lab.beta] {
            ns.exec_ok("iptables", &[&["-D"], &rule[..]].concat());
        }
        out.expect("path 192.0.2.2: available", 3).await;
        assert!(
            out.seen
                .iter()
                .any(|l| l.starts_with("association: CommUp")),
            "{:#?}",
            out.seen
        );
        client.abort();
        server.abort();
    }
}
