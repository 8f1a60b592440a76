//! Property test: the dispatcher with extreme user-controlled values —
//! group timings from 0 to Prometheus' 292-year cap, alerts starting or
//! ending at the ends of time — never panics (a panic would be caught by
//! the supervisor, so the test counts them) and flushes what it must.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::Config;
use crate::labels::LabelSet;

struct Counting {
    flushes: AtomicUsize,
    panics: AtomicUsize,
}

impl Deliver for Counting {
    fn deliver(&self, _flush: Flush) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { true })
    }

    fn task_panicked(&self, _task: &str) {
        self.panics.fetch_add(1, Ordering::SeqCst);
    }
}

/// Durations as a config may write them, the extremes weighted up.
fn duration() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("0s"),
        Just("1ms"),
        Just("1s"),
        Just("5m"),
        Just("4h"),
        Just("10y"),
        Just("292y"),
    ]
}

/// Group intervals: paused time fires every flush on the way, so the
/// smallest is 1 s (a millisecond over ten minutes is just many flushes).
fn interval() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("1s"),
        Just("5m"),
        Just("4h"),
        Just("10y"),
        Just("292y")
    ]
}

/// How far time moves between batches.
fn advance() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("0s"), Just("1ms"), Just("1s"), Just("5m"), Just("10m")]
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        Just(DateTime::<Utc>::MIN_UTC),
        Just(DateTime::<Utc>::MAX_UTC),
        Just(DateTime::<Utc>::UNIX_EPOCH),
        Just("2026-01-01T00:00:00Z".parse().unwrap()),
        (0i64..=253_402_300_799).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn extreme_timings_and_timestamps_never_panic(
        wait in duration(),
        interval in interval(),
        repeat in duration(),
        alerts in proptest::collection::vec((instant(), instant(), 0u8..3), 1..6),
        advances in proptest::collection::vec(advance(), 1..4),
    ) {
        let yaml = format!(
            "route:\n  receiver: r\n  group_by: [g]\n  group_wait: {wait}\n  group_interval: {interval}\n  repeat_interval: {repeat}\nreceivers: [{{name: r}}]\n"
        );
        // A config Alertmanager refuses (a zero interval) never runs.
        let Ok(cfg) = Config::load_str(&yaml, std::path::Path::new("t.yml"), &|_| None) else {
            return Ok(());
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let panics = rt.block_on(async move {
            let deliver = Arc::new(Counting { flushes: AtomicUsize::new(0), panics: AtomicUsize::new(0) });
            let clock = Clock::following_tokio("2026-01-01T00:00:00Z".parse().unwrap());
            let cancel = CancellationToken::new();
            let d = Dispatcher::start(
                Arc::new(Route::from_config(&cfg.route)),
                deliver.clone(),
                clock.clone(),
                cancel.clone(),
            );
            let batch: Vec<Arc<Alert>> = alerts
                .into_iter()
                .map(|(starts_at, ends_at, g)| {
                    Arc::new(Alert {
                        labels: [("alertname", "Extreme"), ("g", &g.to_string())].into_iter().collect(),
                        annotations: LabelSet::new(),
                        starts_at,
                        ends_at,
                        generator_url: "".into(),
                        updated_at: clock.now(),
                        timeout: false,
                        fingerprint_cache: Default::default(),
                    })
                })
                .collect();
            d.process(&batch);
            for step in advances {
                let step: crate::config::Duration = step.parse().unwrap();
                tokio::time::sleep(step.as_std()).await;
                d.process(&batch);
                let _ = d.groups();
            }
            d.stop();
            deliver.panics.load(Ordering::SeqCst)
        });
        prop_assert_eq!(panics, 0);
    }
}
