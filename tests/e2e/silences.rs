//! Silence lifecycle through the API: create, update in place or replace,
//! expire, list order and filters.

use serde_json::{Value, json};

use crate::harness::{PLAIN_CONFIG, TestServer};

fn body(
    matchers: Value,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({
        "matchers": matchers,
        "startsAt": start.to_rfc3339(),
        "endsAt": end.to_rfc3339(),
        "createdBy": "test",
        "comment": "lifecycle",
    })
}

fn m(name: &str, value: &str) -> Value {
    json!([{"name": name, "value": value, "isRegex": false, "isEqual": true}])
}

#[tokio::test]
async fn extending_a_pending_silence_keeps_its_id() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let start = chrono::Utc::now() + chrono::Duration::hours(1);
    let create = body(
        m("alertname", "A"),
        start,
        start + chrono::Duration::hours(1),
    );
    let id = s.post_silence(&create).await;
    let mut update = body(
        m("alertname", "A"),
        start,
        start + chrono::Duration::hours(5),
    );
    update["id"] = json!(id);
    assert_eq!(s.post_silence(&update).await, id);
    assert_eq!(
        s.get_json("/api/v2/silences")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn editing_an_active_silence_as_returned_by_the_api_keeps_its_id() {
    // The stored start has sub-second precision and the API shows
    // milliseconds; Alertmanager compares starts to the second.
    let s = TestServer::start(PLAIN_CONFIG).await;
    let id = s.add_silence(m("alertname", "A"), 60).await;
    let mut update = s.get_json(&format!("/api/v2/silence/{id}")).await;
    update["endsAt"] = json!((chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339());
    update["comment"] = json!("extended");
    assert_eq!(s.post_silence(&update).await, id);
    let list = s.get_json("/api/v2/silences").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["comment"], "extended");
}

#[tokio::test]
async fn moving_the_start_of_an_active_silence_replaces_it() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let id = s.add_silence(m("alertname", "A"), 60).await;
    let mut update = s.get_json(&format!("/api/v2/silence/{id}")).await;
    update["startsAt"] = json!((chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339());
    assert_ne!(s.post_silence(&update).await, id);
    let old = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(old["status"]["state"], "expired");
}

#[tokio::test]
async fn changing_matchers_replaces_the_silence() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    let id = s.add_silence(m("alertname", "A"), 60).await;
    let mut update = body(m("alertname", "B"), now, now + chrono::Duration::hours(1));
    update["id"] = json!(id);
    let new_id = s.post_silence(&update).await;
    assert_ne!(new_id, id);
    let old = s.get_json(&format!("/api/v2/silence/{id}")).await;
    assert_eq!(old["status"]["state"], "expired");
    let new = s.get_json(&format!("/api/v2/silence/{new_id}")).await;
    assert_eq!(new["status"]["state"], "active");
}

#[tokio::test]
async fn delete_expires_and_listing_orders_by_state() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    let a = s.add_silence(m("alertname", "A"), 60).await;
    let b = s.add_silence(m("alertname", "B"), 30).await;
    let pending = body(
        m("alertname", "P"),
        now + chrono::Duration::hours(1),
        now + chrono::Duration::hours(2),
    );
    let p = s.post_silence(&pending).await;
    let del = s
        .client
        .delete(s.url(&format!("/api/v2/silence/{a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    // Deleting again is harmless.
    let again = s
        .client
        .delete(s.url(&format!("/api/v2/silence/{a}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let list = s.get_json("/api/v2/silences").await;
    let order: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["status"]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            (b.as_str(), "active"),
            (p.as_str(), "pending"),
            (a.as_str(), "expired")
        ]
    );
    let active_only = s
        .get_json("/api/v2/silences?expired=false&pending=false")
        .await;
    assert_eq!(active_only.as_array().unwrap().len(), 1);
    let filtered = s
        .get_json("/api/v2/silences?filter=alertname%3D%22P%22")
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["id"], json!(p));
}

#[tokio::test]
async fn pending_silence_does_not_mute_yet() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    s.post_alerts(json!([{"labels": {"alertname": "Later"}}]))
        .await;
    let pending = body(
        m("alertname", "Later"),
        now + chrono::Duration::hours(1),
        now + chrono::Duration::hours(2),
    );
    assert_eq!(
        s.post_json("/api/v2/silences", &pending).await.status(),
        200
    );
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(alerts[0]["status"]["state"], "active");
}

#[tokio::test]
async fn state_flags_pick_states_and_filter_narrows_within_them() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    let hour = chrono::Duration::hours(1);
    let active = s
        .post_silence(&body(m("alertname", "A"), now - hour, now + hour))
        .await;
    let pending = s
        .post_silence(&body(m("alertname", "P"), now + hour, now + hour * 2))
        .await;
    let expired = s
        .post_silence(&body(m("alertname", "E"), now - hour, now + hour))
        .await;
    let del = s
        .client
        .delete(s.url(&format!("/api/v2/silence/{expired}")))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 200);
    let ids = |v: Value| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<&String>| -> Vec<String> {
        v.sort();
        v.into_iter().cloned().collect()
    };
    let all = sorted(vec![&active, &pending, &expired]);
    // Defaults are true; an empty value keeps the default.
    assert_eq!(ids(s.get_json("/api/v2/silences").await), all);
    assert_eq!(ids(s.get_json("/api/v2/silences?active=").await), all);
    for (q, want) in [
        ("active=false", sorted(vec![&pending, &expired])),
        ("pending=false&expired=false", vec![active.clone()]),
        ("active=0&pending=no", vec![expired.clone()]),
        ("active=false&pending=false&expired=false", vec![]),
        // A word go-openapi does not read as true is false, never a 400.
        ("expired=maybe", sorted(vec![&active, &pending])),
        ("expired=TRUE&expired=nope", sorted(vec![&active, &pending])),
        // `filter` narrows within the picked states.
        ("active=false&filter=alertname%3D%22A%22", vec![]),
        (
            "expired=false&filter=alertname%3D~%22A%7CE%7CP%22",
            sorted(vec![&active, &pending]),
        ),
    ] {
        let r = s.get(&format!("/api/v2/silences?{q}")).await;
        assert_eq!(r.status(), 200, "{q}");
        assert_eq!(ids(r.json().await.unwrap()), want, "{q}");
    }
}

#[tokio::test]
async fn unknown_silence_id_is_a_bare_404() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let path = "/api/v2/silence/3f4b7f8e-1111-4222-8333-444455556666";
    let got = s.get(path).await;
    assert_eq!(got.status(), 404);
    assert_eq!(got.text().await.unwrap(), "");
    let del = s.client.delete(s.url(path)).send().await.unwrap();
    assert_eq!(del.status(), 404);
    assert_eq!(del.text().await.unwrap(), "");
    let bad = s
        .client
        .delete(s.url("/api/v2/silence/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn bad_filter_is_the_same_400_on_every_list() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    for path in [
        "/api/v2/alerts",
        "/api/v2/alerts/groups",
        "/api/v2/silences",
    ] {
        let r = s.get(&format!("{path}?filter=a%3D%22")).await;
        assert_eq!(r.status(), 400, "{path}");
        let msg: Value = r.json().await.unwrap();
        // Alertmanager's classic-parser message, as a bare JSON string.
        assert_eq!(
            msg,
            json!("matcher value contains unescaped double quote: \""),
            "{path}"
        );
    }
}
