//! Round-trip time estimation and the retransmission timeout of one path
//! (RFC 9260 §6.3.1), with the back-off of §6.3.3 rule E2.

use std::time::Duration;

use crate::config::Config;

/// Clock granularity G of RFC 9260 §6.3.1 (rule C4: RTTVAR is never below it).
const GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT, RTTVAR and RTO of one destination.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
    alpha: u32,
    beta: u32,
}

impl RttEstimator {
    /// RFC 9260 §6.3.1 C1: until a measurement is made, RTO = RTO.Initial.
    pub fn new(config: &Config) -> Self {
        // A configuration with RTO.Min above RTO.Max is read as RTO.Max
        // for both rather than panicking.
        let max = config.rto_max;
        let min = config.rto_min.min(max);
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: config.rto_initial.clamp(min, max),
            min,
            max,
            alpha: config.rto_alpha_divisor.max(1),
            beta: config.rto_beta_divisor.max(1),
        }
    }

    /// Takes a round-trip measurement `r` (RFC 9260 §6.3.1 C2/C3).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                // C2: SRTT <- R, RTTVAR <- R/2.
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // C3: RTTVAR <- (1 - beta) RTTVAR + beta |SRTT - R'|,
                //     SRTT <- (1 - alpha) SRTT + alpha R'.
                let diff = srtt.abs_diff(r);
                self.rttvar = self.rttvar - self.rttvar / self.beta + diff / self.beta;
                self.srtt = Some(srtt - srtt / self.alpha + r / self.alpha);
            }
        }
        // C4: RTTVAR is at least the clock granularity.
        self.rttvar = self.rttvar.max(GRANULARITY);
        // C2/C3: RTO <- SRTT + 4 RTTVAR, then C6/C7 bounds.
        let srtt = self.srtt.unwrap_or_default();
        self.rto = (srtt + 4 * self.rttvar).clamp(self.min, self.max);
    }

    /// RFC 9260 §6.3.3 E2: on T3-rtx expiry RTO doubles, up to RTO.Max.
    pub fn back_off(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }

    /// The current retransmission timeout.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// The smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The round-trip time variation.
    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(min_ms: u64) -> Config {
        Config {
            rto_min: Duration::from_millis(min_ms),
            ..Config::default()
        }
    }

    /// RFC 9260 §6.3.1 C1, C2: initial RTO, then first measurement.
    #[test]
    fn first_measurement() {
        let mut e = RttEstimator::new(&cfg(10));
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        assert_eq!(e.rto(), Duration::from_millis(300));
    }

    /// RFC 9260 §6.3.1 C3 with alpha 1/8 and beta 1/4.
    #[test]
    fn later_measurements() {
        let mut e = RttEstimator::new(&cfg(10));
        e.sample(Duration::from_millis(100));
        e.sample(Duration::from_millis(200));
        // RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
        assert_eq!(e.rttvar(), Duration::from_micros(62_500));
        assert_eq!(e.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(e.rto(), Duration::from_micros(362_500));
    }

    /// RFC 9260 §6.3.1 C6, C7 and §6.3.3 E2: bounds and back-off.
    #[test]
    fn bounds_and_back_off() {
        let mut e = RttEstimator::new(&Config::default());
        e.sample(Duration::from_millis(1));
        assert_eq!(e.rto(), Duration::from_secs(1), "RTO.Min");
        for _ in 0..10 {
            e.back_off();
        }
        assert_eq!(e.rto(), Duration::from_secs(60), "RTO.Max");
    }
}

#[cfg(test)]
mod bad_config {
    use super::*;

    /// RTO.Min above RTO.Max must not panic; both are taken as RTO.Max.
    #[test]
    fn min_above_max() {
        let c = Config {
            rto_min: Duration::from_secs(5),
            rto_max: Duration::from_secs(1),
            ..Config::default()
        };
        let mut e = RttEstimator::new(&c);
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(1));
        e.back_off();
        assert_eq!(e.rto(), Duration::from_secs(1));
    }
}
