//! The stream side of FORWARD TSN (RFC 3758 §3.6): dropping the fragments
//! of abandoned messages, aborting partial deliveries whose rest was
//! abandoned, and skipping Stream Sequence Numbers so that ordered messages
//! held behind them ("stranded") are delivered.

use msctp_wire::Ssn;
use msctp_wire::chunk::ForwardTsnStream;

use super::{Partial, Reassembly};

impl Reassembly {
    /// FORWARD TSN (RFC 3758 §3.6) with unwrapped New Cumulative TSN
    /// `new_cum`:
    ///
    /// * a partial delivery whose next fragment is at or below `new_cum` is
    ///   aborted (its message was abandoned);
    /// * incomplete messages with a fragment at or below `new_cum` are
    ///   dropped (the sender abandoned them); complete ones are kept;
    /// * on each listed stream, SSNs up to the given one are skipped: held
    ///   complete messages with those SSNs (stranded data) are delivered, an
    ///   ordered partial delivery is aborted, and the stream continues from
    ///   the following SSN.
    ///
    /// Streams not below the stream count are ignored.
    pub(crate) fn forward(&mut self, new_cum: u64, skips: &[ForwardTsnStream]) {
        // Abort partial deliveries whose rest was abandoned.
        for st in 0..self.streams.len() {
            if let Some(p) = self.streams[st].partial {
                if p.next <= new_cum {
                    self.abort_partial(p);
                }
            }
        }
        let abandoned: Vec<Partial> = self
            .unordered_partials
            .range(..=new_cum)
            .map(|(_, p)| *p)
            .collect();
        for p in abandoned {
            self.abort_partial(p);
        }
        // Drop abandoned incomplete messages.
        let abandoned: Vec<u64> = self
            .runs
            .range(..=new_cum)
            .filter(|&(s, e)| !(self.frags[s].begin && self.frags[e].end))
            .map(|(&s, _)| s)
            .collect();
        for s in abandoned {
            self.discard_run(s);
        }
        // A run just above that starts mid-message continues an abandoned
        // message (a sender abandons whole messages, RFC 3758 §3.5), unless
        // it is the rest of a partial delivery.
        let above = new_cum + 1;
        if self.runs.contains_key(&above)
            && !self.frags[&above].begin
            && self.partial_continued_at(above).is_none()
        {
            self.discard_run(above);
        }
        // Skip SSNs on ordered streams.
        for skip in skips {
            self.skip_ssn(usize::from(skip.stream), skip.ssn);
        }
    }

    /// RFC 3758 §3.6: stream `st` skips every SSN up to and including `ssn`.
    fn skip_ssn(&mut self, st: usize, ssn: Ssn) {
        let Some(stream) = self.streams.get(st) else {
            return;
        };
        let next = stream.next_ssn;
        let span = ssn.distance(next);
        if span < 0 {
            return; // Already past it: out of date.
        }
        // An ordered partial delivery is always of the next SSN, so skipping
        // it abandons that message.
        if let Some(p) = stream.partial {
            self.abort_partial(p);
        }
        let stream = &mut self.streams[st];
        // Stranded complete messages with a skipped SSN go out, in SSN order
        // from `next`: the skipped SSNs are `next..=ssn`, one range of the
        // index or two when it wraps past 65535. Looked up by range, so the
        // work is what is delivered, not the skips times the waiting messages
        // (a FORWARD TSN may list thousands of skips).
        let ranges = if next.0 <= ssn.0 {
            [(next.0, ssn.0), (1, 0)]
        } else {
            [(next.0, u16::MAX), (0, ssn.0)]
        };
        let mut stranded: Vec<(u16, u64)> = Vec::new();
        for (lo, hi) in ranges {
            if lo <= hi {
                stranded.extend(stream.waiting.range((lo, 0)..=(hi, u64::MAX)).copied());
            }
        }
        for key in &stranded {
            stream.waiting.remove(key);
        }
        stream.next_ssn = ssn.next();
        #[cfg(test)]
        {
            self.skip_steps += 1 + stranded.len();
        }
        for (_, start) in stranded {
            self.deliver_run(start);
        }
        self.flush(st);
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::recv::reassembly::tests::{drain, frag};

    /// RFC 3758 §3.6: dropping fragments at or below the new cumulative TSN
    /// and skipping SSNs releases stranded ordered messages.
    #[test]
    fn forward_releases_stranded() {
        let mut r = Reassembly::new(1);
        // SSN 0: fragments 10 (B) and 11 missing E at 12; SSN 1 and 2 whole.
        r.add(10, &frag(0, 0, false, true, false, b"x"));
        r.add(13, &frag(0, 1, false, true, true, b"one"));
        r.add(14, &frag(0, 2, false, true, true, b"two"));
        assert_eq!(r.ready_messages(), 0);
        r.forward(
            12,
            &[ForwardTsnStream {
                stream: 0,
                ssn: Ssn(0),
            }],
        );
        r.check_invariants();
        let got = drain(&mut r);
        let ps: Vec<&[u8]> = got.iter().map(|m| &m.payload[..]).collect();
        assert_eq!(ps, vec![&b"one"[..], &b"two"[..]]);
        assert_eq!(r.held_bytes(), 0);
    }

    /// RFC 3758 §3.6: a skipped SSN whose complete message is held is
    /// delivered (stranded data), not dropped.
    #[test]
    fn forward_delivers_held_skipped_ssn() {
        let mut r = Reassembly::new(1);
        r.add(12, &frag(0, 1, false, true, true, b"one"));
        r.add(13, &frag(0, 3, false, true, true, b"three"));
        r.forward(
            11,
            &[ForwardTsnStream {
                stream: 0,
                ssn: Ssn(2),
            }],
        );
        let ps: Vec<Bytes> = drain(&mut r).into_iter().map(|m| m.payload).collect();
        assert_eq!(
            ps,
            vec![Bytes::from_static(b"one"), Bytes::from_static(b"three")]
        );
    }
}
