//! The event engine: what happens when an agent transmits, when a datagram
//! reaches the far end of a link, when an ICMP error comes back, when a
//! timer fires and when a scheduled action runs; and how agents are driven
//! (one input, then `poll_transmit` until `None`, then `poll_timeout`).
//!
//! Agent timers are lazy: at most one live timer event per host sits in the
//! queue, at the earliest deadline asked for; when it fires and the agent
//! has meanwhile moved its deadline later, the event is re-queued instead of
//! calling the agent. Older timer events are recognised by a generation
//! number and skipped.

use crate::agent::{Datagram, IcmpError, IcmpKind};
use crate::clock::{Nanos, VirtualTime, nanos};
use crate::icmp;
use crate::link::{Direction, Fate, LinkId, LinkState};
use crate::log::{DropReason, LogKind};
use crate::pcap;
use crate::sim::Sim;
use crate::topology::HostId;
use crate::wire_check::{self, WireError, WireErrorKind};

/// Something that happens at a virtual time.
pub(crate) enum Event {
    /// A datagram reaches the far end of `dir` of `link`.
    Arrive {
        link: LinkId,
        dir: Direction,
        datagram: Datagram,
    },
    /// An ICMP error reaches `host`, having come back over `dir` of `link`.
    Icmp {
        host: HostId,
        link: LinkId,
        dir: Direction,
        error: IcmpError,
    },
    /// The timer of `host` (valid if `generation` is the live one).
    Timer { host: HostId, generation: u64 },
    /// A scheduled action.
    Action(Box<dyn FnOnce(&mut Sim)>),
}

/// The one input an agent is driven with.
enum Input {
    Datagram(Datagram),
    Icmp(IcmpError),
    Timeout,
    /// Only poll (after a test touched the agent).
    Nothing,
}

impl Sim {
    pub(crate) fn process(&mut self, event: Event) {
        self.events += 1;
        match event {
            Event::Arrive {
                link,
                dir,
                datagram,
            } => self.arrive(link, dir, datagram),
            Event::Icmp {
                host,
                link,
                dir,
                error,
            } => {
                if self.hosts[host.0].agent.is_some() {
                    self.hosts[host.0].stats.icmp_received += 1;
                    let len = icmp::icmp_packet_len(&error.original);
                    let (src, dst) = (error.from, error.original.src);
                    let kind = LogKind::IcmpDelivered { kind: error.kind };
                    self.note(Some(link), Some(dir), kind, src, dst, len);
                    self.drive(host, Input::Icmp(error));
                }
            }
            Event::Timer { host, generation } => {
                let h = &mut self.hosts[host.0];
                if h.timer_generation != generation || h.timer_queued.is_none() {
                    return;
                }
                h.timer_queued = None;
                match h.deadline {
                    Some(d) if d <= self.now => self.drive(host, Input::Timeout),
                    Some(d) => self.queue_timer(host, d),
                    None => {}
                }
            }
            Event::Action(action) => action(self),
        }
    }

    /// Polls every agent a test handed out since the last event.
    pub(crate) fn service_dirty(&mut self) {
        let mut i = 0;
        while i < self.dirty.len() {
            let host = self.dirty[i];
            self.hosts[host.0].dirty = false;
            self.drive(host, Input::Nothing);
            i += 1;
        }
        self.dirty.clear();
    }

    /// Feeds one input to the agent of `host`, sends what it transmits and
    /// takes its new deadline.
    fn drive(&mut self, host: HostId, input: Input) {
        let Some(mut agent) = self.hosts[host.0].agent.take() else {
            return;
        };
        let now = self.clock.instant(self.now);
        match input {
            Input::Datagram(d) => agent.handle_datagram(now, d),
            Input::Icmp(e) => agent.handle_icmp(now, e),
            Input::Timeout => {
                self.hosts[host.0].stats.timeouts += 1;
                agent.handle_timeout(now);
            }
            Input::Nothing => {}
        }
        let mut sent = 0u64;
        while let Some(datagram) = agent.poll_transmit(now) {
            sent += 1;
            if sent > self.config.max_transmits_per_poll {
                panic!(
                    "msctp-sim: the agent of host {:?} returned more than {} datagrams from \
                     one round of poll_transmit at virtual time {} (it never returns None?)",
                    self.hosts[host.0].name,
                    self.config.max_transmits_per_poll,
                    VirtualTime(self.elapsed())
                );
            }
            self.transmit(host, datagram);
        }
        // A deadline in the past means "now".
        let deadline = agent
            .poll_timeout()
            .map(|i| self.clock.offset(i).max(self.now));
        self.hosts[host.0].agent = Some(agent);
        self.set_deadline(host, deadline);
    }

    fn set_deadline(&mut self, host: HostId, deadline: Option<Nanos>) {
        let h = &mut self.hosts[host.0];
        h.deadline = deadline;
        if let Some(d) = deadline {
            if h.timer_queued.is_none_or(|queued| d < queued) {
                self.queue_timer(host, d);
            }
        }
    }

    fn queue_timer(&mut self, host: HostId, at: Nanos) {
        let h = &mut self.hosts[host.0];
        h.timer_generation += 1;
        h.timer_queued = Some(at);
        let generation = h.timer_generation;
        self.queue.push(at, Event::Timer { host, generation });
    }

    /// A datagram leaves `host`: wire check, then routing by destination.
    pub(crate) fn transmit(&mut self, host: HostId, datagram: Datagram) {
        self.hosts[host.0].stats.transmitted += 1;
        if self.config.check_wire {
            if let Err(kind) = wire_check::check(&datagram) {
                self.wire_error(host, &datagram, kind);
            }
        }
        match self.hosts[host.0].routes.get(&datagram.dst).copied() {
            Some((link, dir)) => {
                if self.config.check_wire && self.hosts[host.0].follows_routing {
                    // The source must be one of our addresses on the link
                    // the datagram leaves by (when we have one of its
                    // family there): what a real network does with a
                    // wrong source is send the replies over another link.
                    let near = &self.links[link.0].ends[dir.index()].addrs;
                    let family = near.iter().any(|a| a.is_ipv4() == datagram.src.is_ipv4());
                    if family && !near.contains(&datagram.src) {
                        self.wire_error(host, &datagram, WireErrorKind::SourceNotOnLink);
                    }
                }
                self.enter(link, dir, datagram)
            }
            None => {
                self.hosts[host.0].stats.no_route += 1;
                let kind = LogKind::Dropped {
                    reason: DropReason::NoRoute,
                };
                let (src, dst, len) = (datagram.src, datagram.dst, datagram.payload.len());
                self.note(None, None, kind, src, dst, len);
            }
        }
    }

    fn wire_error(&mut self, host: HostId, datagram: &Datagram, kind: WireErrorKind) {
        let error = WireError {
            time: self.elapsed(),
            host,
            datagram: datagram.clone(),
            kind,
        };
        if self.config.panic_on_wire_error {
            panic!(
                "msctp-sim wire check failed: host {:?} {error}(turn SimConfig::panic_on_wire_error \
                 off to record instead of panicking)",
                self.hosts[host.0].name
            );
        }
        self.wire_errors.push(error);
    }

    /// A datagram enters `dir` of `link`: capture, MTU, filter, queue, loss,
    /// delay; schedules its arrival.
    fn enter(&mut self, link: LinkId, dir: Direction, datagram: Datagram) {
        let len = datagram.payload.len();
        let ip_len = datagram.ip_len();
        {
            let stats = &mut self.links[link.0].lanes[dir.index()].stats;
            stats.sent_packets += 1;
            stats.sent_bytes += len as u64;
        }
        if self.links[link.0].pcap.is_some() || self.combined.is_some() {
            if let Some(frame) = pcap::frame(&datagram) {
                self.capture(link, &frame);
            }
        }
        self.note(
            Some(link),
            Some(dir),
            LogKind::Sent,
            datagram.src,
            datagram.dst,
            len,
        );
        let now = self.now;
        let lane = &mut self.links[link.0].lanes[dir.index()];
        if let Some(mtu) = lane.config.mtu {
            if ip_len > mtu as usize {
                self.drop_datagram(link, dir, &datagram, DropReason::Mtu);
                self.return_icmp(link, dir, &datagram, IcmpKind::PacketTooBig { mtu });
                return;
            }
        }
        if let Some(filter) = lane.filter.as_mut() {
            if filter(&datagram) {
                self.drop_datagram(link, dir, &datagram, DropReason::Filter);
                return;
            }
        }
        match lane.admit(now, ip_len) {
            Fate::QueueFull => self.drop_datagram(link, dir, &datagram, DropReason::QueueFull),
            Fate::Lost => self.drop_datagram(link, dir, &datagram, DropReason::Loss),
            Fate::Arrives {
                at,
                reordered,
                duplicate,
            } => {
                if reordered {
                    lane.stats.reordered += 1;
                }
                if duplicate {
                    lane.stats.duplicated += 1;
                }
                let (src, dst) = (datagram.src, datagram.dst);
                if reordered {
                    self.note(Some(link), Some(dir), LogKind::Reordered, src, dst, len);
                }
                if duplicate {
                    self.note(Some(link), Some(dir), LogKind::Duplicated, src, dst, len);
                    let copy = datagram.clone();
                    self.queue.push(
                        at,
                        Event::Arrive {
                            link,
                            dir,
                            datagram,
                        },
                    );
                    self.queue.push(
                        at,
                        Event::Arrive {
                            link,
                            dir,
                            datagram: copy,
                        },
                    );
                } else {
                    self.queue.push(
                        at,
                        Event::Arrive {
                            link,
                            dir,
                            datagram,
                        },
                    );
                }
            }
        }
    }

    /// A datagram reaches the far end of `dir` of `link`.
    fn arrive(&mut self, link: LinkId, dir: Direction, datagram: Datagram) {
        match self.links[link.0].lanes[dir.index()].state {
            LinkState::Up => {}
            LinkState::Down => {
                self.drop_datagram(link, dir, &datagram, DropReason::LinkDown);
                return;
            }
            LinkState::Reject(with) => {
                self.drop_datagram(link, dir, &datagram, DropReason::Rejected);
                let kind = with.icmp_kind(datagram.dst.is_ipv6());
                self.return_icmp(link, dir, &datagram, kind);
                return;
            }
        }
        let far = self.links[link.0].ends[dir.dest_end()].host;
        if !self.hosts[far.0].addrs.contains(&datagram.dst) {
            self.drop_datagram(link, dir, &datagram, DropReason::NoRoute);
            return;
        }
        if self.hosts[far.0].agent.is_none() {
            self.drop_datagram(link, dir, &datagram, DropReason::NoAgent);
            return;
        }
        let len = datagram.payload.len();
        let stats = &mut self.links[link.0].lanes[dir.index()].stats;
        stats.delivered_packets += 1;
        stats.delivered_bytes += len as u64;
        self.hosts[far.0].stats.received += 1;
        let (src, dst) = (datagram.src, datagram.dst);
        self.note(Some(link), Some(dir), LogKind::Delivered, src, dst, len);
        self.drive(far, Input::Datagram(datagram));
    }

    fn drop_datagram(&mut self, link: LinkId, dir: Direction, d: &Datagram, reason: DropReason) {
        let stats = &mut self.links[link.0].lanes[dir.index()].stats;
        stats.dropped.count(reason);
        stats.dropped_bytes += d.payload.len() as u64;
        let kind = LogKind::Dropped { reason };
        self.note(Some(link), Some(dir), kind, d.src, d.dst, d.payload.len());
    }

    /// Sends an ICMP error about `original` (which failed on `dir` of `link`)
    /// back to the host it came from, from the far end's address, over the
    /// reverse direction's delay. ICMP errors are not subject to the link's
    /// state, loss or queue.
    fn return_icmp(&mut self, link: LinkId, dir: Direction, original: &Datagram, kind: IcmpKind) {
        let l = &self.links[link.0];
        let from = l.far_address(dir, original.dst);
        let sender = l.ends[dir.source_end()].host;
        let back = dir.reverse();
        let at = self
            .now
            .saturating_add(nanos(l.lanes[back.index()].config.delay));
        self.links[link.0].lanes[dir.index()].stats.icmp_returned += 1;
        let len = icmp::icmp_packet_len(original);
        let log_kind = LogKind::IcmpSent { kind };
        self.note(Some(link), Some(back), log_kind, from, original.src, len);
        if self.links[link.0].pcap.is_some() || self.combined.is_some() {
            if let Ok(frame) = icmp::icmp_packet(from, kind, original) {
                self.capture(link, &frame);
            }
        }
        let error = icmp::quote(from, kind, original);
        self.queue.push(
            at,
            Event::Icmp {
                host: sender,
                link,
                dir: back,
                error,
            },
        );
    }

    /// Records a frame in the capture of `link` and the combined capture.
    fn capture(&mut self, link: LinkId, frame: &[u8]) {
        let now = self.now;
        if let Some(r) = self.links[link.0].pcap.as_mut() {
            r.record(now, frame);
        }
        if let Some(r) = self.combined.as_mut() {
            r.record(now, frame);
        }
    }
}
