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
}

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
    /// The store itself, for its size on disk (status page).
    pub storage: Storage,
    dispatcher: std::sync::Mutex<Option<Arc<Dispatcher>>>,
    /// Parent of every dispatcher's token: stopping the app stops them all.
    cancel: CancellationToken,
    pub metrics: Arc<Metrics>,
    pub started_at: DateTime<Utc>,
    runtime: RwLock<Arc<Runtime>>,
    reload_lock: tokio::sync::Mutex<()>,
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
        let next = Dispatcher::start(
            runtime.route.clone(),
            runtime.pipeline.clone(),
            self.options.clock.clone(),
            self.cancel.child_token(),
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
        let alerts = Arc::new(AlertStore::load(storage.clone()).context("restoring alerts")?);
        let silences = Arc::new(
            Silences::load(storage.clone())
                .context("restoring silences")?
                .with_name_mode(name_mode),
        );
        let nflog = Arc::new(
            NotificationLog::load(storage.clone(), options.retention)
                .context("restoring the notification log")?,
        );
        let history = Arc::new(History::new(storage.clone()));
        tracing::info!(
            alerts = alerts.len(),
            silences = silences.list().len(),
            "state restored from the store"
        );
        let started_at = options.clock.now();
        let cancel = CancellationToken::new();
        let external_url = options
            .external_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let metrics = Arc::new(Metrics::new());
        let parts = PipelineState {
            metrics: metrics.clone(),
            alerts: alerts.clone(),
            silences: silences.clone(),
            nflog: nflog.clone(),
            history: history.clone(),
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
            storage,
            dispatcher: std::sync::Mutex::new(None),
            cancel: cancel.clone(),
            metrics,
            started_at,
            runtime: RwLock::new(runtime.clone()),
            reload_lock: tokio::sync::Mutex::new(()),
        }));
        state.install(runtime);

        let addr = listener.local_addr()?;
        let mut tasks = Vec::new();
        tasks.push(tokio::spawn(
            state.alerts.clone().run_committer(cancel.clone()),
        ));
        tasks.push(tokio::spawn(run_gc(state.clone(), cancel.clone())));
        let web = state.options.web.clone();
        let router = web.wrap(crate::api::router(state.clone()));
        let shutdown = cancel.clone();
        tasks.push(match web.current().tls {
            None => tokio::spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(shutdown.cancelled_owned())
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "HTTP server stopped");
                }
            }),
            Some(_) => {
                let listener = crate::web::TlsListener::new(listener, web)?;
                tokio::spawn(async move {
                    let served = axum::serve(listener, router)
                        .with_graceful_shutdown(shutdown.cancelled_owned())
                        .await;
                    if let Err(e) = served {
                        tracing::error!(error = %e, "HTTPS server stopped");
                    }
                })
            }
        });
        tracing::info!(address = %addr, "klaxon is listening");
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
    }
}

/// Drops expired silences and long-resolved alerts every `gc_interval`.
async fn run_gc(state: AppState, cancel: CancellationToken) {
    let every = state.options.gc_interval.max(Duration::from_millis(100));
    let retention =
        chrono::Duration::from_std(state.options.retention).unwrap_or(chrono::Duration::MAX);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let now = state.now();
        let alerts = state.alerts.gc(now, retention);
        let cutoff = now
            .checked_sub_signed(retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        state.metrics.nflog_maintenance.inc();
        if let Err(e) = state.nflog.gc(now).await {
            state.metrics.nflog_maintenance_errors.inc();
            tracing::error!(error = %e, "notification log garbage collection failed");
        }
        if let Err(e) = state.history.gc(cutoff).await {
            tracing::error!(error = %e, "notification history garbage collection failed");
        }
        match state.silences.gc(now, retention).await {
            Ok(silences) if alerts + silences > 0 => {
                tracing::debug!(alerts, silences, "garbage collected")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "silence garbage collection failed"),
        }
    }
}
