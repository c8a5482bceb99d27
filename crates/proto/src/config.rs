//! Protocol parameters, named as RFC 9260 §16 and RFC 7829 name them (in snake
//! case) with the RFCs' default values, plus the limits that keep every queue
//! and buffer bounded.

use std::time::Duration;

/// Parameters of an endpoint and of the associations it creates.
#[derive(Debug, Clone)]
pub struct Config {
    /// RTO.Initial (RFC 9260 §16): 1 s.
    pub rto_initial: Duration,
    /// RTO.Min (RFC 9260 §16): 1 s.
    pub rto_min: Duration,
    /// RTO.Max (RFC 9260 §16): 60 s.
    pub rto_max: Duration,
    /// Max.Burst (RFC 9260 §16, §6.1): 4 packets sent at once on a path.
    pub max_burst: u32,
    /// RTO.Alpha (RFC 9260 §16, §6.3.1): 1/8, as a divisor.
    pub rto_alpha_divisor: u32,
    /// RTO.Beta (RFC 9260 §16, §6.3.1): 1/4, as a divisor.
    pub rto_beta_divisor: u32,
    /// Valid.Cookie.Life (RFC 9260 §16): 60 s.
    pub valid_cookie_life: Duration,
    /// Largest Cookie Preservative increment we grant (RFC 9260 §5.2.6).
    pub max_cookie_preservative: Duration,
    /// Association.Max.Retrans (RFC 9260 §16, §8.1): 10.
    pub association_max_retrans: u32,
    /// Path.Max.Retrans (RFC 9260 §16, §8.2): 5.
    pub path_max_retrans: u32,
    /// Max.Init.Retransmits (RFC 9260 §16, §5.1): 8.
    pub max_init_retransmits: u32,
    /// HB.interval (RFC 9260 §16, §8.3): 30 s.
    pub hb_interval: Duration,
    /// HB.Max.Burst (RFC 9260 §16, §5.4): 1 heartbeat to unconfirmed addresses
    /// per RTO.
    pub hb_max_burst: u32,
    /// PFMR, Potentially Failed Max Retrans (RFC 7829 §5): 0 as RFC 7829
    /// recommends; `None` disables SCTP-PF.
    pub pf_max_retrans: Option<u32>,
    /// Primary Path Switchover (RFC 7829 §6): when the primary becomes
    /// potentially failed, make the alternate that takes over the new primary
    /// instead of returning to the old one when it recovers. Off by default:
    /// traffic returns to the primary, as the reference experiment shows.
    pub primary_switchover: bool,
    /// Delayed SACK timeout (RFC 9260 §6.2): 200 ms, at most 500 ms.
    pub sack_delay: Duration,
    /// Acknowledge at least every this many packets with DATA (RFC 9260
    /// §6.2): 2.
    pub sack_freq: u32,
    /// Set the I bit (RFC 7053 §4.1) on the last DATA chunk sent when the
    /// send queue runs empty, so that the peer acknowledges at once instead
    /// of after its delayed-SACK timeout. This keeps an RTO below the peer's
    /// SACK delay (sub-second failover settings) from expiring spuriously on
    /// a lone packet. On by default.
    pub sack_immediately_when_idle: bool,
    /// Outbound streams we ask for in INIT/INIT ACK (RFC 9260 §3.3.2).
    pub outbound_streams: u16,
    /// Most inbound streams we accept (RFC 9260 §3.3.2 MIS).
    pub max_inbound_streams: u16,
    /// Receive window advertised when empty, in bytes (RFC 9260 §6.2); at
    /// least 1500 (RFC 9260 §3.3.2).
    pub receive_window: u32,
    /// Bytes the application may queue for sending, including data sent but
    /// not yet acknowledged.
    pub send_buffer: usize,
    /// Largest single user message accepted by `send`.
    pub max_message_size: usize,
    /// Path MTU assumed for a new path before discovery (RFC 9260 §7.3).
    pub initial_pmtu: u32,
    /// Gap ack blocks reported in one SACK at most.
    pub max_gap_blocks: usize,
    /// Duplicate TSNs remembered between two SACKs at most.
    pub max_dup_tsns: usize,
    /// TSNs beyond the cumulative ack point the receiver tracks at most.
    pub max_tsns_ahead: u32,
    /// Most peer addresses kept for one association (addresses beyond this
    /// in INIT/INIT ACK are ignored).
    pub max_peer_addresses: usize,
    /// Most associations an endpoint holds; INITs beyond it are answered with
    /// ABORT (Out of Resource) once their COOKIE ECHO arrives.
    pub max_associations: usize,
    /// Control chunks (HEARTBEAT ACKs, ERRORs, …) queued at most per
    /// association, and stateless answers (INIT ACKs, out-of-the-blue
    /// replies) queued at most per endpoint; beyond it new ones are
    /// dropped, so a peer flooding us cannot grow memory when the driver
    /// does not drain.
    pub max_control_chunks: usize,
    /// Events queued for the application at most; beyond it the oldest are
    /// dropped and counted.
    pub max_queued_events: usize,
    /// Seed of the deterministic generator for verification tags, initial
    /// TSNs and heartbeat nonces, used when [`Config::rng_secret`] is
    /// `None` (the simulator and tests: runs are reproducible from it). That
    /// generator is not cryptographically secure: nonces travel in clear and
    /// a few reveal its state.
    pub rng_seed: u64,
    /// When `Some`, the endpoint's generator for verification tags, initial
    /// TSNs and heartbeat nonces is a CSPRNG (ChaCha20) keyed with these 32
    /// bytes, and [`Config::rng_seed`] is ignored; each association gets its
    /// own generator drawn from it. It must be secret and random: the
    /// runtime (`msctp`) fills it from the operating system. Kept apart from
    /// [`Config::cookie_secret`]. Default `None`.
    pub rng_secret: Option<[u8; 32]>,
    /// Secret key for State Cookie MACs (RFC 9260 §5.1.3). The runtime fills
    /// it from the OS; the simulator derives it from its seed.
    pub cookie_secret: [u8; 32],
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            max_burst: 4,
            rto_alpha_divisor: 8,
            rto_beta_divisor: 4,
            valid_cookie_life: Duration::from_secs(60),
            max_cookie_preservative: Duration::from_secs(60),
            association_max_retrans: 10,
            path_max_retrans: 5,
            max_init_retransmits: 8,
            hb_interval: Duration::from_secs(30),
            hb_max_burst: 1,
            pf_max_retrans: Some(0),
            primary_switchover: false,
            sack_delay: Duration::from_millis(200),
            sack_freq: 2,
            sack_immediately_when_idle: true,
            outbound_streams: 10,
            max_inbound_streams: 2048,
            receive_window: 1 << 20,
            send_buffer: 4 << 20,
            max_message_size: 16 << 20,
            initial_pmtu: 1500,
            max_gap_blocks: 64,
            max_dup_tsns: 32,
            max_tsns_ahead: 1 << 16,
            max_peer_addresses: 16,
            max_associations: 1024,
            max_control_chunks: 1024,
            max_queued_events: 4096,
            rng_seed: 0,
            rng_secret: None,
            cookie_secret: [0; 32],
        }
    }
}

/// Generates one builder-style setter per field, so that a configuration
/// reads as a list of RFC names: `Config::default().rto_min(ms(100))`.
macro_rules! setters {
    ($($name:ident: $ty:ty),* $(,)?) => {
        impl Config {
            $(
                #[doc = concat!("Returns the configuration with [`Config::", stringify!($name), "`] set to `value`.")]
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    rto_initial: Duration,
    rto_min: Duration,
    rto_max: Duration,
    max_burst: u32,
    rto_alpha_divisor: u32,
    rto_beta_divisor: u32,
    valid_cookie_life: Duration,
    max_cookie_preservative: Duration,
    association_max_retrans: u32,
    path_max_retrans: u32,
    max_init_retransmits: u32,
    hb_interval: Duration,
    hb_max_burst: u32,
    pf_max_retrans: Option<u32>,
    primary_switchover: bool,
    sack_delay: Duration,
    sack_freq: u32,
    sack_immediately_when_idle: bool,
    outbound_streams: u16,
    max_inbound_streams: u16,
    receive_window: u32,
    send_buffer: usize,
    max_message_size: usize,
    initial_pmtu: u32,
    max_gap_blocks: usize,
    max_dup_tsns: usize,
    max_tsns_ahead: u32,
    max_peer_addresses: usize,
    max_associations: usize,
    max_control_chunks: usize,
    max_queued_events: usize,
    rng_seed: u64,
    rng_secret: Option<[u8; 32]>,
    cookie_secret: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9260 §16 and RFC 7829 defaults, and the builder setters.
    #[test]
    fn defaults_and_builder() {
        let d = Config::default();
        assert_eq!(d.rto_initial, Duration::from_secs(1));
        assert_eq!(d.rto_min, Duration::from_secs(1));
        assert_eq!(d.rto_max, Duration::from_secs(60));
        assert_eq!(d.max_burst, 4);
        assert_eq!(d.valid_cookie_life, Duration::from_secs(60));
        assert_eq!(d.association_max_retrans, 10);
        assert_eq!(d.path_max_retrans, 5);
        assert_eq!(d.max_init_retransmits, 8);
        assert_eq!(d.hb_interval, Duration::from_secs(30));
        assert_eq!(d.hb_max_burst, 1);
        assert_eq!(d.pf_max_retrans, Some(0));
        let c = Config::default()
            .rto_min(Duration::from_millis(100))
            .rto_max(Duration::from_secs(1))
            .pf_max_retrans(None);
        assert_eq!(c.rto_min, Duration::from_millis(100));
        assert_eq!(c.rto_max, Duration::from_secs(1));
        assert_eq!(c.pf_max_retrans, None);
        assert_eq!(c.hb_interval, d.hb_interval);
    }
}
