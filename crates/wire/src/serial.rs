//! Serial-number types (RFC 1982 arithmetic, as RFC 9260 §1.6 requires for TSNs
//! and stream sequence numbers): comparisons are made modulo 2^32 or 2^16 so that
//! they stay correct across wrap-around.

use core::cmp::Ordering;
use core::fmt;

macro_rules! serial {
    ($(#[$doc:meta])* $name:ident, $int:ty, $signed:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(pub $int);

        impl $name {
            /// The next number, wrapping around.
            #[must_use]
            pub const fn next(self) -> Self {
                $name(self.0.wrapping_add(1))
            }

            /// `self + n`, wrapping around.
            #[must_use]
            pub const fn add(self, n: $int) -> Self {
                $name(self.0.wrapping_add(n))
            }

            /// Signed distance from `other` to `self` (positive when `self` is
            /// after `other`), as RFC 1982 defines it.
            pub const fn distance(self, other: Self) -> $signed {
                self.0.wrapping_sub(other.0) as $signed
            }
        }

        /// RFC 1982 §3.2: `a < b` when `b - a` is in `1 ..= 2^(n-1) - 1`. Numbers
        /// exactly half the space apart are incomparable (`None`).
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                let d = self.distance(*other);
                if d == 0 {
                    Some(Ordering::Equal)
                } else if d == <$signed>::MIN {
                    None
                } else if d > 0 {
                    Some(Ordering::Greater)
                } else {
                    Some(Ordering::Less)
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

serial!(
    /// Transmission Sequence Number (RFC 9260 §3.3.1), 32-bit serial arithmetic.
    Tsn, u32, i32
);
serial!(
    /// Stream Sequence Number (RFC 9260 §3.3.1), 16-bit serial arithmetic.
    Ssn, u16, i16
);
serial!(
    /// Message Identifier of I-DATA (RFC 8260 §2.1), 32-bit serial arithmetic.
    Mid, u32, i32
);

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9260 §1.6 / RFC 1982 §3.2: comparisons wrap around.
    #[test]
    fn wraparound_ordering() {
        assert!(Tsn(u32::MAX) < Tsn(0));
        assert!(Tsn(0) > Tsn(u32::MAX));
        assert!(Tsn(5) < Tsn(6));
        assert!(Tsn(0x8000_0000) > Tsn(1));
        assert_eq!(Tsn(0).partial_cmp(&Tsn(0x8000_0000)), None);
        assert!(Ssn(65535) < Ssn(1));
        assert_eq!(Tsn(u32::MAX).next(), Tsn(0));
        assert_eq!(Tsn(3).distance(Tsn(u32::MAX)), 4);
    }
}
