//! HEARTBEAT (RFC 9260 §3.3.5) and HEARTBEAT ACK (RFC 9260 §3.3.6): one Heartbeat
//! Info parameter whose value only the sender interprets; the receiver echoes it
//! back unchanged.

use bytes::{BufMut, Bytes};

use super::Body;
use crate::error::{Error, ErrorKind, Result};
use crate::param::{PARAM_HEADER_LEN, Param};
use crate::reader::{Reader, padded};

/// The body of a HEARTBEAT or HEARTBEAT ACK chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// The Heartbeat Info parameter's value.
    pub info: Bytes,
}

impl Body for Heartbeat {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        let at = r.offset();
        let params = crate::param::parse_params(r)?;
        match params.as_slice() {
            [Param::HeartbeatInfo(info)] => Ok(Heartbeat { info: info.clone() }),
            [] => Err(Error::new(
                ErrorKind::Missing,
                at,
                "HEARTBEAT",
                "heartbeat info",
            )),
            _ => Err(Error::new(
                ErrorKind::UnexpectedParameter,
                at,
                "HEARTBEAT",
                "heartbeat info",
            )),
        }
    }

    fn value_len(&self) -> usize {
        PARAM_HEADER_LEN + self.info.len()
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        Param::HeartbeatInfo(self.info.clone()).emit(out);
    }

    fn trailing_pad(&self) -> usize {
        let l = self.value_len();
        padded(l) - l
    }
}
