//! UTF-8 label names (Alertmanager 0.27+) end to end: an alert with
//! `service.name` is accepted, fingerprinted, routed and grouped by a
//! quoted matcher, silenced, inhibited, filtered and shown; amctl and
//! Debian's amtool 0.25 work against it; `--enable-feature=classic-mode`
//! and `utf8-strict-mode` switch the rules.

use std::process::Stdio;
use std::time::Duration;

use klaxon::features::Features;
use serde_json::{Value, json};

use crate::harness::{TestServer, WebhookSink, eventually, peer};

const WAIT: Duration = Duration::from_secs(15);

fn config(url: &str) -> String {
    format!(
        r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
  - receiver: hook
    matchers: ['"service.name"="api"']
    group_by: ['service.name']
inhibit_rules:
- source_matchers: ['"service.name"="db"', 'severity="critical"']
  target_matchers: ['"service.name"="api"', 'severity="warning"']
  equal: ['k8s.cluster']
receivers:
- name: hook
  webhook_configs:
  - url: {url}
"#
    )
}

const CLASSIC_CONFIG: &str = "route:\n  receiver: hook\nreceivers:\n- name: hook\n";

fn alert(labels: Value) -> Value {
    json!([{ "labels": labels }])
}

fn filtered(path: &str, filter: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    format!("{path}?filter={encoded}")
}

async fn alerts_with(s: &TestServer, filter: &str) -> reqwest::Response {
    s.get(&filtered("/api/v2/alerts", filter)).await
}

async fn status_of(resp: reqwest::Response) -> (u16, String) {
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_utf8_named_alert_is_routed_grouped_filtered_and_silenced() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url)).await;
    let resp = s
        .post_alerts(alert(json!({"alertname": "Up", "service.name": "api"})))
        .await;
    assert_eq!(resp.status(), 200);

    // Routed by the quoted matcher, grouped by the UTF-8 name; the group
    // key prints names as Alertmanager does (unquoted).
    let hook = sink.next(WAIT).await;
    assert_eq!(hook["groupLabels"], json!({"service.name": "api"}));
    assert_eq!(
        hook["groupKey"],
        r#"{}/{service.name="api"}:{service.name="api"}"#
    );
    assert_eq!(hook["alerts"][0]["labels"]["service.name"], "api");
    // Alertmanager's fingerprint of these labels (prometheus/common).
    assert_eq!(hook["alerts"][0]["fingerprint"], "c932e448e4e56a05");

    // A quoted filter finds it; braces and unclosed quotes are 400s.
    let list: Value = alerts_with(&s, r#""service.name"="api""#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["labels"]["service.name"], "api");
    assert_eq!(list[0]["fingerprint"], "c932e448e4e56a05");
    let none: Value = alerts_with(&s, r#""service.name"="db""#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none, json!([]));
    let (code, text) = status_of(alerts_with(&s, r#"{"service.name"="api"}"#).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("unexpected open or close brace"), "{text}");
    let (code, text) = status_of(alerts_with(&s, r#""service.name=api"#).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("bad matcher format"), "{text}");

    // A silence on the UTF-8 name mutes it and is found by a quoted filter.
    let id = s
        .add_silence(
            json!([{"name": "service.name", "value": "api", "isRegex": false, "isEqual": true}]),
            60,
        )
        .await;
    eventually(WAIT, "the alert silenced", || async {
        let list = s.get_json("/api/v2/alerts").await;
        (list[0]["status"]["silencedBy"] == json!([id])).then_some(())
    })
    .await;
    let silences = s
        .get_json(&filtered("/api/v2/silences", r#""service.name"="api""#))
        .await;
    assert_eq!(silences[0]["id"], id);
    assert_eq!(silences[0]["matchers"][0]["name"], "service.name");
}

#[tokio::test]
async fn inhibition_matches_and_compares_utf8_names() {
    let sink = WebhookSink::start(vec![]).await;
    let s = TestServer::start(&config(&sink.url)).await;
    let labels = |name: &str, service: &str, severity: &str, cluster: &str| json!({"alertname": name, "service.name": service, "severity": severity, "k8s.cluster": cluster});
    let body = json!([
        {"labels": labels("DbDown", "db", "critical", "c1")},
        {"labels": labels("ApiSlow", "api", "warning", "c1")},
        {"labels": labels("ApiSlow", "api", "warning", "c2")},
    ]);
    assert_eq!(s.post_alerts(body).await.status(), 200);
    let list = eventually(WAIT, "the c1 target inhibited", || async {
        let list = s.get_json("/api/v2/alerts").await;
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| !a["status"]["inhibitedBy"].as_array().unwrap().is_empty())
            .then_some(list)
    })
    .await;
    for a in list.as_array().unwrap() {
        let inhibited = !a["status"]["inhibitedBy"].as_array().unwrap().is_empty();
        let expected = a["labels"]["alertname"] == "ApiSlow" && a["labels"]["k8s.cluster"] == "c1";
        assert_eq!(inhibited, expected, "{a}");
    }
}

#[tokio::test]
async fn classic_mode_refuses_utf8_names_everywhere() {
    let classic = Features::parse("classic-mode").unwrap();
    // A config with quoted names does not load.
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        config("http://127.0.0.1:9/hook"),
    )
    .unwrap();
    let err = TestServer::try_start_with(dir, classic, Default::default())
        .await
        .err()
        .expect("classic mode refuses the config");
    let err = format!("{err:#}");
    assert!(err.contains("route.routes[0].matchers"), "{err}");
    assert!(err.contains("bad matcher format"), "{err}");

    let s = TestServer::start_with_features(CLASSIC_CONFIG, classic).await;
    let (code, text) = status_of(
        s.post_alerts(alert(json!({"alertname": "Up", "service.name": "api"})))
            .await,
    )
    .await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("service.name"), "{text}");
    let (code, text) = status_of(alerts_with(&s, r#""service.name"="api""#).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("bad matcher format"), "{text}");
    // The classic parser's own syntax still works.
    assert_eq!(alerts_with(&s, r"job=~a\d+").await.status(), 200);
    let now = chrono::Utc::now();
    let silence = json!({
        "matchers": [{"name": "service.name", "value": "api", "isRegex": false, "isEqual": true}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "test", "comment": "utf8",
    });
    let (code, text) = status_of(s.post_json("/api/v2/silences", &silence).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("invalid label name"), "{text}");
}

#[tokio::test]
async fn strict_mode_takes_only_the_utf8_parser() {
    let sink = WebhookSink::start(vec![]).await;
    let strict = Features::parse("utf8-strict-mode").unwrap();
    let s = TestServer::start_with_features(&config(&sink.url), strict).await;
    let resp = s
        .post_alerts(alert(json!({"alertname": "Up", "service.name": "api"})))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        alerts_with(&s, r#""service.name"="api""#).await.status(),
        200
    );
    // Read by the classic parser only: a 400 here, fine by default.
    let (code, text) = status_of(alerts_with(&s, r"job=~a\d+").await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("invalid input"), "{text}");
    let default = TestServer::start(&config(&sink.url)).await;
    assert_eq!(alerts_with(&default, r"job=~a\d+").await.status(), 200);
}

#[tokio::test]
async fn bad_label_names_are_400s_and_valid_alerts_alongside_are_kept() {
    let s = TestServer::start(CLASSIC_CONFIG).await;
    let body = json!([
        {"labels": {"alertname": "Kept", "service.name": "api"}},
        {"labels": {"alertname": "Bad", "": "empty name"}},
    ]);
    let (code, text) = status_of(s.post_alerts(body).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(
        text.contains(r#"alert 1: invalid label set: invalid name \"\""#),
        "names the alert and the empty name: {text}"
    );
    let kept = s.get_json("/api/v2/alerts").await;
    assert_eq!(kept.as_array().unwrap().len(), 1, "{kept}");
    assert_eq!(kept[0]["labels"]["alertname"], "Kept");

    // A lone surrogate escape is read as U+FFFD, as Go's decoder does:
    // both alerts are kept.
    let resp = s
        .client
        .post(s.url("/api/v2/alerts"))
        .header("content-type", "application/json")
        .body(r#"[{"labels": {"alertname": "X", "\ud800": "v"}}, {"labels": {"alertname": "AlsoKept"}}]"#)
        .send()
        .await
        .unwrap();
    let (code, text) = status_of(resp).await;
    assert_eq!(code, 200, "{text}");
    let kept = s.get_json("/api/v2/alerts").await;
    assert_eq!(kept.as_array().unwrap().len(), 3, "{kept}");
    let x = crate::harness::find_alert(&kept, "X").expect("the alert with the lone surrogate");
    assert_eq!(x["labels"]["\u{fffd}"], "v");

    // A silence matcher with an empty name.
    let now = chrono::Utc::now();
    let silence = json!({
        "matchers": [{"name": "", "value": "api", "isRegex": false, "isEqual": true}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "test", "comment": "empty",
    });
    let (code, text) = status_of(s.post_json("/api/v2/silences", &silence).await).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("invalid label name"), "{text}");
}

/// amctl with a private home, against `base`.
async fn amctl(home: &std::path::Path, base: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_amctl"))
        .arg(format!("--alertmanager.url={base}"))
        .args(args)
        .env("HOME", home)
        .env_remove("ALERTMANAGER_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("amctl in time")
        .expect("amctl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn amctl_silences_and_queries_with_quoted_names() {
    let s = TestServer::start(CLASSIC_CONFIG).await;
    let body = json!([
        {"labels": {"alertname": "Up", "service.name": "api"}},
        {"labels": {"alertname": "Up", "service.name": "db"}},
    ]);
    assert_eq!(s.post_alerts(body).await.status(), 200);
    let home = tempfile::tempdir().unwrap();
    let (ok, out, err) = amctl(
        home.path(),
        &s.base,
        &["alert", "query", "-o", "json", r#""service.name"=api"#],
    )
    .await;
    assert!(ok, "{err}");
    let found: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["labels"]["service.name"], "api");

    let (ok, id, err) = amctl(
        home.path(),
        &s.base,
        &["silence", "add", r#""service.name"=api"#, "-c", "utf8"],
    )
    .await;
    assert!(ok, "{err}");
    let silences = s.get_json("/api/v2/silences").await;
    assert_eq!(silences[0]["id"], id.trim());
    assert_eq!(
        silences[0]["matchers"],
        json!([{"name": "service.name", "value": "api", "isRegex": false, "isEqual": true}])
    );
    let (ok, _, err) = amctl(
        home.path(),
        &s.base,
        &["silence", "add", r#""service.name=api"#],
    )
    .await;
    assert!(!ok && err.contains("bad matcher"), "{err}");
}

#[tokio::test]
async fn debian_amtool_025_keeps_working_beside_utf8_names() {
    let Some(amtool) = peer("amtool") else {
        return;
    };
    let s = TestServer::start(CLASSIC_CONFIG).await;
    let body = json!([{"labels": {"alertname": "Up", "service.name": "api"}}]);
    assert_eq!(s.post_alerts(body).await.status(), 200);
    let home = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str]| {
        let (program, base, home) = (amtool.clone(), s.base.clone(), home.path().to_owned());
        async move {
            let out = tokio::process::Command::new(program)
                .arg(format!("--alertmanager.url={base}/"))
                .args(args)
                .env("HOME", home)
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output();
            let out = tokio::time::timeout(Duration::from_secs(30), out)
                .await
                .expect("amtool in time")
                .expect("amtool runs");
            assert!(out.status.success(), "amtool {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let listed = run(&["alert", "query", "-o", "extended"]).await;
    assert!(listed.contains("service.name"), "{listed}");
    let listed = run(&["alert", "query", "alertname=Up"]).await;
    assert!(listed.contains("Up"), "{listed}");
    let id = run(&["silence", "add", "alertname=Up", "-c", "classic"]).await;
    let query = run(&["silence", "query"]).await;
    assert!(query.contains(id.trim()), "{query}");
}

#[tokio::test]
async fn utf8_names_survive_a_restart() {
    let s = TestServer::start(CLASSIC_CONFIG).await;
    let body = json!([{"labels": {"alertname": "Up", "service.name": "api", "ключ": "значение"}}]);
    assert_eq!(s.post_alerts(body).await.status(), 200);
    let id = s
        .add_silence(
            json!([{"name": "ключ", "value": "значение", "isRegex": false, "isEqual": true}]),
            60,
        )
        .await;
    let s = s.restart().await;
    let list = eventually(WAIT, "the restored alert silenced", || async {
        let list = s.get_json("/api/v2/alerts").await;
        (list[0]["status"]["silencedBy"] == json!([id])).then_some(list)
    })
    .await;
    assert_eq!(list[0]["labels"]["service.name"], "api");
    assert_eq!(list[0]["labels"]["ключ"], "значение");
    let silences = s.get_json("/api/v2/silences").await;
    assert_eq!(silences[0]["matchers"][0]["name"], "ключ");
}
