//! The State Cookie (RFC 9260 §5.1.3, §5.1.5): how an endpoint answers an INIT
//! without allocating any state.
//!
//! Everything needed to build the association later is written into a
//! [`CookieContents`], sealed by [`CookieKeys::seal`] into an opaque byte
//! string that travels in the INIT ACK's State Cookie parameter, and recovered
//! from the peer's COOKIE ECHO by [`CookieKeys::open`]. The cookie is
//! authenticated with HMAC-SHA-256 under a secret key (RFC 9260 §5.1.3, the
//! "Secret Key" of §14.1); it is never compared byte-wise with anything, only
//! verified, so the endpoint keeps nothing between INIT and COOKIE ECHO.
//!
//! # Byte map (format version 1)
//!
//! All integers are big-endian. Offsets up to 62 are fixed.
//!
//! | offset | len | field |
//! |---:|---:|---|
//! | 0 | 1 | version (= 1) |
//! | 1 | 4 | key id of the secret that made the tag |
//! | 5 | 8 | `created_us`: creation time, µs since the key store's epoch |
//! | 13 | 8 | `lifespan` in whole µs |
//! | 21 | 2 | `local_port` |
//! | 23 | 2 | `peer_port` |
//! | 25 | 4 | `local_vtag` |
//! | 29 | 4 | `peer_vtag` |
//! | 33 | 4 | `local_initial_tsn` |
//! | 37 | 4 | `peer_initial_tsn` |
//! | 41 | 4 | `peer_a_rwnd` |
//! | 45 | 2 | `outbound_streams` |
//! | 47 | 2 | `inbound_streams` |
//! | 49 | 4 | `local_tie_tag` |
//! | 53 | 4 | `peer_tie_tag` |
//! | 57 | 4 | `peer_features` ([`feature`] bits) |
//! | 61 | 1 | `peer_supported_address_types` ([`address_type`] bits) |
//! | 62 | 5 or 17 | `init_source`: family byte (4 or 6), then 4 or 16 address bytes |
//! | … | 5 or 17 | `init_destination`, same encoding |
//! | … | 1 + n × (5 or 17) | `peer_addresses`: count n ≤ [`MAX_COOKIE_ADDRESSES`], then n addresses |
//! | … | 1 + m × (5 or 17) | `local_addresses`: count m ≤ [`MAX_COOKIE_ADDRESSES`], then m addresses |
//! | len − 32 | 32 | HMAC-SHA-256 tag over bytes `[0, len − 32)` |
//!
//! A cookie is between [`MIN_COOKIE_LEN`] (106) and [`MAX_COOKIE_LEN`] (674)
//! bytes long. RFC 9260 §5.1.3 asks for a small cookie: the INIT ACK carrying
//! it, our own address list (up to 16 × 20 bytes) and the other parameters
//! still fits the IPv6 minimum MTU of 1280 bytes in the worst case.
//!
//! # Use
//!
//! INIT (RFC 9260 §5.1.3): fill a [`CookieContents`] with
//! `created_us: keys.timestamp(now)` and `lifespan:`
//! [`lifespan_with_preservative`]`(valid_cookie_life, preservative, max)`,
//! then put [`CookieKeys::seal`]'s output in the INIT ACK.
//!
//! COOKIE ECHO (RFC 9260 §5.1.5): call [`CookieKeys::open`]. On
//! [`CookieError::Malformed`], [`CookieError::UnknownKey`] or
//! [`CookieError::BadMac`] discard the packet silently (steps 1–2). On `Ok`
//! and on [`CookieError::Stale`] (which carries the authenticated contents),
//! first check [`CookieContents::matches_header`] against the packet's common
//! header and discard silently on mismatch (step 3); then a stale cookie is
//! answered with an ERROR carrying a Stale Cookie cause with `staleness_us`
//! (step 4, §3.3.10.3), and a fresh one creates the association (step 5) —
//! after the §5.2.4 checks against any existing association, whose tie-tags
//! the cookie carries. A valid cookie can be replayed within its lifespan;
//! that is what §5.2.4 and the short lifespan are for.

mod codec;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Most addresses either address list of a cookie may hold
/// ([`CookieContents::peer_addresses`], [`CookieContents::local_addresses`]).
///
/// Bounds the cookie (and the INIT ACK carrying it) to one packet even with
/// IPv6 everywhere; see [`MAX_COOKIE_LEN`]. An INIT listing more addresses
/// must be trimmed by the endpoint before sealing (the INIT's source address is
/// always kept separately in [`CookieContents::init_source`]).
pub const MAX_COOKIE_ADDRESSES: usize = 16;

/// Largest sealed cookie, in bytes: IPv6 everywhere and both address lists
/// full ([`MAX_COOKIE_ADDRESSES`] each). Anything longer is rejected as
/// [`CookieError::Malformed`] before any MAC work.
pub const MAX_COOKIE_LEN: usize = codec::MAX_LEN;

/// Smallest sealed cookie, in bytes: IPv4 INIT source and destination, empty
/// address lists. Anything shorter is rejected as [`CookieError::Malformed`].
pub const MIN_COOKIE_LEN: usize = codec::MIN_LEN;

/// Bits of [`CookieContents::peer_features`]: optional extensions the peer
/// announced in its INIT (and that we therefore may use with it).
pub mod feature {
    /// FORWARD TSN / partial reliability (RFC 3758): Forward-TSN-Supported
    /// parameter or FORWARD TSN in Supported Extensions.
    pub const FORWARD_TSN: u32 = 1 << 0;
    /// Explicit Congestion Notification (RFC 9260 Appendix A): ECN Capable
    /// parameter.
    pub const ECN: u32 = 1 << 1;
    /// I-DATA message interleaving (RFC 8260).
    pub const I_DATA: u32 = 1 << 2;
    /// Stream reconfiguration, RE-CONFIG chunk (RFC 6525).
    pub const RECONFIG: u32 = 1 << 3;
    /// Dynamic address reconfiguration, ASCONF / ASCONF-ACK (RFC 5061).
    pub const ASCONF: u32 = 1 << 4;
    /// Authenticated chunks, AUTH (RFC 4895).
    pub const AUTH: u32 = 1 << 5;
    /// Zero checksum acceptable (RFC 9653).
    pub const ZERO_CHECKSUM: u32 = 1 << 6;
}

/// Bits of [`CookieContents::peer_supported_address_types`] (RFC 9260
/// §3.3.2.1, Supported Address Types). An INIT without that parameter means
/// the peer supports every type: use [`address_type::ALL`].
pub mod address_type {
    /// The peer accepts IPv4 addresses.
    pub const IPV4: u8 = 1 << 0;
    /// The peer accepts IPv6 addresses.
    pub const IPV6: u8 = 1 << 1;
    /// Both families (no Supported Address Types parameter in the INIT).
    pub const ALL: u8 = IPV4 | IPV6;
}

/// Everything the endpoint needs to create the association from a valid
/// COOKIE ECHO (RFC 9260 §5.1.3: "the minimal subset of the TCB").
///
/// Local/peer are seen from the endpoint that answered the INIT and made the
/// cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieContents {
    /// Creation time, µs since the key store's epoch
    /// ([`CookieKeys::timestamp`]). Covered by the MAC (RFC 9260 §5.1.3).
    pub created_us: u64,
    /// How long the cookie stays valid: `valid_cookie_life` plus any Cookie
    /// Preservative increment granted (RFC 9260 §5.1.3, §5.2.6; see
    /// [`lifespan_with_preservative`]). Stored in whole microseconds: a
    /// sub-microsecond remainder is dropped when sealing. Covered by the MAC.
    pub lifespan: Duration,
    /// Our port (the INIT's destination port).
    pub local_port: u16,
    /// The peer's port (the INIT's source port).
    pub peer_port: u16,
    /// Our Initiate Tag, sent in the INIT ACK: the verification tag the
    /// COOKIE ECHO must carry (RFC 9260 §5.1.5 step 3).
    pub local_vtag: u32,
    /// The peer's Initiate Tag from its INIT.
    pub peer_vtag: u32,
    /// Our Initial TSN, sent in the INIT ACK.
    pub local_initial_tsn: u32,
    /// The peer's Initial TSN from its INIT.
    pub peer_initial_tsn: u32,
    /// The peer's Advertised Receiver Window Credit from its INIT.
    pub peer_a_rwnd: u32,
    /// Outbound streams as negotiated: min(ours, the peer's MIS)
    /// (RFC 9260 §5.1.1).
    pub outbound_streams: u16,
    /// Inbound streams as negotiated: min(our MIS, the peer's OS).
    pub inbound_streams: u16,
    /// Local tie-tag (RFC 9260 §5.2.1, §5.2.2, used by §5.2.4): zero unless an
    /// association with this peer already existed when the INIT arrived.
    pub local_tie_tag: u32,
    /// Peer tie-tag (RFC 9260 §5.2.1, §5.2.2, used by §5.2.4): zero unless an
    /// association with this peer already existed when the INIT arrived.
    pub peer_tie_tag: u32,
    /// Source address of the INIT: the only peer address the responder
    /// considers confirmed at first (RFC 9260 §5.4).
    pub init_source: IpAddr,
    /// Local address the INIT arrived on.
    pub init_destination: IpAddr,
    /// Addresses listed in the INIT, at most [`MAX_COOKIE_ADDRESSES`]
    /// (RFC 9260 §5.1.2).
    pub peer_addresses: Vec<IpAddr>,
    /// Addresses we announced in the INIT ACK, at most
    /// [`MAX_COOKIE_ADDRESSES`].
    pub local_addresses: Vec<IpAddr>,
    /// Extensions the peer announced, as [`feature`] bits. Unknown bits are
    /// carried as they are.
    pub peer_features: u32,
    /// Address families the peer supports, as [`address_type`] bits
    /// (RFC 9260 §3.3.2.1). Unknown bits are carried as they are.
    pub peer_supported_address_types: u8,
}

impl CookieContents {
    /// RFC 9260 §5.1.5 step 3: do the ports and the verification tag of the
    /// COOKIE ECHO packet's common header match the cookie? The packet came
    /// from the peer, so its source port is [`Self::peer_port`], its
    /// destination port [`Self::local_port`] and its verification tag
    /// [`Self::local_vtag`]. If not, the packet MUST be silently discarded —
    /// also when [`CookieKeys::open`] reported the cookie stale.
    #[must_use]
    pub fn matches_header(
        &self,
        source_port: u16,
        destination_port: u16,
        verification_tag: u32,
    ) -> bool {
        source_port == self.peer_port
            && destination_port == self.local_port
            && verification_tag == self.local_vtag
    }

    /// Length in bytes of the cookie [`CookieKeys::seal`] makes from these
    /// contents (between [`MIN_COOKIE_LEN`] and [`MAX_COOKIE_LEN`] when the
    /// address lists respect [`MAX_COOKIE_ADDRESSES`]).
    #[must_use]
    pub fn sealed_len(&self) -> usize {
        codec::sealed_len(self)
    }
}

/// Why a received cookie was not accepted by [`CookieKeys::open`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    /// Wrong length, unknown format version, or (after a valid MAC) a body
    /// that does not decode. Discard silently.
    #[error("malformed state cookie")]
    Malformed,
    /// Signed with a key we no longer (or never) had: more than one rotation
    /// ago, or by another endpoint. Discard silently (RFC 9260 §5.1.5 step 2).
    #[error("state cookie signed with an unknown key")]
    UnknownKey,
    /// The MAC does not verify: forged or corrupted. Discard silently
    /// (RFC 9260 §5.1.5 step 2).
    #[error("state cookie MAC does not verify")]
    BadMac,
    /// Authentic but expired (RFC 9260 §5.1.5 step 4): answer with an ERROR
    /// carrying a Stale Cookie cause (RFC 9260 §3.3.10.3) — once the header
    /// has been checked against `contents` (step 3).
    #[error("state cookie is stale by {staleness_us} µs")]
    Stale {
        /// How late the cookie is, in µs: now − created − lifespan, saturating
        /// at `u32::MAX` (the Measure of Staleness, RFC 9260 §3.3.10.3).
        staleness_us: u32,
        /// The authenticated contents, for the step-3 header check and the
        /// ERROR's verification tag ([`CookieContents::peer_vtag`]).
        contents: Box<CookieContents>,
    },
}

/// Why [`CookieKeys::seal`] refused to make a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// [`CookieContents::peer_addresses`] holds more than
    /// [`MAX_COOKIE_ADDRESSES`] entries.
    #[error("{count} peer addresses, at most {MAX_COOKIE_ADDRESSES} fit a cookie")]
    TooManyPeerAddresses {
        /// How many there were.
        count: usize,
    },
    /// [`CookieContents::local_addresses`] holds more than
    /// [`MAX_COOKIE_ADDRESSES`] entries.
    #[error("{count} local addresses, at most {MAX_COOKIE_ADDRESSES} fit a cookie")]
    TooManyLocalAddresses {
        /// How many there were.
        count: usize,
    },
}

/// One secret key, kept only as the keyed HMAC state.
#[derive(Clone)]
struct Key {
    id: u32,
    mac: Hmac<Sha256>,
}

impl Key {
    fn new(id: u32, secret: &[u8; 32]) -> Self {
        // HMAC takes keys of any length, so this cannot fail.
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        Self { id, mac }
    }
}

/// The endpoint's cookie secrets (RFC 9260 §14.1 "Secret Key") and time base.
///
/// Holds the current secret, which signs, and the one before the last
/// [`rotate`](Self::rotate), which still verifies, so cookies issued just
/// before a rotation stay valid for their lifetime. Each secret has a 32-bit
/// key id (0 for the first, +1 per rotation, wrapping) written into every
/// cookie it signs.
///
/// Secrets must be cryptographic-quality random (RFC 9260 §14.1, RFC 4086)
/// and come from the runtime, never from the protocol's seeded RNG. `Debug`
/// shows key ids only.
///
/// Time: an [`Instant`] cannot be serialized, so cookies store microseconds
/// since the `epoch` given at construction ([`timestamp`](Self::timestamp)).
/// Instants before the epoch count as 0.
#[derive(Clone)]
pub struct CookieKeys {
    current: Key,
    previous: Option<Key>,
    epoch: Instant,
}

impl fmt::Debug for CookieKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieKeys")
            .field("current_key_id", &self.current.id)
            .field("previous_key_id", &self.previous.as_ref().map(|k| k.id))
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl CookieKeys {
    /// A key store whose first secret (key id 0) is `secret` and whose
    /// timestamps count from `epoch` (take the endpoint's creation time).
    #[must_use]
    pub fn new(secret: [u8; 32], epoch: Instant) -> Self {
        Self {
            current: Key::new(0, &secret),
            previous: None,
            epoch,
        }
    }

    /// Rotate: `new_secret` signs from now on; the secret it replaces still
    /// verifies until the next rotation, so cookies issued just before stay
    /// valid for their lifetime; the one before that is forgotten. RFC 9260
    /// §5.1.3 suggests changing the secret key periodically: rotate at most
    /// once per `valid_cookie_life` (plus the largest preservative granted) so
    /// that no unexpired cookie is lost.
    pub fn rotate(&mut self, new_secret: [u8; 32]) {
        let next = Key::new(self.current.id.wrapping_add(1), &new_secret);
        self.previous = Some(std::mem::replace(&mut self.current, next));
    }

    /// Key id of the secret that currently signs.
    #[must_use]
    pub fn current_key_id(&self) -> u32 {
        self.current.id
    }

    /// The time base of [`CookieContents::created_us`].
    #[must_use]
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// `now` as whole microseconds since the epoch (0 before it, saturating
    /// at `u64::MAX`): the value for [`CookieContents::created_us`].
    #[must_use]
    pub fn timestamp(&self, now: Instant) -> u64 {
        codec::duration_us(now.saturating_duration_since(self.epoch))
    }

    /// Seal `contents` into a cookie (RFC 9260 §5.1.3): version byte, current
    /// key id, serialized contents, and an HMAC-SHA-256 tag over everything
    /// before it, so that neither the creation time nor the lifespan nor any
    /// other field can be changed without detection. See the module docs for
    /// the byte map. The result is [`CookieContents::sealed_len`] bytes.
    ///
    /// # Errors
    ///
    /// An address list longer than [`MAX_COOKIE_ADDRESSES`].
    pub fn seal(&self, contents: &CookieContents) -> Result<Bytes, SealError> {
        if contents.peer_addresses.len() > MAX_COOKIE_ADDRESSES {
            return Err(SealError::TooManyPeerAddresses {
                count: contents.peer_addresses.len(),
            });
        }
        if contents.local_addresses.len() > MAX_COOKIE_ADDRESSES {
            return Err(SealError::TooManyLocalAddresses {
                count: contents.local_addresses.len(),
            });
        }
        let mut out = Vec::with_capacity(contents.sealed_len());
        out.push(codec::VERSION);
        out.extend_from_slice(&self.current.id.to_be_bytes());
        codec::encode_body(contents, &mut out);
        let mut mac = self.current.mac.clone();
        mac.update(&out);
        out.extend_from_slice(&mac.finalize().into_bytes());
        Ok(Bytes::from(out))
    }

    /// Verify and decode a cookie received in a COOKIE ECHO (RFC 9260 §5.1.5).
    ///
    /// Order: length and version check, key id lookup, MAC verification in
    /// constant time (steps 1–2), then decoding, then the lifespan check
    /// (step 4). The header check of step 3 is the caller's, with
    /// [`CookieContents::matches_header`].
    ///
    /// Boundary: the cookie is stale when the whole microseconds elapsed since
    /// `created_us` exceed the lifespan ("longer than the lifespan", step 4);
    /// at exactly the lifespan it is still valid. A `now` earlier than the
    /// creation time counts as no time elapsed.
    ///
    /// # Errors
    ///
    /// [`CookieError::Malformed`], [`CookieError::UnknownKey`] and
    /// [`CookieError::BadMac`] for cookies to discard silently,
    /// [`CookieError::Stale`] for an authentic but expired one.
    pub fn open(&self, cookie: &[u8], now: Instant) -> Result<CookieContents, CookieError> {
        if !(MIN_COOKIE_LEN..=MAX_COOKIE_LEN).contains(&cookie.len()) {
            return Err(CookieError::Malformed);
        }
        let (&[version, id0, id1, id2, id3], _) = cookie
            .split_first_chunk::<{ codec::HEADER_LEN }>()
            .ok_or(CookieError::Malformed)?;
        if version != codec::VERSION {
            return Err(CookieError::Malformed);
        }
        let key_id = u32::from_be_bytes([id0, id1, id2, id3]);
        let key = if key_id == self.current.id {
            &self.current
        } else {
            self.previous
                .as_ref()
                .filter(|k| k.id == key_id)
                .ok_or(CookieError::UnknownKey)?
        };

        // RFC 9260 §5.1.5 steps 1-2: recompute the MAC and authenticate,
        // in constant time (never a byte-wise comparison of cookies).
        let (signed, tag) = cookie
            .split_at_checked(cookie.len() - codec::TAG_LEN)
            .ok_or(CookieError::Malformed)?;
        let mut mac = key.mac.clone();
        mac.update(signed);
        mac.verify_slice(tag).map_err(|_| CookieError::BadMac)?;

        let body = signed
            .get(codec::HEADER_LEN..)
            .ok_or(CookieError::Malformed)?;
        let contents = codec::decode_body(body)?;

        // RFC 9260 §5.1.5 step 4: stale if the elapsed time is longer than
        // the lifespan carried in the (authenticated) cookie.
        let elapsed_us = self.timestamp(now).saturating_sub(contents.created_us);
        let lifespan_us = codec::duration_us(contents.lifespan);
        if elapsed_us > lifespan_us {
            let late = elapsed_us - lifespan_us;
            return Err(CookieError::Stale {
                staleness_us: u32::try_from(late).unwrap_or(u32::MAX),
                contents: Box::new(contents),
            });
        }
        Ok(contents)
    }
}

/// Lifespan to give a cookie (RFC 9260 §5.1.3, §5.2.6, §3.3.2.1 Cookie
/// Preservative): `valid_cookie_life` plus the increment the peer asked for in
/// its INIT's Cookie Preservative parameter (milliseconds), capped at
/// `max_increment` — the receiver MAY ignore or limit the request for its own
/// security, since longer lifespans widen the replay window. Saturating, never
/// panics.
#[must_use]
pub fn lifespan_with_preservative(
    valid_cookie_life: Duration,
    requested_increment_ms: Option<u32>,
    max_increment: Duration,
) -> Duration {
    let increment = requested_increment_ms.map_or(Duration::ZERO, |ms| {
        Duration::from_millis(u64::from(ms)).min(max_increment)
    });
    valid_cookie_life.saturating_add(increment)
}
