//! The two applications of the scenarios: [`Client`] on alpha (it opens the
//! association; the scenario's schedule makes it write `msg N` messages) and
//! [`Echo`] on beta (it reads every message and writes it back), each
//! recording what it read with its virtual time.

use std::time::{Duration, Instant};

use bytes::Bytes;
use msctp_proto::{AssociationChange, AssociationHandle, Endpoint, Event, SendOptions};

use crate::sctp::App;

/// The text of message `n`: `msg n`.
pub fn message_text(n: u32) -> String {
    format!("msg {n}")
}

/// The number of a message whose text is `msg N`.
pub fn message_number(data: &[u8]) -> Option<u32> {
    std::str::from_utf8(data)
        .ok()?
        .strip_prefix("msg ")?
        .parse()
        .ok()
}

/// One message read by an application: when, and which (`None` if it was
/// not a `msg N` message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Virtual time of the read.
    pub at: Duration,
    /// Its number.
    pub number: Option<u32>,
}

/// Reads every complete message of every association of `ep`, calling
/// `each` with its handle and data.
fn read_all(ep: &mut Endpoint, mut each: impl FnMut(&mut Endpoint, AssociationHandle, Bytes)) {
    let handles: Vec<_> = ep.associations().map(|(h, _)| h).collect();
    for h in handles {
        loop {
            let Some(m) = ep.association_mut(h).and_then(|a| a.recv()) else {
                break;
            };
            each(ep, h, m.data);
        }
    }
}

/// The application on alpha: remembers the association it opened, and
/// records the echoes it reads. The messages themselves are written by the
/// scenario's schedule ([`write_message`], [`Client::record_write`]).
#[derive(Debug)]
pub struct Client {
    start: Instant,
    /// The association, once it is up.
    pub association: Option<AssociationHandle>,
    /// Messages written: (virtual time, number, accepted by `send`).
    pub written: Vec<(Duration, u32, bool)>,
    /// Echoes read.
    pub echoes: Vec<Read>,
}

impl Client {
    /// A client whose virtual time zero is `start`.
    pub fn new(start: Instant) -> Self {
        Client {
            start,
            association: None,
            written: Vec::new(),
            echoes: Vec::new(),
        }
    }

    /// Records that message `n` was written at `now` (`accepted`: whether
    /// the engine took it).
    pub fn record_write(&mut self, now: Instant, n: u32, accepted: bool) {
        let at = now.saturating_duration_since(self.start);
        self.written.push((at, n, accepted));
    }
}

/// Writes message `n` on association `h` of `endpoint` (stream 0, ordered);
/// returns whether the engine accepted it.
pub fn write_message(endpoint: &mut Endpoint, h: Option<AssociationHandle>, n: u32) -> bool {
    h.and_then(|h| endpoint.association_mut(h))
        .is_some_and(|a| {
            a.send(
                Bytes::from(message_text(n)),
                SendOptions {
                    ppid: PPID,
                    ..SendOptions::default()
                },
            )
            .is_ok()
        })
}

/// Payload protocol identifier of the scenario messages (unassigned by
/// IANA, opaque to SCTP).
pub const PPID: u32 = 0x6d73_6770;

impl App for Client {
    fn poll(&mut self, now: Instant, ep: &mut Endpoint, events: &[(AssociationHandle, Event)]) {
        for (h, e) in events {
            if matches!(e, Event::Association(AssociationChange::CommUp { .. }))
                && self.association.is_none()
            {
                self.association = Some(*h);
            }
        }
        let at = now.saturating_duration_since(self.start);
        let echoes = &mut self.echoes;
        read_all(ep, |_, _, data| {
            echoes.push(Read {
                at,
                number: message_number(&data),
            });
        });
    }
}

/// The application on beta: reads every message and writes it back on the
/// same stream.
#[derive(Debug)]
pub struct Echo {
    start: Instant,
    /// Messages read.
    pub received: Vec<Read>,
    /// Echoes the engine refused.
    pub refused: u32,
}

impl Echo {
    /// An echo server whose virtual time zero is `start`.
    pub fn new(start: Instant) -> Self {
        Echo {
            start,
            received: Vec::new(),
            refused: 0,
        }
    }
}

impl App for Echo {
    fn poll(&mut self, now: Instant, ep: &mut Endpoint, _events: &[(AssociationHandle, Event)]) {
        let at = now.saturating_duration_since(self.start);
        let (received, refused) = (&mut self.received, &mut self.refused);
        read_all(ep, |ep, h, data| {
            received.push(Read {
                at,
                number: message_number(&data),
            });
            let options = SendOptions {
                ppid: PPID,
                ..SendOptions::default()
            };
            let ok = ep
                .association_mut(h)
                .is_some_and(|a| a.send(data, options).is_ok());
            if !ok {
                *refused += 1;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_texts_round_trip() {
        assert_eq!(message_text(7), "msg 7");
        assert_eq!(message_number(b"msg 7"), Some(7));
        assert_eq!(message_number(b"hello"), None);
    }
}
