//! `/api/v2/status`, `/api/v2/receivers`, and the gauges `/metrics` reads.

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;

use super::ApiError;
use super::models::{
    ClusterStatus, ConfigStatus, GettableReceiver, PeerStatus, Status, VersionInfo,
};
use super::query::Query;
use crate::app::AppState;
use crate::build_info;
use crate::metrics::{AlertStateLabel, StateLabel};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2/status", get(get_status))
        .route("/api/v2/receivers", get(get_receivers))
}

/// The build's identity; `goVersion` carries rustc's version.
pub const VERSION_INFO: VersionInfo = VersionInfo {
    branch: build_info::BRANCH,
    build_date: build_info::BUILD_DATE,
    build_user: build_info::BUILD_USER,
    go_version: build_info::RUSTC_VERSION,
    revision: build_info::REVISION,
    version: build_info::VERSION,
};

/// Alertmanager's `cluster` object: "disabled" for a single instance;
/// else the members, and "ready" once a leader is known ("settling"
/// before; a replica without peers is ready at once).
fn cluster_status(state: &AppState) -> ClusterStatus {
    let (Some(me), Some(cluster)) = (&state.options.tuning.cluster, &state.cluster) else {
        return ClusterStatus {
            name: None,
            peers: Vec::new(),
            status: "disabled",
        };
    };
    let view = cluster.view();
    ClusterStatus {
        name: Some(me.name.clone()),
        peers: view
            .members
            .iter()
            .map(|m| PeerStatus {
                address: m.address.clone(),
                name: m.name.clone(),
            })
            .collect(),
        status: if view.ready || me.peers.is_empty() {
            "ready"
        } else {
            "settling"
        },
    }
}

async fn get_status(State(state): State<AppState>) -> Json<Status> {
    Json(Status {
        cluster: cluster_status(&state),
        config: ConfigStatus {
            original: state.runtime().original.clone(),
        },
        uptime: state.started_at,
        version_info: VERSION_INFO,
    })
}

/// Every receiver, with its labels (`name` included) as newest
/// Alertmanager lists them; `receiver_matchers=` filters on those labels.
async fn get_receivers(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<GettableReceiver>>, ApiError> {
    let matchers = Query::parse(raw.as_deref(), state.name_mode()).receiver_matchers()?;
    let runtime = state.runtime();
    Ok(Json(
        runtime
            .config
            .receivers
            .iter()
            .filter_map(|r| {
                let labels = runtime.receiver_labels.get(&r.name)?;
                matchers.matches(labels).then(|| GettableReceiver {
                    name: r.name.clone(),
                    labels: labels.clone(),
                })
            })
            .collect(),
    ))
}

/// Recomputes the state gauges, which depend on the clock and on silences.
pub fn refresh_gauges(state: &AppState) {
    let now = state.now();
    let snapshot = state.alerts.snapshot();
    let runtime = state.runtime();
    let inhibitions = crate::inhibit::Inhibitions::index(&runtime.inhibit_rules, &snapshot, now);
    let silences = state.silences.reader();
    // Active and suppressed counts of some alerts (resolved ones left out).
    let count = |alerts: &mut dyn Iterator<Item = &std::sync::Arc<crate::alert::Alert>>| {
        let (mut active, mut suppressed) = (0i64, 0i64);
        for alert in alerts {
            if alert.resolved_at(now) {
                continue;
            }
            let routes = runtime.route.matches(&alert.labels);
            let status = super::alerts::alert_status::alert_status(
                &silences,
                &runtime,
                &routes,
                &inhibitions,
                alert,
                now,
            );
            if status.state == crate::api::models::AlertState::Active {
                active += 1;
            } else {
                suppressed += 1;
            }
        }
        [
            ("active", active),
            ("suppressed", suppressed),
            ("unprocessed", 0),
        ]
    };
    let m = &state.metrics;
    let set = |counts: [(&str, i64); 3], group_key: Option<&str>| {
        for (name, n) in counts {
            m.alerts
                .get_or_create(&AlertStateLabel {
                    state: name.into(),
                    group_key: group_key.map(str::to_owned),
                })
                .set(n);
        }
    };
    if m.group_key_in_metrics {
        // One series per live group, as Alertmanager 0.34 with the
        // feature; groups gone since the last scrape disappear.
        m.alerts.clear();
        for group in state.live_groups() {
            let alerts = group.alerts();
            set(count(&mut alerts.iter()), Some(&group.key));
        }
    } else {
        set(count(&mut snapshot.iter()), None);
    }
    for (st, n) in state.silences.count_by_state(now) {
        m.silences
            .get_or_create(&StateLabel {
                state: st.as_str().into(),
            })
            .set(n as i64);
    }
    let store = state.storage.health();
    m.storage_healthy.set(i64::from(store.healthy));
    // The store counts; the counters catch up with it.
    let catch_up = |c: &prometheus_client::metrics::counter::Counter, total: u64| {
        c.inc_by(total.saturating_sub(c.get()));
    };
    catch_up(&m.storage_write_failures, store.write_failures);
    catch_up(&m.storage_dropped_writes, store.dropped);
    let connections = &state.connections;
    m.http_connections_open
        .set(connections.open.load(std::sync::atomic::Ordering::Relaxed) as i64);
    catch_up(
        &m.http_connections_refused,
        connections
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    m.alerts_persisted.set(state.alerts.committed() as i64);
    m.alerts_stored.set(state.alerts.len() as i64);
    m.aggregation_groups.set(state.aggregation_groups() as i64);
}
