//! The server's command line: every flag Alertmanager 0.34 registers, with
//! its name, default and kingpin's syntax (`--flag=value`, `--flag value`,
//! `--flag` / `--no-flag` for booleans), so a unit file, a Helm chart or the
//! Prometheus Operator only needs the binary name changed.
//!
//! Flags whose meaning exists in klaxon become [`Tuning`] and friends; the
//! Go-runtime and gossip ones are accepted, and [`Flags::log_effects`] says
//! once that they do nothing.

pub mod go_duration;

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::app::{ClusterIdentity, Tuning};
use crate::features::{FeatureError, Features};

/// Alertmanager's flags, one field each (kingpin's help text, shortened).
#[derive(Debug, Parser)]
#[command(
    name = "klaxon",
    version,
    about = "A drop-in replacement for Prometheus Alertmanager"
)]
pub struct Flags {
    /// Alertmanager configuration file name.
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    pub config_file: PathBuf,
    /// Base path for data storage (the redb store).
    #[arg(long = "storage.path", default_value = "data/")]
    pub storage_path: PathBuf,
    /// How long to keep data for: expired silences, resolved alerts and the
    /// notification log. Go's grammar (`120h`) or Prometheus' (`5d`).
    #[arg(long = "data.retention", default_value = "120h", value_parser = any_duration)]
    pub retention: Duration,
    /// Interval between garbage collections of the silences and the
    /// notification log (klaxon writes both to disk on every change).
    #[arg(long = "data.maintenance-interval", default_value = "15m", value_parser = any_duration)]
    pub maintenance_interval: Duration,
    /// Maximum number of silences, expired ones included; 0 or less: no limit.
    #[arg(long = "silences.max-silences", default_value = "0", allow_negative_numbers = true, value_parser = go_int)]
    pub max_silences: i64,
    /// Maximum size of one silence in bytes (as Alertmanager measures it,
    /// protobuf-encoded); 0 or less: no limit.
    #[arg(long = "silences.max-silence-size-bytes", default_value = "0", allow_negative_numbers = true, value_parser = go_int)]
    pub max_silence_size_bytes: i64,
    /// Log every silence created, updated or expired.
    #[arg(long = "log.silences", num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = go_bool, overrides_with = "no_log_silences")]
    pub log_silences: bool,
    #[arg(long = "no-log.silences", hide = true, action = ArgAction::SetTrue, overrides_with = "log_silences")]
    no_log_silences: bool,
    /// Interval between garbage collections of resolved alerts.
    #[arg(long = "alerts.gc-interval", default_value = "30m", value_parser = any_duration)]
    pub gc_interval: Duration,
    /// Maximum number of firing alerts per alert name; 0 or less: no limit.
    #[arg(long = "alerts.per-alertname-limit", default_value = "0", allow_negative_numbers = true, value_parser = go_int)]
    pub per_alertname_limit: i64,
    /// Interval between removals of finished aggregation groups.
    #[arg(long = "dispatch.maintenance-interval", default_value = "30s", value_parser = any_duration)]
    pub dispatch_maintenance_interval: Duration,
    /// Minimum time after start before alerts are dispatched; keep it in step
    /// with Prometheus' --rules.alert.resend-delay.
    #[arg(long = "dispatch.start-delay", default_value = "0s", value_parser = any_duration)]
    pub dispatch_start_delay: Duration,

    /// Addresses to listen on for the web interface and API (repeatable).
    #[arg(long = "web.listen-address", default_value = ":9093", action = ArgAction::Append)]
    pub listen_address: Vec<String>,
    /// Use the listeners systemd passes (socket activation) instead of
    /// --web.listen-address.
    #[arg(long = "web.systemd-socket", num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = go_bool, overrides_with = "no_systemd_socket")]
    pub systemd_socket: bool,
    #[arg(long = "no-web.systemd-socket", hide = true, action = ArgAction::SetTrue, overrides_with = "systemd_socket")]
    no_systemd_socket: bool,
    /// TLS and basic-auth settings file (Prometheus web config format).
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<PathBuf>,
    /// The URL under which klaxon is externally reachable (for example when
    /// behind a reverse proxy); used in notifications and links.
    #[arg(long = "web.external-url")]
    pub external_url: Option<String>,
    /// Prefix for the internal routes; defaults to the external URL's path.
    #[arg(long = "web.route-prefix")]
    pub route_prefix: Option<String>,
    /// Maximum number of GET requests served at once; 0 or less: the number
    /// of CPUs or 8, whichever is larger.
    #[arg(long = "web.get-concurrency", default_value = "0", allow_negative_numbers = true, value_parser = go_int)]
    pub get_concurrency: i64,
    /// Timeout for HTTP requests; 0 or less: klaxon's own 60 s bound.
    #[arg(long = "web.timeout", default_value = "0", allow_negative_numbers = true, value_parser = any_duration)]
    pub web_timeout: Duration,
    /// Connections open at once on each listener; beyond it a client gets
    /// a 503 and the connection is closed. klaxon's own.
    #[arg(long = "web.max-connections", default_value_t = crate::http_server::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Time a client has to send a request's header, and that an idle
    /// keep-alive connection is kept; then it is closed. klaxon's own.
    #[arg(long = "web.read-header-timeout", default_value = "10s", value_parser = any_duration)]
    pub read_header_timeout: Duration,

    /// Only log messages at or above this level: debug, info, warn, error.
    #[arg(long = "log.level", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    pub log_level: String,
    /// Log format: logfmt or json.
    #[arg(long = "log.format", default_value = "logfmt", value_parser = ["logfmt", "json"])]
    pub log_format: String,

    /// Go runtime only (GOMEMLIMIT); accepted, no effect in klaxon
    /// [default: 0.9].
    #[arg(long = "auto-gomemlimit.ratio", allow_negative_numbers = true)]
    pub auto_gomemlimit_ratio: Option<f64>,
    /// Comma-separated features to enable (repeatable): alert-names-in-metrics,
    /// receiver-name-in-metrics, group-key-in-metrics, classic-mode,
    /// utf8-strict-mode, auto-gomemlimit, event-recorder.
    #[arg(long = "enable-feature", action = ArgAction::Append)]
    pub enable_feature: Vec<String>,

    /// Listen address for the cluster; empty disables HA mode. klaxon has
    /// no gossip yet: a non-empty address makes it a one-member cluster.
    #[arg(long = "cluster.listen-address", default_value = "")]
    pub cluster_listen_address: String,
    /// Explicit address to advertise in the cluster.
    #[arg(long = "cluster.advertise-address", default_value = "")]
    pub cluster_advertise_address: String,
    /// Explicit name of the peer, rather than a generated one.
    #[arg(long = "cluster.peer-name", default_value = "")]
    pub cluster_peer_name: String,
    /// Initial peers (repeatable).
    #[arg(long = "cluster.peer", action = ArgAction::Append)]
    pub cluster_peer: Vec<String>,
    /// Time to wait between peers to send notifications.
    #[arg(long = "cluster.peer-timeout", default_value = "15s", value_parser = any_duration)]
    pub cluster_peer_timeout: Duration,
    /// Time to resolve peers.
    #[arg(long = "cluster.peers-resolve-timeout", default_value = "15s", value_parser = any_duration)]
    pub cluster_peers_resolve_timeout: Duration,
    /// Interval between sending gossip messages.
    #[arg(long = "cluster.gossip-interval", default_value = "200ms", value_parser = any_duration)]
    pub cluster_gossip_interval: Duration,
    /// Interval for gossip state syncs.
    #[arg(long = "cluster.pushpull-interval", default_value = "1m0s", value_parser = any_duration)]
    pub cluster_pushpull_interval: Duration,
    /// Timeout for a stream connection with a remote node.
    #[arg(long = "cluster.tcp-timeout", default_value = "10s", value_parser = any_duration)]
    pub cluster_tcp_timeout: Duration,
    /// Timeout to wait for an ack from a probed node.
    #[arg(long = "cluster.probe-timeout", default_value = "500ms", value_parser = any_duration)]
    pub cluster_probe_timeout: Duration,
    /// Interval between random node probes.
    #[arg(long = "cluster.probe-interval", default_value = "1s", value_parser = any_duration)]
    pub cluster_probe_interval: Duration,
    /// Maximum time to wait for cluster connections to settle.
    #[arg(long = "cluster.settle-timeout", default_value = "1m0s", value_parser = any_duration)]
    pub cluster_settle_timeout: Duration,
    /// Interval between attempts to reconnect to lost peers.
    #[arg(long = "cluster.reconnect-interval", default_value = "10s", value_parser = any_duration)]
    pub cluster_reconnect_interval: Duration,
    /// How long to try to reconnect to a lost peer.
    #[arg(long = "cluster.reconnect-timeout", default_value = "6h0m0s", value_parser = any_duration)]
    pub cluster_reconnect_timeout: Duration,
    /// Mutual-TLS settings file for the gossip protocol.
    #[arg(long = "cluster.tls-config", default_value = "")]
    pub cluster_tls_config: String,
    /// Allow discovering and listening on a public IP address.
    #[arg(long = "cluster.allow-insecure-public-advertise-address-discovery", num_args = 0..=1, require_equals = true, default_value = "false", default_missing_value = "true", value_parser = go_bool, overrides_with = "no_cluster_allow_insecure")]
    pub cluster_allow_insecure: bool,
    #[arg(long = "no-cluster.allow-insecure-public-advertise-address-discovery", hide = true, action = ArgAction::SetTrue, overrides_with = "cluster_allow_insecure")]
    no_cluster_allow_insecure: bool,
    /// kingpin's long help and man page: klaxon prints its help for both.
    #[arg(long = "help-long", action = ArgAction::HelpLong, hide = true)]
    help_long: Option<bool>,
    #[arg(long = "help-man", action = ArgAction::HelpLong, hide = true)]
    help_man: Option<bool>,
    /// A label on every cluster message, so clusters do not mix.
    #[arg(long = "cluster.label", default_value = "")]
    pub cluster_label: String,
    /// klaxon: how long a replica's claim to send a notification lasts;
    /// another replica takes over when it lapses.
    #[arg(long = "cluster.claim-ttl", default_value = "30s", value_parser = any_duration)]
    pub cluster_claim_ttl: Duration,
    /// klaxon: without a quorum, send anyway after the stagger (true, as
    /// Alertmanager) or send nothing (false).
    #[arg(long = "cluster.fail-open", num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true", value_parser = go_bool)]
    pub cluster_fail_open: bool,
}

/// A flag value klaxon refuses after parsing (Alertmanager's checks).
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    #[error("error parsing the feature flag list: {0}")]
    Features(#[from] FeatureError),
    #[error("--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1.")]
    MemlimitRatio,
}

impl Flags {
    /// `--enable-feature`, every occurrence combined; unknown names and
    /// contradictions are refused with Alertmanager's messages.
    pub fn features(&self) -> Result<Features, FlagError> {
        let mut features = Features::default();
        for value in &self.enable_feature {
            features = features.merge(Features::parse(value)?)?;
        }
        let ratio = self.auto_gomemlimit_ratio.unwrap_or(0.9);
        if features.auto_gomemlimit && !(ratio > 0.0 && ratio <= 1.0) {
            return Err(FlagError::MemlimitRatio);
        }
        Ok(features)
    }

    /// What the behaviour flags decide, with Alertmanager's "0 or less
    /// means none" read as `0` / `None`.
    pub fn tuning(&self) -> Tuning {
        let non_negative = |v: i64| usize::try_from(v).unwrap_or(0);
        Tuning {
            dispatch_start_delay: self.dispatch_start_delay,
            dispatch_maintenance_interval: self.dispatch_maintenance_interval,
            per_alertname_limit: non_negative(self.per_alertname_limit),
            max_silences: non_negative(self.max_silences),
            max_silence_size_bytes: non_negative(self.max_silence_size_bytes),
            log_silences: self.log_silences,
            maintenance_interval: self.maintenance_interval,
            web_timeout: (!self.web_timeout.is_zero()).then_some(self.web_timeout),
            get_concurrency: Tuning::get_concurrency_or_default(non_negative(self.get_concurrency)),
            cluster: self.cluster(),
            connections: crate::http_server::ConnectionLimits {
                max_connections: self.max_connections.max(1),
                header_read_timeout: if self.read_header_timeout.is_zero() {
                    crate::http_server::DEFAULT_HEADER_READ_TIMEOUT
                } else {
                    self.read_header_timeout
                },
            },
        }
    }

    /// The one-member cluster a non-empty `--cluster.listen-address` asks for.
    fn cluster(&self) -> Option<ClusterIdentity> {
        if self.cluster_listen_address.is_empty() {
            return None;
        }
        let address = if self.cluster_advertise_address.is_empty() {
            &self.cluster_listen_address
        } else {
            &self.cluster_advertise_address
        };
        let name = if self.cluster_peer_name.is_empty() {
            crate::app::generate_peer_name()
        } else {
            self.cluster_peer_name.clone()
        };
        Some(ClusterIdentity {
            name,
            address: unbracketed(address),
            listen_address: self.cluster_listen_address.clone(),
            peers: self.cluster_peer.clone(),
            label: self.cluster_label.clone(),
            peer_timeout: self.cluster_peer_timeout,
            claim_ttl: self.cluster_claim_ttl,
            fail_open: self.cluster_fail_open,
            tls_config: (!self.cluster_tls_config.is_empty())
                .then(|| self.cluster_tls_config.clone().into()),
        })
    }

    /// Says once what the command line turned on (Alertmanager's warning
    /// per enabled feature) and what it asked for that changes nothing in
    /// klaxon: the gossip settings (no clustering yet) and Go-runtime ones.
    pub fn log_effects(&self, features: &Features) {
        for message in features.enabled_messages() {
            tracing::warn!("{message}");
        }
        if self.cluster_listen_address.is_empty() && !self.cluster_peer.is_empty() {
            tracing::warn!(
                peers = self.cluster_peer.len(),
                "--cluster.peer without --cluster.listen-address: running as a single instance"
            );
        }
        let gossip_only = [
            (
                "cluster.gossip-interval",
                self.cluster_gossip_interval != Duration::from_millis(200),
            ),
            (
                "cluster.pushpull-interval",
                self.cluster_pushpull_interval != Duration::from_secs(60),
            ),
            (
                "cluster.tcp-timeout",
                self.cluster_tcp_timeout != Duration::from_secs(10),
            ),
            (
                "cluster.probe-timeout",
                self.cluster_probe_timeout != Duration::from_millis(500),
            ),
            (
                "cluster.probe-interval",
                self.cluster_probe_interval != Duration::from_secs(1),
            ),
            (
                "cluster.reconnect-interval",
                self.cluster_reconnect_interval != Duration::from_secs(10),
            ),
            (
                "cluster.reconnect-timeout",
                self.cluster_reconnect_timeout != Duration::from_secs(6 * 3600),
            ),
        ];
        for (setting, _) in gossip_only.iter().filter(|(_, set)| *set) {
            tracing::warn!(
                setting,
                "gossip setting accepted for compatibility; klaxon's replicas use Raft, it has no effect"
            );
        }
        let go_runtime = [
            (features.auto_gomemlimit, "auto-gomemlimit"),
            (
                self.auto_gomemlimit_ratio.is_some(),
                "auto-gomemlimit.ratio",
            ),
        ];
        for (_, setting) in go_runtime.iter().filter(|(on, _)| *on) {
            tracing::warn!(setting, "accepted for compatibility, no effect in klaxon");
        }
        if self.per_alertname_limit > 0 {
            tracing::info!(
                limit = self.per_alertname_limit,
                "per alert name limit enabled"
            );
        }
    }
}

/// `[10.0.0.5]:9094` (charts write `[$(POD_IP)]:9094`) as Go resolves it,
/// `10.0.0.5:9094`; IPv6 keeps its brackets.
fn unbracketed(address: &str) -> String {
    if let Some((host, port)) = address
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("]:"))
        && host.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return format!("{host}:{port}");
    }
    address.to_owned()
}

/// Go's grammar first (what Alertmanager parses), then Prometheus' (`1d`,
/// `1w`), which klaxon accepted before and configs use.
fn any_duration(s: &str) -> Result<Duration, String> {
    match go_duration::parse(s) {
        Ok(d) => Ok(d),
        Err(go) => s
            .parse::<crate::config::Duration>()
            .map(|d| d.as_std())
            .map_err(|_| go.to_string()),
    }
}

/// kingpin's `Int`: Go's `strconv.ParseInt(s, 0, 64)`, so `0x10`, `0o17`
/// and `0b11` are numbers too.
fn go_int(s: &str) -> Result<i64, String> {
    let invalid = || format!("strconv.ParseInt: parsing {s:?}: invalid syntax");
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(invalid());
    }
    let magnitude = i128::from_str_radix(digits, radix).map_err(|_| invalid())?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| format!("strconv.ParseInt: parsing {s:?}: value out of range"))
}

/// Go's `strconv.ParseBool`, as kingpin reads `--flag=value` for booleans.
fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, clap::Error> {
        Flags::try_parse_from(std::iter::once("klaxon").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_alertmanagers() {
        let f = parse(&[]).unwrap();
        assert_eq!(f.retention, Duration::from_secs(120 * 3600));
        assert_eq!(f.maintenance_interval, Duration::from_secs(15 * 60));
        assert_eq!(f.dispatch_maintenance_interval, Duration::from_secs(30));
        assert_eq!(f.dispatch_start_delay, Duration::ZERO);
        assert_eq!(f.listen_address, [":9093"]);
        assert!(!f.log_silences);
        let t = f.tuning();
        assert_eq!(t.max_silences, 0);
        assert_eq!(t.web_timeout, None);
        assert!(t.get_concurrency >= 8);
        assert!(t.cluster.is_none());
    }

    #[test]
    fn values_are_read_with_equals_or_as_the_next_argument() {
        let f = parse(&["--dispatch.start-delay", "1m30s", "--web.timeout=1.5s"]).unwrap();
        assert_eq!(f.dispatch_start_delay, Duration::from_secs(90));
        assert_eq!(f.web_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn durations_take_gos_and_prometheus_grammar() {
        for (text, secs) in [
            ("120h", 432_000),
            ("5d", 432_000),
            ("1w", 604_800),
            ("0s", 0),
        ] {
            let f = parse(&[&format!("--data.retention={text}")]).unwrap();
            assert_eq!(f.retention, Duration::from_secs(secs), "{text}");
        }
        let err = parse(&["--data.retention=5 days"]).unwrap_err().to_string();
        assert!(err.contains(r#"time: invalid duration "5 days""#), "{err}");
    }

    #[test]
    fn booleans_take_kingpins_forms() {
        assert!(parse(&["--log.silences"]).unwrap().log_silences);
        assert!(parse(&["--log.silences=true"]).unwrap().log_silences);
        assert!(!parse(&["--log.silences=false"]).unwrap().log_silences);
        assert!(
            !parse(&["--log.silences", "--no-log.silences"])
                .unwrap()
                .log_silences
        );
        assert!(
            parse(&["--no-log.silences", "--log.silences"])
                .unwrap()
                .log_silences
        );
        let f = parse(&["--no-web.systemd-socket"]).unwrap();
        assert!(!f.systemd_socket);
        assert!(parse(&["--log.silences=maybe"]).is_err());
    }

    #[test]
    fn integers_take_gos_forms_and_negative_means_no_limit() {
        let f = parse(&[
            "--silences.max-silences",
            "-1",
            "--web.get-concurrency=0x10",
        ])
        .unwrap();
        assert_eq!(f.max_silences, -1);
        assert_eq!(f.tuning().max_silences, 0);
        assert_eq!(f.tuning().get_concurrency, 16);
        assert!(parse(&["--alerts.per-alertname-limit=ten"]).is_err());
    }

    #[test]
    fn repeatable_flags_collect_every_value() {
        let f = parse(&[
            "--web.listen-address=:9093",
            "--web.listen-address=127.0.0.1:9095",
            "--cluster.peer=a:9094",
            "--cluster.peer=b:9094",
            "--enable-feature=receiver-name-in-metrics",
            "--enable-feature=utf8-strict-mode,group-key-in-metrics",
        ])
        .unwrap();
        assert_eq!(f.listen_address, [":9093", "127.0.0.1:9095"]);
        assert_eq!(f.cluster_peer.len(), 2);
        let features = f.features().unwrap();
        assert!(features.receiver_name_in_metrics);
        assert!(features.utf8_strict_mode && features.group_key_in_metrics);
    }

    #[test]
    fn an_unknown_feature_is_refused_with_alertmanagers_message() {
        let f = parse(&["--enable-feature=warp-drive"]).unwrap();
        assert_eq!(
            f.features().unwrap_err().to_string(),
            "error parsing the feature flag list: unknown option 'warp-drive' for --enable-feature"
        );
        let f = parse(&[
            "--enable-feature=classic-mode",
            "--enable-feature=utf8-strict-mode",
        ])
        .unwrap();
        assert!(f.features().is_err());
    }

    #[test]
    fn the_memlimit_ratio_is_checked_only_with_its_feature() {
        let f = parse(&["--auto-gomemlimit.ratio=1.5"]).unwrap();
        assert!(f.features().is_ok());
        let f = parse(&[
            "--auto-gomemlimit.ratio=1.5",
            "--enable-feature=auto-gomemlimit",
        ])
        .unwrap();
        assert_eq!(
            f.features().unwrap_err().to_string(),
            "--auto-gomemlimit.ratio must be greater than 0 and less than or equal to 1."
        );
    }

    #[test]
    fn kingpins_help_flags_print_help() {
        for flag in ["--help", "-h", "--help-long", "--help-man"] {
            let err = parse(&[flag]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp, "{flag}");
        }
        assert_eq!(
            parse(&["--version"]).unwrap_err().kind(),
            clap::error::ErrorKind::DisplayVersion
        );
    }

    #[test]
    fn an_empty_cluster_address_disables_the_cluster() {
        let f = parse(&["--cluster.listen-address="]).unwrap();
        assert!(f.tuning().cluster.is_none());
        let f = parse(&["--cluster.listen-address=0.0.0.0:9094"]).unwrap();
        let cluster = f.tuning().cluster.unwrap();
        assert_eq!(cluster.address, "0.0.0.0:9094");
        assert_eq!(cluster.name.len(), 26);
        let f = parse(&[
            "--cluster.listen-address=0.0.0.0:9094",
            "--cluster.advertise-address=10.0.0.5:9094",
            "--cluster.peer-name=am-0",
        ])
        .unwrap();
        let cluster = f.tuning().cluster.unwrap();
        assert_eq!(
            (cluster.name.as_str(), cluster.address.as_str()),
            ("am-0", "10.0.0.5:9094")
        );
    }

    #[test]
    fn a_bracketed_ipv4_address_is_shown_as_go_resolves_it() {
        assert_eq!(unbracketed("[10.0.0.5]:9094"), "10.0.0.5:9094");
        assert_eq!(unbracketed("[::1]:9094"), "[::1]:9094");
        assert_eq!(unbracketed("0.0.0.0:9094"), "0.0.0.0:9094");
    }

    #[test]
    fn go_integers() {
        assert_eq!(go_int("42"), Ok(42));
        assert_eq!(go_int("-7"), Ok(-7));
        assert_eq!(go_int("0x1f"), Ok(31));
        assert_eq!(go_int("017"), Ok(15));
        assert_eq!(go_int("0b11"), Ok(3));
        assert!(go_int("").is_err());
        assert!(go_int("1e3").is_err());
        assert!(go_int("99999999999999999999").is_err());
    }
}
