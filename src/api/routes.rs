//! klaxon's routing-tree endpoints, for the web UI's `#/routes` view and
//! anyone asking "where would this alert go?":
//!
//! - `GET /api/klaxon/routes`: the tree as the running config built it,
//!   with inherited settings filled in.
//! - `GET /api/klaxon/routes/match?labels={a="b"}` or `POST` with
//!   `{"labels": {"a": "b"}}`: the routes a label set reaches, found with
//!   the dispatcher's own [`Route::matches`], and the group key each would
//!   give it.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::ApiError;
use crate::app::AppState;
use crate::config::Duration;
use crate::dispatch::{GroupBy, Route};
use crate::labels::{LabelSet, NameMode};
use crate::matcher::{MatchType, Matchers};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/klaxon/routes", get(get_routes))
        .route(
            "/api/klaxon/routes/match",
            get(get_route_match).post(post_route_match),
        )
}

/// One route with the settings it ends up with (its own or inherited).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteNode {
    /// Depth-first position; `match` answers refer to routes by it.
    id: usize,
    receiver: String,
    /// Each matcher in Alertmanager's text syntax (`severity="critical"`).
    matchers: Vec<String>,
    /// `["..."]` when the route groups by every label.
    group_by: Vec<String>,
    group_wait: String,
    group_interval: String,
    repeat_interval: String,
    #[serde(rename = "continue")]
    continue_: bool,
    mute_time_intervals: Vec<String>,
    active_time_intervals: Vec<String>,
    routes: Vec<RouteNode>,
}

impl RouteNode {
    fn from_route(r: &Route) -> Self {
        Self {
            id: r.id,
            receiver: r.opts.receiver.clone(),
            matchers: r.matchers.iter().map(ToString::to_string).collect(),
            group_by: match &r.opts.group_by {
                GroupBy::All => vec!["...".to_owned()],
                GroupBy::Labels(names) => names.configured().to_vec(),
            },
            group_wait: prometheus_duration(r.opts.group_wait),
            group_interval: prometheus_duration(r.opts.group_interval),
            repeat_interval: prometheus_duration(r.opts.repeat_interval),
            continue_: r.continue_,
            mute_time_intervals: r.opts.mute_time_intervals.clone(),
            active_time_intervals: r.opts.active_time_intervals.clone(),
            routes: r.routes.iter().map(Self::from_route).collect(),
        }
    }
}

fn prometheus_duration(d: std::time::Duration) -> String {
    Duration::from_secs(d.as_secs()).to_string()
}

async fn get_routes(State(state): State<AppState>) -> Json<RouteNode> {
    Json(RouteNode::from_route(&state.runtime().route))
}

/// What a label set reaches.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RouteMatch {
    labels: LabelSet,
    /// In notification order, as the dispatcher would use them.
    routes: Vec<MatchedRoute>,
    /// The receivers of `routes`, without repeats, in the same order.
    receivers: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MatchedRoute {
    id: usize,
    receiver: String,
    /// Route ids from the root down to this route, for highlighting.
    path: Vec<usize>,
    group_labels: LabelSet,
    group_key: String,
    mute_time_intervals: Vec<String>,
    active_time_intervals: Vec<String>,
}

fn route_match(root: &Route, labels: LabelSet) -> RouteMatch {
    let routes: Vec<MatchedRoute> = root
        .matches(&labels)
        .into_iter()
        .map(|r| {
            let group_labels = r.opts.group_labels(&labels);
            MatchedRoute {
                id: r.id,
                receiver: r.opts.receiver.clone(),
                path: path_to(root, r.id).unwrap_or_default(),
                group_key: r.group_key(&group_labels),
                group_labels,
                mute_time_intervals: r.opts.mute_time_intervals.clone(),
                active_time_intervals: r.opts.active_time_intervals.clone(),
            }
        })
        .collect();
    let mut receivers: Vec<String> = Vec::new();
    for r in &routes {
        if !receivers.contains(&r.receiver) {
            receivers.push(r.receiver.clone());
        }
    }
    RouteMatch {
        labels,
        routes,
        receivers,
    }
}

/// The ids from `root` down to the route with `id`.
fn path_to(root: &Route, id: usize) -> Option<Vec<usize>> {
    if root.id == id {
        return Some(vec![id]);
    }
    root.routes.iter().find_map(|child| {
        path_to(child, id).map(|mut p| {
            p.insert(0, root.id);
            p
        })
    })
}

/// `labels={alertname="A",team="b"}` (equality matchers only: a label set,
/// written as the UI's filter bar writes it).
async fn get_route_match(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<RouteMatch>, ApiError> {
    let text = url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "labels")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let labels = parse_label_set(&text, state.name_mode())?;
    Ok(Json(route_match(&state.runtime().route, labels)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchBody {
    labels: LabelSet,
}

async fn post_route_match(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RouteMatch>, ApiError> {
    if !super::alerts::is_json(&headers) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body: MatchBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::Malformed(format!("parsing labels body failed, because {e}")))?;
    body.labels
        .validate(state.name_mode())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(route_match(&state.runtime().route, body.labels)))
}

fn parse_label_set(text: &str, mode: NameMode) -> Result<LabelSet, ApiError> {
    let matchers = Matchers::parse_in(text, mode, "api")
        .map_err(|e| ApiError::BadRequest(format!("labels: {e}")))?;
    let mut labels = LabelSet::new();
    for m in matchers.iter() {
        if m.kind != MatchType::Equal {
            return Err(ApiError::BadRequest(format!(
                "labels: {m} is not a label (use name=\"value\")"
            )));
        }
        labels.insert(m.name.clone(), m.value.clone());
    }
    labels
        .validate(mode)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn tree(yaml: &str) -> Route {
        let cfg = Config::load_str(yaml, std::path::Path::new("test.yml"), &|_| None).unwrap();
        Route::from_config(&cfg.route)
    }

    const TREE: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: crit
      matchers: ['severity="critical"']
      group_by: [alertname, team]
      continue: true
    - receiver: db
      match: {service: db}
      routes:
        - receiver: db-oncall
          match_re: {team: "ops|sre"}
receivers: [{name: default}, {name: crit}, {name: db}, {name: db-oncall}]
"#;

    #[test]
    fn label_sets_parse_from_the_filter_syntax() {
        let ls = parse_label_set(r#"{alertname="A", team="b"}"#, NameMode::default()).unwrap();
        assert_eq!(ls.get("team"), Some("b"));
        assert!(
            parse_label_set("", NameMode::default()).is_err(),
            "an empty label set"
        );
        assert!(parse_label_set(r#"{team=~"b"}"#, NameMode::default()).is_err());
        assert!(parse_label_set(r#"{0bad="x"}"#, NameMode::Classic).is_err());
        assert!(parse_label_set(r#"{""="x"}"#, NameMode::default()).is_err());
        let utf8 = parse_label_set(r#"{"service.name"="api"}"#, NameMode::default()).unwrap();
        assert_eq!(utf8.get("service.name"), Some("api"));
    }

    #[test]
    fn matches_report_paths_receivers_and_group_keys() {
        let root = tree(TREE);
        let labels = parse_label_set(
            r#"{alertname="Foo",severity="critical",service="db",team="sre"}"#,
            NameMode::default(),
        )
        .unwrap();
        let m = route_match(&root, labels);
        assert_eq!(m.receivers, ["crit", "db-oncall"]);
        assert_eq!(m.routes[0].path, [0, 1]);
        assert_eq!(m.routes[1].path, [0, 2, 3]);
        assert_eq!(
            m.routes[0].group_key,
            r#"{}/{severity="critical"}:{alertname="Foo", team="sre"}"#
        );
    }

    #[test]
    fn the_tree_shows_inherited_settings_and_matcher_syntax() {
        let node = RouteNode::from_route(&tree(TREE));
        let json = serde_json::to_value(&node).unwrap();
        assert_eq!(json["groupWait"], "30s");
        assert_eq!(json["routes"][1]["groupBy"][0], "alertname");
        assert_eq!(
            json["routes"][1]["routes"][0]["matchers"][0],
            r#"team=~"ops|sre""#
        );
        assert_eq!(json["routes"][0]["continue"], true);
    }
}
