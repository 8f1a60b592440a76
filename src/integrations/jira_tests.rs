//! Jira tests against a local Jira: search, create, update, resolve and
//! reopen transitions, Cloud's search endpoint, API v3 descriptions,
//! answers.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::config::IntegrationConfig;
use crate::integrations::test_support::{Answer, LocalService, alert, install_crypto, labels};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification(resolved: bool) -> Notification {
    Notification {
        receiver: "ops".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[
                ("alertname", "DiskFull"),
                ("instance", "db1"),
                ("severity", "warning"),
            ],
            &[("summary", "disk is full")],
            t(0),
            if resolved { t(50) } else { t(600) },
        )],
        external_url: "http://am:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

fn jira(base: &str, extra: &str) -> Jira {
    install_crypto();
    let mut c: JiraConfig = serde_saphyr::from_str(&format!(
        "api_url: '{base}/rest/api/2/'\nproject: OPS\nissue_type: Bug\nhttp_config:\n  basic_auth:\n    username: bot@example.com\n    password: API-TOKEN-SECRET\n{extra}"
    ))
    .unwrap();
    c.apply_globals(&Default::default());
    c.validate("x").unwrap();
    Jira::new(c, Arc::new(Templates::builtin()), Arc::new(Metrics::new())).unwrap()
}

fn label() -> String {
    format!("ALERT{{{}}}", group_key_hash("{}:{alertname=\"DiskFull\"}"))
}

fn json_answer(status: u16, body: Value) -> Answer {
    (
        status,
        vec![("content-type", "application/json".into())],
        body.to_string(),
    )
}

fn found(status_category: &str) -> Answer {
    json_answer(
        200,
        json!({"issues": [{"key": "OPS-7", "fields": {"status": {"name": "x", "statusCategory": {"key": status_category}}}}]}),
    )
}

fn body(r: &crate::integrations::test_support::Received) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn a_firing_group_without_an_issue_creates_one() {
    let svc = LocalService::start(
        vec![
            json_answer(200, json!({"issues": []})),
            json_answer(201, json!({"key": "OPS-1"})),
        ],
        json_answer(500, json!({})),
    )
    .await;
    jira(&svc.base, "labels: ['{{ .CommonLabels.severity }}', alertmanager]\nfields:\n  customfield_10001: '{{ .CommonLabels.instance }}'\n  customfield_10002: {value: '{{ .Status }}'}\n")
        .notify(&notification(false))
        .await
        .unwrap();
    let got = svc.received();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].method.as_str(), got[0].target.as_str()),
        ("POST", "/rest/api/2/search")
    );
    assert_eq!(got[0].header("accept-language"), Some("en"));
    assert!(
        got[0]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        body(&got[0]),
        json!({
            "fields": ["status"],
            "jql": format!("statusCategory != Done and project=\"OPS\" and labels=\"{}\" order by status ASC,resolutiondate DESC", label()),
            "maxResults": 2
        })
    );
    assert_eq!(
        (got[1].method.as_str(), got[1].target.as_str()),
        ("POST", "/rest/api/2/issue")
    );
    let mut labels = vec![label(), "alertmanager".into(), "warning".into()];
    labels.sort();
    let fields = &body(&got[1])["fields"];
    assert_eq!(fields["summary"], "[FIRING:1] DiskFull (db1 warning)");
    assert_eq!(fields["issuetype"], json!({"name": "Bug"}));
    assert_eq!(fields["project"], json!({"key": "OPS"}));
    assert_eq!(fields["priority"], json!({"name": "Medium"}));
    assert_eq!(fields["labels"], json!(labels));
    assert_eq!(fields["customfield_10001"], "db1");
    assert_eq!(fields["customfield_10002"], json!({"value": "firing"}));
    assert!(
        fields["description"]
            .as_str()
            .unwrap()
            .contains("# Alerts Firing:")
    );
    // Go's encoder sorts the map's keys.
    let text = String::from_utf8(got[1].body.clone()).unwrap();
    assert!(
        text.find("\"customfield_10001\"") < text.find("\"description\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_resolved_group_updates_its_issue_and_resolves_it() {
    let svc = LocalService::start(
        vec![
            found("indeterminate"),
            (204, vec![], String::new()),
            json_answer(200, json!({"transitions": [{"id": "11", "name": "Start"}, {"id": "31", "name": "Done"}]})),
            (204, vec![], String::new()),
        ],
        json_answer(500, json!({})),
    )
    .await;
    jira(
        &svc.base,
        "resolve_transition: Done\nsummary:\n  template: '{{ .Status }}'\n  enable_update: false\n",
    )
    .notify(&notification(true))
    .await
    .unwrap();
    let got = svc.received();
    let calls: Vec<(&str, &str)> = got
        .iter()
        .map(|r| (r.method.as_str(), r.target.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/rest/api/2/search"),
            ("PUT", "/rest/api/2/issue/OPS-7"),
            ("GET", "/rest/api/2/issue/OPS-7/transitions"),
            ("POST", "/rest/api/2/issue/OPS-7/transitions"),
        ]
    );
    assert!(
        body(&got[1])["fields"].get("summary").is_none(),
        "enable_update: false"
    );
    assert_eq!(body(&got[3]), json!({"transition": {"id": "31"}}));
}

#[tokio::test]
async fn a_resolved_group_without_an_issue_creates_none() {
    let svc = LocalService::start(
        vec![json_answer(200, json!({"issues": []}))],
        json_answer(500, json!({})),
    )
    .await;
    jira(&svc.base, "")
        .notify(&notification(true))
        .await
        .unwrap();
    assert_eq!(svc.received().len(), 1);
}

#[tokio::test]
async fn a_done_issue_that_fires_again_is_reopened_within_reopen_duration() {
    let svc = LocalService::start(
        vec![
            found("done"),
            (204, vec![], String::new()),
            json_answer(
                200,
                json!({"transitions": [{"id": "41", "name": "Reopen"}]}),
            ),
            (204, vec![], String::new()),
        ],
        json_answer(500, json!({})),
    )
    .await;
    jira(&svc.base, "reopen_transition: Reopen\nreopen_duration: 1h\nwont_fix_resolution: \"Won't Fix\"\napi_type: cloud\n")
        .notify(&notification(false))
        .await
        .unwrap();
    let got = svc.received();
    assert_eq!(got[0].target, "/rest/api/3/search/jql", "Cloud's search");
    let jql = body(&got[0])["jql"].as_str().unwrap().to_owned();
    assert!(
        jql.starts_with("(resolution is EMPTY or resolution != \"Won't Fix\") and (resolutiondate is EMPTY OR resolutiondate >= -60m) and project=\"OPS\""),
        "{jql}"
    );
    assert_eq!(body(&got[3]), json!({"transition": {"id": "41"}}));
}

#[tokio::test]
async fn answers_are_classified_and_a_missing_transition_is_named() {
    let svc = LocalService::start(
        vec![(429, vec![("retry-after", "9".into())], "slow".into())],
        json_answer(500, json!({})),
    )
    .await;
    let e = jira(&svc.base, "")
        .notify(&notification(false))
        .await
        .unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(9)));
    assert!(
        e.to_string().contains("failed to look up existing issues"),
        "{e}"
    );

    let svc = LocalService::start(
        vec![
            json_answer(200, json!({"issues": []})),
            json_answer(
                400,
                json!({"errors": {"priority": "Priority name 'Medium' is not valid"}}),
            ),
        ],
        json_answer(500, json!({})),
    )
    .await;
    let e = jira(&svc.base, "")
        .notify(&notification(false))
        .await
        .unwrap_err();
    assert!(!e.is_retryable());
    let shown = e.to_string();
    assert!(
        shown.contains("failed to POST request to \"issue\"") && shown.contains("not valid"),
        "{shown}"
    );
    assert!(!shown.contains("API-TOKEN-SECRET"));

    let svc = LocalService::start(
        vec![
            found("new"),
            (204, vec![], String::new()),
            json_answer(200, json!({"transitions": [{"id": "1", "name": "Close"}]})),
        ],
        json_answer(500, json!({})),
    )
    .await;
    let e = jira(&svc.base, "resolve_transition: Done\n")
        .notify(&notification(true))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("can't find transition Done for issue OPS-7"),
        "{e}"
    );
}

#[tokio::test]
async fn api_v3_takes_the_description_as_document_json() {
    let svc = LocalService::start(
        vec![json_answer(200, json!({"issues": []}))],
        json_answer(201, json!({})),
    )
    .await;
    let v3 = |extra: &str| {
        let mut j = jira(&svc.base, extra);
        j.config.api_url = Some(format!("{}/rest/api/3/", svc.base));
        j
    };
    let e = v3("").notify(&notification(false)).await.unwrap_err();
    assert!(e.to_string().contains("invalid JSON for API v3"), "{e}");
    let adf = r#"description: '{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"{{ .Status }}"}]}]}'"#;
    let issue = v3(&format!("{adf}\n"))
        .issue(&notification(false), &Data::new(&notification(false)))
        .unwrap();
    assert_eq!(
        issue.fields["description"]["content"][0]["content"][0]["text"],
        "firing"
    );
}

#[test]
fn the_config_is_checked_as_alertmanager_does() {
    let err = |yaml: &str| {
        let mut c: JiraConfig = serde_saphyr::from_str(yaml).unwrap();
        c.apply_globals(&Default::default());
        c.validate("r.jira_configs[0]").unwrap_err().to_string()
    };
    assert!(
        err("issue_type: Bug\napi_url: http://j/\n").contains("missing project in jira_config")
    );
    assert!(err("project: P\napi_url: http://j/\n").contains("missing issue_type in jira_config"));
    assert!(err("project: P\nissue_type: Bug\n").contains("no global Jira Cloud URL set"));
    assert!(
        err("project: P\nissue_type: Bug\napi_url: http://j/\napi_type: server\n")
            .contains("unknown api_type on jira_config")
    );
    assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
}
