//! A bounds-checked cursor over received bytes.
//!
//! No-panic rule for this crate: every read of received bytes goes through
//! [`Reader`], whose methods check the length first and return an [`Error`] with
//! the absolute offset otherwise. Slices handed out are `Bytes` views of the
//! original buffer, so payloads are never copied.

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};

/// A cursor over `data`, which starts at absolute offset `base` of the buffer
/// originally handed to the parser.
#[derive(Debug, Clone)]
pub(crate) struct Reader {
    data: Bytes,
    pos: usize,
    base: usize,
    context: &'static str,
}

impl Reader {
    pub(crate) fn new(data: Bytes, base: usize, context: &'static str) -> Self {
        Reader {
            data,
            pos: 0,
            base,
            context,
        }
    }

    /// Absolute offset of the cursor.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn error(&self, kind: ErrorKind, field: &'static str) -> Error {
        Error::new(kind, self.offset(), self.context, field)
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&[u8]> {
        if self.remaining() < n {
            return Err(self.error(ErrorKind::Truncated, field));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N]> {
        let b = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// The next `n` bytes as a zero-copy view.
    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<Bytes> {
        if self.remaining() < n {
            return Err(self.error(ErrorKind::Truncated, field));
        }
        let b = self.data.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    /// Everything left, as a zero-copy view.
    pub(crate) fn rest(&mut self) -> Bytes {
        let b = self.data.slice(self.pos..);
        self.pos = self.data.len();
        b
    }

    /// Skips up to `n` bytes (padding the sender may have left off at the end).
    pub(crate) fn skip_up_to(&mut self, n: usize) {
        self.pos += n.min(self.remaining());
    }

    /// Fails with [`ErrorKind::Trailing`] if bytes remain.
    pub(crate) fn finish(&self, field: &'static str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(ErrorKind::Trailing, field))
        }
    }

    /// Reads a list of fixed-size items filling the rest of the reader.
    pub(crate) fn list<T>(
        &mut self,
        item: usize,
        field: &'static str,
        mut read: impl FnMut(&mut Self) -> Result<T>,
    ) -> Result<Vec<T>> {
        if self.remaining() % item != 0 {
            return Err(self.error(ErrorKind::BadLength, field));
        }
        // Bounded: at most remaining/item elements, and remaining is at most
        // the received packet's length.
        let mut out = Vec::with_capacity(self.remaining() / item);
        while !self.is_empty() {
            out.push(read(self)?);
        }
        Ok(out)
    }
}

/// Rounds `n` up to a multiple of four (RFC 9260 §3.2 chunk and parameter padding).
pub const fn padded(n: usize) -> usize {
    (n + 3) & !3
}
