//! `--enable-feature=event-recorder` with `event_recorder:` outputs: the
//! events of an alert's life (Alertmanager 0.34's kinds and JSON shape) in
//! a JSON-lines file and at a webhook, which is retried after a 503 and,
//! with `batch: true`, gets JSON arrays.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestServer, WebhookSink, eventually};

fn features() -> klaxon::features::Features {
    klaxon::features::Features::parse("event-recorder").unwrap()
}

/// The kind of an event: the one key of its `data`.
fn kind(event: &Value) -> String {
    event["data"]
        .as_object()
        .and_then(|d| d.keys().next().cloned())
        .unwrap_or_default()
}

fn file_events(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON event"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alerts_life_is_recorded_in_a_file_and_at_a_webhook() {
    let events_sink = WebhookSink::start(vec![503]).await;
    let notifications = WebhookSink::start(vec![]).await;
    let config = format!(
        r#"
event_recorder:
  file_outputs:
  - path: events.jsonl
  webhook_outputs:
  - url: '{events}'
    workers: 1
    retry_backoff: 10ms
  kafka_outputs:
  - brokers: ['127.0.0.1:9']
    topic: am-events
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
receivers:
- name: ops
  webhook_configs:
  - url: '{hook}'
inhibit_rules:
- name: source mutes target
  source_matchers: [alertname="Source"]
  target_matchers: [alertname="Target"]
  equal: [cluster]
"#,
        events = events_sink.url,
        hook = notifications.url
    );
    let server = TestServer::start_with_features(&config, features()).await;
    let file = server.dir.path().join("events.jsonl");

    let r = server
        .post_alerts(json!([{"labels": {"alertname": "DiskFull", "cluster": "a"}}]))
        .await;
    assert_eq!(r.status(), 200);
    notifications.next(Duration::from_secs(10)).await;
    server
        .add_silence(
            json!([{"name": "alertname", "value": "Quiet", "isRegex": false}]),
            60,
        )
        .await;
    let r = server
        .post_alerts(json!([
            {"labels": {"alertname": "Quiet"}},
            {"labels": {"alertname": "Source", "cluster": "a"}},
            {"labels": {"alertname": "Target", "cluster": "a"}},
        ]))
        .await;
    assert_eq!(r.status(), 200);
    let past = (chrono::Utc::now() - chrono::Duration::seconds(1)).to_rfc3339();
    let r = server
        .post_alerts(json!([{"labels": {"alertname": "DiskFull", "cluster": "a"}, "endsAt": past}]))
        .await;
    assert_eq!(r.status(), 200);
    let wanted = [
        "alertmanagerStartupEvent",
        "alertCreated",
        "alertGrouped",
        "notification",
        "silenceCreated",
        "silenceMutedAlert",
        "inhibitionMutedAlert",
        "alertResolved",
    ];
    eventually(
        Duration::from_secs(20),
        "every kind of event in the file",
        || async {
            let kinds: BTreeSet<String> = file_events(&file).iter().map(kind).collect();
            wanted.iter().all(|w| kinds.contains(*w)).then_some(())
        },
    )
    .await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    let label = format!(
        "alertmanager_events_recorded_total{{event_type=\"alert_created\",output=\"file:{}\",result=\"success\"}}",
        file.display()
    );
    assert!(metrics.contains(&label), "{label} in\n{metrics}");
    assert!(
        metrics.contains("alertmanager_event_recorder_queue_length "),
        "{metrics}"
    );
    // Kept: the directory goes with the last handle.
    let _dir = server.stop().await;

    let events = file_events(&file);
    assert_eq!(
        kind(events.last().unwrap()),
        "alertmanagerShutdownEvent",
        "the last event of a graceful stop"
    );
    for e in &events {
        let at = e["@timestamp"].as_str().expect("@timestamp");
        assert!(at.ends_with('Z'), "{at}");
        assert!(e["instance"].is_string(), "{e}");
    }
    // The shapes Alertmanager 0.34's protojson gives.
    let first = events
        .iter()
        .find(|e| {
            kind(e) == "notification"
                && e["data"]["notification"]["reason"] == "NOTIFY_REASON_FIRST_NOTIFICATION"
        })
        .expect("a first notification event");
    let n = &first["data"]["notification"];
    assert_eq!(
        n["integration"],
        json!({"name": "webhook"}),
        "index 0 is left out"
    );
    assert_eq!(n["repeatInterval"], "14400s");
    assert_eq!(n["groupInfo"]["receiverName"], "ops");
    assert_eq!(n["groupInfo"]["groupKey"], "{}:{alertname=\"DiskFull\"}");
    assert_eq!(n["groupInfo"]["groupId"].as_str().unwrap().len(), 64);
    let alert = &n["alerts"][0];
    assert!(
        alert["hash"].as_str().unwrap().parse::<u64>().is_ok(),
        "{alert}"
    );
    assert!(
        alert["details"]["fingerprint"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(alert["details"]["name"], "DiskFull");
    assert_eq!(
        alert["details"]["labels"]["labels"][0],
        json!({"key": "alertname", "value": "DiskFull"})
    );
    let inhibited = events
        .iter()
        .find(|e| kind(e) == "inhibitionMutedAlert")
        .unwrap();
    let rule = &inhibited["data"]["inhibitionMutedAlert"]["inhibitRules"][0];
    assert_eq!(rule["name"], "source mutes target");
    assert_eq!(rule["equalLabels"], json!(["cluster"]));
    assert_eq!(rule["sourceMatchers"][0]["type"], "TYPE_EQUAL");
    assert_eq!(
        rule["sourceMatchers"][0]["rendered"],
        "alertname=\"Source\""
    );
    let silenced = events
        .iter()
        .find(|e| kind(e) == "silenceMutedAlert")
        .unwrap();
    assert_eq!(
        silenced["data"]["silenceMutedAlert"]["silence"]["createdBy"],
        "test"
    );

    // The webhook got the same events, the first one after a retry.
    let mut at_webhook = Vec::new();
    while let Some(v) = events_sink.try_next(Duration::from_secs(5)).await {
        at_webhook.push(v);
        if kind(at_webhook.last().unwrap()) == "alertmanagerShutdownEvent" {
            break;
        }
    }
    let first_attempt = at_webhook.remove(0);
    assert_eq!(kind(&first_attempt), "alertmanagerStartupEvent");
    let kinds = |list: &[Value]| list.iter().map(kind).collect::<BTreeSet<_>>();
    assert_eq!(kinds(&at_webhook), kinds(&events));
    assert_eq!(
        at_webhook.len(),
        events.len(),
        "one POST per event, the 503 retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batching_webhook_gets_json_arrays_and_nothing_without_the_feature() {
    let sink = WebhookSink::start(vec![]).await;
    let config = format!(
        "event_recorder:\n  webhook_outputs:\n  - url: '{}'\n    batch: true\n    batch_max_events: 2\n    batch_flush_interval: 50ms\nroute:\n  receiver: ops\nreceivers:\n- name: ops\n",
        sink.url
    );
    let server = TestServer::start_with_features(&config, features()).await;
    let r = server
        .post_alerts(json!([{"labels": {"alertname": "A"}}, {"labels": {"alertname": "B"}}]))
        .await;
    assert_eq!(r.status(), 200);
    let mut events = Vec::new();
    while events.len() < 3 {
        let batch = sink.next(Duration::from_secs(10)).await;
        let list = batch.as_array().expect("a JSON array of events").clone();
        assert!((1..=2).contains(&list.len()), "{batch}");
        events.extend(list);
    }
    // Four workers (the default): batches may arrive in any order.
    assert!(events.iter().any(|e| kind(e) == "alertmanagerStartupEvent"));
    assert!(events.iter().any(|e| kind(e) == "alertCreated"));
    server.stop().await;

    // The same config without --enable-feature=event-recorder records nothing.
    let quiet = WebhookSink::start(vec![]).await;
    let config = config.replace(&sink.url, &quiet.url);
    let server = TestServer::start(&config).await;
    server
        .post_alerts(json!([{"labels": {"alertname": "A"}}]))
        .await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        !metrics.contains("alertmanager_events_recorded"),
        "{metrics}"
    );
    server.stop().await;
    assert!(quiet.drain().await.is_empty());
}
