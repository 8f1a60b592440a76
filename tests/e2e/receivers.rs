//! Receivers through the whole server: what an integration keeps between
//! notifications survives a restart.

use serde_json::{Value, json};

use crate::harness::TestServer;
use crate::receivers_differential::Capture;

fn alert(instance: &str) -> Value {
    json!([{
        "labels": {"alertname": "DiskFull", "instance": instance},
        "annotations": {"summary": format!("{instance} is full")}
    }])
}

/// `update_message`: the first notification of a group posts, the next
/// ones edit that message (its channel and `ts` kept in the notification
/// log), also after a restart.
#[tokio::test]
async fn slack_update_message_edits_one_message_per_group_across_a_restart() {
    let slack = Capture::start(
        200,
        "application/json",
        json!({"ok": true, "channel": "C024BE91L", "ts": "1700000000.000200"}).to_string(),
    )
    .await;
    let config = format!(
        "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: r\n  slack_configs:\n  - app_token: xoxb-secret-token\n    app_url: '{}/api/chat.postMessage'\n    channel: '#alerts'\n    update_message: true\n",
        slack.base
    );
    let server = TestServer::start(&config).await;
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    let first = slack.nth(0, "the first post").await;
    assert_eq!(first.target, "/api/chat.postMessage");
    assert_eq!(
        first.header("authorization"),
        Some("Bearer xoxb-secret-token")
    );

    assert_eq!(server.post_alerts(alert("db2")).await.status(), 200);
    let second = slack.nth(1, "the update").await;
    assert_eq!(second.target, "/api/chat.update");
    let body: Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(body["ts"], "1700000000.000200");
    assert_eq!(body["channel"], "C024BE91L");
    assert!(
        body["attachments"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("[FIRING:2]")
    );

    let server = server.restart().await;
    assert_eq!(server.post_alerts(alert("db3")).await.status(), 200);
    let third = slack.nth(2, "the update after a restart").await;
    assert_eq!(third.target, "/api/chat.update");
    let body: Value = serde_json::from_slice(&third.body).unwrap();
    assert_eq!(body["ts"], "1700000000.000200");
    server.stop().await;
}

/// One receiver with every HTTP integration (all but email), each pointed
/// at a path of one local service and holding a secret of its own.
pub(crate) fn every_integration(base: &str) -> String {
    format!(
        r#"route:
  receiver: all
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: all
  webhook_configs:
  - url: '{base}/webhook/SECRET-webhook'
  discord_configs:
  - webhook_url: '{base}/discord/1/SECRET-discord'
  slack_configs:
  - api_url: '{base}/slack/SECRET-slack'
  telegram_configs:
  - api_url: '{base}/telegram'
    bot_token: '1:SECRET-telegram'
    chat_id: -100
  pagerduty_configs:
  - url: '{base}/pagerduty'
    routing_key: SECRET-pagerduty
  opsgenie_configs:
  - api_url: '{base}/opsgenie/'
    api_key: SECRET-opsgenie
  pushover_configs:
  - api_url: '{base}/pushover'
    token: SECRET-pushover-token
    user_key: SECRET-pushover-user
  victorops_configs:
  - api_url: '{base}/victorops/'
    api_key: SECRET-victorops
    routing_key: team
  wechat_configs:
  - api_url: '{base}/wechat/'
    api_secret: SECRET-wechat
    corp_id: corp
  sns_configs:
  - api_url: '{base}/sns/'
    topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
    sigv4:
      region: us-east-1
      access_key: AKIDEXAMPLE
      secret_key: SECRET-sns
  webex_configs:
  - api_url: '{base}/webex'
    room_id: room
    http_config:
      authorization:
        credentials: SECRET-webex
  msteams_configs:
  - webhook_url: '{base}/msteams/SECRET-msteams'
  msteamsv2_configs:
  - webhook_url: '{base}/msteamsv2/SECRET-msteamsv2'
  jira_configs:
  - api_url: '{base}/jira/rest/api/2/'
    project: OPS
    issue_type: Bug
    http_config:
      basic_auth:
        username: bot
        password: SECRET-jira
  rocketchat_configs:
  - api_url: '{base}/rocketchat/'
    token: SECRET-rocketchat-token
    token_id: SECRET-rocketchat-id
  incidentio_configs:
  - url: '{base}/incidentio/SECRET-incidentio'
    alert_source_token: SECRET-incidentio-token
  mattermost_configs:
  - webhook_url: '{base}/mattermost/SECRET-mattermost'
"#
    )
}

/// Every integration delivers through the running server (dispatch,
/// notify, history), and none of their secrets shows in
/// `/api/v2/status` or the notification history.
#[tokio::test]
async fn every_integration_delivers_and_keeps_its_secrets() {
    // One answer every service reads as success.
    let service = Capture::start(
        200,
        "application/json",
        json!({"ok": true, "success": true, "status": 1, "errcode": 0, "access_token": "T", "issues": []})
            .to_string(),
    )
    .await;
    let server = TestServer::start(&every_integration(&service.base)).await;
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    // 17 integrations; WeChat and Jira make two calls each.
    let mut paths = Vec::new();
    for i in 0..19 {
        let got = service.nth(i, "a request of each integration").await;
        let path = got.target.split('?').next().unwrap_or_default();
        paths.push(path.split('/').nth(1).unwrap_or_default().to_owned());
    }
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        [
            "discord",
            "incidentio",
            "jira",
            "mattermost",
            "msteams",
            "msteamsv2",
            "opsgenie",
            "pagerduty",
            "pushover",
            "rocketchat",
            "slack",
            "sns",
            "telegram",
            "victorops",
            "webex",
            "webhook",
            "wechat"
        ]
    );
    let history = crate::harness::eventually(
        std::time::Duration::from_secs(20),
        "17 attempts in the history",
        || async {
            let h = server.get_json("/api/klaxon/notifications").await;
            (h["notifications"].as_array().map_or(0, Vec::len) >= 17).then_some(h)
        },
    )
    .await;
    let mut integrations: Vec<String> = history["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(n["outcome"], "success", "{n}");
            n["integration"].as_str().unwrap().to_owned()
        })
        .collect();
    integrations.sort();
    assert_eq!(integrations.len(), 17);
    let status = server.get("/api/v2/status").await.text().await.unwrap();
    for text in [status, history.to_string()] {
        assert!(!text.contains("SECRET-"), "a secret shows: {text}");
    }
    server.stop().await;
}

/// `--enable-feature=receiver-name-in-metrics`: notification series carry
/// `receiver_name`, exist at zero for the running config's receivers, and
/// follow a reload; without it there is no such label.
#[tokio::test]
async fn receiver_names_in_metrics_follow_the_config() {
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let config = |name: &str| {
        format!(
            "route:\n  receiver: {name}\n  group_wait: 0s\nreceivers:\n- name: {name}\n  webhook_configs:\n  - url: '{}/hook'\n",
            hook.base
        )
    };
    let features = klaxon::features::Features::parse("receiver-name-in-metrics").unwrap();
    let server = TestServer::start_with_features(&config("team-a"), features).await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            r#"alertmanager_notifications_total{integration="webhook",receiver_name="team-a"} 0"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(
        r#"alertmanager_notifications_failed_total{integration="webhook",receiver_name="team-a",reason="serverError"} 0"#
    ));
    assert!(
        !metrics.contains(r#"integration="slack""#),
        "only the config's integrations"
    );
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    hook.nth(0, "the notification").await;
    let metrics = crate::harness::eventually(std::time::Duration::from_secs(10), "the count", || async {
        let m = server.get("/metrics").await.text().await.unwrap();
        m.contains(r#"alertmanager_notifications_total{integration="webhook",receiver_name="team-a"} 1"#)
            .then_some(m)
    })
    .await;
    assert!(metrics.contains(r#"alertmanager_notification_requests_total{integration="webhook",receiver_name="team-a"} 1"#));

    std::fs::write(server.config_path(), config("team-b")).unwrap();
    let r = crate::harness::client()
        .post(server.url("/-/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"receiver_name="team-b""#), "{metrics}");
    assert!(!metrics.contains(r#"receiver_name="team-a""#), "{metrics}");
    server.stop().await;

    let plain = TestServer::start(&config("team-a")).await;
    let metrics = plain.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"alertmanager_notifications_total{integration="slack"} 0"#));
    assert!(!metrics.contains("receiver_name"));
    plain.stop().await;
}

/// `tls_config.ca` inline (PEM in the config, prometheus/common's newer
/// field) verifies the service as `ca_file` does: a webhook over HTTPS
/// through a proxy, signed by a test CA given inline.
#[tokio::test]
async fn an_inline_tls_ca_verifies_the_service() {
    crate::harness::init();
    let ca = crate::harness::TestCa::new("inline CA");
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let proxy =
        crate::receivers_differential::InterceptingProxy::start(&ca, "hooks.example", &hook.base)
            .await;
    let indented: String = ca
        .pem()
        .lines()
        .map(|l| format!("          {l}\n"))
        .collect();
    let config = format!(
        "route:\n  receiver: r\n  group_wait: 0s\nreceivers:\n- name: r\n  webhook_configs:\n  - url: https://hooks.example/alert\n    http_config:\n      proxy_url: '{}'\n      proxy_connect_header:\n        Proxy-Authorization: ['Basic eDp5']\n      tls_config:\n        ca: |\n{indented}",
        proxy.url
    );
    let server = TestServer::start(&config).await;
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    let got = hook.nth(0, "the webhook over TLS").await;
    assert_eq!(got.target, "/alert");
    // `proxy_connect_header` went to the proxy, not to the service.
    let connect = proxy.connects.lock().unwrap()[0].to_lowercase();
    assert!(
        connect.contains("proxy-authorization: basic eDp5".to_lowercase().as_str()),
        "{connect}"
    );
    assert!(got.header("proxy-authorization").is_none());
    // Both forms at once is a config error, as in prometheus/common.
    let both = format!("{config}        ca_file: /etc/ssl/ca.pem\n");
    let err = klaxon::config::Config::load_str(&both, std::path::Path::new("a.yml"), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most one of ca and ca_file"), "{err}");
    server.stop().await;
}

/// `http_config.oauth2`: a client-credentials token fetched from
/// `token_url` (client ID and secret as basic auth, scopes and endpoint
/// params in the form), reused while it is valid, sent as a bearer token.
#[tokio::test]
async fn oauth2_client_credentials_authorize_a_webhook() {
    let token_service = Capture::start(
        200,
        "application/json",
        json!({"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600}).to_string(),
    )
    .await;
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let config = format!(
        "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 0s\nreceivers:\n- name: r\n  webhook_configs:\n  - url: '{}/hook'\n    http_config:\n      oauth2:\n        client_id: klaxon\n        client_secret: s3cret\n        token_url: '{}/token'\n        scopes: [alerts.write]\n        endpoint_params:\n          audience: hooks\n",
        hook.base, token_service.base
    );
    let server = TestServer::start(&config).await;
    server.post_alerts(alert("db1")).await;
    server
        .post_alerts(json!([{"labels": {"alertname": "Other"}}]))
        .await;
    for i in 0..2 {
        let got = hook.nth(i, "an authorized notification").await;
        assert_eq!(got.header("authorization"), Some("Bearer tok-123"));
    }
    let token = token_service.nth(0, "the token request").await;
    assert_eq!(token.target, "/token");
    // base64("klaxon:s3cret")
    assert_eq!(
        token.header("authorization"),
        Some("Basic a2xheG9uOnMzY3JldA==")
    );
    let mut form = token.form();
    form.sort();
    assert_eq!(
        form,
        [
            ("audience".to_owned(), "hooks".to_owned()),
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "alerts.write".to_owned()),
        ]
    );
    assert!(
        tokio::time::timeout(
            std::time::Duration::from_millis(300),
            token_service.nth(1, "x")
        )
        .await
        .is_err(),
        "the token is reused"
    );
    server.stop().await;
}

/// `http_config.oauth2` with prometheus/common's jwt-bearer grant (RFC
/// 7523): the token request carries an assertion signed with the client's
/// RSA key, with the standard claims, the `kid`, the algorithm asked for
/// and the configured extra claims; the token it returns authorizes the
/// webhook.
#[tokio::test]
async fn oauth2_jwt_bearer_assertions_are_signed_with_the_client_key() {
    let token_service = Capture::start(
        200,
        "application/json",
        json!({"access_token": "jwt-tok", "token_type": "Bearer", "expires_in": 3600}).to_string(),
    )
    .await;
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("client.pem");
    std::fs::write(&key_file, include_str!("fixtures/oauth2-jwt-test-key.pem")).unwrap();
    let config = format!(
        "route:\n  receiver: r\n  group_wait: 0s\nreceivers:\n- name: r\n  webhook_configs:\n  - url: '{}/hook'\n    http_config:\n      oauth2:\n        client_id: klaxon-client\n        grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer\n        client_certificate_key_file: '{}'\n        client_certificate_key_id: key-1\n        signature_algorithm: RS384\n        audience: https://idp.example/\n        scopes: [alerts.write]\n        claims:\n          tenant: acme\n        token_url: '{}/token'\n",
        hook.base,
        key_file.display(),
        token_service.base
    );
    let server = TestServer::start(&config).await;
    server.post_alerts(alert("db1")).await;
    let got = hook.nth(0, "an authorized notification").await;
    assert_eq!(got.header("authorization"), Some("Bearer jwt-tok"));
    let token = token_service.nth(0, "the token request").await;
    let form: std::collections::BTreeMap<_, _> = token.form().into_iter().collect();
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(form["scope"], "alerts.write");
    let public = jsonwebtoken::DecodingKey::from_rsa_pem(include_bytes!(
        "fixtures/oauth2-jwt-test-key.pub.pem"
    ))
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS384);
    validation.set_audience(&["https://idp.example/"]);
    let decoded =
        jsonwebtoken::decode::<serde_json::Value>(&form["assertion"], &public, &validation)
            .expect("an assertion signed with the client's key");
    assert_eq!(decoded.header.kid.as_deref(), Some("key-1"));
    let claims = decoded.claims;
    assert_eq!(claims["iss"], "klaxon-client");
    assert_eq!(claims["sub"], "klaxon-client");
    assert_eq!(claims["scope"], "alerts.write");
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() == 36));
    server.stop().await;
}

/// `proxy_connect_header` with `proxy_from_environment`: the proxy comes
/// from `HTTPS_PROXY` and still gets the headers with its CONNECT.
#[tokio::test]
async fn proxy_connect_headers_reach_a_proxy_from_the_environment() {
    crate::harness::init();
    let ca = crate::harness::TestCa::new("env proxy CA");
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let proxy =
        crate::receivers_differential::InterceptingProxy::start(&ca, "hooks.example", &hook.base)
            .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(
        dir.path().join("alertmanager.yml"),
        "route:\n  receiver: r\n  group_wait: 0s\nreceivers:\n- name: r\n  webhook_configs:\n  - url: https://hooks.example/alert\n    http_config:\n      proxy_from_environment: true\n      proxy_connect_header:\n        Proxy-Authorization: ['Basic ZW52OnByb3h5']\n      tls_config:\n        ca_file: ca.pem\n",
    )
    .unwrap();
    // The real binary: the environment is the process's own.
    let server = crate::harness::BinaryServer::start_with_env(
        dir.path(),
        &[("HTTPS_PROXY", proxy.url.as_str())],
    )
    .await;
    server.post_json("/api/v2/alerts", &alert("db1")).await;
    let got = hook.nth(0, "the webhook through the proxy").await;
    assert_eq!(got.target, "/alert");
    let connect = proxy.connects.lock().unwrap()[0].to_lowercase();
    assert!(
        connect.contains("proxy-authorization: basic zw52onbyb3h5"),
        "{connect}"
    );
    assert!(got.header("proxy-authorization").is_none());
    server.kill9().await;
}

/// `tls_config.server_name`: the certificate is checked against that name,
/// not the URL's host; without it, the same certificate is refused.
#[tokio::test]
async fn tls_server_name_is_the_name_the_certificate_must_match() {
    crate::harness::init();
    let ca = crate::harness::TestCa::new("server name CA");
    let hook = Capture::start(200, "application/json", "{}".into()).await;
    let proxy =
        crate::receivers_differential::InterceptingProxy::start(&ca, "hooks.internal", &hook.base)
            .await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let config = |server_name: &str| {
        format!(
            "route:\n  receiver: r\n  group_wait: 0s\nreceivers:\n- name: r\n  webhook_configs:\n  - url: https://10.1.2.3/alert\n    http_config:\n      proxy_url: '{}'\n      tls_config:\n        ca_file: '{}'\n{server_name}",
            proxy.url,
            ca_file.display()
        )
    };
    let server = TestServer::start(&config("        server_name: hooks.internal\n")).await;
    assert_eq!(server.post_alerts(alert("db1")).await.status(), 200);
    let got = hook
        .nth(0, "the webhook, its certificate checked as hooks.internal")
        .await;
    assert_eq!(got.target, "/alert");
    server.stop().await;

    let server = TestServer::start(&config("")).await;
    let receiver = server
        .post_json("/api/klaxon/receivers/r/test", &json!({}))
        .await;
    let answer: serde_json::Value = receiver.json().await.unwrap();
    let text = answer.to_string();
    assert!(
        text.contains("certificate") || text.contains("Certificate"),
        "the certificate is for hooks.internal, not 10.1.2.3: {text}"
    );
    server.stop().await;
}
