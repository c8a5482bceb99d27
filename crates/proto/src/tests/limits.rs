//! Receive-side memory and send-side size limits through the whole engine:
//! DATA padded to large datagrams is charged the memory it keeps alive
//! (RFC 9260 §6.2 a_rwnd), a peer ignoring our window cannot make us hold
//! more than the memory limit, a flood on a nonexistent stream (§6.5) costs
//! bounded memory, and a message larger than the send buffer is refused for
//! good instead of waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use msctp_wire::chunk::{Data, Pad};
use msctp_wire::{Chunk, CommonHeader, Packet, Ssn, Tsn};

use super::pair::*;
use crate::recv::CHUNK_OVERHEAD;
use crate::{AssociationHandle, Config, SendError, SendOptions};

fn established_with(c: Config, s: Config) -> (Pair, AssociationHandle, AssociationHandle) {
    let mut p = Pair::new(c, s);
    let h = p.connect();
    p.run_for(Duration::from_millis(100));
    let s = p.server.associations().next().unwrap().0;
    p.log.clear();
    (p, h, s)
}

fn configs(receive_window: u32) -> (Config, Config) {
    let c = Config {
        rng_seed: 1,
        ..Config::default()
    };
    let s = Config {
        rng_seed: 2,
        receive_window,
        ..Config::default()
    };
    (c, s)
}

/// A datagram buffer that counts how many of its kind are still alive.
struct Tracked {
    buf: Vec<u8>,
    alive: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.buf
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A packet from the client to association `s` of the server with one DATA
/// chunk (TSN `tsn`, stream `stream`, SSN `ssn`, `len` bytes) and a PAD
/// chunk of `pad` bytes after it, delivered in a buffer tracked by `alive`.
/// Returns the datagram's length.
#[allow(clippy::too_many_arguments)]
fn inject_padded(
    p: &mut Pair,
    s: AssociationHandle,
    tsn: Tsn,
    stream: u16,
    ssn: u16,
    len: usize,
    pad: u16,
    alive: &Arc<AtomicUsize>,
) -> usize {
    let tag = p.server.association(s).unwrap().local_vtag();
    let mut chunks = vec![Chunk::Data(Data {
        tsn,
        stream,
        ssn: Ssn(ssn),
        ppid: 0,
        unordered: false,
        begin: true,
        end: true,
        immediate: false,
        payload: Bytes::from(vec![0x5a; len]),
    })];
    if pad > 0 {
        chunks.push(Chunk::Pad(Pad { len: pad }));
    }
    let pk = Packet {
        header: CommonHeader {
            src_port: 5001,
            dst_port: 5001,
            verification_tag: tag,
        },
        chunks,
    };
    let buf = pk.emit();
    let n = buf.len();
    alive.fetch_add(1, Ordering::SeqCst);
    let bytes = Bytes::from_owner(Tracked {
        buf,
        alive: alive.clone(),
    });
    let now = p.now;
    p.server.handle(now, ip(B1), ip(A1), bytes);
    n
}

/// The server's next expected TSN.
fn next_tsn(p: &Pair, s: AssociationHandle) -> Tsn {
    p.server
        .association(s)
        .unwrap()
        .recv
        .as_ref()
        .unwrap()
        .cum_tsn()
        .next()
}

/// The a_rwnd of the last SACK the server sends now.
fn last_sack_rwnd(p: &mut Pair) -> Option<u32> {
    let now = p.now;
    let mut rwnd = None;
    while let Some(t) = p.server.poll_transmit(now) {
        for c in Packet::parse(t.payload).unwrap().chunks {
            if let Chunk::Sack(sack) = c {
                rwnd = Some(sack.a_rwnd);
            }
        }
    }
    rwnd
}

/// RFC 9260 §6.2 B (a_rwnd reduced by what is received and buffered), with
/// the measurement: 2 000 one-byte DATA chunks, each in its own
/// datagram padded with a 60 KB PAD chunk, held for ordering (SSN 0 is
/// missing). No held payload may keep its 60 KB datagram alive (it pinned
/// 114 MB before), and a_rwnd falls by exactly what is held: one byte and
/// the bookkeeping overhead per chunk.
#[test]
fn rfc9260_6_2_padded_small_data_does_not_pin_datagrams() {
    let (c, s) = configs(1 << 20);
    let (mut p, _h, s) = established_with(c, s);
    let alive = Arc::new(AtomicUsize::new(0));
    let first = next_tsn(&p, s);
    let n = 2_000u32;
    for i in 0..n {
        // TSN `first` (SSN 0) never comes: everything waits.
        let tsn = Tsn(first.0.wrapping_add(1 + i));
        inject_padded(&mut p, s, tsn, 0, 1 + i as u16, 1, 60_000, &alive);
    }
    let r = p.server.association(s).unwrap().recv.as_ref().unwrap();
    assert_eq!(r.buffered_bytes(), n as usize, "all held");
    assert_eq!(p.server.association(s).unwrap().readable(), 0);
    assert_eq!(
        alive.load(Ordering::SeqCst),
        0,
        "held one-byte payloads keep their 60 KB datagrams alive"
    );
    let held = n as usize * (1 + CHUNK_OVERHEAD);
    assert_eq!(r.charge(), held);
    assert_eq!(r.a_rwnd(), (1 << 20) - held as u32);
    assert_eq!(last_sack_rwnd(&mut p), Some((1 << 20) - held as u32));
}

/// RFC 9260 §6.2 B: a payload that fills at least half its datagram stays a
/// zero-copy view of it, and a_rwnd is charged the whole datagram (what it
/// keeps alive) plus the bookkeeping overhead.
#[test]
fn rfc9260_6_2_large_data_is_charged_its_datagram() {
    let (c, s) = configs(1 << 20);
    let (mut p, _h, s) = established_with(c, s);
    let alive = Arc::new(AtomicUsize::new(0));
    let first = next_tsn(&p, s);
    let mut held = 0;
    for i in 0..10u32 {
        let tsn = Tsn(first.0.wrapping_add(1 + i));
        let len = inject_padded(&mut p, s, tsn, 0, 1 + i as u16, 1_000, 900, &alive);
        held += len + CHUNK_OVERHEAD;
    }
    assert_eq!(alive.load(Ordering::SeqCst), 10, "zero-copy views kept");
    let r = p.server.association(s).unwrap().recv.as_ref().unwrap();
    assert_eq!(r.buffered_bytes(), 10_000);
    assert_eq!(r.charge(), held);
    assert_eq!(r.a_rwnd(), (1 << 20) - held as u32);
    // The missing SSN 0 arrives; reading releases the datagrams and the
    // window.
    inject_padded(&mut p, s, first, 0, 0, 1_000, 900, &alive);
    let a = p.server.association_mut(s).unwrap();
    let mut got = 0;
    while a.recv().is_some() {
        got += 1;
    }
    assert_eq!(got, 11);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
    assert_eq!(a.recv.as_ref().unwrap().charge(), 0);
}

/// RFC 9260 §6.2, memory bound: a peer that ignores our window and sends
/// tiny padded chunks cannot make us hold more than the memory limit (twice
/// the window, plus one chunk): chunks past it are dropped, not stored.
#[test]
fn rfc9260_6_2_window_ignoring_peer_is_bounded_in_memory() {
    let window = 100_000u32;
    let (c, s) = configs(window);
    let (mut p, _h, s) = established_with(c, s);
    let alive = Arc::new(AtomicUsize::new(0));
    let first = next_tsn(&p, s);
    for i in 0..5_000u32 {
        let tsn = Tsn(first.0.wrapping_add(1 + i));
        inject_padded(&mut p, s, tsn, 0, 1 + i as u16, 1, 2_000, &alive);
    }
    let r = p.server.association(s).unwrap().recv.as_ref().unwrap();
    let per_chunk = 1 + CHUNK_OVERHEAD;
    assert!(
        r.charge() <= 2 * window as usize + per_chunk,
        "held {} bytes for a {window}-byte window",
        r.charge()
    );
    assert!(r.buffered_bytes() < 5_000, "chunks past the limit dropped");
    assert_eq!(r.a_rwnd(), 0);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// RFC 9260 §6.5, memory bound: a flood of DATA on a stream that does not
/// exist is acknowledged and discarded; the ERRORs it calls for are bounded
/// by `max_control_chunks` when the driver does not drain them, and nothing
/// is buffered.
#[test]
fn rfc9260_6_5_invalid_stream_flood_is_bounded() {
    let (c, s) = configs(1 << 20);
    let (mut p, _h, s) = established_with(c, s);
    let alive = Arc::new(AtomicUsize::new(0));
    let first = next_tsn(&p, s);
    let n = 5_000u32;
    for i in 0..n {
        let tsn = Tsn(first.0.wrapping_add(i));
        inject_padded(&mut p, s, tsn, 999, 0, 100, 0, &alive);
    }
    let a = p.server.association(s).unwrap();
    let r = a.recv.as_ref().unwrap();
    assert_eq!(
        r.cum_tsn(),
        Tsn(first.0.wrapping_add(n - 1)),
        "all acknowledged"
    );
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.charge(), 0);
    assert_eq!(alive.load(Ordering::SeqCst), 0);
    assert!(a.control.len() <= a.config.max_control_chunks);
}

/// A message larger than the whole send buffer but within
/// `max_message_size` is refused with `LargerThanSendBuffer` (naming both
/// sizes and the knob), not `BufferFull`, which would make a caller wait for
/// room it can never get; a message that fits is still only `BufferFull`
/// while the buffer is busy.
#[test]
fn send_larger_than_send_buffer_is_refused_for_good() {
    let c = Config {
        rng_seed: 1,
        send_buffer: 10_000,
        max_message_size: 1 << 20,
        ..Config::default()
    };
    let (_, s) = configs(1 << 20);
    let (mut p, h, _s) = established_with(c, s);
    let a = p.client.association_mut(h).unwrap();
    let err = a
        .send(Bytes::from(vec![1; 10_001]), SendOptions::default())
        .unwrap_err();
    assert_eq!(
        err,
        SendError::LargerThanSendBuffer {
            len: 10_001,
            send_buffer: 10_000
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("10001") && text.contains("10000") && text.contains("send_buffer"),
        "{text}"
    );
    // Exactly the buffer fits; then a second one waits for room.
    a.send(Bytes::from(vec![1; 10_000]), SendOptions::default())
        .unwrap();
    assert_eq!(
        a.send(Bytes::from(vec![1; 10]), SendOptions::default()),
        Err(SendError::BufferFull)
    );
    // Beyond max_message_size is still TooLarge.
    assert!(matches!(
        a.send(Bytes::from(vec![1; (1 << 20) + 1]), SendOptions::default()),
        Err(SendError::TooLarge { .. })
    ));
    p.run_for(Duration::from_millis(100));
}
