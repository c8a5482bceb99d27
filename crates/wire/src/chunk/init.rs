//! INIT (RFC 9260 §3.3.2) and INIT ACK (RFC 9260 §3.3.3): the fixed fields and
//! the list of parameters (addresses, State Cookie, extensions). Which
//! parameters are mandatory, and what to do with unknown ones, is the protocol
//! layer's business; this module only reads and writes them.

use bytes::BufMut;

use super::Body;
use crate::error::Result;
use crate::param::{Param, emit_params, params_len, parse_params};
use crate::reader::Reader;
use crate::serial::Tsn;

/// Fixed part of INIT and INIT ACK after the chunk header.
pub const INIT_FIXED_LEN: usize = 16;

/// The body of an INIT or INIT ACK chunk (their layouts are identical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// Initiate Tag: the verification tag the sender wants to see.
    pub initiate_tag: u32,
    /// Advertised Receiver Window Credit.
    pub a_rwnd: u32,
    /// Number of Outbound Streams.
    pub outbound_streams: u16,
    /// Number of Inbound Streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: Tsn,
    /// Optional and variable-length parameters, in order.
    pub params: Vec<Param>,
}

impl Init {
    /// The State Cookie parameter's value, if there is one (INIT ACK).
    pub fn state_cookie(&self) -> Option<&bytes::Bytes> {
        self.params.iter().find_map(|p| match p {
            Param::StateCookie(c) => Some(c),
            _ => None,
        })
    }

    /// The IPv4 and IPv6 addresses listed (RFC 9260 §5.1.2).
    pub fn addresses(&self) -> impl Iterator<Item = std::net::IpAddr> + '_ {
        self.params.iter().filter_map(Param::as_address)
    }
}

impl Body for Init {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Init {
            initiate_tag: r.u32("initiate tag")?,
            a_rwnd: r.u32("a_rwnd")?,
            outbound_streams: r.u16("number of outbound streams")?,
            inbound_streams: r.u16("number of inbound streams")?,
            initial_tsn: Tsn(r.u32("initial TSN")?),
            params: parse_params(r)?,
        })
    }

    fn value_len(&self) -> usize {
        INIT_FIXED_LEN + params_len(&self.params)
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.initiate_tag);
        out.put_u32(self.a_rwnd);
        out.put_u16(self.outbound_streams);
        out.put_u16(self.inbound_streams);
        out.put_u32(self.initial_tsn.0);
        emit_params(&self.params, out);
    }

    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.params.last().map(Param::len))
    }
}
