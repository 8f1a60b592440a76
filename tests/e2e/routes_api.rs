//! `/api/klaxon/routes` and `/api/klaxon/routes/match`: the routing tree
//! and where a label set goes, as the web UI's routes view reads them.

use serde_json::json;

use crate::harness::TestServer;

const TREE: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - receiver: crit
      matchers: ['severity="critical"']
      group_by: [alertname, team]
      continue: true
      mute_time_intervals: [weekends]
    - receiver: db
      match: {service: db}
receivers: [{name: default}, {name: crit}, {name: db}]
time_intervals:
  - name: weekends
    time_intervals: [{weekdays: ['saturday', 'sunday']}]
"#;

#[tokio::test]
async fn routes_tree_shows_each_route_with_inherited_settings() {
    let s = TestServer::start(TREE).await;
    let tree = s.get_json("/api/klaxon/routes").await;
    assert_eq!(tree["id"], 0);
    assert_eq!(tree["receiver"], "default");
    assert_eq!(tree["matchers"], json!([]));
    assert_eq!(tree["groupWait"], "10s");
    assert_eq!(tree["repeatInterval"], "4h");
    let crit = &tree["routes"][0];
    assert_eq!(crit["matchers"], json!([r#"severity="critical""#]));
    assert_eq!(crit["groupBy"], json!(["alertname", "team"]));
    assert_eq!(crit["continue"], true);
    assert_eq!(crit["muteTimeIntervals"], json!(["weekends"]));
    // Inherited from the root.
    assert_eq!(crit["groupWait"], "10s");
    let db = &tree["routes"][1];
    assert_eq!(db["id"], 2);
    assert_eq!(db["matchers"], json!([r#"service="db""#]));
    assert_eq!(db["groupBy"], json!(["alertname"]));
}

#[tokio::test]
async fn routes_match_by_query_follows_continue_and_gives_group_keys() {
    let s = TestServer::start(TREE).await;
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "labels",
            r#"{alertname="Foo", severity="critical", service="db", team="x"}"#,
        )
        .finish();
    let m = s.get_json(&format!("/api/klaxon/routes/match?{q}")).await;
    assert_eq!(m["receivers"], json!(["crit", "db"]));
    assert_eq!(m["routes"][0]["path"], json!([0, 1]));
    assert_eq!(
        m["routes"][0]["groupKey"],
        r#"{}/{severity="critical"}:{alertname="Foo", team="x"}"#
    );
    assert_eq!(m["routes"][0]["muteTimeIntervals"], json!(["weekends"]));
    assert_eq!(
        m["routes"][1]["groupKey"],
        r#"{}/{service="db"}:{alertname="Foo"}"#
    );
    assert_eq!(m["labels"]["team"], "x");
}

#[tokio::test]
async fn routes_match_by_post_falls_back_to_the_root() {
    let s = TestServer::start(TREE).await;
    let resp = s
        .post_json(
            "/api/klaxon/routes/match",
            &json!({"labels": {"alertname": "Bar"}}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let m: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(m["receivers"], json!(["default"]));
    assert_eq!(m["routes"][0]["path"], json!([0]));
    assert_eq!(m["routes"][0]["groupKey"], r#"{}:{alertname="Bar"}"#);
}

#[tokio::test]
async fn routes_match_rejects_what_is_not_a_label_set() {
    let s = TestServer::start(TREE).await;
    for bad in [r#"{a=~"x"}"#, r#"{a="x}"#, r#"{""="x"}"#, r#"{"a.b="x"}"#] {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("labels", bad)
            .finish();
        let resp = s.get(&format!("/api/klaxon/routes/match?{q}")).await;
        assert_eq!(resp.status(), 400, "{bad}");
    }
    let resp = s
        .post_json("/api/klaxon/routes/match", &json!({"labels": {"a": 1}}))
        .await;
    assert_eq!(resp.status(), 400);
}
