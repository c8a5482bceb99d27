//! Association setup (RFC 9260 §5.1): the initiator's INIT and COOKIE ECHO
//! with T1-init and T1-cookie, the INIT ACK's address list (§5.1.2), the
//! responder's association built from a valid cookie, and the handling of a
//! COOKIE ECHO for an association that already exists (§5.2.4, cases A–D).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use msctp_wire::chunk::{CookieEcho, Init, OperationError};
use msctp_wire::{Chunk, ErrorCause, Param, ParamType, Tsn, UnrecognizedAction};

use super::{Association, Peer, State};
use crate::config::Config;
use crate::cookie::CookieContents;
use crate::event::{AssociationChange, CloseReason, Event};
use crate::recv::{ReceiveConfig, Receiver};
use crate::rng::Rng;
use crate::timer::Timer;

/// Initiator-side handshake state.
#[derive(Debug, Default)]
pub(crate) struct Handshake {
    /// T1-init or T1-cookie (RFC 9260 §5.1).
    pub t1: Timer,
    /// INIT or COOKIE ECHO retransmissions so far.
    pub retransmits: u32,
    /// Path the INIT or COOKIE ECHO goes to.
    pub path: usize,
    /// The cookie to echo.
    pub cookie: Option<Bytes>,
    /// When the COOKIE ECHO was last sent (to measure the RTT for a Cookie
    /// Preservative, RFC 9260 §5.2.6).
    pub cookie_sent: Option<Instant>,
    /// Handshakes restarted after a Stale Cookie error.
    pub stale_restarts: u32,
    /// Cookie life extension to ask for in the next INIT, in ms.
    pub preservative_ms: Option<u32>,
}

/// Whether `local` may be announced to a peer at `peer` (loopback and
/// link-local addresses only within their scope).
pub(crate) fn announceable(local: IpAddr, peer: IpAddr) -> bool {
    fn link_local(a: IpAddr) -> bool {
        match a {
            IpAddr::V4(v) => v.is_link_local(),
            IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
        }
    }
    if local.is_unspecified() {
        return false;
    }
    if local.is_loopback() && !peer.is_loopback() {
        return false;
    }
    if link_local(local) && !link_local(peer) && !peer.is_loopback() {
        return false;
    }
    true
}

/// The address parameters announcing `locals` to `peer` from `source`
/// (RFC 9260 §5.1.2: every address except the packet's source, which the
/// peer learns from the IP header), then Supported Address Types.
pub(crate) fn address_params(locals: &[IpAddr], source: IpAddr, peer: IpAddr) -> Vec<Param> {
    let mut params: Vec<Param> = locals
        .iter()
        .filter(|&&a| a != source && announceable(a, peer))
        .map(|&a| Param::address(a))
        .collect();
    let mut types = Vec::new();
    if locals.iter().any(IpAddr::is_ipv4) {
        types.push(ParamType::IPV4_ADDRESS.0);
    }
    if locals.iter().any(IpAddr::is_ipv6) {
        types.push(ParamType::IPV6_ADDRESS.0);
    }
    params.push(Param::SupportedAddressTypes(types));
    params
}

/// Parameters of an INIT or INIT ACK we do not implement and must report
/// (RFC 9260 §3.2.1), as the raw TLVs; processing stops at the first one
/// whose action says stop. Returns the TLVs and the number of parameters
/// before the stop.
///
/// "Not implemented" covers codepoints unknown to the codec and also the
/// extensions the codec parses but this engine does not negotiate (ECN,
/// PR-SCTP, ADD-IP's Set Primary Address, AUTH, Adaptation Layer, ...): to
/// the peer we are a stack without them, so each is handled by the two
/// high-order bits of its type like any unrecognized parameter.
pub(crate) fn unrecognized_params(params: &[Param]) -> (Vec<Bytes>, usize) {
    let mut report = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if implemented_param(p) {
            continue;
        }
        let action = p.param_type().action();
        if action.reports() {
            let mut b = BytesMut::new();
            p.emit(&mut b);
            b.truncate(p.len());
            report.push(b.freeze());
        }
        if matches!(
            action,
            UnrecognizedAction::Stop | UnrecognizedAction::StopAndReport
        ) {
            return (report, i);
        }
    }
    (report, params.len())
}

/// The INIT / INIT ACK parameters this engine acts on (RFC 9260 §3.3.2,
/// §3.3.3). Host Name Address is listed because it is acted on (with an
/// ABORT, §5.1.2 B), Unrecognized Parameter because it is read in an INIT
/// ACK (and ignored).
fn implemented_param(p: &Param) -> bool {
    matches!(
        p,
        Param::Ipv4Address(_)
            | Param::Ipv6Address(_)
            | Param::StateCookie(_)
            | Param::CookiePreservative(_)
            | Param::HostNameAddress(_)
            | Param::SupportedAddressTypes(_)
            | Param::UnrecognizedParameter(_)
    )
}

impl Association {
    /// Starts an association as initiator (RFC 9260 §5.1 step A): sends
    /// INIT to the first peer address, and to the next ones in turn on
    /// retransmission.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn connect(
        config: Arc<Config>,
        now: Instant,
        local_port: u16,
        local_addrs: Vec<IpAddr>,
        peer_addrs: &[IpAddr],
        peer_port: u16,
        mut rng: Rng,
        sources: Arc<dyn crate::path::SourceSelector>,
    ) -> Self {
        let local_vtag = rng.nonzero_u32();
        let initial_tsn = Tsn(rng.next_u32());
        let rwnd = config.receive_window;
        let peer = Peer {
            vtag: 0,
            port: peer_port,
            initial_tsn: Tsn(0),
            rwnd,
        };
        let mut a = Association::base(
            config,
            now,
            local_port,
            local_addrs,
            local_vtag,
            initial_tsn,
            peer,
            rng,
            sources,
        );
        a.state = State::CookieWait;
        for &addr in peer_addrs {
            // RFC 9260 §5.4: the addresses the application gave are confirmed.
            a.add_path(addr, true);
        }
        a.handshake.path = 0;
        a.send_init(now);
        a
    }

    fn init_chunk(&self) -> Chunk {
        let (source, peer) = self.dest_of(self.handshake.path);
        Chunk::Init(Init {
            initiate_tag: self.local_vtag,
            a_rwnd: self.config.receive_window,
            outbound_streams: self.config.outbound_streams,
            inbound_streams: self.config.max_inbound_streams,
            initial_tsn: self.local_initial_tsn,
            params: {
                let mut params = address_params(&self.local_addrs, source, peer);
                if let Some(ms) = self.handshake.preservative_ms {
                    params.insert(0, Param::CookiePreservative(ms));
                }
                params
            },
        })
    }

    pub(crate) fn send_init(&mut self, now: Instant) {
        if self.paths.is_empty() {
            return;
        }
        self.control.retain(|(_, c)| !matches!(c, Chunk::Init(_)));
        let init = self.init_chunk();
        self.queue_control(self.dest_of(self.handshake.path), init);
        let rto = self.paths.get(self.handshake.path).rto();
        self.handshake.t1.set(now + rto);
    }

    fn send_cookie_echo(&mut self, now: Instant) {
        let Some(cookie) = self.handshake.cookie.clone() else {
            return;
        };
        self.control
            .retain(|(_, c)| !matches!(c, Chunk::CookieEcho(_)));
        let dest = self.dest_of(self.handshake.path);
        // RFC 9260 §5.1: COOKIE ECHO comes first in its packet.
        self.control
            .push_front((dest, Chunk::CookieEcho(CookieEcho { cookie })));
        let rto = self.paths.get(self.handshake.path).rto();
        self.handshake.t1.set(now + rto);
        self.handshake.cookie_sent = Some(now);
    }

    /// RFC 9260 §5.2.6: the peer found our cookie stale by `staleness_us`.
    /// Start over with a new INIT asking, with a Cookie Preservative, for the
    /// measured round trip plus the staleness (at most one second beyond the
    /// RTT, as §5.2.6 advises), up to Max.Init.Retransmits times.
    pub(crate) fn on_stale_cookie(&mut self, now: Instant, staleness_us: u32) {
        self.handshake.stale_restarts += 1;
        if self.handshake.stale_restarts > self.config.max_init_retransmits {
            self.close(AssociationChange::CantStartAssociation {
                reason: CloseReason::InitRetransmissionLimit,
            });
            return;
        }
        let rtt = self
            .handshake
            .cookie_sent
            .map_or(std::time::Duration::ZERO, |t| {
                now.saturating_duration_since(t)
            });
        let extra = std::time::Duration::from_micros(u64::from(staleness_us))
            .min(std::time::Duration::from_secs(1));
        self.handshake.preservative_ms = Some((rtt + extra).as_millis().max(1) as u32);
        self.state = State::CookieWait;
        self.peer.vtag = 0;
        self.recv = None;
        self.handshake.cookie = None;
        self.handshake.retransmits = 0;
        self.control
            .retain(|(_, c)| !matches!(c, Chunk::CookieEcho(_) | Chunk::Error(_)));
        self.send_init(now);
    }

    /// RFC 9260 §5.1: T1-init or T1-cookie expired.
    pub(crate) fn on_t1_timeout(&mut self, now: Instant) {
        self.handshake.retransmits += 1;
        if self.handshake.retransmits > self.config.max_init_retransmits {
            self.close(AssociationChange::CantStartAssociation {
                reason: CloseReason::InitRetransmissionLimit,
            });
            return;
        }
        let p = self.handshake.path;
        self.paths.get_mut(p).rtt.back_off();
        match self.state {
            State::CookieWait => {
                // Try the peer's addresses in turn (connectx behaviour).
                self.handshake.path = (p + 1) % self.paths.len().max(1);
                self.send_init(now);
            }
            State::CookieEchoed => self.send_cookie_echo(now),
            _ => {}
        }
    }

    /// RFC 9260 §5.1 step C, §5.1.2: INIT ACK received in COOKIE-WAIT.
    pub(crate) fn on_init_ack(&mut self, now: Instant, remote: IpAddr, init: Init) {
        if self.state != State::CookieWait {
            // RFC 9260 §5.2.3: an unexpected INIT ACK is discarded.
            return;
        }
        if init.initiate_tag == 0 {
            // RFC 9260 §3.3.3: an Initiate Tag of 0 is a protocol error;
            // there is no tag to send an ABORT with.
            self.close(AssociationChange::CantStartAssociation {
                reason: CloseReason::ProtocolError(ErrorCause::InvalidMandatoryParameter),
            });
            return;
        }
        if init.outbound_streams == 0 || init.inbound_streams == 0 || init.a_rwnd < 1500 {
            // RFC 9260 §3.3.3 (and erratum 7148 for a_rwnd below 1500): in
            // COOKIE-WAIT the TCB is destroyed and an ABORT sent with the
            // INIT ACK's Initiate Tag.
            self.peer.vtag = init.initiate_tag;
            let dest = self.reply_dest(remote);
            self.queue_control(
                dest,
                Chunk::Abort(msctp_wire::chunk::Abort {
                    t_bit: false,
                    causes: vec![ErrorCause::InvalidMandatoryParameter],
                }),
            );
            self.close(AssociationChange::CantStartAssociation {
                reason: CloseReason::ProtocolError(ErrorCause::InvalidMandatoryParameter),
            });
            return;
        }
        self.peer.vtag = init.initiate_tag;
        let (report, usable) = unrecognized_params(&init.params);
        let params = &init.params[..usable];
        if params
            .iter()
            .any(|p| matches!(p, Param::HostNameAddress(_)))
        {
            // RFC 9260 §5.1.2: Host Name Address is deprecated; we never
            // resolve it and abort with Unresolvable Address.
            let tlv = params
                .iter()
                .find(|p| matches!(p, Param::HostNameAddress(_)))
                .map(param_tlv)
                .unwrap_or_default();
            let cause = ErrorCause::UnresolvableAddress(tlv);
            self.queue_abort_and_close(
                Some(cause.clone()),
                AssociationChange::CantStartAssociation {
                    reason: CloseReason::ProtocolError(cause),
                },
            );
            return;
        }
        let Some(cookie) = init.state_cookie().cloned() else {
            let cause = ErrorCause::MissingMandatoryParameter(vec![ParamType::STATE_COOKIE]);
            self.queue_abort_and_close(
                Some(cause.clone()),
                AssociationChange::CantStartAssociation {
                    reason: CloseReason::ProtocolError(cause),
                },
            );
            return;
        };
        self.peer.initial_tsn = init.initial_tsn;
        self.peer.rwnd = init.a_rwnd;
        self.outbound_streams = self.config.outbound_streams.min(init.inbound_streams);
        self.inbound_streams = init.outbound_streams.min(self.config.max_inbound_streams);

        // RFC 9260 §5.1.2: the peer's addresses are the INIT ACK's source
        // and the listed ones; only these are used from now on.
        let mut peer_addrs = vec![remote];
        for a in params.iter().filter_map(Param::as_address) {
            if !peer_addrs.contains(&a)
                && self.local_addrs.iter().any(|l| l.is_ipv4() == a.is_ipv4())
            {
                peer_addrs.push(a);
            }
        }
        let init_destination = self.paths.get(self.handshake.path).remote;
        self.retain_peer_addresses(&peer_addrs, remote);
        // The primary is the address the INIT was sent to and answered on
        // (the reference text; RFC 9260 §5.1.2 lets the INIT ACK come from
        // another of the peer's addresses, which says nothing about which
        // path is best). COOKIE ECHO goes there too: it is confirmed, the
        // application named it (§5.4). Only if the peer's list leaves it
        // out does the INIT ACK's source take its place.
        let chosen = self
            .paths
            .find(init_destination)
            .or_else(|| self.paths.find(remote));
        if let Some(i) = chosen {
            self.handshake.path = i;
            self.paths.set_primary(i);
        }
        for p in self.paths.iter_mut() {
            p.cc.ssthresh = init.a_rwnd.max(1);
        }
        self.out.set_streams(self.outbound_streams);
        self.out.peer_rwnd = init.a_rwnd;
        self.recv = Some(Receiver::new(
            init.initial_tsn,
            self.inbound_streams,
            self.receive_config(),
        ));
        self.state = State::CookieEchoed;
        self.handshake.retransmits = 0;
        self.handshake.cookie = Some(cookie);
        self.send_cookie_echo(now);
        if !report.is_empty() {
            // RFC 9260 §3.2.1: reported in an ERROR bundled with the COOKIE ECHO.
            let mut b = BytesMut::new();
            for r in &report {
                b.put_slice(r);
                b.put_bytes(0, msctp_wire::padded(r.len()) - r.len());
            }
            let dest = self.dest_of(self.handshake.path);
            let pos = 1.min(self.control.len());
            self.control.insert(
                pos,
                (
                    dest,
                    Chunk::Error(OperationError {
                        causes: vec![ErrorCause::UnrecognizedParameters(b.freeze())],
                    }),
                ),
            );
        }
    }

    /// Keeps only the paths to `addrs`, adding the missing ones (unconfirmed
    /// unless it is `confirmed`).
    fn retain_peer_addresses(&mut self, addrs: &[IpAddr], confirmed: IpAddr) {
        let keep: Vec<_> = self
            .paths
            .iter()
            .filter(|p| addrs.contains(&p.remote))
            .cloned()
            .collect();
        let mut m = crate::path::PathManager::default();
        for p in keep {
            m.add(p);
        }
        self.paths = m;
        // New addresses are unconfirmed until a heartbeat confirms them
        // (§5.4), even the INIT ACK's source if the application did not
        // name it.
        for &a in addrs {
            self.add_path(a, false);
        }
        let _ = confirmed;
    }

    pub(crate) fn receive_config(&self) -> ReceiveConfig {
        ReceiveConfig {
            window: self.config.receive_window,
            max_gap_blocks: self.config.max_gap_blocks,
            max_dup_tsns: self.config.max_dup_tsns,
            max_tsns_ahead: self.config.max_tsns_ahead,
            ..ReceiveConfig::default()
        }
    }

    /// RFC 9260 §5.1 step E: COOKIE ACK received in COOKIE-ECHOED.
    pub(crate) fn on_cookie_ack(&mut self, now: Instant) {
        if self.state != State::CookieEchoed {
            return;
        }
        self.handshake.t1.stop();
        self.handshake.cookie = None;
        self.state = State::Established;
        self.push_event(Event::Association(AssociationChange::CommUp {
            outbound_streams: self.outbound_streams,
            inbound_streams: self.inbound_streams,
        }));
        self.start_heartbeats(now);
    }

    /// Builds the responder's association from a valid cookie (RFC 9260
    /// §5.1 step D): ESTABLISHED at once, COOKIE ACK queued to the COOKIE
    /// ECHO's source. The INIT's source is the only confirmed peer address
    /// (§5.4); the others are probed before data goes there.
    pub(crate) fn accept(
        config: Arc<Config>,
        now: Instant,
        c: &CookieContents,
        local_addrs: Vec<IpAddr>,
        remote: IpAddr,
        rng: Rng,
        sources: Arc<dyn crate::path::SourceSelector>,
    ) -> Self {
        let peer = Peer {
            vtag: c.peer_vtag,
            port: c.peer_port,
            initial_tsn: Tsn(c.peer_initial_tsn),
            rwnd: c.peer_a_rwnd,
        };
        let mut a = Association::base(
            config,
            now,
            c.local_port,
            local_addrs,
            c.local_vtag,
            Tsn(c.local_initial_tsn),
            peer,
            rng,
            sources,
        );
        a.install_peer(c);
        a.queue_control(a.confirmed_reply_dest(remote), Chunk::CookieAck);
        a.state = State::Established;
        a.push_event(Event::Association(AssociationChange::CommUp {
            outbound_streams: a.outbound_streams,
            inbound_streams: a.inbound_streams,
        }));
        a.start_heartbeats(now);
        a
    }

    /// Installs the peer's parameters from a cookie.
    fn install_peer(&mut self, c: &CookieContents) {
        self.outbound_streams = c.outbound_streams;
        self.inbound_streams = c.inbound_streams;
        self.paths = crate::path::PathManager::default();
        self.add_path(c.init_source, true);
        for &addr in &c.peer_addresses {
            self.add_path(addr, addr == c.init_source);
        }
        self.paths.set_primary(0);
        self.out.set_streams(c.outbound_streams);
        self.out.peer_rwnd = c.peer_a_rwnd;
        self.recv = Some(Receiver::new(
            Tsn(c.peer_initial_tsn),
            c.inbound_streams,
            self.receive_config(),
        ));
    }

    /// RFC 9260 §5.2.4: a valid COOKIE ECHO arrived for this existing
    /// association. Returns false if it was discarded.
    pub(crate) fn on_cookie_echo(
        &mut self,
        now: Instant,
        remote: IpAddr,
        c: &CookieContents,
    ) -> bool {
        let local_match = c.local_vtag == self.local_vtag;
        let peer_match = c.peer_vtag == self.peer.vtag;
        if !local_match
            && !peer_match
            && c.local_tie_tag == self.local_vtag
            && c.peer_tie_tag == self.peer.vtag
        {
            // Case A: the peer restarted.
            if self.state == State::ShutdownAckSent {
                self.queue_control(
                    self.reply_dest(remote),
                    Chunk::Error(OperationError {
                        causes: vec![ErrorCause::CookieReceivedWhileShuttingDown],
                    }),
                );
                self.queue_control(self.reply_dest(remote), Chunk::ShutdownAck);
                return true;
            }
            for (stream, ppid, data, sent) in self.out.drain_unacked() {
                self.push_event(Event::SendFailed {
                    stream,
                    ppid,
                    data,
                    sent,
                });
            }
            self.local_vtag = c.local_vtag;
            self.local_initial_tsn = Tsn(c.local_initial_tsn);
            self.peer = Peer {
                vtag: c.peer_vtag,
                port: c.peer_port,
                initial_tsn: Tsn(c.peer_initial_tsn),
                rwnd: c.peer_a_rwnd,
            };
            self.out = super::outbound::Outbound::new(self.local_initial_tsn, &self.config);
            // A fresh TCB: no timer or path index of the old one survives
            // (a restart during shutdown left T2 pointing at a path that no
            // longer existed).
            self.reset_timers();
            self.install_peer(c);
            self.error_count = 0;
            self.control.clear();
            let shutting_down = matches!(self.state, State::ShutdownPending | State::ShutdownSent);
            self.state = State::Established;
            self.queue_control(self.confirmed_reply_dest(remote), Chunk::CookieAck);
            self.push_event(Event::Association(AssociationChange::Restart));
            self.start_heartbeats(now);
            if shutting_down {
                // The application asked to shut down before the peer
                // restarted: carry that on with the new TCB.
                self.shutdown(now);
            }
            return true;
        }
        if local_match && !peer_match {
            // Case B: INIT collision; adopt the peer's new parameters.
            self.peer = Peer {
                vtag: c.peer_vtag,
                port: c.peer_port,
                initial_tsn: Tsn(c.peer_initial_tsn),
                rwnd: c.peer_a_rwnd,
            };
            self.outbound_streams = c.outbound_streams;
            self.inbound_streams = c.inbound_streams;
            self.out.set_streams(c.outbound_streams);
            self.out.peer_rwnd = c.peer_a_rwnd;
            self.recv = Some(Receiver::new(
                Tsn(c.peer_initial_tsn),
                c.inbound_streams,
                self.receive_config(),
            ));
            for &addr in &c.peer_addresses {
                self.add_path(addr, false);
            }
            self.finish_via_cookie(now, remote);
            return true;
        }
        if !local_match && peer_match && c.local_tie_tag == 0 && c.peer_tie_tag == 0 {
            // Case C: the peer's INIT crossed ours; discard.
            return false;
        }
        if local_match && peer_match {
            // Case D: both tags match: a duplicate or our own handshake.
            self.finish_via_cookie(now, remote);
            return true;
        }
        false
    }

    fn finish_via_cookie(&mut self, now: Instant, remote: IpAddr) {
        let was_established = self.is_established();
        self.handshake.t1.stop();
        self.handshake.cookie = None;
        self.control
            .retain(|(_, c)| !matches!(c, Chunk::Init(_) | Chunk::CookieEcho(_)));
        if !was_established {
            self.state = State::Established;
            self.push_event(Event::Association(AssociationChange::CommUp {
                outbound_streams: self.outbound_streams,
                inbound_streams: self.inbound_streams,
            }));
            self.start_heartbeats(now);
        }
        self.queue_control(self.confirmed_reply_dest(remote), Chunk::CookieAck);
    }

    /// The addresses of an unexpected INIT from `source` listing `listed`
    /// that this association does not have (RFC 9260 §5.2.2). In
    /// COOKIE-WAIT and COOKIE-ECHOED (§5.2.1, an INIT collision) there is
    /// no address list to compare with yet: none.
    pub(crate) fn new_peer_addresses(&self, source: IpAddr, listed: &[IpAddr]) -> Vec<IpAddr> {
        if matches!(self.state, State::CookieWait | State::CookieEchoed) {
            return Vec::new();
        }
        let mut new = Vec::new();
        for &a in std::iter::once(&source).chain(listed) {
            // Addresses of a family we have no address of were never
            // paths (§5.1.2); they are not new either.
            let usable = self.local_addrs.iter().any(|l| l.is_ipv4() == a.is_ipv4());
            if usable && self.paths.find(a).is_none() && !new.contains(&a) {
                new.push(a);
            }
        }
        new
    }

    /// The values an INIT ACK must carry when an INIT arrives for this
    /// existing association (RFC 9260 §5.2.1, §5.2.2): (initiate tag,
    /// initial TSN, local tie-tag, peer tie-tag).
    pub(crate) fn init_ack_values(&mut self) -> (u32, Tsn, u32, u32) {
        match self.state {
            // §5.2.1: the same parameters as our own INIT.
            State::CookieWait | State::CookieEchoed => {
                (self.local_vtag, self.local_initial_tsn, 0, 0)
            }
            // §5.2.2: a new tag, and the current tags as tie-tags.
            _ => (
                self.rng.nonzero_u32(),
                Tsn(self.rng.next_u32()),
                self.local_vtag,
                self.peer.vtag,
            ),
        }
    }
}

fn param_tlv(p: &Param) -> Bytes {
    let mut b = BytesMut::new();
    p.emit(&mut b);
    b.truncate(p.len());
    b.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// RFC 9260 §5.1.2: addresses are announced only within their scope:
    /// loopback only to a loopback peer, link-local only to a link-local (or
    /// loopback) peer; the unspecified address never.
    #[test]
    fn scoped_announcement() {
        assert!(announceable(ip("192.0.2.1"), ip("198.51.100.2")));
        assert!(!announceable(ip("127.0.0.1"), ip("192.0.2.2")));
        assert!(announceable(ip("127.0.0.2"), ip("127.0.0.1")));
        assert!(!announceable(ip("169.254.1.1"), ip("192.0.2.2")));
        assert!(announceable(ip("169.254.1.1"), ip("169.254.9.9")));
        assert!(!announceable(ip("fe80::1"), ip("2001:db8::2")));
        assert!(announceable(ip("fe80::1"), ip("fe80::2")));
        assert!(!announceable(ip("::1"), ip("2001:db8::2")));
        assert!(!announceable(ip("0.0.0.0"), ip("192.0.2.2")));
    }

    /// RFC 9260 §5.1.2: the INIT lists every suitable local address except
    /// the packet's source, then Supported Address Types for our families.
    #[test]
    fn init_address_parameters() {
        let locals = [
            ip("192.0.2.1"),
            ip("198.51.100.1"),
            ip("2001:db8:2::1"),
            ip("127.0.0.1"),
        ];
        let params = address_params(&locals, ip("192.0.2.1"), ip("192.0.2.2"));
        assert_eq!(
            params,
            vec![
                Param::address(ip("198.51.100.1")),
                Param::address(ip("2001:db8:2::1")),
                Param::SupportedAddressTypes(vec![5, 6]),
            ]
        );
        let v4only = address_params(&locals[..2], ip("192.0.2.1"), ip("192.0.2.2"));
        assert_eq!(v4only.last(), Some(&Param::SupportedAddressTypes(vec![5])));
    }

    /// RFC 9260 §3.2.1: unrecognised parameters are reported (as their TLV)
    /// when the type asks for it, and processing stops at a "stop" type.
    #[test]
    fn unrecognized_parameter_actions() {
        let unknown = |ty: u16| Param::Unknown {
            ty: msctp_wire::ParamType(ty),
            value: Bytes::from_static(b"xy"),
        };
        let params = vec![
            Param::EcnCapable,
            unknown(0xbfff),
            unknown(0xffff),
            unknown(0x7fff),
            Param::ForwardTsnSupported,
        ];
        let (report, usable) = unrecognized_params(&params);
        assert_eq!(usable, 3, "stops at the 01 type");
        assert_eq!(report.len(), 2, "the 11 and 01 types are reported");
        assert_eq!(&report[0][..], &[0xff, 0xff, 0x00, 0x06, b'x', b'y']);
    }
}
