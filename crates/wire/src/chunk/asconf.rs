//! ASCONF and ASCONF-ACK (RFC 5061 §4.1.1, §4.1.2), and RE-CONFIG (RFC 6525
//! §3.1): a sequence number or nothing, then a list of parameters.

use std::net::IpAddr;

use bytes::BufMut;

use super::Body;
use crate::error::Result;
use crate::param::{Param, emit_params, params_len, parse_address_param, parse_params};
use crate::reader::Reader;

/// An ASCONF chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asconf {
    /// Sequence Number.
    pub serial: u32,
    /// The Address Parameter identifying the sender's association.
    pub address: IpAddr,
    /// ASCONF parameters (Add/Delete IP Address, Set Primary Address, …).
    pub params: Vec<Param>,
}

impl Body for Asconf {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Asconf {
            serial: r.u32("sequence number")?,
            address: parse_address_param(r)?,
            params: parse_params(r)?,
        })
    }
    fn value_len(&self) -> usize {
        4 + Param::address(self.address).len() + params_len(&self.params)
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.serial);
        Param::address(self.address).emit(out);
        emit_params(&self.params, out);
    }
    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.params.last().map(Param::len))
    }
}

/// An ASCONF-ACK chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsconfAck {
    /// Sequence Number of the ASCONF acknowledged.
    pub serial: u32,
    /// Responses (Success Indication, Error Cause Indication).
    pub params: Vec<Param>,
}

impl Body for AsconfAck {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(AsconfAck {
            serial: r.u32("sequence number")?,
            params: parse_params(r)?,
        })
    }
    fn value_len(&self) -> usize {
        4 + params_len(&self.params)
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        out.put_u32(self.serial);
        emit_params(&self.params, out);
    }
    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.params.last().map(Param::len))
    }
}

/// A RE-CONFIG chunk (RFC 6525 §3.1): one or two re-configuration parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReConfig {
    /// The request and response parameters.
    pub params: Vec<Param>,
}

impl Body for ReConfig {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(ReConfig {
            params: parse_params(r)?,
        })
    }
    fn value_len(&self) -> usize {
        params_len(&self.params)
    }
    fn emit_value<B: BufMut>(&self, out: &mut B) {
        emit_params(&self.params, out);
    }
    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.params.last().map(Param::len))
    }
}
