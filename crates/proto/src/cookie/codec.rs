//! Serialization of [`CookieContents`]: the byte map documented on the
//! [`cookie`](super) module, between the key id and the MAC tag.
//!
//! Encoding is canonical and decoding is strict (exact lengths, known address
//! families, bounded counts, no trailing bytes), so a body that decodes
//! re-encodes to the same bytes. Decoding never panics and never allocates more
//! than [`MAX_COOKIE_ADDRESSES`] addresses per list, whatever the input: it is
//! only reached after the MAC has been verified, but a leaked key must not turn
//! into a memory blow-up or a crash.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use bytes::BufMut;

use super::{CookieContents, CookieError, MAX_COOKIE_ADDRESSES};

/// Format version, the first byte of every cookie.
pub(super) const VERSION: u8 = 1;
/// Version byte plus the 32-bit key id.
pub(super) const HEADER_LEN: usize = 1 + 4;
/// Length of the HMAC-SHA-256 tag at the end of every cookie.
pub(super) const TAG_LEN: usize = 32;
/// Fixed-size part of the body: created (8), lifespan (8), ports (2 × 2),
/// tags/TSNs/`a_rwnd` (5 × 4), streams (2 × 2), tie-tags (2 × 4), features (4),
/// address types (1).
pub(super) const FIXED_BODY_LEN: usize = 8 + 8 + 2 * 2 + 5 * 4 + 2 * 2 + 2 * 4 + 4 + 1;
/// Family byte plus an IPv4 address.
const V4_LEN: usize = 1 + 4;
/// Family byte plus an IPv6 address.
const V6_LEN: usize = 1 + 16;
/// Family byte of an IPv4 address.
const FAMILY_V4: u8 = 4;
/// Family byte of an IPv6 address.
const FAMILY_V6: u8 = 6;

/// Smallest well-formed cookie: IPv4 INIT source and destination, empty lists.
pub(super) const MIN_LEN: usize = HEADER_LEN + FIXED_BODY_LEN + 2 * V4_LEN + 2 + TAG_LEN;
/// Largest well-formed cookie: IPv6 everywhere, both lists full.
pub(super) const MAX_LEN: usize =
    HEADER_LEN + FIXED_BODY_LEN + 2 * V6_LEN + 2 * (1 + MAX_COOKIE_ADDRESSES * V6_LEN) + TAG_LEN;

/// Encoded length of one address.
fn addr_len(addr: &IpAddr) -> usize {
    match addr {
        IpAddr::V4(_) => V4_LEN,
        IpAddr::V6(_) => V6_LEN,
    }
}

/// Length of the sealed cookie for `c` (header, body and tag).
pub(super) fn sealed_len(c: &CookieContents) -> usize {
    let lists: usize = c
        .peer_addresses
        .iter()
        .chain(&c.local_addresses)
        .map(addr_len)
        .sum();
    HEADER_LEN
        + FIXED_BODY_LEN
        + addr_len(&c.init_source)
        + addr_len(&c.init_destination)
        + 2
        + lists
        + TAG_LEN
}

/// Lifespan as whole microseconds (sub-microsecond parts are dropped; a
/// lifespan beyond `u64::MAX` µs, about 584,000 years, saturates).
pub(super) fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn put_addr(out: &mut Vec<u8>, addr: &IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            out.put_u8(FAMILY_V4);
            out.put_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.put_u8(FAMILY_V6);
            out.put_slice(&a.octets());
        }
    }
}

/// Appends the body of `c` to `out`. The caller has checked that both address
/// lists hold at most [`MAX_COOKIE_ADDRESSES`] entries, so the counts fit a byte.
pub(super) fn encode_body(c: &CookieContents, out: &mut Vec<u8>) {
    out.put_u64(c.created_us);
    out.put_u64(duration_us(c.lifespan));
    out.put_u16(c.local_port);
    out.put_u16(c.peer_port);
    out.put_u32(c.local_vtag);
    out.put_u32(c.peer_vtag);
    out.put_u32(c.local_initial_tsn);
    out.put_u32(c.peer_initial_tsn);
    out.put_u32(c.peer_a_rwnd);
    out.put_u16(c.outbound_streams);
    out.put_u16(c.inbound_streams);
    out.put_u32(c.local_tie_tag);
    out.put_u32(c.peer_tie_tag);
    out.put_u32(c.peer_features);
    out.put_u8(c.peer_supported_address_types);
    put_addr(out, &c.init_source);
    put_addr(out, &c.init_destination);
    for list in [&c.peer_addresses, &c.local_addresses] {
        // Bounded by the caller (seal) to MAX_COOKIE_ADDRESSES <= u8::MAX.
        out.put_u8(u8::try_from(list.len()).unwrap_or(u8::MAX));
        for a in list {
            put_addr(out, a);
        }
    }
}

/// Panic-free cursor over the body.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], CookieError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(CookieError::Malformed)?;
        self.0 = rest;
        Ok(*head)
    }
    fn u8(&mut self) -> Result<u8, CookieError> {
        self.take::<1>().map(|[b]| b)
    }
    fn u16(&mut self) -> Result<u16, CookieError> {
        self.take().map(u16::from_be_bytes)
    }
    fn u32(&mut self) -> Result<u32, CookieError> {
        self.take().map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Result<u64, CookieError> {
        self.take().map(u64::from_be_bytes)
    }
    fn addr(&mut self) -> Result<IpAddr, CookieError> {
        match self.u8()? {
            FAMILY_V4 => Ok(IpAddr::V4(Ipv4Addr::from(self.take::<4>()?))),
            FAMILY_V6 => Ok(IpAddr::V6(Ipv6Addr::from(self.take::<16>()?))),
            _ => Err(CookieError::Malformed),
        }
    }
    fn addr_list(&mut self) -> Result<Vec<IpAddr>, CookieError> {
        let count = usize::from(self.u8()?);
        if count > MAX_COOKIE_ADDRESSES {
            return Err(CookieError::Malformed);
        }
        // Bounded allocation: at most MAX_COOKIE_ADDRESSES entries.
        let mut list = Vec::with_capacity(count);
        for _ in 0..count {
            list.push(self.addr()?);
        }
        Ok(list)
    }
}

/// Decodes a body (the bytes between the key id and the tag). Strict: any
/// deviation from what [`encode_body`] produces is [`CookieError::Malformed`].
pub(super) fn decode_body(body: &[u8]) -> Result<CookieContents, CookieError> {
    let mut r = Reader(body);
    let contents = CookieContents {
        created_us: r.u64()?,
        lifespan: Duration::from_micros(r.u64()?),
        local_port: r.u16()?,
        peer_port: r.u16()?,
        local_vtag: r.u32()?,
        peer_vtag: r.u32()?,
        local_initial_tsn: r.u32()?,
        peer_initial_tsn: r.u32()?,
        peer_a_rwnd: r.u32()?,
        outbound_streams: r.u16()?,
        inbound_streams: r.u16()?,
        local_tie_tag: r.u32()?,
        peer_tie_tag: r.u32()?,
        peer_features: r.u32()?,
        peer_supported_address_types: r.u8()?,
        init_source: r.addr()?,
        init_destination: r.addr()?,
        peer_addresses: r.addr_list()?,
        local_addresses: r.addr_list()?,
    };
    if r.0.is_empty() {
        Ok(contents)
    } else {
        Err(CookieError::Malformed)
    }
}
