//! Discord end to end: real klaxon, real HTTP to a local server that
//! behaves as Discord documents its webhook endpoint (204 on success,
//! 429 with `retry_after` and rate-limit headers, a bucket of a few
//! requests per window, 400 for fields over the limits). It also counts
//! requests sent while Discord had said to wait: klaxon must send none.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::differential::{Alertmanager, Reference};
use crate::harness::{TestServer, client, eventually, free_port, init, wait_ready};

const WAIT: Duration = Duration::from_secs(15);

/// How one fake webhook behaves.
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    /// Answer 429 to this many of the first requests.
    rate_limit_first: usize,
    /// The `retry_after` of those 429s, in seconds.
    retry_after: f64,
    /// The bucket: this many requests per `window` seconds.
    bucket: u32,
    window: f64,
    /// Answer every request 400 with an error that echoes the URL path.
    reject: bool,
}

impl Default for Hook {
    fn default() -> Self {
        // Discord's usual webhook bucket: 5 requests per 2 seconds.
        Hook {
            rate_limit_first: 0,
            retry_after: 0.2,
            bucket: 5,
            window: 2.0,
            reject: false,
        }
    }
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    token: String,
    at: Instant,
    status: u16,
    pub(crate) body: Value,
}

#[derive(Default)]
struct HookState {
    served: usize,
    remaining: u32,
    reset_at: Option<Instant>,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    hooks: HashMap<String, Hook>,
    state: HashMap<String, HookState>,
    received: Vec<Received>,
    /// Requests that came while Discord had said to wait.
    early: Vec<String>,
}

#[derive(Clone, Default)]
pub(crate) struct FakeDiscord {
    inner: Arc<Mutex<Inner>>,
    base: String,
}

/// Discord's documented limits, checked the way Discord counts.
fn over_limits(body: &Value) -> Vec<String> {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut errors = Vec::new();
    let mut check = |field: &str, n: usize, max: usize| {
        if n > max {
            errors.push(format!("{field}: Must be {max} or fewer in length."));
        }
    };
    check("content", len(&body["content"]), 2000);
    check("username", len(&body["username"]), 80);
    let mut total = 0;
    for (i, e) in body["embeds"].as_array().into_iter().flatten().enumerate() {
        check(&format!("embeds.{i}.title"), len(&e["title"]), 256);
        check(
            &format!("embeds.{i}.description"),
            len(&e["description"]),
            4096,
        );
        total += len(&e["title"]) + len(&e["description"]);
    }
    check("embeds", total, 6000);
    errors
}

async fn execute_webhook(
    State(fake): State<FakeDiscord>,
    UrlPath((id, token)): UrlPath<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let now = Instant::now();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = fake.inner.lock().unwrap();
    let hook = inner.hooks.get(&token).cloned().unwrap_or_default();
    let st = inner.state.entry(token.clone()).or_default();
    st.served += 1;
    if st.reset_at.is_none_or(|r| now >= r) {
        st.remaining = hook.bucket;
        st.reset_at = Some(now + Duration::from_secs_f64(hook.window));
    }
    let blocked = st.blocked_until.filter(|b| now < *b);
    let exhausted = st.remaining == 0;
    let (status, text, wait) = if blocked.is_some() || exhausted {
        let until = blocked.or(st.reset_at).unwrap();
        (429, String::new(), (until - now).as_secs_f64())
    } else if st.served <= hook.rate_limit_first {
        st.blocked_until = Some(now + Duration::from_secs_f64(hook.retry_after));
        (429, String::new(), hook.retry_after)
    } else if hook.reject {
        let msg = format!("Invalid Webhook Token for /api/webhooks/{id}/{token}");
        (400, json!({"message": msg, "code": 50027}).to_string(), 0.0)
    } else {
        let errors = over_limits(&body);
        if errors.is_empty() {
            st.remaining -= 1;
            (204, String::new(), 0.0)
        } else {
            let e = json!({"message": "Invalid Form Body", "code": 50035, "errors": errors});
            (400, e.to_string(), 0.0)
        }
    };
    let early = status == 429 && (blocked.is_some() || exhausted);
    let text = if status == 429 {
        json!({"message": "You are being rate limited.", "retry_after": wait, "global": false})
            .to_string()
    } else {
        text
    };
    let remaining = if status == 429 { 0 } else { st.remaining };
    let reset_after = match (status, st.reset_at) {
        (429, _) => wait,
        (_, Some(r)) => (r - now).as_secs_f64(),
        _ => hook.window,
    };
    if early {
        inner.early.push(token.clone());
    }
    inner.received.push(Received {
        token,
        at: now,
        status,
        body,
    });
    drop(inner);
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
    let h = resp.headers_mut();
    let mut set = |k: &'static str, v: String| {
        h.insert(k, HeaderValue::from_str(&v).unwrap());
    };
    set("x-ratelimit-limit", hook.bucket.to_string());
    set("x-ratelimit-remaining", remaining.to_string());
    set("x-ratelimit-reset-after", format!("{reset_after:.3}"));
    set("x-ratelimit-bucket", format!("bucket-{id}"));
    if status == 429 {
        set("retry-after", format!("{}", wait.ceil() as u64));
        set("x-ratelimit-scope", "user".into());
    }
    if !(200..300).contains(&status) {
        set("content-type", "application/json".into());
    }
    resp
}

impl FakeDiscord {
    pub(crate) async fn start(hooks: &[(&str, Hook)]) -> FakeDiscord {
        init();
        let mut fake = FakeDiscord::default();
        fake.inner.lock().unwrap().hooks = hooks
            .iter()
            .map(|(t, h)| (t.to_string(), h.clone()))
            .collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route(
                "/api/webhooks/{id}/{token}",
                axum::routing::post(execute_webhook),
            )
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub(crate) fn url(&self, token: &str) -> String {
        format!("{}/api/webhooks/1000/{token}", self.base)
    }

    fn received(&self, token: &str) -> Vec<Received> {
        let inner = self.inner.lock().unwrap();
        inner
            .received
            .iter()
            .filter(|r| r.token == token)
            .cloned()
            .collect()
    }

    /// The first accepted request to `token`, waiting at most `WAIT`.
    pub(crate) async fn delivered(&self, token: &str) -> Received {
        eventually(WAIT, &format!("a delivery to {token}"), || async {
            self.received(token).into_iter().find(|r| r.status == 204)
        })
        .await
    }

    fn early(&self) -> Vec<String> {
        self.inner.lock().unwrap().early.clone()
    }
}

/// A discord receiver per `(name, url, extra fields)`; alerts named
/// after a receiver go to it, the rest to the first.
fn config(receivers: &[(&str, String, &str)]) -> String {
    let mut routes = String::new();
    let mut list = String::new();
    for (name, url, extra) in receivers {
        routes.push_str(&format!(
            "    - receiver: {name}\n      matchers: ['alertname=\"{name}\"']\n"
        ));
        list.push_str(&format!(
            "  - name: {name}\n    discord_configs:\n      - webhook_url: {url}\n        title: plain title\n        message: plain message\n{extra}"
        ));
    }
    format!(
        r#"
route:
  receiver: {first}
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1m
  repeat_interval: 1h
  routes:
{routes}receivers:
{list}"#,
        first = receivers[0].0
    )
}

fn alert(name: &str) -> Value {
    json!({"labels": {"alertname": name, "instance": "db1", "severity": "critical"},
           "annotations": {"summary": "Database down"},
           "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"})
}

#[tokio::test]
async fn rate_limited_notifications_arrive_within_the_flush() {
    let busy = Hook {
        rate_limit_first: 2,
        retry_after: 0.2,
        ..Hook::default()
    };
    let discord = FakeDiscord::start(&[("busy-token", busy)]).await;
    let s = TestServer::start(&config(&[("busy", discord.url("busy-token"), "")])).await;
    let posted = Instant::now();
    s.post_alerts(json!([alert("busy")])).await;
    let delivered = discord.delivered("busy-token").await;
    // group_interval is a minute: this came from the first flush's retries.
    assert!(
        delivered.at - posted < Duration::from_secs(5),
        "{:?}",
        delivered.at - posted
    );
    let statuses: Vec<u16> = discord
        .received("busy-token")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [429, 429, 204]);
    assert!(discord.early().is_empty(), "sent while told to wait");
    eprintln!(
        "measured: delivered {:?} after the POST, through two 429s of 0.2 s",
        delivered.at - posted
    );
    assert_eq!(delivered.body["embeds"][0]["title"], "plain title");
    assert_eq!(delivered.body["embeds"][0]["color"], 0x992D22);

    let history = eventually(WAIT, "the attempt in the history", || async {
        let h = s.get_json("/api/klaxon/notifications").await;
        (!h["notifications"][0].is_null()).then_some(h)
    })
    .await;
    let entry = &history["notifications"][0];
    assert_eq!(entry["integration"], "discord");
    assert_eq!(entry["outcome"], "success", "{entry}");
    let metrics = s.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"alertmanager_notifications_total{integration="discord"} 1"#,
        r#"alertmanager_notification_requests_total{integration="discord"} 3"#,
        r#"alertmanager_notification_requests_failed_total{integration="discord"} 2"#,
    ] {
        assert!(metrics.contains(line), "missing {line:?}");
    }
    // Every reason's series is there from the start, all at zero here.
    let failed: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("alertmanager_notifications_failed_total{integration=\"discord\"")
        })
        .collect();
    assert_eq!(failed.len(), 7, "{failed:?}");
    assert!(failed.iter().all(|l| l.ends_with(" 0")), "{failed:?}");
}

#[tokio::test]
async fn a_rate_limited_webhook_does_not_delay_another() {
    let busy = Hook {
        rate_limit_first: 1,
        retry_after: 1.5,
        ..Hook::default()
    };
    let discord = FakeDiscord::start(&[("busy-token", busy)]).await;
    let s = TestServer::start(&config(&[
        ("busy", discord.url("busy-token"), ""),
        ("calm", discord.url("calm-token"), ""),
    ]))
    .await;
    s.post_alerts(json!([alert("busy"), alert("calm")])).await;
    let busy = discord.delivered("busy-token").await;
    let calm = discord.delivered("calm-token").await;
    let limited = discord.received("busy-token")[0].clone();
    assert_eq!(limited.status, 429);
    assert!(
        busy.at - limited.at >= Duration::from_millis(1500),
        "retried after {:?}",
        busy.at - limited.at
    );
    // The calm channel went out at once, not after the busy one's wait.
    assert!(calm.at < busy.at);
    assert!(
        calm.at.saturating_duration_since(limited.at) < Duration::from_secs(1),
        "{:?}",
        calm.at.saturating_duration_since(limited.at)
    );
    assert!(discord.early().is_empty(), "sent while told to wait");
    eprintln!(
        "measured: calm webhook {:?} after the busy one's 429; busy retried {:?} after it",
        calm.at.saturating_duration_since(limited.at),
        busy.at - limited.at
    );
}

#[tokio::test]
async fn receivers_sharing_a_webhook_share_its_queue_and_bucket() {
    // One request per 0.4 s: three groups at once would draw two 429s
    // without the shared bucket.
    let tight = Hook {
        bucket: 1,
        window: 0.4,
        ..Hook::default()
    };
    let discord = FakeDiscord::start(&[("shared-token", tight)]).await;
    let url = discord.url("shared-token");
    let s = TestServer::start(&config(&[
        ("one", url.clone(), ""),
        ("two", url.clone(), ""),
        ("three", url, ""),
    ]))
    .await;
    s.post_alerts(json!([alert("one"), alert("two"), alert("three")]))
        .await;
    let all = eventually(WAIT, "three deliveries", || async {
        let got = discord.received("shared-token");
        (got.iter().filter(|r| r.status == 204).count() == 3).then_some(got)
    })
    .await;
    let statuses: Vec<u16> = all.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [204, 204, 204], "klaxon drew a 429");
    assert!(discord.early().is_empty());
    let gaps: Vec<Duration> = all.windows(2).map(|p| p[1].at - p[0].at).collect();
    assert!(
        gaps.iter().all(|g| *g >= Duration::from_millis(400)),
        "{gaps:?}"
    );
    eprintln!("measured: gaps between sends to a 1-per-0.4 s webhook: {gaps:?}");
}

#[tokio::test]
async fn over_long_fields_are_cut_to_discords_limits_not_rejected() {
    let discord = FakeDiscord::start(&[]).await;
    let long = |c: char, n: usize| -> String { std::iter::repeat_n(c, n).collect() };
    let extra = format!(
        "        content: \"{}\"\n        username: \"{}\"\n",
        long('ü', 2100),
        long('名', 100)
    );
    let mut cfg = config(&[("long", discord.url("long-token"), &extra)]);
    cfg = cfg
        .replace(
            "title: plain title",
            &format!("title: \"{}\"", long('🔥', 300)),
        )
        .replace(
            "message: plain message",
            &format!("message: \"{}\"", long('é', 5000)),
        );
    let s = TestServer::start(&cfg).await;
    s.post_alerts(json!([alert("long")])).await;
    let got = discord.delivered("long-token").await;
    assert_eq!(discord.received("long-token").len(), 1, "a 400 came first");
    let chars = |v: &Value| v.as_str().unwrap().chars().count();
    let embed = &got.body["embeds"][0];
    assert_eq!(chars(&embed["title"]), 256);
    assert_eq!(chars(&embed["description"]), 4096);
    assert_eq!(chars(&got.body["content"]), 2000);
    assert_eq!(chars(&got.body["username"]), 80);
    for v in [&embed["title"], &embed["description"], &got.body["content"]] {
        assert!(v.as_str().unwrap().ends_with('…'));
    }
    assert!(embed["title"].as_str().unwrap().starts_with("🔥🔥"));
    let metrics = s.get("/metrics").await.text().await.unwrap();
    for field in ["title", "description", "content", "username"] {
        let line = format!(
            "klaxon_notification_truncations_total{{integration=\"discord\",field=\"{field}\"}} 1"
        );
        assert!(metrics.contains(&line), "missing {line:?}");
    }
}

/// The token of the webhook in the redaction test.
const TOKEN: &str = "tok-LEAK-CHECK-8d1f";

#[tokio::test]
async fn the_webhook_token_never_appears_in_logs_errors_history_or_api() {
    // The real binary, so its whole log output can be read back.
    let reject = Hook {
        rate_limit_first: 1,
        retry_after: 0.1,
        reject: true,
        ..Hook::default()
    };
    let file_token = format!("{TOKEN}-file");
    let discord =
        FakeDiscord::start(&[(TOKEN, reject.clone()), (file_token.as_str(), reject)]).await;
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("discord-url");
    std::fs::write(&url_file, discord.url(&file_token)).unwrap();
    let cfg = config(&[
        ("direct", discord.url(TOKEN), ""),
        ("fromfile", "PLACEHOLDER".into(), ""),
    ])
    .replace(
        "webhook_url: PLACEHOLDER",
        &format!("webhook_url_file: {}", url_file.display()),
    );
    std::fs::write(dir.path().join("alertmanager.yml"), cfg).unwrap();
    let log = dir.path().join("klaxon.log");
    let port = free_port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_klaxon"))
        .arg(format!(
            "--config.file={}",
            dir.path().join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=debug")
        .env_remove("RUST_LOG")
        .stdout(std::fs::File::create(dir.path().join("klaxon.out")).unwrap())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn klaxon");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/-/ready")).await;
    let c = client();
    let r = c
        .post(format!("{base}/api/v2/alerts"))
        .json(&json!([alert("direct"), alert("fromfile")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let history = eventually(WAIT, "both failures in the history", || async {
        let h: Value = c
            .get(format!("{base}/api/klaxon/notifications"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (h["notifications"].as_array()?.len() >= 2).then_some(h)
    })
    .await;
    let mut seen = vec![history.to_string()];
    for path in [
        "/api/v2/status",
        "/api/v2/receivers",
        "/api/v2/alerts",
        "/api/v2/alerts/groups",
        "/metrics",
    ] {
        let text = c
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen.push(text);
    }
    let status: Value = serde_json::from_str(&seen[1]).unwrap();
    assert!(
        status["config"]["original"]
            .as_str()
            .unwrap()
            .contains("webhook_url: <secret>"),
        "{status}"
    );
    // Discord's reason is kept, only the token is gone.
    assert!(seen[0].contains("Invalid Webhook Token"), "{}", seen[0]);
    child.kill().await.unwrap();
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("rate limited by Discord"), "{logs}");
    assert!(logs.contains("Invalid Webhook Token"), "{logs}");
    seen.push(logs);
    for text in &seen {
        assert!(!text.contains("tok-LEAK"), "the token leaked:\n{text}");
    }
}

#[test]
fn the_discord_example_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/discord.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let env = |name: &str| {
        (name == "DISCORD_WEBHOOK_URL").then(|| "https://discord.com/api/webhooks/1/x".to_owned())
    };
    let config = klaxon::config::Config::load_str(&text, &path, &env).expect("example loads");
    let discord: Vec<_> = config
        .receivers
        .iter()
        .flat_map(|r| &r.discord_configs)
        .collect();
    assert!(!discord.is_empty());
    assert_eq!(
        discord[0].webhook_url.as_ref().unwrap().expose(),
        "https://discord.com/api/webhooks/1/x"
    );
    // Without the variable it refuses to load rather than post nowhere.
    assert!(klaxon::config::Config::load_str(&text, &path, &|_| None).is_err());
}

/// The same alert through Alertmanager 0.25 and klaxon, default templates:
/// the Discord bodies have the same shape, colour and title.
#[tokio::test]
async fn default_discord_payload_matches_alertmanager() {
    default_discord_payload_matches_on(Reference::V025).await;
}

/// The same against Alertmanager 0.28.1, given its own `default.tmpl`: the
/// unpacked package would read the system template directory, which holds
/// Debian 12's 0.25 file when that package is installed.
#[tokio::test]
async fn default_discord_payload_matches_alertmanager_0_28() {
    default_discord_payload_matches_on(Reference::V028).await;
}

async fn default_discord_payload_matches_on(reference: Reference) {
    let Some(program) = reference.program() else {
        return;
    };
    let templates = match reference {
        Reference::V025 => String::new(),
        Reference::V028 => {
            let tmpl = program
                .parent()
                .and_then(|bin| bin.parent())
                .expect("usr/")
                .join("share/prometheus/alertmanager/default.tmpl");
            assert!(tmpl.is_file(), "{}", tmpl.display());
            format!("templates: ['{}']\n", tmpl.display())
        }
    };
    let discord = FakeDiscord::start(&[]).await;
    let cfg = |token: &str| {
        format!(
            r#"
route:
  receiver: discord
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: discord
    discord_configs:
      - webhook_url: {}
"#,
            discord.url(token)
        )
    };
    let am_config = format!("{templates}{}", cfg("am-token"));
    let am = Alertmanager::start_with(&program, &am_config, reference.flags()).await;
    let kx = TestServer::start(&cfg("kx-token")).await;
    let c = client();
    let mut a = json!({
        "labels": {"alertname": "DiscordTest", "instance": "db1", "severity": "critical"},
        "annotations": {"summary": "Database down", "description": "db1 is not answering"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"
    });
    let mut diffs = Vec::new();
    for (step, count) in [("firing", 1), ("resolved", 2)] {
        if step == "resolved" {
            a["endsAt"] = json!(chrono::Utc::now().to_rfc3339());
        }
        for base in [&am.base, &kx.base] {
            let r = c
                .post(format!("{base}/api/v2/alerts"))
                .json(&json!([a]))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let nth = |token: &'static str| {
            let discord = &discord;
            async move {
                eventually(WAIT, &format!("{step} notification to {token}"), || async {
                    let got = discord.received(token);
                    got.get(count - 1).map(|r| r.body.clone())
                })
                .await
            }
        };
        let (am_body, kx_body) = (nth("am-token").await, nth("kx-token").await);
        if shape(&am_body) != shape(&kx_body) {
            diffs.push(format!(
                "{step}: shape\n  am: {}\n  kx: {}",
                shape(&am_body),
                shape(&kx_body)
            ));
        }
        // Not compared: klaxon's default message is its own layout.
        eprintln!(
            "{step} description\n  alertmanager: {}\n  klaxon:       {}",
            am_body["embeds"][0]["description"], kx_body["embeds"][0]["description"]
        );
        for field in ["title", "color"] {
            let (x, y) = (&am_body["embeds"][0][field], &kx_body["embeds"][0][field]);
            if x != y {
                diffs.push(format!("{step}: {field}\n  am: {x}\n  kx: {y}"));
            }
        }
    }
    am.stop().await;
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// A JSON value's structure: keys and value types, not values.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}
