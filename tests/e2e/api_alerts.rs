//! Posting and listing alerts: fingerprints, defaults, merge, filters, groups.

use serde_json::{Value, json};

use crate::harness::{PLAIN_CONFIG, TestServer};

fn find<'a>(alerts: &'a Value, name: &str) -> &'a Value {
    alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == name)
        .unwrap_or_else(|| panic!("alert {name} not listed in {alerts}"))
}

#[tokio::test]
async fn posted_alert_is_listed_with_alertmanager_fields() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let resp = s
        .post_alerts(json!([{
            "labels": {"alertname": "ApiShapeA", "instance": "host1", "severity": "warning"},
            "annotations": {"summary": "shape test"},
            "generatorURL": "http://prometheus.example/graph?g0.expr=up"
        }]))
        .await;
    assert_eq!(resp.status(), 200);
    let alerts = s.get_json("/api/v2/alerts").await;
    let a = find(&alerts, "ApiShapeA");
    assert_eq!(a["fingerprint"], "16bb263311e62381");
    assert_eq!(a["receivers"], json!([{"name": "default"}]));
    assert_eq!(
        a["status"],
        json!({"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"})
    );
    let keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "annotations",
        "endsAt",
        "fingerprint",
        "receivers",
        "startsAt",
        "status",
        "updatedAt",
        "generatorURL",
        "labels",
    ] {
        assert!(keys.contains(&k), "missing {k} in {a}");
    }
    // Without endsAt, the alert ends resolve_timeout (5m) after it started.
    let starts = chrono::DateTime::parse_from_rfc3339(a["startsAt"].as_str().unwrap()).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(a["endsAt"].as_str().unwrap()).unwrap();
    assert_eq!(ends - starts, chrono::Duration::minutes(5));
    assert!(a["startsAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        a["startsAt"].as_str().unwrap().len(),
        "2026-11-21T23:34:02.497Z".len()
    );
}

#[tokio::test]
async fn generator_url_is_omitted_when_empty() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "NoUrl"}}]))
        .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    assert!(find(&alerts, "NoUrl").get("generatorURL").is_none());
}

#[tokio::test]
async fn resent_alert_keeps_its_first_start_time() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let start = "2026-01-01T00:00:00Z";
    s.post_alerts(json!([{"labels": {"alertname": "Merge"}, "startsAt": start}]))
        .await;
    s.post_alerts(json!([{"labels": {"alertname": "Merge"}, "startsAt": "2026-01-01T00:01:00Z"}]))
        .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(
        find(&alerts, "Merge")["startsAt"],
        "2026-01-01T00:00:00.000Z"
    );
}

#[tokio::test]
async fn resolved_alerts_are_not_listed() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "Gone"}}]))
        .await;
    s.post_alerts(
        json!([{"labels": {"alertname": "Gone"}, "endsAt": chrono::Utc::now().to_rfc3339()}]),
    )
    .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(alerts, json!([]));
}

#[tokio::test]
async fn routes_decide_receivers() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "A", "team": "b"}},
        {"labels": {"alertname": "B", "team": "c"}}
    ]))
    .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(find(&alerts, "A")["receivers"], json!([{"name": "second"}]));
    assert_eq!(
        find(&alerts, "B")["receivers"],
        json!([{"name": "default"}])
    );
    let only_second = s.get_json("/api/v2/alerts?receiver=sec.*").await;
    assert_eq!(only_second.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn filters_select_by_labels_and_state() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "F1", "env": "prod"}},
        {"labels": {"alertname": "F2", "env": "dev"}}
    ]))
    .await;
    let prod = s.get_json("/api/v2/alerts?filter=env%3D%22prod%22").await;
    assert_eq!(prod.as_array().unwrap().len(), 1);
    assert_eq!(prod[0]["labels"]["alertname"], "F1");
    let two = s
        .get_json("/api/v2/alerts?filter=env%3D~%22prod%7Cdev%22&filter=alertname%21%3D%22x%22")
        .await;
    assert_eq!(two.as_array().unwrap().len(), 2);

    let id = s
        .add_silence(
            json!([{"name": "env", "value": "prod", "isRegex": false}]),
            60,
        )
        .await;
    let all = s.get_json("/api/v2/alerts").await;
    let f1 = find(&all, "F1");
    assert_eq!(f1["status"]["state"], "suppressed");
    assert_eq!(f1["status"]["silencedBy"], json!([id]));
    let unsilenced = s.get_json("/api/v2/alerts?silenced=false").await;
    assert_eq!(unsilenced.as_array().unwrap().len(), 1);
    let inactive = s.get_json("/api/v2/alerts?active=false").await;
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_eq!(inactive[0]["labels"]["alertname"], "F1");
}

#[tokio::test]
async fn bad_filters_are_a_400() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    for q in ["filter=a%3D%22", "filter=%3Db", "receiver=%28"] {
        let r = s.get(&format!("/api/v2/alerts?{q}")).await;
        assert_eq!(r.status(), 400, "{q}");
    }
}

#[tokio::test]
async fn booleans_are_read_as_alertmanager_reads_them() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "B1"}}]))
        .await;
    for (q, n) in [
        ("active=yes", 1),
        ("active=ON", 1),
        ("active=maybe", 0),
        ("active=off", 0),
    ] {
        let alerts = s.get_json(&format!("/api/v2/alerts?{q}")).await;
        assert_eq!(alerts.as_array().unwrap().len(), n, "{q}");
    }
}

#[tokio::test]
async fn groups_follow_the_route_tree() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "G", "instance": "b"}},
        {"labels": {"alertname": "G", "instance": "a"}},
        {"labels": {"alertname": "H", "team": "b"}}
    ]))
    .await;
    let groups = s.get_json("/api/v2/alerts/groups").await;
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["labels"], json!({"alertname": "G"}));
    assert_eq!(groups[0]["receiver"], json!({"name": "default"}));
    let instances: Vec<&str> = groups[0]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["instance"].as_str().unwrap())
        .collect();
    assert_eq!(instances, ["a", "b"]);
    assert_eq!(groups[1]["receiver"], json!({"name": "second"}));
}

#[tokio::test]
async fn receivers_are_listed_in_config_order() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    assert_eq!(
        s.get_json("/api/v2/receivers").await,
        json!([
            {"name": "default", "labels": {"name": "default"}},
            {"name": "second", "labels": {"name": "second"}}
        ])
    );
}

#[tokio::test]
async fn receiver_matchers_select_by_receiver_labels() {
    let s = TestServer::start(
        r#"
route:
  receiver: ops
  routes:
    - matchers: [team="db"]
      receiver: dba
receivers:
  - name: ops
    labels: {owner: platform, kind: webhook}
  - name: dba
    labels: {owner: data}
"#,
    )
    .await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Disk", "team": "db"}},
        {"labels": {"alertname": "Cpu", "team": "web"}}
    ]))
    .await;
    let q = |m: &str| {
        format!(
            "receiver_matchers={}",
            m.replace('=', "%3D").replace('"', "%22")
        )
    };
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    let by_owner = s
        .get_json(&format!("/api/v2/alerts?{}", q(r#"owner="data""#)))
        .await;
    assert_eq!(names(&by_owner), ["Disk"]);
    let by_name = s
        .get_json(&format!("/api/v2/alerts?{}", q(r#"name=~"ops|dba""#)))
        .await;
    assert_eq!(names(&by_name), ["Cpu", "Disk"]);
    let groups = s
        .get_json(&format!(
            "/api/v2/alerts/groups?{}",
            q(r#"owner="platform""#)
        ))
        .await;
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["receiver"], json!({"name": "ops"}));
    assert_eq!(
        s.get_json(&format!("/api/v2/receivers?{}", q(r#"kind="webhook""#)))
            .await,
        json!([{"name": "ops", "labels": {"kind": "webhook", "name": "ops", "owner": "platform"}}])
    );
    let bad = s.get("/api/v2/alerts?receiver_matchers=%3Dx").await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_large_batch_is_accepted_whole() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let batch: Vec<Value> = (0..5000)
        .map(|i| json!({"labels": {"alertname": "Bulk", "i": i.to_string()}}))
        .collect();
    assert_eq!(s.post_alerts(Value::Array(batch)).await.status(), 200);
    let alerts = s.get_json("/api/v2/alerts?filter=alertname%3DBulk").await;
    assert_eq!(alerts.as_array().unwrap().len(), 5000);
}

const INHIBIT_CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
receivers:
  - name: default
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]
"#;

#[tokio::test]
async fn inhibited_alerts_show_their_source() {
    let s = TestServer::start(INHIBIT_CONFIG).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "InhSource", "severity": "critical", "cluster": "c1"}},
        {"labels": {"alertname": "InhTarget", "severity": "warning", "cluster": "c1"}},
        {"labels": {"alertname": "Elsewhere", "severity": "warning", "cluster": "c2"}}
    ]))
    .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    let source = find(&alerts, "InhSource");
    let target = find(&alerts, "InhTarget");
    assert_eq!(target["fingerprint"], "fed36f423fbd892f");
    assert_eq!(target["status"]["state"], "suppressed");
    assert_eq!(
        target["status"]["inhibitedBy"],
        json!([source["fingerprint"]])
    );
    assert_eq!(find(&alerts, "Elsewhere")["status"]["state"], "active");
    assert_eq!(source["status"]["state"], "active");
    let visible = s.get_json("/api/v2/alerts?inhibited=false").await;
    assert_eq!(visible.as_array().unwrap().len(), 2);

    // Once the source resolves, the target is active again.
    s.post_alerts(json!([{
        "labels": {"alertname": "InhSource", "severity": "critical", "cluster": "c1"},
        "endsAt": chrono::Utc::now().to_rfc3339()
    }]))
    .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(find(&alerts, "InhTarget")["status"]["state"], "active");
}

/// Large listings are written in parallel parts and joined: the answer must
/// still be one array, complete, sorted by fingerprint, with filters applied
/// across part boundaries.
#[tokio::test]
async fn a_large_listing_is_complete_sorted_and_filtered() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let alerts: Vec<Value> = (0..5000)
        .map(|i| json!({"labels": {"alertname": "Big", "i": i.to_string(), "odd": (i % 2).to_string()}}))
        .collect();
    for batch in alerts.chunks(500) {
        assert_eq!(
            s.post_alerts(Value::Array(batch.to_vec())).await.status(),
            200
        );
    }
    let listed = s.get_json("/api/v2/alerts").await;
    let fps: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 5000);
    assert!(fps.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    let odd = s.get_json("/api/v2/alerts?filter=odd%3D%221%22").await;
    assert_eq!(odd.as_array().unwrap().len(), 2500);
    let none = s.get_json("/api/v2/alerts?filter=odd%3D%22x%22").await;
    assert_eq!(none, json!([]));
    for i in [0, 2500, 4999] {
        let one = s
            .get_json(&format!("/api/v2/alerts?filter=i%3D%22{i}%22"))
            .await;
        assert_eq!(one.as_array().unwrap().len(), 1, "{one}");
    }
}
