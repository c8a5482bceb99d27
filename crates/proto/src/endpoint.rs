//! The endpoint: one SCTP port on a set of local addresses, owning its
//! associations.
//!
//! It routes each received packet to its association by peer address and
//! port (RFC 9260 §8.5 then checks the verification tag), answers INIT
//! statelessly with an INIT ACK carrying a signed State Cookie (§5.1.3; no
//! state is allocated until a valid COOKIE ECHO arrives), builds associations
//! from valid cookies (§5.1.5) or hands them to an existing association
//! (§5.2.4), and answers out-of-the-blue packets as §8.4 says.
//!
//! # Drive contract
//!
//! Like [`Association`]: feed [`Endpoint::handle`] and
//! [`Endpoint::handle_timeout`], then drain [`Endpoint::poll_transmit`],
//! re-read [`Endpoint::poll_timeout`], drain [`Endpoint::poll_event`] and
//! [`Endpoint::accept`]. Application calls go through
//! [`Endpoint::association_mut`].

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use msctp_wire::chunk::{Abort, Init, OperationError, RawChunks, ShutdownComplete};
use msctp_wire::{Chunk, ChunkType, CommonHeader, ErrorCause, Packet, Param, crc32c};

use crate::association::handshake::{address_params, unrecognized_params};
use crate::association::{Association, Transmit};
use crate::config::Config;
use crate::cookie::{self, CookieContents, CookieError, CookieKeys};
use crate::demux::Demux;
use crate::event::Event;
use crate::path::{LongestPrefix, SourceSelector, select_source};
use crate::rng::Rng;
use crate::timer::earliest;

/// Identifies an association of an endpoint. Never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssociationHandle(pub u64);

/// Why `connect` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// No peer address was given.
    #[error("no peer address given")]
    NoPeerAddress,
    /// An association with that peer already exists.
    #[error("an association with {0} already exists")]
    AlreadyConnected(IpAddr),
    /// The endpoint holds `max_associations` already.
    #[error("too many associations")]
    TooManyAssociations,
    /// No local address of the family of the peer address.
    #[error("no local address can reach {0}")]
    NoLocalAddress(IpAddr),
}

/// Counters of what the endpoint discarded or answered statelessly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Packets received.
    pub packets: u64,
    /// Dropped: checksum did not verify (RFC 9260 §6.8).
    pub bad_checksum: u64,
    /// Dropped: unparseable header or first chunk.
    pub malformed: u64,
    /// Dropped: addressed to another port.
    pub wrong_port: u64,
    /// Out-of-the-blue packets (RFC 9260 §8.4).
    pub out_of_the_blue: u64,
    /// INIT ACKs sent.
    pub init_acks_sent: u64,
    /// COOKIE ECHOs whose cookie did not verify.
    pub bad_cookies: u64,
    /// Stale cookies answered with a Stale Cookie error.
    pub stale_cookies: u64,
    /// Stateless answers not queued because `max_control_chunks` of them
    /// were waiting already.
    pub responses_dropped: u64,
    /// ICMP errors that matched an association and were acted on.
    pub icmp_accepted: u64,
    /// ICMP errors ignored: no matching association, or the quoted ports or
    /// verification tag did not match (RFC 9260 Appendix C ICMP5, ICMP6).
    pub icmp_ignored: u64,
}

/// An SCTP endpoint.
#[derive(Debug)]
pub struct Endpoint {
    config: Arc<Config>,
    local_addrs: Vec<IpAddr>,
    port: u16,
    listening: bool,
    rng: Rng,
    keys: CookieKeys,
    assocs: BTreeMap<u64, Association>,
    next_id: u64,
    demux: Demux,
    accept_queue: VecDeque<AssociationHandle>,
    responses: VecDeque<Transmit>,
    stats: EndpointStats,
    /// Chooses the source address toward each peer address.
    sources: Arc<dyn SourceSelector>,
}

impl Endpoint {
    /// An endpoint on `port` with `local_addrs`. It does not accept
    /// associations until [`Endpoint::listen`].
    ///
    /// The addresses must be concrete: a runtime that binds to the wildcard
    /// address passes the suitable addresses of its interfaces instead, and
    /// the endpoint announces them to each peer within their scope
    /// (loopback and link-local only to peers in the same scope, RFC 9260
    /// §5.1.2).
    pub fn new(config: Config, local_addrs: Vec<IpAddr>, port: u16, now: Instant) -> Self {
        let keys = CookieKeys::new(config.cookie_secret, now);
        let rng = Rng::for_config(&config);
        Endpoint {
            config: Arc::new(config),
            local_addrs,
            port,
            listening: false,
            rng,
            keys,
            assocs: BTreeMap::new(),
            next_id: 1,
            demux: Demux::default(),
            accept_queue: VecDeque::new(),
            responses: VecDeque::new(),
            stats: EndpointStats::default(),
            sources: Arc::new(LongestPrefix),
        }
    }

    /// Replaces how source addresses are chosen (the default is
    /// [`LongestPrefix`]); the runtime supplies one that asks the host's
    /// routing table, the simulator one that reads its topology. Existing
    /// associations re-select the sources of their paths.
    pub fn set_source_selector(&mut self, selector: Arc<dyn SourceSelector>) {
        self.sources = selector;
        for a in self.assocs.values_mut() {
            a.sources = self.sources.clone();
        }
        self.refresh_sources();
    }

    /// Re-selects the source address of every path of every association:
    /// call it when the host's addresses, links or routes changed.
    pub fn refresh_sources(&mut self) {
        for a in self.assocs.values_mut() {
            a.refresh_sources();
        }
    }

    /// The source address this endpoint uses toward `remote`.
    pub fn source_for(&self, remote: IpAddr) -> IpAddr {
        select_source(&*self.sources, &self.local_addrs, remote)
    }

    /// Accept (or stop accepting) incoming associations.
    pub fn listen(&mut self, on: bool) {
        self.listening = on;
    }

    /// The local port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The local addresses.
    pub fn local_addrs(&self) -> &[IpAddr] {
        &self.local_addrs
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the endpoint dropped or answered by itself.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// Replaces the cookie secret; cookies signed with the previous one stay
    /// valid for their lifetime (RFC 9260 §5.1.3 suggests changing it).
    pub fn rotate_cookie_secret(&mut self, secret: [u8; 32]) {
        self.keys.rotate(secret);
    }

    /// Starts an association to `peer_addrs` (tried in turn for INIT) on
    /// `peer_port`.
    pub fn connect(
        &mut self,
        now: Instant,
        peer_addrs: &[IpAddr],
        peer_port: u16,
    ) -> Result<AssociationHandle, ConnectError> {
        let first = *peer_addrs.first().ok_or(ConnectError::NoPeerAddress)?;
        for a in peer_addrs {
            if self.demux.by_peer(*a, peer_port).is_some() {
                return Err(ConnectError::AlreadyConnected(*a));
            }
        }
        if !self
            .local_addrs
            .iter()
            .any(|l| l.is_ipv4() == first.is_ipv4())
        {
            return Err(ConnectError::NoLocalAddress(first));
        }
        if self.assocs.len() >= self.config.max_associations {
            return Err(ConnectError::TooManyAssociations);
        }
        let rng = self.rng.fork();
        let a = Association::connect(
            self.config.clone(),
            now,
            self.port,
            self.local_addrs.clone(),
            peer_addrs,
            peer_port,
            rng,
            self.sources.clone(),
        );
        Ok(self.insert(a))
    }

    fn insert(&mut self, a: Association) -> AssociationHandle {
        let id = self.next_id;
        self.next_id += 1;
        self.assocs.insert(id, a);
        self.sync_routes(id);
        AssociationHandle(id)
    }

    /// Brings the routing entries of association `id` up to date (a closed
    /// association leaves the tables at once).
    fn sync_routes(&mut self, id: u64) {
        self.demux.sync(id, self.assocs.get(&id));
    }

    /// The live association routed for `id`, dropping the routes of one
    /// that has closed.
    fn live(&mut self, id: Option<u64>) -> Option<u64> {
        let id = id?;
        if self.assocs.get(&id).is_some_and(|a| !a.is_closed()) {
            Some(id)
        } else {
            self.demux.remove(id);
            None
        }
    }

    /// The association `h`, if it still exists.
    pub fn association(&self, h: AssociationHandle) -> Option<&Association> {
        self.assocs.get(&h.0)
    }

    /// The association `h`, for application calls.
    pub fn association_mut(&mut self, h: AssociationHandle) -> Option<&mut Association> {
        self.assocs.get_mut(&h.0)
    }

    /// All associations.
    pub fn associations(&self) -> impl Iterator<Item = (AssociationHandle, &Association)> {
        self.assocs.iter().map(|(k, v)| (AssociationHandle(*k), v))
    }

    /// The next association accepted from a peer's INIT.
    pub fn accept(&mut self) -> Option<AssociationHandle> {
        self.accept_queue.pop_front()
    }

    /// Processes a received SCTP packet sent from `remote` to `local`.
    ///
    /// Returns the association that accepted the packet (its checksum and
    /// verification tag were right, or it was a valid COOKIE ECHO), if one
    /// did: only then may the driver learn anything from the datagram, such
    /// as the peer's UDP port (RFC 6951 §5.4). Stateless answers (INIT ACK,
    /// out-of-the-blue replies) are queued for [`Endpoint::poll_response`].
    pub fn handle(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        packet: Bytes,
    ) -> Option<AssociationHandle> {
        self.stats.packets += 1;
        // RFC 9260 §6.8: verify the checksum first.
        if !crc32c::verify(&packet) {
            self.stats.bad_checksum += 1;
            return None;
        }
        let Ok(header) = CommonHeader::parse(&packet) else {
            self.stats.malformed += 1;
            return None;
        };
        if header.dst_port != self.port {
            self.stats.wrong_port += 1;
            return None;
        }
        // RFC 9260 §8.4 rule 1: non-unicast sources are ignored.
        if remote.is_multicast() || remote.is_unspecified() || is_broadcast(remote) {
            self.stats.out_of_the_blue += 1;
            return None;
        }
        let Some(Ok(first)) = RawChunks::new(packet.clone()).next() else {
            self.stats.malformed += 1;
            return None;
        };
        let mut id = self.demux.by_peer(remote, header.src_port);
        id = self.live(id);
        if id.is_none() && first.ty == ChunkType::INIT_ACK {
            // RFC 9260 §5.1.2 C: the INIT ACK may come from any address of
            // the peer; it is ours if it carries our Initiate Tag from a
            // peer we are initiating with.
            let by_tag = self.demux.by_tag(header.verification_tag);
            id = self.live(by_tag).filter(|i| {
                self.assocs.get(i).is_some_and(|a| {
                    a.state() == crate::State::CookieWait && a.peer_port() == header.src_port
                })
            });
        }
        match first.ty {
            ChunkType::INIT => {
                self.on_init(now, local, remote, &header, &packet, id);
                None
            }
            ChunkType::COOKIE_ECHO => {
                let Ok(Chunk::CookieEcho(ce)) = Chunk::parse(&first) else {
                    self.stats.malformed += 1;
                    return None;
                };
                self.on_cookie_echo(now, local, remote, &header, &packet, &ce.cookie, id)
                    .map(AssociationHandle)
            }
            _ => match id {
                Some(id) => {
                    let accepted = self
                        .assocs
                        .get_mut(&id)
                        .is_some_and(|a| a.handle_packet(now, local, remote, packet));
                    self.sync_routes(id);
                    accepted.then_some(AssociationHandle(id))
                }
                None => {
                    self.out_of_the_blue(remote, &header, &packet);
                    None
                }
            },
        }
    }

    /// Queues a stateless answer from `local`: the routed source toward
    /// `remote` (see [`SourceSelector`]), except ABORTs answering an INIT,
    /// which leave from the INIT's destination, the one address of ours
    /// the peer's TCB in COOKIE-WAIT knows.
    fn respond(
        &mut self,
        local: IpAddr,
        remote: IpAddr,
        header: &CommonHeader,
        vtag: u32,
        chunk: Chunk,
    ) {
        let packet = Packet {
            header: CommonHeader {
                src_port: self.port,
                dst_port: header.src_port,
                verification_tag: vtag,
            },
            chunks: vec![chunk],
        };
        if self.responses.len() >= self.config.max_control_chunks {
            // Bounded: a flood of INITs or out-of-the-blue packets that the
            // driver does not drain costs no more than this; the rest go
            // unanswered (every one of them may be retransmitted).
            self.stats.responses_dropped += 1;
            return;
        }
        self.responses.push_back(Transmit {
            source: local,
            destination: remote,
            payload: Bytes::from(packet.emit()),
        });
    }

    /// RFC 9260 §8.4: a packet that belongs to no association.
    fn out_of_the_blue(&mut self, remote: IpAddr, header: &CommonHeader, packet: &Bytes) {
        self.stats.out_of_the_blue += 1;
        let mut types = Vec::new();
        for raw in RawChunks::new(packet.clone()) {
            match raw {
                Ok(r) => types.push(r.ty),
                Err(_) => break,
            }
        }
        // Rule 2: ABORT → discard. Rule 6: SHUTDOWN COMPLETE → discard.
        // Rule 7: COOKIE ACK or a Stale Cookie ERROR → discard.
        if types.iter().any(|t| {
            matches!(
                *t,
                ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE | ChunkType::COOKIE_ACK
            )
        }) {
            return;
        }
        if types.contains(&ChunkType::ERROR) {
            return;
        }
        if types.contains(&ChunkType::SHUTDOWN_ACK) {
            // Rule 5: SHUTDOWN COMPLETE with the T bit, reflecting the tag.
            self.respond(
                self.source_for(remote),
                remote,
                header,
                header.verification_tag,
                Chunk::ShutdownComplete(ShutdownComplete { t_bit: true }),
            );
            return;
        }
        // Rule 8: ABORT with the T bit, reflecting the tag.
        self.respond(
            self.source_for(remote),
            remote,
            header,
            header.verification_tag,
            Chunk::Abort(Abort {
                t_bit: true,
                causes: vec![],
            }),
        );
    }

    /// RFC 9260 §5.1: answer an INIT with an INIT ACK carrying a cookie, or
    /// with an ABORT when it cannot be accepted.
    fn on_init(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        header: &CommonHeader,
        packet: &Bytes,
        existing: Option<u64>,
    ) {
        let Ok(Packet { chunks, .. }) = Packet::parse_unverified(packet.clone()) else {
            self.stats.malformed += 1;
            return;
        };
        // RFC 9260 §6.10: INIT is never bundled; §8.5.1 A: its tag is 0.
        let [Chunk::Init(init)] = chunks.as_slice() else {
            self.stats.malformed += 1;
            return;
        };
        if header.verification_tag != 0 || init.initiate_tag == 0 {
            // RFC 9260 §3.3.2: an Initiate Tag of 0 means discard.
            self.stats.malformed += 1;
            return;
        }
        let abort = |cause: ErrorCause| {
            Chunk::Abort(Abort {
                t_bit: false,
                causes: vec![cause],
            })
        };
        if init.outbound_streams == 0 || init.inbound_streams == 0 || init.a_rwnd < 1500 {
            // RFC 9260 §3.3.2: zero streams, or an a_rwnd below 1500, is an
            // invalid mandatory parameter: the INIT is discarded (no state
            // of any existing association changes) and answered with an
            // ABORT carrying its Initiate Tag.
            let c = abort(ErrorCause::InvalidMandatoryParameter);
            self.respond(local, remote, header, init.initiate_tag, c);
            return;
        }
        // The peer may restart from an address we have not seen it use: it
        // is the same peer if any address it lists is one of an
        // association's (RFC 9260 §5.2.2), not a second association.
        let listed: Vec<IpAddr> = init.params.iter().filter_map(Param::as_address).collect();
        let existing = existing.or_else(|| {
            let found = self
                .demux
                .by_any_peer(listed.iter().copied(), header.src_port);
            self.live(found)
        });
        if let Some(a) = existing.and_then(|id| self.assocs.get(&id)) {
            let new_addrs = a.new_peer_addresses(remote, &listed);
            if !new_addrs.is_empty() {
                // RFC 9260 §5.2.2: an unexpected INIT that adds addresses
                // is answered with an ABORT (Restart of an Association with
                // New Addresses, listing them) carrying its Initiate Tag.
                let mut list = bytes::BytesMut::new();
                for addr in new_addrs {
                    Param::address(addr).emit(&mut list);
                }
                let c = abort(ErrorCause::RestartWithNewAddresses(list.freeze()));
                self.respond(local, remote, header, init.initiate_tag, c);
                return;
            }
        }
        if let Some(a) = existing.and_then(|id| self.assocs.get_mut(&id)) {
            if a.state() == crate::State::ShutdownAckSent {
                // RFC 9260 §9.2: in SHUTDOWN-ACK-SENT an INIT from the peer
                // is discarded and the SHUTDOWN ACK retransmitted.
                a.resend_shutdown_ack(now);
                return;
            }
        }
        if existing.is_none() && !self.listening {
            // RFC 9260 §8.4 rule 3 / §5.1: nobody accepts associations here.
            let c = abort(ErrorCause::OutOfResource);
            self.respond(local, remote, header, init.initiate_tag, c);
            return;
        }
        let (report, usable) = unrecognized_params(&init.params);
        let params = &init.params[..usable];
        if let Some(p) = params
            .iter()
            .find(|p| matches!(p, Param::HostNameAddress(_)))
        {
            // RFC 9260 §5.1.2 B: Host Name Address is deprecated; msctp never
            // resolves names and aborts with Unresolvable Address.
            let c = abort(ErrorCause::UnresolvableAddress(tlv(p)));
            self.respond(local, remote, header, init.initiate_tag, c);
            return;
        }
        let types = params.iter().find_map(|p| match p {
            Param::SupportedAddressTypes(t) => Some(t.clone()),
            _ => None,
        });
        let (v4, v6) = match &types {
            Some(t) => (t.contains(&5), t.contains(&6)),
            None => (remote.is_ipv4(), remote.is_ipv6()),
        };
        let usable_locals: Vec<IpAddr> = self
            .local_addrs
            .iter()
            .copied()
            .filter(|a| (a.is_ipv4() && v4) || (a.is_ipv6() && v6))
            .collect();
        if usable_locals.is_empty() && types.is_some() {
            // RFC 9260 §5.1.2: the peer's Supported Address Types cannot be
            // satisfied.
            let c = abort(ErrorCause::UnresolvableAddress(
                params
                    .iter()
                    .find(|p| matches!(p, Param::SupportedAddressTypes(_)))
                    .map(tlv)
                    .unwrap_or_default(),
            ));
            self.respond(local, remote, header, init.initiate_tag, c);
            return;
        }
        let mut locals = usable_locals;
        if !locals.contains(&local) {
            locals.insert(0, local);
        }
        locals.truncate(cookie::MAX_COOKIE_ADDRESSES);
        let mut peer_addrs: Vec<IpAddr> = params.iter().filter_map(Param::as_address).collect();
        peer_addrs.retain(|a| *a != remote);
        peer_addrs.truncate(cookie::MAX_COOKIE_ADDRESSES.min(self.config.max_peer_addresses));
        let (local_vtag, local_tsn, local_tie, peer_tie) =
            match existing.and_then(|id| self.assocs.get_mut(&id)) {
                Some(a) => a.init_ack_values(),
                None => (
                    self.rng.nonzero_u32(),
                    msctp_wire::Tsn(self.rng.next_u32()),
                    0,
                    0,
                ),
            };
        let preservative = params.iter().find_map(|p| match p {
            Param::CookiePreservative(ms) => Some(*ms),
            _ => None,
        });
        let outbound_streams = self.config.outbound_streams.min(init.inbound_streams);
        let inbound_streams = init.outbound_streams.min(self.config.max_inbound_streams);
        let contents = CookieContents {
            created_us: self.keys.timestamp(now),
            lifespan: cookie::lifespan_with_preservative(
                self.config.valid_cookie_life,
                preservative,
                self.config.max_cookie_preservative,
            ),
            local_port: self.port,
            peer_port: header.src_port,
            local_vtag,
            peer_vtag: init.initiate_tag,
            local_initial_tsn: local_tsn.0,
            peer_initial_tsn: init.initial_tsn.0,
            peer_a_rwnd: init.a_rwnd,
            outbound_streams,
            inbound_streams,
            local_tie_tag: local_tie,
            peer_tie_tag: peer_tie,
            init_source: remote,
            init_destination: local,
            peer_addresses: peer_addrs,
            local_addresses: locals.clone(),
            peer_features: 0,
            peer_supported_address_types: u8::from(v4) | (u8::from(v6) << 1),
        };
        let Ok(sealed) = self.keys.seal(&contents) else {
            return;
        };
        let mut ack_params = vec![Param::StateCookie(sealed)];
        // The INIT ACK leaves from the routed source toward the INIT's
        // sender (a peer may send its INIT over link 1 from its link-2
        // address; answering from the INIT's destination would put a
        // link-1 source on link 2). RFC 9260 §5.1.2 C lets its source be
        // any of our addresses; the peer finds it by its tag, and the
        // INIT's destination is listed with our other addresses.
        let source = Some(self.source_for(remote))
            .filter(|s| locals.contains(s))
            .unwrap_or(local);
        // Supported Address Types is INIT-only.
        ack_params.extend(
            address_params(&locals, source, remote)
                .into_iter()
                .filter(|p| p.as_address().is_some()),
        );
        // RFC 9260 §3.2.1: report unrecognized parameters in the INIT ACK.
        ack_params.extend(report.into_iter().map(Param::UnrecognizedParameter));
        let ack = Chunk::InitAck(Init {
            initiate_tag: local_vtag,
            a_rwnd: self.config.receive_window,
            outbound_streams: self.config.outbound_streams,
            inbound_streams: self.config.max_inbound_streams,
            initial_tsn: local_tsn,
            params: ack_params,
        });
        self.stats.init_acks_sent += 1;
        self.respond(source, remote, header, init.initiate_tag, ack);
    }

    /// RFC 9260 §5.1.5, §5.2.4: a COOKIE ECHO.
    #[allow(clippy::too_many_arguments)]
    fn on_cookie_echo(
        &mut self,
        now: Instant,
        local: IpAddr,
        remote: IpAddr,
        header: &CommonHeader,
        packet: &Bytes,
        cookie: &[u8],
        existing: Option<u64>,
    ) -> Option<u64> {
        let contents = match self.keys.open(cookie, now) {
            Ok(c) => c,
            Err(CookieError::Stale {
                staleness_us,
                contents,
            }) => {
                if contents.matches_header(
                    header.src_port,
                    header.dst_port,
                    header.verification_tag,
                ) {
                    // RFC 9260 §5.1.5 step 4, §5.2.6: report a Stale Cookie.
                    self.stats.stale_cookies += 1;
                    self.respond(
                        self.source_for(remote),
                        remote,
                        header,
                        contents.peer_vtag,
                        Chunk::Error(OperationError {
                            causes: vec![ErrorCause::StaleCookie(staleness_us)],
                        }),
                    );
                }
                return None;
            }
            Err(_) => {
                // RFC 9260 §5.1.5 step 2: a cookie that does not verify is
                // discarded silently.
                self.stats.bad_cookies += 1;
                return None;
            }
        };
        // RFC 9260 §5.1.5 step 3.
        if !contents.matches_header(header.src_port, header.dst_port, header.verification_tag) {
            self.stats.bad_cookies += 1;
            return None;
        }
        // A COOKIE ECHO from an address we have not seen the peer use
        // belongs to the association holding the addresses of its cookie.
        let existing = existing.or_else(|| {
            let addrs = std::iter::once(contents.init_source)
                .chain(contents.peer_addresses.iter().copied());
            let found = self.demux.by_any_peer(addrs, header.src_port);
            self.live(found)
        });
        let id = match existing {
            Some(id) => {
                let a = self.assocs.get_mut(&id)?;
                if !a.on_cookie_echo(now, remote, &contents) {
                    return None;
                }
                id
            }
            None => {
                if self.assocs.len() >= self.config.max_associations || !self.listening {
                    self.respond(
                        self.source_for(remote),
                        remote,
                        header,
                        contents.peer_vtag,
                        Chunk::Abort(Abort {
                            t_bit: false,
                            causes: vec![ErrorCause::OutOfResource],
                        }),
                    );
                    return None;
                }
                let rng = self.rng.fork();
                let a = Association::accept(
                    self.config.clone(),
                    now,
                    &contents,
                    self.local_addrs.clone(),
                    remote,
                    rng,
                    self.sources.clone(),
                );
                let h = self.insert(a);
                self.accept_queue.push_back(h);
                h.0
            }
        };
        // The chunks bundled after the COOKIE ECHO (DATA, typically).
        if let Some(a) = self.assocs.get_mut(&id) {
            a.handle_packet_after_first(now, local, remote, packet.clone());
        }
        self.sync_routes(id);
        Some(id)
    }

    /// An ICMP error about a packet we sent (RFC 9260 Appendix C). It is
    /// acted on only if the quoted packet belongs to one of our
    /// associations: our port, the peer's port, and the peer's verification
    /// tag (or, for a quoted INIT, our Initiate Tag).
    pub fn handle_icmp(&mut self, now: Instant, report: crate::icmp::IcmpReport) {
        let Some((src_port, dst_port, vtag, first)) = report.header() else {
            self.stats.icmp_ignored += 1;
            return;
        };
        let id = (src_port == self.port)
            .then(|| self.demux.by_peer(report.quoted_dst, dst_port))
            .flatten();
        let Some(a) = id.and_then(|id| self.assocs.get_mut(&id)) else {
            self.stats.icmp_ignored += 1;
            return;
        };
        // Appendix C ICMP6: the tag must be the peer's; a quoted INIT has
        // tag 0 and is matched by its Initiate Tag instead.
        let valid = if vtag == 0 && first == Some(ChunkType::INIT.0) {
            report.init_tag() == Some(a.local_vtag())
        } else {
            vtag == a.peer_vtag() && vtag != 0
        };
        if !valid {
            self.stats.icmp_ignored += 1;
            return;
        }
        self.stats.icmp_accepted += 1;
        a.on_icmp(now, report.quoted_dst, report.kind);
    }

    /// The next stateless answer (INIT ACK, a reply to an out-of-the-blue
    /// packet) to the packet last given to [`Endpoint::handle`]. A driver
    /// that must answer on the datagram's own transport port (UDP
    /// encapsulation, RFC 6951 §5.4) drains these right after `handle`;
    /// [`Endpoint::poll_transmit`] returns them too.
    #[must_use]
    pub fn poll_response(&mut self) -> Option<Transmit> {
        self.responses.pop_front()
    }

    /// The next packet to send.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(t) = self.responses.pop_front() {
            return Some(t);
        }
        for a in self.assocs.values_mut() {
            if let Some(t) = a.poll_transmit(now) {
                return Some(t);
            }
        }
        None
    }

    /// The earliest instant [`Endpoint::handle_timeout`] must be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.assocs.values().map(Association::poll_timeout))
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let ids: Vec<u64> = self.assocs.keys().copied().collect();
        for id in ids {
            if let Some(a) = self.assocs.get_mut(&id) {
                if a.poll_timeout().is_some_and(|t| t <= now) {
                    a.handle_timeout(now);
                    if a.is_closed() {
                        self.demux.remove(id);
                    }
                }
            }
        }
    }

    /// The next event of any association.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<(AssociationHandle, Event)> {
        let mut found = None;
        for (id, a) in self.assocs.iter_mut() {
            if let Some(e) = a.poll_event() {
                found = Some((AssociationHandle(*id), e));
                break;
            }
        }
        if found.is_none() {
            self.reap();
        }
        found
    }

    /// Drops closed associations that have nothing left to send or report.
    fn reap(&mut self) {
        let dead: Vec<u64> = self
            .assocs
            .iter()
            .filter(|(_, a)| a.is_closed() && a.is_drained())
            .map(|(id, _)| *id)
            .collect();
        for id in dead {
            self.assocs.remove(&id);
            self.demux.remove(id);
        }
    }
}

fn is_broadcast(a: IpAddr) -> bool {
    matches!(a, IpAddr::V4(v) if v.is_broadcast())
}

fn tlv(p: &Param) -> Bytes {
    let mut b = bytes::BytesMut::new();
    p.emit(&mut b);
    b.truncate(p.len());
    b.freeze()
}
