//! The SCTP side of the simulator: [`SctpHost`] runs an `msctp-proto`
//! [`Endpoint`] as a simulated host (the sans-IO engine unchanged), with an
//! optional [`App`] that plays the application, and records every event with
//! its virtual time.

pub mod failover;
mod workload;

use std::time::{Duration, Instant};

use msctp_proto::{AssociationHandle, Config, Endpoint, Event};

pub use workload::{BulkSender, Counter, Digest, Sink, Ticker, Traffic};

use crate::agent::{Agent, Datagram, IcmpError, IcmpKind};

/// What the application on a simulated host does between packets.
pub trait App {
    /// Called whenever the host has been fed (a packet, a timer) and before
    /// it is asked for packets: read, write, react to `events`.
    fn poll(
        &mut self,
        now: Instant,
        endpoint: &mut Endpoint,
        events: &[(AssociationHandle, Event)],
    );

    /// When the app wants to be polled again even if nothing arrives (a
    /// sender on a timer, for example).
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }
}

/// An [`App`] that can be downcast to its concrete type; implemented for
/// every `'static` app.
pub trait AnyApp: App + std::any::Any {
    /// The app as `&dyn Any`.
    fn as_any(&self) -> &dyn std::any::Any;
    /// The app as `&mut dyn Any`.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl<T: App + std::any::Any> AnyApp for T {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// An event recorded by [`SctpHost`], with its virtual time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEvent {
    /// Virtual time since the start of the run.
    pub at: Duration,
    /// The association.
    pub association: AssociationHandle,
    /// The event.
    pub event: Event,
}

/// A simulated host running an SCTP endpoint.
pub struct SctpHost {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Every event so far.
    pub events: Vec<HostEvent>,
    /// ICMP errors received (each is also handed to the endpoint).
    pub icmp: Vec<(Duration, IcmpError)>,
    app: Option<Box<dyn AnyApp>>,
    start: Instant,
    fresh: Vec<(AssociationHandle, Event)>,
}

impl std::fmt::Debug for SctpHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SctpHost")
            .field("endpoint", &self.endpoint)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

impl SctpHost {
    /// A host with an endpoint on `port` bound to `addrs`; `start` is the
    /// simulator's start instant ([`crate::Sim::start`]).
    pub fn new(config: Config, addrs: Vec<std::net::IpAddr>, port: u16, start: Instant) -> Self {
        SctpHost {
            endpoint: Endpoint::new(config, addrs, port, start),
            events: Vec::new(),
            icmp: Vec::new(),
            app: None,
            start,
            fresh: Vec::new(),
        }
    }

    /// Installs the application.
    pub fn with_app(mut self, app: impl App + 'static) -> Self {
        self.app = Some(Box::new(app));
        self
    }

    /// The application as its concrete type, if it is a `T`.
    pub fn app<T: App + 'static>(&self) -> Option<&T> {
        self.app.as_deref()?.as_any().downcast_ref()
    }

    /// The application as its concrete type, if it is a `T`.
    pub fn app_mut<T: App + 'static>(&mut self) -> Option<&mut T> {
        self.app.as_deref_mut()?.as_any_mut().downcast_mut()
    }

    /// Events of one kind, with their times.
    pub fn events_matching(&self, f: impl Fn(&Event) -> bool) -> Vec<&HostEvent> {
        self.events.iter().filter(|e| f(&e.event)).collect()
    }

    fn after_input(&mut self, now: Instant) {
        self.drain_events(now);
        if let Some(app) = self.app.as_mut() {
            let fresh = std::mem::take(&mut self.fresh);
            app.poll(now, &mut self.endpoint, &fresh);
        } else {
            self.fresh.clear();
        }
        self.drain_events(now);
    }

    fn drain_events(&mut self, now: Instant) {
        let at = now.saturating_duration_since(self.start);
        while let Some((association, event)) = self.endpoint.poll_event() {
            self.fresh.push((association, event.clone()));
            self.events.push(HostEvent {
                at,
                association,
                event,
            });
        }
    }
}

impl Agent for SctpHost {
    fn handle_datagram(&mut self, now: Instant, d: Datagram) {
        self.endpoint.handle(now, d.dst, d.src, d.payload);
        self.after_input(now);
    }

    fn handle_icmp(&mut self, now: Instant, error: IcmpError) {
        let kind = match error.kind {
            IcmpKind::DestinationUnreachable { .. } => msctp_proto::IcmpKind::Unreachable,
            IcmpKind::PacketTooBig { mtu } => msctp_proto::IcmpKind::PacketTooBig { mtu },
            IcmpKind::ProtocolUnreachable => msctp_proto::IcmpKind::ProtocolUnreachable,
        };
        let report = msctp_proto::IcmpReport {
            quoted_src: error.original.src,
            quoted_dst: error.original.dst,
            quoted: error.original.payload.clone(),
            kind,
        };
        self.icmp
            .push((now.saturating_duration_since(self.start), error));
        self.endpoint.handle_icmp(now, report);
        self.after_input(now);
    }

    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram> {
        match self.endpoint.poll_transmit(now) {
            Some(t) => Some(Datagram {
                src: t.source,
                dst: t.destination,
                payload: t.payload,
            }),
            None => {
                self.drain_events(now);
                None
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let app = self.app.as_ref().and_then(|a| a.next_wakeup());
        match (self.endpoint.poll_timeout(), app) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.after_input(now);
    }

    fn attach(&mut self, sources: crate::sources::SourceTable) {
        // The endpoint's paths leave from our address on the routed link.
        self.endpoint
            .set_source_selector(std::sync::Arc::new(sources));
    }

    fn follows_routing(&self) -> bool {
        true
    }

    fn routes_changed(&mut self) {
        self.endpoint.refresh_sources();
    }
}
