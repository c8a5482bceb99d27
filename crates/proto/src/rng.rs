//! The generator for wire randomness: verification tags, initial TSNs and
//! heartbeat nonces.
//!
//! Two kinds, one interface:
//!
//! * [`Rng::new`]: xoshiro256** seeded through splitmix64, so that a run is
//!   reproducible from [`crate::Config::rng_seed`] (the simulator and the
//!   engine's tests use it). Its state can be recovered from a few outputs,
//!   and heartbeat nonces travel in clear: an observer could then predict
//!   the verification tags and TSNs of other associations. Fine for a
//!   simulation, not for a host on a real network.
//! * [`Rng::from_secret`]: ChaCha20 keyed with 32 secret bytes
//!   ([`crate::Config::rng_secret`], which the runtime fills from the OS), a
//!   CSPRNG: its outputs reveal nothing about the others (RFC 9260 §5.1.3
//!   and RFC 4086 ask for verification tags that cannot be guessed).
//!
//! Each association gets its own generator, [`Rng::fork`]ed from the
//! endpoint's. The cookie key is a separate secret
//! ([`crate::Config::cookie_secret`]): wire randomness and secrets are kept
//! apart.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

/// A pseudo-random generator: deterministic xoshiro256** or ChaCha20 (see
/// the [module docs](self)).
#[derive(Clone)]
pub struct Rng {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// xoshiro256** state.
    Seeded([u64; 4]),
    /// Boxed: the ChaCha state and output buffer are ten times the size of
    /// xoshiro's.
    Secure(Box<ChaCha20Rng>),
}

impl std::fmt::Debug for Rng {
    /// Never shows the state (it would reveal every future output).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            Kind::Seeded(_) => "Seeded",
            Kind::Secure(_) => "Secure",
        };
        f.debug_struct("Rng")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl Rng {
    /// A deterministic generator whose whole output is determined by `seed`
    /// (xoshiro256**, not cryptographically secure).
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            // splitmix64
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            kind: Kind::Seeded([next(), next(), next(), next()]),
        }
    }

    /// A cryptographically secure generator (ChaCha20) keyed with `secret`,
    /// which must be secret and random (from the OS).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Rng {
            kind: Kind::Secure(Box::new(ChaCha20Rng::from_seed(secret))),
        }
    }

    /// The endpoint's generator for `config`: secure when
    /// [`crate::Config::rng_secret`] is set, else seeded from
    /// [`crate::Config::rng_seed`].
    pub fn for_config(config: &crate::Config) -> Self {
        match config.rng_secret {
            Some(secret) => Rng::from_secret(secret),
            None => Rng::new(config.rng_seed),
        }
    }

    /// Whether this is the cryptographically secure kind.
    pub fn is_secure(&self) -> bool {
        matches!(self.kind, Kind::Secure(_))
    }

    /// A new, independent generator of the same kind, drawn from this one
    /// (one per association). Seeded: `Rng::new(self.next_u64())`, so runs
    /// stay reproducible; secure: ChaCha20 keyed with 32 fresh bytes of this
    /// one's output.
    pub fn fork(&mut self) -> Rng {
        match &mut self.kind {
            Kind::Seeded(_) => Rng::new(self.next_u64()),
            Kind::Secure(c) => {
                let mut key = [0u8; 32];
                c.fill_bytes(&mut key);
                Rng::from_secret(key)
            }
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        match &mut self.kind {
            Kind::Seeded(s) => xoshiro_next(s),
            Kind::Secure(c) => c.next_u64(),
        }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A random non-zero 32-bit value (verification tags must not be zero,
    /// RFC 9260 §3.3.2).
    pub fn nonzero_u32(&mut self) -> u32 {
        loop {
            let v = self.next_u32();
            if v != 0 {
                return v;
            }
        }
    }

    /// A uniformly distributed value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: bias is negligible for the ranges used here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// One step of xoshiro256**.
fn xoshiro_next(s: &mut [u64; 4]) -> u64 {
    let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(mut r: Rng, n: usize) -> Vec<u64> {
        (0..n).map(|_| r.next_u64()).collect()
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = take(Rng::new(7), 4);
        let b = take(Rng::new(7), 4);
        let c = Rng::new(8).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert!((0..1000).all(|_| r.nonzero_u32() != 0));
    }

    /// The seeded generator's output is pinned: the simulator's recorded
    /// runs and snapshots depend on it, bit for bit.
    #[test]
    fn seeded_output_and_fork_are_unchanged() {
        // Recorded from the generator before the secure kind was added.
        assert_eq!(
            take(Rng::new(0), 2),
            [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a]
        );
        assert_eq!(Rng::new(42).fork().next_u64(), 0x8ee4_45d1_4631_c453);
        // fork is exactly Rng::new(next_u64()).
        let mut p = Rng::new(42);
        let mut q = Rng::new(42);
        let forked = take(p.fork(), 8);
        let by_hand = take(Rng::new(q.next_u64()), 8);
        assert_eq!(forked, by_hand);
        assert_eq!(take(p, 4), take(q, 4));
        assert!(!Rng::new(1).is_secure());
    }

    #[test]
    fn secure_depends_on_the_secret_only() {
        let a = take(Rng::from_secret([1; 32]), 8);
        let b = take(Rng::from_secret([1; 32]), 8);
        let c = take(Rng::from_secret([2; 32]), 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(Rng::from_secret([1; 32]).is_secure());
        // Debug shows the kind, never the state.
        let shown = format!("{:?}", Rng::from_secret([1; 32]));
        assert!(
            shown.contains("Secure") && !shown.contains("seed"),
            "{shown}"
        );
    }

    #[test]
    fn secure_forks_are_secure_and_distinct() {
        let mut parent = Rng::from_secret([9; 32]);
        let f1 = parent.fork();
        let f2 = parent.fork();
        assert!(f1.is_secure() && f2.is_secure());
        let (o1, o2) = (take(f1, 4), take(f2, 4));
        assert_ne!(o1, o2);
        // A child's stream is not the parent's continuation.
        assert_ne!(o1, take(parent, 4));
    }

    #[test]
    fn for_config_follows_rng_secret() {
        let seeded = crate::Config {
            rng_seed: 5,
            ..crate::Config::default()
        };
        assert_eq!(take(Rng::for_config(&seeded), 4), take(Rng::new(5), 4));
        let secure = crate::Config {
            rng_secret: Some([3; 32]),
            ..seeded.clone()
        };
        let r = Rng::for_config(&secure);
        assert!(r.is_secure());
        assert_eq!(take(r, 4), take(Rng::from_secret([3; 32]), 4));
    }
}
