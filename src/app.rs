//! Builds everything from a validated config, serves it, reloads it and
//! shuts it down. `App` owns all state: nothing is global.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::alert_store::AlertStore;
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::dispatch::{Dispatcher, Route};
use crate::event_recorder::{EventData, EventRecorder};
use crate::history::History;
use crate::inhibit::InhibitRule;
use crate::metrics::Metrics;
use crate::nflog::NotificationLog;
use crate::notify::pipeline::{Pipeline, PipelineState};
use crate::silence::Silences;
use crate::storage::Storage;

/// What the command line decides.
#[derive(Debug, Clone)]
pub struct Options {
    pub config_file: PathBuf,
    pub storage_path: PathBuf,
    /// The URL users reach klaxon at; shown in notifications.
    pub external_url: url::Url,
    /// Path prefix for every endpoint: "/" or "/alertmanager".
    pub route_prefix: String,
    /// How long expired silences and resolved alerts are kept.
    pub retention: Duration,
    pub gc_interval: Duration,
    pub clock: Clock,
    /// From `--web.config.file`; plain HTTP without auth by default.
    pub web: Arc<crate::web::LiveWeb>,
    /// From `--enable-feature`.
    pub features: crate::features::Features,
    /// What Alertmanager's behaviour flags decide.
    pub tuning: Tuning,
}

pub use crate::tuning::{ClusterIdentity, Tuning, generate_peer_name};

/// Everything derived from one loaded config; swapped whole on reload.
pub struct Runtime {
    pub config: Config,
    pub route: Arc<Route>,
    pub pipeline: Arc<Pipeline>,
    pub inhibit_rules: Vec<InhibitRule>,
    pub original: String,
    /// Each receiver's labels (`name` included), for `receiver_matchers`.
    pub receiver_labels: std::collections::HashMap<String, crate::labels::LabelSet>,
}

impl Runtime {
    fn new(
        config: Config,
        parts: PipelineState,
        file: &std::path::Path,
    ) -> Result<Self, ConfigError> {
        let pipeline = Pipeline::new(&config, parts).map_err(|e| ConfigError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: Some("receivers".into()),
            message: format!("building a notifier: {e}"),
        })?;
        let route = Arc::new(Route::from_config(&config.route));
        let inhibit_rules = config
            .inhibit_rules
            .iter()
            .map(InhibitRule::from_config)
            .collect();
        let original = config.original();
        let receiver_labels = config
            .receivers
            .iter()
            .map(|r| (r.name.clone(), r.label_set()))
            .collect();
        Ok(Self {
            config,
            route,
            pipeline: Arc::new(pipeline),
            inhibit_rules,
            original,
            receiver_labels,
        })
    }

    /// Alertmanager's config hash metric: the first six bytes of the MD5 of
    /// the config text, read as a number.
    fn hash(&self) -> f64 {
        let sum = Md5::digest(self.original.as_bytes());
        let mut bytes = [0u8; 8];
        bytes[2..].copy_from_slice(&sum[..6]);
        u64::from_be_bytes(bytes) as f64
    }
}

pub struct Shared {
    pub options: Options,
    pub alerts: Arc<AlertStore>,
    pub silences: Arc<Silences>,
    pub nflog: Arc<NotificationLog>,
    pub history: Arc<History>,
    /// `--enable-feature=event-recorder`'s recorder (off without it).
    pub events: EventRecorder,
    /// The replicas' cluster, with a `--cluster.listen-address`.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The store itself, for its size on disk (status page).
    pub storage: Storage,
    dispatcher: std::sync::Mutex<Option<Arc<Dispatcher>>>,
    /// Parent of every dispatcher's token: stopping the app stops them all.
    cancel: CancellationToken,
    pub metrics: Arc<Metrics>,
    pub started_at: DateTime<Utc>,
    /// Start plus `--dispatch.start-delay`, for every dispatcher (reloads
    /// included, as in Alertmanager).
    dispatch_start_at: tokio::time::Instant,
    runtime: RwLock<Arc<Runtime>>,
    reload_lock: tokio::sync::Mutex<()>,
    /// Open and refused connections of the API listeners.
    pub connections: Arc<crate::http_server::ConnectionCounts>,
}

/// Handle passed to every request handler and task.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.read().expect("runtime lock").clone()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.options.clock.now()
    }

    /// How label names are checked and matchers parsed (`--enable-feature`).
    pub fn name_mode(&self) -> crate::labels::NameMode {
        crate::labels::NameMode::from_features(&self.options.features)
    }

    /// Re-reads the config file. On error the running config stays.
    /// Reloads `alertmanager.yml` and the web config file; each keeps its
    /// running version when its new one fails, and the first error is
    /// returned.
    pub async fn reload(&self) -> Result<(), ConfigError> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let config = self.reload_config().await;
        let web = self.options.web.clone();
        let web = tokio::task::spawn_blocking(move || web.reload())
            .await
            .expect("web config load task");
        match &web {
            Ok(()) => {}
            Err(e) => {
                tracing::error!(error = %e, "web config reload failed; keeping the running one");
            }
        }
        config.and(web)
    }

    async fn reload_config(&self) -> Result<(), ConfigError> {
        let path = self.options.config_file.clone();
        let mode = self.name_mode();
        let loaded = tokio::task::spawn_blocking(move || Config::load_file_in(&path, mode))
            .await
            .expect("config load task");
        let file = &self.options.config_file;
        match loaded.and_then(|config| Runtime::new(config, self.pipeline_parts(), file)) {
            Ok(runtime) => {
                self.events.apply(&runtime.config.event_recorder).await;
                self.install(Arc::new(runtime));
                tracing::info!(file = %self.options.config_file.display(), "configuration reloaded");
                Ok(())
            }
            Err(e) => {
                self.metrics.config_last_reload_successful.set(0);
                tracing::error!(error = %e, "configuration reload failed; keeping the running configuration");
                Err(e)
            }
        }
    }

    /// How many aggregation groups the running dispatcher has.
    pub fn aggregation_groups(&self) -> usize {
        self.live_groups().len()
    }

    /// The running dispatcher's aggregation groups.
    pub fn live_groups(&self) -> Vec<Arc<crate::dispatch::group::AggregationGroup>> {
        self.dispatcher
            .lock()
            .expect("dispatcher lock")
            .as_ref()
            .map_or_else(Vec::new, |d| d.groups())
    }

    fn pipeline_parts(&self) -> PipelineState {
        PipelineState {
            metrics: self.metrics.clone(),
            alerts: self.alerts.clone(),
            silences: self.silences.clone(),
            nflog: self.nflog.clone(),
            history: self.history.clone(),
            events: self.events.clone(),
            cluster: self.cluster.clone(),
            external_url: self
                .options
                .external_url
                .to_string()
                .trim_end_matches('/')
                .to_owned(),
        }
    }

    /// Swaps in a new runtime and restarts dispatch on it. As in
    /// Alertmanager, every alert is routed again; the notification log
    /// keeps that from repeating notifications.
    fn install(&self, runtime: Arc<Runtime>) {
        let mut dispatcher = self.dispatcher.lock().expect("dispatcher lock");
        if let Some(old) = dispatcher.take() {
            old.stop();
        }
        let next = Dispatcher::start_with(
            runtime.route.clone(),
            runtime.pipeline.clone(),
            self.options.clock.clone(),
            self.cancel.child_token(),
            crate::dispatch::DispatchTiming {
                start_at: self.dispatch_start_at,
                maintenance_interval: self.options.tuning.dispatch_maintenance_interval,
            },
        );
        let subscriber: Arc<dyn crate::alert_store::Subscriber> = next.clone();
        let initial = self.alerts.subscribe(&subscriber);
        next.process(&initial);
        *dispatcher = Some(next);
        drop(dispatcher);
        runtime
            .config
            .template_set()
            .count_failures_in(self.metrics.template_render_failures.clone());
        self.metrics.config_hash.set(runtime.hash());
        if let Some(cluster) = &self.cluster {
            cluster.set_config_hash(runtime.hash() as u64);
        }
        self.metrics
            .receivers
            .set(runtime.config.receivers.len() as i64);
        self.metrics.config_last_reload_successful.set(1);
        self.metrics
            .config_last_reload_success_timestamp
            .set(self.now().timestamp() as f64);
        *self.runtime.write().expect("runtime lock") = runtime;
    }
}

/// A running klaxon.
pub struct App {
    state: AppState,
    addr: SocketAddr,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl App {
    /// Loads config and store, then serves on `listener` until shutdown.
    pub async fn start(options: Options, listener: tokio::net::TcpListener) -> anyhow::Result<App> {
        let name_mode = crate::labels::NameMode::from_features(&options.features);
        let config = Config::load_file_in(&options.config_file, name_mode).with_context(|| {
            format!(
                "loading configuration from {}",
                options.config_file.display()
            )
        })?;
        std::fs::create_dir_all(&options.storage_path)
            .with_context(|| format!("creating storage path {}", options.storage_path.display()))?;
        let storage = Storage::open(&options.storage_path)?;
        let alerts = Arc::new(
            AlertStore::load(storage.clone())
                .context("restoring alerts")?
                .with_per_alertname_limit(options.tuning.per_alertname_limit, options.clock.now()),
        );
        let silences = Arc::new(
            Silences::load(storage.clone())
                .context("restoring silences")?
                .with_name_mode(name_mode)
                .with_limits(crate::silence_limits::SilenceLimits {
                    max_silences: options.tuning.max_silences,
                    max_silence_size_bytes: options.tuning.max_silence_size_bytes,
                    log_silences: options.tuning.log_silences,
                    retention: options.retention,
                }),
        );
        let nflog = Arc::new(
            NotificationLog::load(storage.clone(), options.retention)
                .context("restoring the notification log")?,
        );
        let history = Arc::new(History::new(storage.clone()));
        // Written again whole after the store reopens from a failure.
        storage.on_recovery(Arc::downgrade(&alerts) as std::sync::Weak<AlertStore>);
        storage.on_recovery(Arc::downgrade(&silences) as std::sync::Weak<Silences>);
        storage.on_recovery(Arc::downgrade(&nflog) as std::sync::Weak<NotificationLog>);
        tracing::info!(
            alerts = alerts.len(),
            silences = silences.list().len(),
            "state restored from the store"
        );
        let started_at = options.clock.now();
        let dispatch_start_at = tokio::time::Instant::now() + options.tuning.dispatch_start_delay;
        if !options.tuning.dispatch_start_delay.is_zero() {
            tracing::info!(
                delay = %crate::flags::go_duration::format(options.tuning.dispatch_start_delay),
                "dispatching waits for --dispatch.start-delay"
            );
        }
        let external_url = options
            .external_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let metrics = Arc::new(Metrics::for_features(&options.features));
        metrics
            .limits
            .alerts_per_alert_limit
            .set(options.tuning.per_alertname_limit as i64);
        let cancel = CancellationToken::new();
        let cluster = match &options.tuning.cluster {
            Some(c) => Some(
                crate::cluster::Cluster::start(
                    crate::cluster::ClusterOptions {
                        listen_address: c.listen_address.clone(),
                        advertise_address: c.address.clone(),
                        peers: c.peers.clone(),
                        label: c.label.clone(),
                        name: c.name.clone(),
                        peer_timeout: c.peer_timeout,
                        claim_ttl: c.claim_ttl,
                        fail_open: c.fail_open,
                        metrics: metrics.cluster.clone(),
                        tls_config: c.tls_config.clone(),
                        task_panics: metrics.task_panics.clone(),
                    },
                    storage.clone(),
                    silences.clone(),
                    nflog.clone(),
                    cancel.clone(),
                )
                .await?,
            ),
            None => None,
        };
        let events = if options.features.event_recorder {
            EventRecorder::start(&config.event_recorder, hostname(), metrics.events.clone())
        } else {
            EventRecorder::off()
        };
        events.record(|| {
            EventData::AlertmanagerStartupEvent(crate::event_recorder::events::StartupEvent {
                version: crate::build_info::VERSION.to_owned(),
                build_context: crate::build_info::build_context(),
            })
        });
        let parts = PipelineState {
            metrics: metrics.clone(),
            alerts: alerts.clone(),
            silences: silences.clone(),
            nflog: nflog.clone(),
            history: history.clone(),
            events: events.clone(),
            cluster: cluster.clone(),
            external_url,
        };
        let runtime = Arc::new(
            Runtime::new(config, parts, &options.config_file).with_context(|| {
                format!(
                    "loading configuration from {}",
                    options.config_file.display()
                )
            })?,
        );
        let state = AppState(Arc::new(Shared {
            options,
            alerts,
            silences,
            nflog,
            history,
            events,
            cluster,
            storage,
            dispatcher: std::sync::Mutex::new(None),
            cancel: cancel.clone(),
            metrics,
            started_at,
            dispatch_start_at,
            runtime: RwLock::new(runtime.clone()),
            reload_lock: tokio::sync::Mutex::new(()),
            connections: Default::default(),
        }));
        state.install(runtime);

        let addr = listener.local_addr()?;
        // Each background loop is supervised: a panic is logged, counted
        // and the loop started again (see `supervise`).
        let counted = || {
            let metrics = state.metrics.clone();
            move |task: &'static str| metrics.task_panicked(task)
        };
        let tasks = vec![
            crate::supervise::spawn("alert_committer", counted(), cancel.clone(), {
                let (alerts, cancel) = (state.alerts.clone(), cancel.clone());
                move || alerts.clone().run_committer(cancel.clone())
            }),
            crate::supervise::spawn("storage_recovery", counted(), cancel.clone(), {
                let (storage, cancel) = (state.storage.clone(), cancel.clone());
                move || storage.clone().run_recovery(cancel.clone())
            }),
            crate::supervise::spawn("gc", counted(), cancel.clone(), {
                let (state, cancel) = (state.clone(), cancel.clone());
                move || run_gc(state.clone(), cancel.clone())
            }),
            crate::supervise::spawn("maintenance", counted(), cancel.clone(), {
                let (state, cancel) = (state.clone(), cancel.clone());
                move || run_maintenance(state.clone(), cancel.clone())
            }),
            serve(&state, listener, cancel.clone())?,
        ];
        // exporter-toolkit's words: Alertmanager's acceptance harness finds
        // the port of `--web.listen-address=127.0.0.1:0` in this line.
        tracing::info!(address = %addr, "Listening on");
        Ok(App {
            state,
            addr,
            cancel,
            tasks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves the same API on one more listener (a repeated
    /// `--web.listen-address`, or another socket from systemd).
    pub fn serve_also(&mut self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        self.tasks
            .push(serve(&self.state, listener, self.cancel.clone())?);
        tracing::info!(address = %addr, "Listening on");
        Ok(())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A token that stops the app when cancelled (signals, tests).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Resolves when something cancelled the app.
    pub async fn stopped(&self) {
        self.cancel.cancelled().await
    }

    /// Stops serving, commits pending alerts and waits for every task.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
        let dispatcher = self
            .state
            .dispatcher
            .lock()
            .expect("dispatcher lock")
            .take();
        if let Some(d) = dispatcher {
            d.stop();
            d.stopped().await;
        }
        if let Err(e) = self.state.alerts.commit().await {
            tracing::error!(error = %e, "final commit failed");
        }
        if let Err(e) = self.state.alerts.compact().await {
            tracing::error!(error = %e, "compacting the alert log at shutdown failed");
        }
        let events = &self.state.events;
        events.record(|| {
            EventData::AlertmanagerShutdownEvent(crate::event_recorder::events::Empty {})
        });
        events.close().await;
        if let Some(c) = &self.state.cluster {
            c.shutdown().await;
        }
    }
}

/// Serves the API and UI on `listener` (TLS when the web config asks)
/// until `shutdown`.
fn serve(
    state: &AppState,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let web = state.options.web.clone();
    let router = web.wrap(crate::api::router(state.clone()));
    let limits = state.options.tuning.connections;
    let counts = state.connections.clone();
    Ok(match web.current().tls {
        None => tokio::spawn(crate::http_server::serve(
            axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
                crate::http_server::no_delay(tcp)
            }),
            router,
            limits,
            counts,
            shutdown,
        )),
        Some(_) => {
            let listener = crate::web::TlsListener::new(listener, web)?;
            tokio::spawn(crate::http_server::serve(
                listener, router, limits, counts, shutdown,
            ))
        }
    })
}

/// This host's name, as Alertmanager names itself in events.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

fn retention(state: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(state.options.retention).unwrap_or(chrono::Duration::MAX)
}

/// Drops long-resolved alerts and old notification history every
/// `--alerts.gc-interval`.
async fn run_gc(state: AppState, cancel: CancellationToken) {
    crate::periodic::every(state.options.gc_interval, cancel, || {
        collect_garbage(&state)
    })
    .await
}

async fn collect_garbage(state: &AppState) {
    let now = state.now();
    let retention = retention(state);
    let alerts = state.alerts.gc(now, retention);
    let cutoff = now
        .checked_sub_signed(retention)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    if let Err(e) = state.history.gc(cutoff).await {
        tracing::error!(error = %e, "notification history garbage collection failed");
    }
    if alerts > 0 {
        tracing::debug!(alerts, "garbage collected");
    }
}

/// Alertmanager's `--data.maintenance-interval`: drops expired silences
/// and notification log entries past their retention. (Its other half,
/// writing a snapshot, has no counterpart: klaxon writes every change.)
async fn run_maintenance(state: AppState, cancel: CancellationToken) {
    let interval = state.options.tuning.maintenance_interval;
    crate::periodic::every(interval, cancel, || maintain(&state)).await
}

async fn maintain(state: &AppState) {
    let now = state.now();
    let retention = retention(state);
    state.metrics.nflog_maintenance.inc();
    if let Err(e) = state.nflog.gc(now).await {
        state.metrics.nflog_maintenance_errors.inc();
        tracing::error!(error = %e, "notification log garbage collection failed");
    }
    match state.silences.gc(now, retention).await {
        Ok(silences) if silences > 0 => tracing::debug!(silences, "garbage collected"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "silence garbage collection failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Maintenance (`--data.maintenance-interval`) drops silences past
    /// their retention; alerts wait for their own GC (`--alerts.gc-interval`).
    #[tokio::test]
    async fn maintenance_collects_silences_but_not_alerts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("alertmanager.yml"),
            "route:\n  receiver: r\nreceivers: [{name: r}]\n",
        )
        .unwrap();
        let start = Utc::now();
        let clock = Clock::manual(start);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let options = Options {
            config_file: dir.path().join("alertmanager.yml"),
            storage_path: dir.path().join("data"),
            external_url: url::Url::parse("http://localhost/").unwrap(),
            route_prefix: "/".into(),
            retention: Duration::from_secs(3600),
            gc_interval: Duration::from_secs(24 * 3600),
            clock: clock.clone(),
            web: crate::web::LiveWeb::none(),
            features: Default::default(),
            tuning: Tuning::default(),
        };
        let app = App::start(options, listener).await.unwrap();
        let state = app.state().clone();
        let silence = crate::silence::Silence {
            id: String::new(),
            matchers: vec![crate::silence::SilenceMatcher {
                name: "alertname".into(),
                value: "A".into(),
                is_regex: false,
                is_equal: true,
            }],
            starts_at: start,
            ends_at: start + chrono::Duration::minutes(1),
            updated_at: start,
            created_by: "t".into(),
            comment: "c".into(),
            annotations: Default::default(),
        };
        state.silences.set(silence, start).await.unwrap();
        let mut resolved = crate::alert::Alert::for_test(&[("alertname", "A")], &[], start);
        resolved.ends_at = start + chrono::Duration::minutes(1);
        state.alerts.put(vec![resolved], start);
        clock.advance(chrono::Duration::hours(2));
        maintain(&state).await;
        assert!(state.silences.list().is_empty(), "expired past retention");
        assert_eq!(state.alerts.len(), 1, "alerts keep to --alerts.gc-interval");
        collect_garbage(&state).await;
        assert_eq!(state.alerts.len(), 0);
        app.shutdown().await;
    }
}
