//! What Alertmanager's behaviour flags decide (limits, intervals, delays,
//! the cluster identity), handed from the command line to `App` in
//! [`crate::app::Options`].

use std::time::Duration;

use chrono::Utc;

/// Alertmanager's behaviour flags (limits, intervals, delays); `Default`
/// is Alertmanager's defaults.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// `--dispatch.start-delay`: no group flushes before start + this.
    pub dispatch_start_delay: Duration,
    /// `--dispatch.maintenance-interval`: how often finished aggregation
    /// groups are dropped from the dispatcher.
    pub dispatch_maintenance_interval: Duration,
    /// `--alerts.per-alertname-limit`; 0: none.
    pub per_alertname_limit: usize,
    /// `--silences.max-silences`; 0: none.
    pub max_silences: usize,
    /// `--silences.max-silence-size-bytes`; 0: none.
    pub max_silence_size_bytes: usize,
    /// `--log.silences`.
    pub log_silences: bool,
    /// `--data.maintenance-interval`: garbage collection of silences and
    /// the notification log.
    pub maintenance_interval: Duration,
    /// `--web.timeout`; `None`: klaxon's own [`crate::api::REQUEST_TIMEOUT`].
    pub web_timeout: Option<Duration>,
    /// `--web.get-concurrency`, resolved (never 0).
    pub get_concurrency: usize,
    /// Set by a non-empty `--cluster.listen-address`.
    pub cluster: Option<ClusterIdentity>,
    /// `--web.max-connections` and `--web.read-header-timeout` (klaxon's
    /// own), for every listener, the cluster port included.
    pub connections: crate::http_server::ConnectionLimits,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            dispatch_start_delay: Duration::ZERO,
            dispatch_maintenance_interval: Duration::from_secs(30),
            per_alertname_limit: 0,
            max_silences: 0,
            max_silence_size_bytes: 0,
            log_silences: false,
            maintenance_interval: Duration::from_secs(15 * 60),
            web_timeout: None,
            get_concurrency: Self::get_concurrency_or_default(0),
            cluster: None,
            connections: Default::default(),
        }
    }
}

impl Tuning {
    /// Alertmanager's rule: a limit of 0 means the number of CPUs or 8,
    /// whichever is larger.
    pub fn get_concurrency_or_default(limit: usize) -> usize {
        if limit > 0 {
            return limit;
        }
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        cpus.max(8)
    }
}

/// This instance as a cluster member (see `crate::cluster`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterIdentity {
    /// `--cluster.peer-name`, else a ULID made at start.
    pub name: String,
    /// `--cluster.advertise-address`, else `--cluster.listen-address`.
    pub address: String,
    /// `--cluster.listen-address`: where the cluster port is bound.
    pub listen_address: String,
    /// `--cluster.peer`, each replica's cluster address.
    pub peers: Vec<String>,
    /// `--cluster.label`.
    pub label: String,
    /// `--cluster.peer-timeout`: the fail-open stagger per position.
    pub peer_timeout: std::time::Duration,
    /// `--cluster.claim-ttl`.
    pub claim_ttl: std::time::Duration,
    /// `--cluster.fail-open`.
    pub fail_open: bool,
    /// `--cluster.tls-config`.
    pub tls_config: Option<std::path::PathBuf>,
}

/// A peer name as Alertmanager makes one: a ULID (48 bits of milliseconds
/// since the epoch, 80 random bits, in Crockford's base 32).
pub fn generate_peer_name() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let millis = u128::try_from(Utc::now().timestamp_millis()).unwrap_or(0) & ((1 << 48) - 1);
    let random = u128::from_be_bytes(*uuid::Uuid::new_v4().as_bytes()) & ((1 << 80) - 1);
    let value = (millis << 80) | random;
    (0..26)
        .rev()
        .map(|i| ALPHABET[((value >> (i * 5)) & 31) as usize] as char)
        .collect()
}
