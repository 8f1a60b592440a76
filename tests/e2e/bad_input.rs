//! Bad input gets Alertmanager's status code, never a 5xx, and never costs
//! the valid data sent alongside or before it.

use serde_json::{Value, json};

use crate::harness::{PLAIN_CONFIG, TestServer};

/// A named body and content type, with the status Alertmanager 0.25 gave
/// (`shared/reference/bad_input_status_codes.json`).
fn cases() -> Vec<(&'static str, Vec<u8>, Option<&'static str>, u16)> {
    let json_ct = Some("application/json");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let garbage = vec![b'x'; 8 * 1024 * 1024];
    let huge_annotation = serde_json::to_vec(&json!([{
        "labels": {"alertname": "HugeAnnotation"},
        "annotations": {"big": "a".repeat(3 * 1024 * 1024)}
    }]))
    .unwrap();
    let mut invalid_utf8 = br#"[{"labels":{"alertname":"Utf8","v":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe]);
    invalid_utf8.extend_from_slice(br#""}}]"#);
    let s = |t: &str| t.as_bytes().to_vec();
    vec![
        ("malformed_json", s(r#"[{"labels":"#), json_ct, 400),
        ("empty_body", s(""), json_ct, 422),
        ("empty_array", s("[]"), json_ct, 200),
        (
            "object_not_array",
            s(r#"{"labels":{"a":"b"}}"#),
            json_ct,
            400,
        ),
        ("json_string", s(r#""hello""#), json_ct, 400),
        ("json_null", s("null"), json_ct, 200),
        (
            "labels_is_list",
            s(r#"[{"labels":["a","b"]}]"#),
            json_ct,
            400,
        ),
        (
            "label_value_number",
            s(r#"[{"labels":{"a":1}}]"#),
            json_ct,
            400,
        ),
        (
            "startsAt_number",
            s(r#"[{"labels":{"a":"b"},"startsAt":5}]"#),
            json_ct,
            400,
        ),
        (
            "startsAt_garbage",
            s(r#"[{"labels":{"a":"b"},"startsAt":"yesterday"}]"#),
            json_ct,
            400,
        ),
        (
            "missing_labels",
            s(r#"[{"annotations":{"a":"b"}}]"#),
            json_ct,
            422,
        ),
        ("empty_labels", s(r#"[{"labels":{}}]"#), json_ct, 400),
        (
            "only_empty_label_value",
            s(r#"[{"labels":{"a":""}}]"#),
            json_ct,
            400,
        ),
        (
            // Any non-empty UTF-8 name is valid since Alertmanager 0.27.
            "invalid_label_name_empty",
            s(r#"[{"labels":{"":"b"}}]"#),
            json_ct,
            400,
        ),
        (
            "invalid_label_name_empty_beside_others",
            s(r#"[{"labels":{"a-b":"c","":"d"}}]"#),
            json_ct,
            400,
        ),
        (
            "startsAt_after_endsAt",
            s(
                r#"[{"labels":{"a":"b"},"startsAt":"2030-01-01T00:00:00Z","endsAt":"2029-01-01T00:00:00Z"}]"#,
            ),
            json_ct,
            400,
        ),
        (
            "generatorURL_not_uri",
            s(r#"[{"labels":{"a":"b"},"generatorURL":"not a uri"}]"#),
            json_ct,
            422,
        ),
        (
            "annotations_number",
            s(r#"[{"labels":{"a":"b"},"annotations":{"x":2}}]"#),
            json_ct,
            400,
        ),
        (
            "content_type_text_plain",
            s(r#"[{"labels":{"a":"b"}}]"#),
            Some("text/plain"),
            415,
        ),
        ("no_content_type", s(r#"[{"labels":{"a":"b"}}]"#), None, 415),
        ("invalid_utf8", invalid_utf8, json_ct, 200),
        (
            "unknown_fields",
            s(r#"[{"labels":{"alertname":"Unknown"},"extra":{"x":[1,2]}}]"#),
            json_ct,
            200,
        ),
        ("deeply_nested", s(&deep), json_ct, 400),
        (
            "mixed_valid_and_invalid",
            s(
                r#"[{"labels":{"alertname":"MixedValid"}},{"labels":{}},{"labels":{"alertname":"MixedValid2"}}]"#,
            ),
            json_ct,
            400,
        ),
        ("huge_garbage_8MiB", garbage, json_ct, 400),
        ("huge_annotation_3MiB", huge_annotation, json_ct, 200),
    ]
}

async fn post_raw(s: &TestServer, body: Vec<u8>, content_type: Option<&str>) -> reqwest::Response {
    let mut req = s.client.post(s.url("/api/v2/alerts")).body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send().await.expect("POST")
}

fn reference_codes() -> Option<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/bad_input_status_codes.json"
    );
    std::fs::read_to_string(path)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
}

#[tokio::test]
async fn bad_alert_bodies_get_alertmanagers_status_codes_and_lose_nothing() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    s.post_alerts(json!([{"labels": {"alertname": "Before"}}]))
        .await;
    let reference = reference_codes();
    for (name, body, ct, expected) in cases() {
        if let Some(r) = &reference
            && let Some(code) = r[name].as_u64()
        {
            assert_eq!(
                code as u16, expected,
                "table disagrees with the reference for {name}"
            );
        }
        let resp = post_raw(&s, body, ct).await;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(status, expected, "{name}: {text}");
        if status >= 400 {
            assert!(!text.is_empty(), "{name}: error without a message");
        }
    }
    s.post_alerts(json!([{"labels": {"alertname": "After"}}]))
        .await;
    let alerts = s.get_json("/api/v2/alerts").await;
    let names: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap())
        .collect();
    for kept in [
        "Before",
        "After",
        "MixedValid",
        "MixedValid2",
        "Utf8",
        "Unknown",
        "HugeAnnotation",
    ] {
        assert!(names.contains(&kept), "{kept} missing from {names:?}");
    }
}

#[tokio::test]
async fn mixed_batch_names_the_invalid_alert() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let resp = s
        .post_alerts(json!([
            {"labels": {"alertname": "Ok"}},
            {"labels": {"bad-name": "x", "": "empty"}}
        ]))
        .await;
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("alert 1") && text.contains(r#"invalid label set: invalid name \"\""#),
        "{text}"
    );
}

#[tokio::test]
async fn invalid_utf8_is_replaced_not_refused() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let mut body = br#"[{"labels":{"alertname":"U","v":"a"#.to_vec();
    body.push(0xff);
    body.extend_from_slice(br#""}}]"#);
    assert_eq!(
        post_raw(&s, body, Some("application/json")).await.status(),
        200
    );
    let alerts = s.get_json("/api/v2/alerts").await;
    assert_eq!(alerts[0]["labels"]["v"], "a\u{fffd}");
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let body = vec![b' '; klaxon::api::MAX_BODY_BYTES + 1];
    let resp = post_raw(&s, body, Some("application/json")).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(s.get("/-/healthy").await.status(), 200);
}

#[tokio::test]
async fn bad_silences_get_alertmanagers_status_codes() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    let ts = |mins: i64| (now + chrono::Duration::minutes(mins)).to_rfc3339();
    let m = json!([{"name": "alertname", "value": "X", "isRegex": false}]);
    let body = |matchers: Value, start: String, end: String| json!({"matchers": matchers, "startsAt": start, "endsAt": end, "createdBy": "t", "comment": "c"});
    let cases = [
        ("valid", body(m.clone(), ts(0), ts(60)), 200),
        (
            "bad_regex",
            body(
                json!([{"name": "a", "value": "(", "isRegex": true}]),
                ts(0),
                ts(60),
            ),
            400,
        ),
        ("ends_before_starts", body(m.clone(), ts(60), ts(0)), 400),
        ("ends_in_past", body(m.clone(), ts(-120), ts(-60)), 400),
        (
            "matches_empty",
            body(
                json!([{"name": "a", "value": "", "isRegex": false}]),
                ts(0),
                ts(60),
            ),
            400,
        ),
        (
            "bad_label_name",
            body(
                json!([{"name": "", "value": "x", "isRegex": false}]),
                ts(0),
                ts(60),
            ),
            400,
        ),
        ("no_matchers", body(json!([]), ts(0), ts(60)), 422),
        (
            "missing_matchers",
            json!({"startsAt": ts(0), "endsAt": ts(60), "createdBy": "t", "comment": "c"}),
            422,
        ),
        (
            "missing_createdBy",
            json!({"matchers": m, "startsAt": ts(0), "endsAt": ts(60), "comment": "c"}),
            422,
        ),
        (
            "missing_comment",
            json!({"matchers": m, "startsAt": ts(0), "endsAt": ts(60), "createdBy": "t"}),
            422,
        ),
        (
            "unknown_id",
            {
                let mut b = body(m.clone(), ts(0), ts(60));
                b["id"] = json!("3f4b7f8e-1111-4222-8333-444455556666");
                b
            },
            404,
        ),
        (
            "not_equal_matcher",
            body(
                json!([{"name": "a", "value": "b", "isRegex": false, "isEqual": false}]),
                ts(0),
                ts(60),
            ),
            200,
        ),
        ("pending", body(m.clone(), ts(60), ts(120)), 200),
    ];
    for (name, b, expected) in cases {
        let resp = s.post_json("/api/v2/silences", &b).await;
        assert_eq!(
            resp.status().as_u16(),
            expected,
            "{name}: {}",
            resp.text().await.unwrap()
        );
    }
    let malformed = s
        .client
        .post(s.url("/api/v2/silences"))
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    assert_eq!(s.get("/api/v2/silence/not-a-uuid").await.status(), 422);
    assert_eq!(
        s.get("/api/v2/silence/3f4b7f8e-1111-4222-8333-444455556666")
            .await
            .status(),
        404
    );
    let del = s
        .client
        .delete(s.url("/api/v2/silence/3f4b7f8e-1111-4222-8333-444455556666"))
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 404);
    // The valid and pending silences are still there.
    assert_eq!(
        s.get_json("/api/v2/silences")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
