//! ABORT (RFC 9260 §3.3.7) and ERROR (RFC 9260 §3.3.10): lists of error causes;
//! ABORT also carries the T bit (RFC 9260 §8.5.1: the verification tag is the
//! sender's own, reflected).

use bytes::BufMut;

use super::Body;
use crate::cause::{ErrorCause, causes_len, emit_causes, parse_causes};
use crate::error::Result;
use crate::reader::Reader;

/// The T bit of ABORT and SHUTDOWN COMPLETE.
pub const T_BIT: u8 = 0x01;

/// An ABORT chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Abort {
    /// T bit: the verification tag is reflected (RFC 9260 §8.5.1).
    pub t_bit: bool,
    /// Zero or more error causes.
    pub causes: Vec<ErrorCause>,
}

impl Body for Abort {
    fn parse(flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(Abort {
            t_bit: flags & T_BIT != 0,
            causes: parse_causes(r)?,
        })
    }

    fn flags(&self) -> u8 {
        if self.t_bit { T_BIT } else { 0 }
    }

    fn value_len(&self) -> usize {
        causes_len(&self.causes)
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        emit_causes(&self.causes, out);
    }

    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.causes.last().map(ErrorCause::len))
    }
}

/// An ERROR (Operation Error) chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationError {
    /// One or more error causes.
    pub causes: Vec<ErrorCause>,
}

impl Body for OperationError {
    fn parse(_flags: u8, r: &mut Reader) -> Result<Self> {
        Ok(OperationError {
            causes: parse_causes(r)?,
        })
    }

    fn value_len(&self) -> usize {
        causes_len(&self.causes)
    }

    fn emit_value<B: BufMut>(&self, out: &mut B) {
        emit_causes(&self.causes, out);
    }

    fn trailing_pad(&self) -> usize {
        super::list_trailing_pad(self.causes.last().map(ErrorCause::len))
    }
}
