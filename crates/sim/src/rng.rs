//! The simulator's seeded randomness: a small xoshiro256** generator seeded
//! through splitmix64, and [`seed_from_env`] to replay a failing run.
//!
//! Every random decision of a run (loss, duplication, reordering, jitter)
//! comes from generators derived from the one seed given to
//! [`crate::Sim::new`]; each link direction has its own stream, so changing
//! the configuration of one link does not change what happens on another.
//! Only integer and IEEE-754 add/multiply arithmetic is used, so a seed gives
//! the same run on every platform.

/// Name of the environment variable read by [`seed_from_env`].
pub const SEED_ENV: &str = "MSCTP_SIM_SEED";

/// One step of splitmix64 (Steele, Lea, Flood 2014): advances `state` and
/// returns a well-mixed 64-bit value. Used to expand seeds.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A xoshiro256** pseudo-random generator (Blackman, Vigna 2018): fast,
/// small, good statistical quality, not cryptographic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose state is expanded from `seed` with splitmix64.
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    /// A generator for the independent stream number `stream` of `seed`.
    pub fn derive(seed: u64, stream: u64) -> Rng {
        let mut sm = seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03);
        Rng::new(splitmix64(&mut sm))
    }

    /// A generator with this exact state (which must not be all zeros; an
    /// all-zero state is replaced by the state of `Rng::new(0)`).
    pub fn from_state(s: [u64; 4]) -> Rng {
        if s == [0; 4] { Rng::new(0) } else { Rng { s } }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// A uniform value in `[0, 1)` with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `[0, n)`, without bias (Lemire's method with
    /// rejection). Returns 0 when `n` is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// True with probability `p`. Draws nothing when `p <= 0` (always false)
    /// or `p >= 1` (always true), so a feature that is off consumes no
    /// randomness.
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.next_f64() < p
        }
    }

    /// An approximately standard-normal value: the Irwin–Hall sum of twelve
    /// uniforms minus six (mean 0, variance 1, bounded to ±6).
    pub fn normalish(&mut self) -> f64 {
        let mut sum = 0.0;
        for _ in 0..12 {
            sum += self.next_f64();
        }
        sum - 6.0
    }
}

/// The seed to use for a run: the value of the `MSCTP_SIM_SEED` environment
/// variable if set (decimal, or hexadecimal with `0x`), otherwise `default`.
///
/// A test that uses it can be replayed with the seed a failure printed
/// (every [`crate::Sim`] prints its seed when dropped during a panic).
///
/// # Panics
///
/// If the variable is set but is not a valid `u64`: a typo must not silently
/// run another seed.
pub fn seed_from_env(default: u64) -> u64 {
    match std::env::var(SEED_ENV) {
        Ok(text) => parse_seed(&text).unwrap_or_else(|| {
            panic!("{SEED_ENV}={text:?} is not a u64 (decimal, or hexadecimal with 0x)")
        }),
        Err(std::env::VarError::NotPresent) => default,
        Err(e) => panic!("{SEED_ENV} is not usable: {e}"),
    }
}

/// Parses a seed written in decimal or as `0x` hexadecimal (underscores
/// allowed).
pub fn parse_seed(text: &str) -> Option<u64> {
    let text: String = text.trim().chars().filter(|&c| c != '_').collect();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_value() {
        // splitmix64 from state 0: the first output of the reference C code.
        let mut s = 0;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn xoshiro_reference_values() {
        // xoshiro256** from state {1, 2, 3, 4}, as the reference C code gives.
        let mut r = Rng::from_state([1, 2, 3, 4]);
        assert_eq!(r.next_u64(), 11520);
        assert_eq!(r.next_u64(), 0);
        assert_eq!(r.next_u64(), 1_509_978_240);
        assert_eq!(r.next_u64(), 1_215_971_899_390_074_240);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4).map(|_| Rng::derive(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::derive(7, 1).next_u64(), Rng::derive(7, 2).next_u64());
        assert_ne!(Rng::derive(7, 1).next_u64(), Rng::derive(8, 1).next_u64());
    }

    #[test]
    fn ranges() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
            assert!(r.below(7) < 7);
            assert!(r.normalish().abs() <= 6.0);
        }
        assert_eq!(r.below(0), 0);
        assert_eq!(r.below(1), 0);
        let before = r.clone();
        assert!(!r.chance(0.0));
        assert!(r.chance(1.0));
        assert_eq!(r, before, "certain outcomes draw nothing");
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::new(99);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn seeds_parse() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed(" 0x2A "), Some(42));
        assert_eq!(parse_seed("1_000"), Some(1000));
        assert_eq!(parse_seed("x"), None);
        assert_eq!(parse_seed("-1"), None);
    }
}
