//! Packet input to a live association: two endpoints complete a handshake
//! and exchange a little data, then the fuzzer's bytes arrive as the chunks
//! of packets with the right ports and verification tag (and, for the first
//! packet, a zero tag, as INIT uses), interleaved with timer expiries and
//! application calls. The engine must never panic, and what it emits must
//! always parse.
#![no_main]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use msctp_proto::{Config, Endpoint, SendOptions};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

struct World {
    now: Instant,
    a: Endpoint,
    b: Endpoint,
}

impl World {
    fn new() -> World {
        let now = Instant::now();
        let cfg = |seed| Config {
            rng_seed: seed,
            cookie_secret: [seed as u8; 32],
            ..Config::default()
        };
        let a = Endpoint::new(cfg(1), vec![ip("192.0.2.1"), ip("198.51.100.1")], 5001, now);
        let mut b = Endpoint::new(cfg(2), vec![ip("192.0.2.2"), ip("198.51.100.2")], 5001, now);
        b.listen(true);
        World { now, a, b }
    }

    /// Moves packets between the endpoints until quiet (bounded).
    fn settle(&mut self) {
        for _ in 0..64 {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit(self.now) {
                msctp_wire::Packet::parse(t.payload.clone()).expect("emitted packets parse");
                self.b.handle(self.now, t.destination, t.source, t.payload);
                moved = true;
            }
            while let Some(t) = self.b.poll_transmit(self.now) {
                msctp_wire::Packet::parse(t.payload.clone()).expect("emitted packets parse");
                self.a.handle(self.now, t.destination, t.source, t.payload);
                moved = true;
            }
            while self.a.poll_event().is_some() {}
            while self.b.poll_event().is_some() {}
            while self.b.accept().is_some() {}
            if !moved {
                break;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut w = World::new();
    let h =
        w.a.connect(w.now, &[ip("192.0.2.2")], 5001)
            .expect("connect");
    w.settle();
    if let Some(assoc) = w.a.association_mut(h) {
        let _ = assoc.send(Bytes::from_static(b"hello"), SendOptions::default());
    }
    w.settle();
    let tag =
        w.b.associations()
            .next()
            .map(|(_, a)| a.local_vtag())
            .unwrap_or(0);
    // Split the input into packets at 0xfe bytes; each gets the
    // common header; control bytes pick the tag and interleave timers.
    for (i, body) in data.split(|&b| b == 0xfe).enumerate().take(32) {
        let (ctl, chunks) = body.split_first().map_or((0, body), |(c, r)| (*c, r));
        let vtag = match ctl & 3 {
            0 => tag,
            1 => 0,
            2 => tag ^ 1,
            _ => w.a.associations().next().map_or(0, |(_, a)| a.local_vtag()),
        };
        let mut p = Vec::with_capacity(12 + chunks.len());
        p.extend_from_slice(&5001u16.to_be_bytes());
        p.extend_from_slice(&5001u16.to_be_bytes());
        p.extend_from_slice(&vtag.to_be_bytes());
        p.extend_from_slice(&[0; 4]);
        p.extend_from_slice(chunks);
        msctp_wire::crc32c::fill(&mut p);
        let from = if ctl & 4 == 0 {
            "192.0.2.1"
        } else {
            "198.51.100.1"
        };
        w.b.handle(w.now, ip("192.0.2.2"), ip(from), Bytes::from(p));
        if ctl & 8 != 0 {
            w.now += Duration::from_millis(u64::from(ctl >> 4) * 150 + (i as u64));
            w.a.handle_timeout(w.now);
            w.b.handle_timeout(w.now);
        }
        if ctl & 0x80 != 0 {
            let first = w.b.associations().next().map(|(bh, _)| bh);
            if let Some(bh) = first {
                if let Some(assoc) = w.b.association_mut(bh) {
                    let _ = assoc.send(Bytes::from_static(b"reply"), SendOptions::default());
                    while assoc.recv().is_some() {}
                }
            }
        }
        w.settle();
    }
    // Run the clocks forward: every timer path gets exercised.
    for _ in 0..8 {
        w.now += Duration::from_secs(7);
        w.a.handle_timeout(w.now);
        w.b.handle_timeout(w.now);
        w.settle();
    }
});
