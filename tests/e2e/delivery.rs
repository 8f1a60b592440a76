//! Notifications end to end: real klaxon, real HTTP to a local webhook
//! receiver. Timers are short and every wait is bounded by the event it
//! waits for.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{BinaryServer, TestServer, WebhookSink, eventually};

const WAIT: Duration = Duration::from_secs(15);

fn config(url: &str, extra_route: &str) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
{extra_route}
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
"#
    )
}

/// The notification history once it has an entry.
async fn recorded(s: &TestServer) -> Value {
    eventually(WAIT, "an attempt in the history", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (!h["notifications"][0].is_null()).then_some(h)
    })
    .await
}

fn alert_names(payload: &Value) -> Vec<String> {
    let mut v: Vec<String> = payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}/{}",
                a["labels"]["alertname"].as_str().unwrap(),
                a["labels"]["instance"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_firing_alert_is_delivered_with_alertmanagers_payload() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{
        "labels": {"alertname": "PayloadTest", "instance": "host0", "severity": "warning"},
        "annotations": {"summary": "common summary"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"
    }]))
    .await;
    let p = sink.next(WAIT).await;
    assert_eq!(p["version"], "4");
    assert_eq!(p["receiver"], "hook");
    assert_eq!(p["status"], "firing");
    assert_eq!(p["groupKey"], r#"{}:{alertname="PayloadTest"}"#);
    assert_eq!(p["groupLabels"], json!({"alertname": "PayloadTest"}));
    assert_eq!(p["truncatedAlerts"], 0);
    assert_eq!(p["notification_reason"], "first notification");
    assert_eq!(p["externalURL"], s.base);
    let a = &p["alerts"][0];
    assert_eq!(a["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(a["fingerprint"], "28b167619333fb3c");
    // The attempt is in the notification history (written right after).
    let history = recorded(&s).await;
    assert_eq!(history["notifications"][0]["outcome"], "success");
    assert_eq!(history["notifications"][0]["reason"], "first notification");
    let metrics = s.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"alertmanager_notifications_total{integration="webhook"} 1"#,
        r#"alertmanager_notification_requests_total{integration="webhook"} 1"#,
        r#"alertmanager_notification_latency_seconds_count{integration="webhook"} 1"#,
        "alertmanager_dispatcher_aggregation_groups 1",
        "alertmanager_nflog_queries_total 1",
        "alertmanager_nflog_query_errors_total 0",
    ] {
        assert!(metrics.contains(line), "missing {line:?}");
    }
}

#[tokio::test]
async fn alerts_of_a_group_are_batched_and_resolution_is_sent() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Batch", "instance": "a"}},
        {"labels": {"alertname": "Batch", "instance": "b"}}
    ]))
    .await;
    let first = sink.next(WAIT).await;
    assert_eq!(alert_names(&first), ["Batch/a", "Batch/b"]);
    let now = chrono::Utc::now().to_rfc3339();
    s.post_alerts(json!([
        {"labels": {"alertname": "Batch", "instance": "a"}, "endsAt": now},
        {"labels": {"alertname": "Batch", "instance": "b"}, "endsAt": now}
    ]))
    .await;
    let resolved = sink.next(WAIT).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["notification_reason"], "all alerts resolved");
    assert_eq!(alert_names(&resolved), ["Batch/a", "Batch/b"]);
}

#[tokio::test]
async fn silenced_and_inhibited_alerts_are_not_sent() {
    let sink = WebhookSink::start(vec![]).await;
    let inhibit = r#"inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [cluster]"#;
    let s = TestServer::start(&format!("{}{inhibit}\n", config(&sink.url, ""))).await;
    s.add_silence(
        json!([{"name": "alertname", "value": "Quiet", "isRegex": false}]),
        60,
    )
    .await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Quiet", "instance": "x"}},
        {"labels": {"alertname": "Src", "severity": "critical", "cluster": "c1"}},
        {"labels": {"alertname": "Dst", "severity": "warning", "cluster": "c1"}}
    ]))
    .await;
    // Only the inhibition source goes out; the others are muted.
    let p = sink.next(WAIT).await;
    assert_eq!(alert_names(&p), ["Src/"]);
    eventually(WAIT, "silenced and inhibited alerts counted", || async {
        let metrics = s.get("/metrics").await.text().await.ok()?;
        (metrics.contains(r#"alertmanager_notifications_suppressed_total{reason="silence"} 1"#)
            && metrics
                .contains(r#"alertmanager_notifications_suppressed_total{reason="inhibition"} 1"#))
        .then_some(())
    })
    .await;
    // A later, unmuted alert proves the pipeline kept running.
    s.post_alerts(json!([{"labels": {"alertname": "Loud", "instance": "y"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(alert_names(&p), ["Loud/y"]);
    let rest: Vec<Vec<String>> = sink.drain().await.iter().map(alert_names).collect();
    assert!(
        rest.iter().all(|names| !names
            .iter()
            .any(|n| n.starts_with("Quiet") || n.starts_with("Dst"))),
        "{rest:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_within_the_flush() {
    let sink = WebhookSink::start(vec![500, 503]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Retry"}}]))
        .await;
    for _ in 0..3 {
        let p = sink.next(WAIT).await;
        assert_eq!(alert_names(&p), ["Retry/"]);
    }
    let history = recorded(&s).await;
    assert_eq!(history["notifications"][0]["outcome"], "success");
    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"alertmanager_notification_requests_failed_total{integration="webhook"} 2"#
        )
    );
}

#[tokio::test]
async fn a_permanent_failure_is_recorded_without_the_url() {
    let sink = WebhookSink::start(vec![400]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Refused"}}]))
        .await;
    sink.next(WAIT).await;
    let history = eventually(WAIT, "a failed attempt in the history", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "failure").then_some(h)
    })
    .await;
    let metrics = s.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(
        r#"alertmanager_notifications_failed_total{integration="webhook",reason="clientError"} 1"#
    ));
    let error = history["notifications"][0]["error"].as_str().unwrap();
    assert!(error.contains("400"), "{error}");
    assert!(!error.contains("/hook"), "the URL leaked: {error}");
}

#[tokio::test]
async fn auth_failures_have_their_own_failure_reason() {
    let sink = WebhookSink::start(vec![403]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Forbidden"}}]))
        .await;
    sink.next(WAIT).await;
    eventually(WAIT, "a failed attempt in the history", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["outcome"] == "failure").then_some(h)
    })
    .await;
    let metrics = s.get("/metrics").await.text().await.unwrap();
    // Alertmanager 0.34: 401 and 403 are `authError`, 429 `rateLimited`.
    for line in [
        r#"alertmanager_notifications_failed_total{integration="webhook",reason="authError"} 1"#,
        r#"alertmanager_notifications_failed_total{integration="webhook",reason="clientError"} 0"#,
        r#"alertmanager_notifications_failed_total{integration="email",reason="rateLimited"} 0"#,
    ] {
        assert!(metrics.contains(line), "missing {line:?}");
    }
}

#[tokio::test]
async fn a_restart_does_not_repeat_a_sent_notification() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Once", "instance": "a"}}]))
        .await;
    assert_eq!(alert_names(&sink.next(WAIT).await), ["Once/a"]);
    let s = s.restart().await;
    // After the restart the restored group flushes at once and, knowing from
    // the notification log that nothing changed, sends nothing. A new alert
    // then proves it: the next message carries both, and is the only one.
    s.post_alerts(json!([{"labels": {"alertname": "Once", "instance": "b"}}]))
        .await;
    let next = sink.next(WAIT).await;
    assert_eq!(alert_names(&next), ["Once/a", "Once/b"]);
    assert!(sink.drain().await.is_empty());
}

#[tokio::test]
async fn kill_9_before_the_first_notification_still_sends_it_once() {
    let sink = WebhookSink::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sink.url, "").replace("group_wait: 0s", "group_wait: 2s");
    std::fs::write(dir.path().join("alertmanager.yml"), cfg).unwrap();
    let server = BinaryServer::start(dir.path(), &[]).await;
    server
        .post_json(
            "/api/v2/alerts",
            &json!([{"labels": {"alertname": "Crash", "instance": "a"}}]),
        )
        .await;
    // Wait for the group commit, then crash before group_wait is over.
    eventually(WAIT, "the alert on disk", || async {
        let text = crate::harness::client()
            .get(server.url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains("klaxon_alerts_persisted 1").then_some(())
    })
    .await;
    server.kill9().await;
    assert!(sink.drain().await.is_empty(), "sent before the crash");
    let server = BinaryServer::start(dir.path(), &[]).await;
    let p = sink.next(WAIT).await;
    assert_eq!(alert_names(&p), ["Crash/a"]);
    server.kill9().await;
}

#[tokio::test]
async fn an_unchanged_group_is_repeated_after_repeat_interval() {
    let sink = WebhookSink::start(vec![]).await;
    let cfg = config(&sink.url, "").replace("repeat_interval: 1h", "repeat_interval: 2s");
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([{"labels": {"alertname": "Again"}}]))
        .await;
    let first = sink.next(WAIT).await;
    let started = std::time::Instant::now();
    let second = sink.next(WAIT).await;
    // Checked on group_interval ticks: between repeat and repeat + interval.
    let gap = started.elapsed();
    assert!(
        gap >= Duration::from_millis(1500),
        "repeated too early: {gap:?}"
    );
    assert_eq!(alert_names(&first), alert_names(&second));
    eventually(WAIT, "the repeat in the history", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (h["notifications"][0]["reason"] == "repeat interval elapsed").then_some(())
    })
    .await;
}

#[tokio::test]
async fn mute_time_intervals_hold_notifications_and_active_intervals_release_them() {
    let sink = WebhookSink::start(vec![]).await;
    // `always` covers every instant; `never` covers none (the year 1999).
    let cfg = format!(
        r#"
time_intervals:
  - name: always
    time_intervals:
      - times: [{{start_time: "00:00", end_time: "24:00"}}]
  - name: never
    time_intervals:
      - years: ["1999"]
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['alertname="Muted"']
      mute_time_intervals: [always]
    - matchers: ['alertname="Inactive"']
      active_time_intervals: [never]
    - matchers: ['alertname="Open"']
      mute_time_intervals: [never]
receivers:
  - name: hook
    webhook_configs:
      - url: {}
"#,
        sink.url
    );
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Muted"}},
        {"labels": {"alertname": "Inactive"}},
        {"labels": {"alertname": "Open"}}
    ]))
    .await;
    let p = sink.next(WAIT).await;
    assert_eq!(alert_names(&p), ["Open/"]);
    // The muted groups keep flushing every second without sending: after a
    // few intervals nothing else has arrived.
    s.post_alerts(json!([{"labels": {"alertname": "Open", "instance": "2"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(alert_names(&p), ["Open/", "Open/2"]);
    let rest: Vec<Vec<String>> = sink.drain().await.iter().map(alert_names).collect();
    assert!(
        rest.iter().flatten().all(|n| n.starts_with("Open")),
        "{rest:?}"
    );
    // The alert groups say which intervals mute each alert and count them
    // as suppressed; `muted=false` hides them. The flat alert list, as in
    // Alertmanager 0.28 and 0.34, shows no time-interval mute.
    let groups = s.get_json("/api/v2/alerts/groups").await;
    let muted_by = |name: &str| {
        let a = groups
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["alerts"].as_array().unwrap())
            .find(|a| a["labels"]["alertname"] == name)
            .unwrap_or_else(|| panic!("{name} listed"));
        (a["status"]["state"].clone(), a["status"]["mutedBy"].clone())
    };
    assert_eq!(muted_by("Muted"), (json!("suppressed"), json!(["always"])));
    assert_eq!(
        muted_by("Inactive"),
        (json!("suppressed"), json!(["never"]))
    );
    assert_eq!(muted_by("Open"), (json!("active"), json!([])));
    let unmuted = s.get_json("/api/v2/alerts/groups?muted=false").await;
    let names: Vec<&str> = unmuted
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["alerts"].as_array().unwrap())
        .map(|a| a["labels"]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Open", "Open"]);
    let alerts = s.get_json("/api/v2/alerts").await;
    for a in alerts.as_array().unwrap() {
        assert_eq!(a["status"]["mutedBy"], json!([]), "{a}");
        assert_eq!(a["status"]["state"], "active", "{a}");
    }
}

#[tokio::test]
async fn group_by_all_labels_gives_every_alert_its_own_group() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "").replace("[alertname]", "['...']")).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Each", "instance": "a"}},
        {"labels": {"alertname": "Each", "instance": "b"}}
    ]))
    .await;
    let mut keys = Vec::new();
    for _ in 0..2 {
        let p = sink.next(WAIT).await;
        assert_eq!(p["alerts"].as_array().unwrap().len(), 1, "{p}");
        keys.push(p["groupKey"].as_str().unwrap().to_owned());
    }
    keys.sort();
    assert_eq!(
        keys,
        [
            r#"{}:{alertname="Each", instance="a"}"#,
            r#"{}:{alertname="Each", instance="b"}"#
        ]
    );
}

#[tokio::test]
async fn continue_sends_to_every_matching_route() {
    let critical = WebhookSink::start(vec![]).await;
    let db = WebhookSink::start(vec![]).await;
    let fallback = WebhookSink::start(vec![]).await;
    let cfg = format!(
        r#"
route:
  receiver: fallback
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  routes:
    - matchers: [severity="critical"]
      receiver: critical
      continue: true
    - matchers: [team="db"]
      receiver: db
receivers:
  - name: fallback
    webhook_configs: [{{url: {}}}]
  - name: critical
    webhook_configs: [{{url: {}}}]
  - name: db
    webhook_configs: [{{url: {}}}]
"#,
        fallback.url, critical.url, db.url
    );
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([{"labels": {"alertname": "Both", "severity": "critical", "team": "db"}}]))
        .await;
    assert_eq!(alert_names(&critical.next(WAIT).await), ["Both/"]);
    assert_eq!(alert_names(&db.next(WAIT).await), ["Both/"]);
    // A continue route that matched alone still counts as a match: the
    // root's receiver is not used.
    s.post_alerts(json!([{"labels": {"alertname": "CritOnly", "severity": "critical"}}]))
        .await;
    assert_eq!(alert_names(&critical.next(WAIT).await), ["CritOnly/"]);
    s.post_alerts(json!([{"labels": {"alertname": "Neither"}}]))
        .await;
    assert_eq!(alert_names(&fallback.next(WAIT).await), ["Neither/"]);
    assert!(fallback.drain().await.is_empty());
    assert!(db.drain().await.is_empty());
}

#[tokio::test]
async fn alerts_joining_a_flushed_group_wait_for_its_group_interval() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(
        &config(&sink.url, "").replace("group_interval: 1s", "group_interval: 2s"),
    )
    .await;
    s.post_alerts(json!([{"labels": {"alertname": "Join", "instance": "a"}}]))
        .await;
    let first = sink.next(WAIT).await;
    let flushed = std::time::Instant::now();
    assert_eq!(alert_names(&first), ["Join/a"]);
    s.post_alerts(json!([{"labels": {"alertname": "Join", "instance": "b"}}]))
        .await;
    s.post_alerts(json!([{"labels": {"alertname": "Join", "instance": "c"}}]))
        .await;
    // Both newcomers go out together, on the group's next tick.
    let second = sink.next(WAIT).await;
    assert_eq!(alert_names(&second), ["Join/a", "Join/b", "Join/c"]);
    assert!(
        flushed.elapsed() >= Duration::from_millis(1500),
        "sent {:?} after the first flush, before group_interval",
        flushed.elapsed()
    );
}

#[tokio::test]
async fn resolved_alerts_are_not_sent_without_send_resolved() {
    let sink = WebhookSink::start(vec![]).await;
    let cfg = config(&sink.url, "").replace(
        &format!("      - url: {}", sink.url),
        &format!("      - url: {}\n        send_resolved: false", sink.url),
    );
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Quietly", "instance": "a"}},
        {"labels": {"alertname": "Quietly", "instance": "b"}}
    ]))
    .await;
    assert_eq!(
        alert_names(&sink.next(WAIT).await),
        ["Quietly/a", "Quietly/b"]
    );
    let now = chrono::Utc::now().to_rfc3339();
    s.post_alerts(json!([{"labels": {"alertname": "Quietly", "instance": "a"}, "endsAt": now}]))
        .await;
    // A new firing alert is sent; the resolved one is left out of it.
    s.post_alerts(json!([{"labels": {"alertname": "Quietly", "instance": "c"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(p["status"], "firing");
    assert_eq!(alert_names(&p), ["Quietly/b", "Quietly/c"]);
    // Then everything resolves: nothing is sent for it.
    let now = chrono::Utc::now().to_rfc3339();
    s.post_alerts(json!([
        {"labels": {"alertname": "Quietly", "instance": "b"}, "endsAt": now},
        {"labels": {"alertname": "Quietly", "instance": "c"}, "endsAt": now}
    ]))
    .await;
    eventually(WAIT, "the resolved group is gone", || async {
        let groups = s.get_json("/api/v2/alerts/groups").await;
        groups.as_array()?.is_empty().then_some(())
    })
    .await;
    // A different group still notifies, so the sink is live.
    s.post_alerts(json!([{"labels": {"alertname": "Other"}}]))
        .await;
    assert_eq!(alert_names(&sink.next(WAIT).await), ["Other/"]);
    let rest = sink.drain().await;
    assert!(rest.iter().all(|p| p["status"] != "resolved"), "{rest:?}");
}

#[tokio::test]
async fn expiring_a_silence_releases_the_alert_it_muted() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    let id = s
        .add_silence(
            json!([{"name": "alertname", "value": "Hushed", "isRegex": false}]),
            60,
        )
        .await;
    s.post_alerts(json!([{"labels": {"alertname": "Hushed"}}]))
        .await;
    eventually(WAIT, "the alert counted as silenced", || async {
        let metrics = s.get("/metrics").await.text().await.ok()?;
        metrics
            .contains(r#"alertmanager_notifications_suppressed_total{reason="silence"}"#)
            .then_some(())
    })
    .await;
    assert!(sink.drain().await.is_empty());
    let r = s
        .client
        .delete(s.url(&format!("/api/v2/silence/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The group's next tick finds it unmuted and never notified.
    assert_eq!(alert_names(&sink.next(WAIT).await), ["Hushed/"]);
}

#[tokio::test]
async fn route_labels_are_rendered_inherited_and_sent_as_route_labels() {
    let sink = WebhookSink::start(vec![]).await;
    let routes = r#"  labels:
    team: storage
    tier: 'base'
  routes:
    - matchers: ['severity="critical"']
      labels:
        tier: '{{ .GroupLabels.alertname }}-{{ len .Alerts }}'"#;
    let s = TestServer::start(&config(&sink.url, routes)).await;
    s.post_alerts(json!([{"labels": {"alertname": "Disk", "severity": "critical"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(
        p["routeLabels"],
        json!({"team": "storage", "tier": "Disk-1"}),
        "{p}"
    );
    // The API's groups carry them too (Alertmanager 0.34's alertGroup).
    let groups = s.get_json("/api/v2/alerts/groups").await;
    assert_eq!(
        groups[0]["routeLabels"],
        json!({"team": "storage", "tier": "Disk-1"}),
        "{groups}"
    );
}

#[tokio::test]
async fn a_route_without_labels_sends_empty_route_labels() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Plain"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(p["routeLabels"], json!({}));
}

#[tokio::test]
async fn a_templated_webhook_url_is_rendered_per_group() {
    let sink = WebhookSink::start(vec![]).await;
    // The sink listens on `/hook`: only the group named `hook` reaches it.
    let base = sink.url.strip_suffix("/hook").unwrap();
    let url = format!("'{base}/{{{{ .GroupLabels.alertname }}}}'");
    let s = TestServer::start(&config(&url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "hook"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(p["groupLabels"]["alertname"], "hook");
}

#[tokio::test]
async fn a_malformed_templated_webhook_url_is_a_config_error() {
    let err = klaxon::config::Config::load_str(
        &config("'http://x/{{ .GroupLabels.alertname '", ""),
        std::path::Path::new("am.yml"),
        &|_| None,
    )
    .unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].webhook_configs[0].url"),
        "{err}"
    );
    // The url is a secret: the error names the field, never the value.
    assert!(!err.to_string().contains("http://x/"), "{err}");
}

#[tokio::test]
async fn a_custom_webhook_payload_is_templated() {
    let sink = WebhookSink::start(vec![]).await;
    let url = format!(
        "{}\n        payload:\n          text: '{{{{ .Status }}}} {{{{ .GroupLabels.alertname }}}}'\n          count: '{{{{ len .Alerts }}}}'\n          fixed: true",
        sink.url
    );
    let s = TestServer::start(&config(&url, "")).await;
    s.post_alerts(json!([{"labels": {"alertname": "Custom"}}]))
        .await;
    let p = sink.next(WAIT).await;
    assert_eq!(
        p,
        json!({"text": "firing Custom", "count": 1, "fixed": true})
    );
}

#[tokio::test]
async fn a_secret_file_missing_at_start_fails_sends_until_it_appears() {
    let sink = WebhookSink::start(vec![]).await;
    // Alertmanager starts on a secret that is mounted later; so does klaxon.
    let s = TestServer::start(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url_file: mounted-later\n",
    )
    .await;
    s.post_alerts(json!([{"labels": {"alertname": "Mounted"}}]))
        .await;
    let failed = recorded(&s).await;
    let entry = &failed["notifications"][0];
    assert_eq!(entry["outcome"], "failure", "{failed}");
    let error = entry.to_string();
    assert!(
        error.contains("url_file") && error.contains("mounted-later"),
        "the failure names the field and the file: {error}"
    );
    std::fs::write(s.dir.path().join("mounted-later"), &sink.url).unwrap();
    // The next flush reads the file again and delivers.
    let p = sink.next(WAIT).await;
    assert_eq!(p["groupLabels"]["alertname"], "Mounted");
}

#[tokio::test]
async fn route_labels_use_each_other_and_templates_read_them_with_route_labels() {
    let sink = WebhookSink::start(vec![]).await;
    let cfg = format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  labels:
    team: storage
    channel: 'ch-{{{{ routeLabels "team" }}}}-{{{{ routeLabels "tier" }}}}'
    tier: '{{{{ .GroupLabels.alertname }}}}'
    a: '{{{{ routeLabels "b" }}}}'
    b: '{{{{ routeLabels "a" }}}}'
receivers:
  - name: hook
    webhook_configs:
      - url: {}
        payload:
          channel: '{{{{ routeLabels "channel" }}}}'
          missing: 'x{{{{ routeLabels "nope" }}}}x'
"#,
        sink.url
    );
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([{"labels": {"alertname": "Disk"}}]))
        .await;
    let p = sink.next(WAIT).await;
    // Rendered in dependency order; the cycle a -> b -> a is left out (and
    // logged), as Alertmanager reports "route label cycle detected".
    assert_eq!(p["channel"], "ch-storage-Disk", "{p}");
    assert_eq!(p["missing"], "xx", "{p}");
    let groups = s.get_json("/api/v2/alerts/groups").await;
    assert_eq!(
        groups[0]["routeLabels"],
        json!({"channel": "ch-storage-Disk", "team": "storage", "tier": "Disk"}),
        "{groups}"
    );
}

/// Route labels are rendered over the whole flush, as Alertmanager 0.34
/// does: a resolved alert an integration does not send (`send_resolved:
/// false`) still counts, and the reason is `unknown`.
#[tokio::test]
async fn route_labels_are_rendered_over_the_whole_flush() {
    let sink = WebhookSink::start(vec![]).await;
    let text = config(
        &sink.url,
        "  labels:\n    seen: '{{ len .Alerts }} {{ .Status }} {{ .NotificationReason }}'",
    )
    .replace(
        "      - url: ",
        "      - send_resolved: false\n        url: ",
    );
    let s = TestServer::start(&text).await;
    s.post_alerts(json!([
        {"labels": {"alertname": "Disk", "instance": "a"}},
        {"labels": {"alertname": "Disk", "instance": "b"}}
    ]))
    .await;
    let first = sink.next(WAIT).await;
    assert_eq!(
        first["routeLabels"],
        json!({"seen": "2 firing unknown"}),
        "{first}"
    );
    // b resolves and c fires: the next flush holds three alerts, the
    // webhook gets the two firing ones.
    let now = chrono::Utc::now().to_rfc3339();
    s.post_alerts(json!([
        {"labels": {"alertname": "Disk", "instance": "b"}, "endsAt": now},
        {"labels": {"alertname": "Disk", "instance": "c"}}
    ]))
    .await;
    let p = sink.next(WAIT).await;
    assert_eq!(p["alerts"].as_array().unwrap().len(), 2, "{p}");
    assert_eq!(p["routeLabels"], json!({"seen": "3 firing unknown"}), "{p}");
}
