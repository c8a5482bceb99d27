//! Event subscriptions (RFC 6458 §6.2 `SCTP_EVENT`): which notifications the
//! application receives, and [`EventStream`], the events of one association
//! as an async stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use msctp_proto::Event;

use crate::socket::SctpStream;

type NextEvent<'a> = Pin<Box<dyn Future<Output = Option<Event>> + Send + 'a>>;

/// The events of an [`SctpStream`] as a [`futures_core::Stream`]; it ends
/// when the association has ended and every event was taken. Made by
/// [`SctpStream::events`].
pub struct EventStream<'a> {
    stream: &'a SctpStream,
    next: Option<NextEvent<'a>>,
}

impl std::fmt::Debug for EventStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl<'a> EventStream<'a> {
    pub(crate) fn new(stream: &'a SctpStream) -> Self {
        EventStream { stream, next: None }
    }
}

impl futures_core::Stream for EventStream<'_> {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let stream = self.stream;
        let fut = self
            .next
            .get_or_insert_with(|| Box::pin(stream.next_event()));
        match fut.as_mut().poll(cx) {
            Poll::Ready(e) => {
                self.next = None;
                Poll::Ready(e)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A set of event kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventKinds(u8);

impl EventKinds {
    /// Association changes (SCTP_ASSOC_CHANGE).
    pub const ASSOCIATION: EventKinds = EventKinds(1);
    /// Peer address changes (SCTP_PEER_ADDR_CHANGE).
    pub const PEER_ADDRESS: EventKinds = EventKinds(1 << 1);
    /// Send failures (SCTP_SEND_FAILED_EVENT).
    pub const SEND_FAILED: EventKinds = EventKinds(1 << 2);
    /// The peer's shutdown (SCTP_SHUTDOWN_EVENT).
    pub const SHUTDOWN: EventKinds = EventKinds(1 << 3);
    /// Remote errors (SCTP_REMOTE_ERROR).
    pub const REMOTE_ERROR: EventKinds = EventKinds(1 << 4);
    /// Sender dry (SCTP_SENDER_DRY_EVENT).
    pub const SENDER_DRY: EventKinds = EventKinds(1 << 5);
    /// Heartbeat round-trip measurements (msctp's own).
    pub const HEARTBEAT: EventKinds = EventKinds(1 << 6);

    /// Every kind.
    pub const fn all() -> EventKinds {
        EventKinds(0x7f)
    }

    /// No kind.
    pub const fn none() -> EventKinds {
        EventKinds(0)
    }

    /// The union of two sets.
    #[must_use]
    pub const fn with(self, other: EventKinds) -> EventKinds {
        EventKinds(self.0 | other.0)
    }

    /// True if `other` is in the set.
    pub const fn contains(self, other: EventKinds) -> bool {
        self.0 & other.0 == other.0
    }

    /// The kind of an event.
    pub fn of(e: &Event) -> EventKinds {
        match e {
            Event::Association(_) => Self::ASSOCIATION,
            Event::PeerAddress { .. } => Self::PEER_ADDRESS,
            Event::SendFailed { .. } => Self::SEND_FAILED,
            Event::Shutdown => Self::SHUTDOWN,
            Event::RemoteError(_) => Self::REMOTE_ERROR,
            Event::SenderDry => Self::SENDER_DRY,
            Event::HeartbeatAcked { .. } => Self::HEARTBEAT,
            Event::Readable => Self::none(),
        }
    }

    /// True if the application subscribed to `e`'s kind. Association
    /// changes are always kept: the socket needs them to work.
    pub fn wants(self, e: &Event) -> bool {
        let k = Self::of(e);
        k == Self::ASSOCIATION || (k.0 != 0 && self.contains(k))
    }
}

impl Default for EventKinds {
    /// Association, peer address, send-failed, shutdown and remote-error
    /// events; SENDER_DRY and heartbeat round trips, which come with nearly
    /// every message or heartbeat, are opt-in.
    fn default() -> Self {
        Self::ASSOCIATION
            | Self::PEER_ADDRESS
            | Self::SEND_FAILED
            | Self::SHUTDOWN
            | Self::REMOTE_ERROR
    }
}

impl std::ops::BitOr for EventKinds {
    type Output = EventKinds;
    fn bitor(self, rhs: EventKinds) -> EventKinds {
        self.with(rhs)
    }
}
