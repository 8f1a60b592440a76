//! The web UI: served at `/` (and under `--web.route-prefix`) with the
//! right headers, and driven in Debian's Chromium through chromedriver
//! (fantoccini) the way a person would use it. Browser tests skip with a
//! printed reason when chromium or chromedriver is missing, and fail under
//! `KLAXON_REQUIRE_PEERS=1`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::harness::{BinaryServer, PLAIN_CONFIG, TestServer, client, free_port, peer, wait_ready};

// ---------------------------------------------------------------- HTTP ----

#[tokio::test]
async fn ui_index_and_assets_have_types_and_cache_headers() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let index = s.get("/").await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(
        index.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let html = index.text().await.unwrap();
    assert!(html.contains(r#"src="ui/app.js""#), "relative script URL");

    for (path, ty) in [
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/views/alerts.js", "text/javascript; charset=utf-8"),
        ("/ui/style.css", "text/css; charset=utf-8"),
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], ty, "{path}");
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        let again = s
            .client
            .get(s.url(path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path} revalidates");
    }
    assert_eq!(s.get("/ui/nope.js").await.status(), 404);
}

#[tokio::test]
async fn ui_is_served_under_the_route_prefix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start_prefixed(dir.path(), "/alertmanager").await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let page = no_redirects
        .get(server.url("/alertmanager/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("ui/app.js"));

    // Without the slash, relative URLs would resolve outside the prefix.
    let bare = no_redirects
        .get(server.url("/alertmanager"))
        .send()
        .await
        .unwrap();
    assert!(bare.status().is_redirection(), "{}", bare.status());
    assert_eq!(bare.headers()["location"], "/alertmanager/");

    let js = no_redirects
        .get(server.url("/alertmanager/ui/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let root = no_redirects.get(server.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 404, "nothing outside the prefix");
}

// ------------------------------------------------------------- browser ----

/// Chromium driven through a chromedriver started for this test.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// None (after printing why) when chromium or chromedriver is missing.
    async fn start() -> Option<Browser> {
        let chromium = peer("chromium")?;
        let driver_bin = peer("chromedriver")?;
        let port = free_port();
        let driver = tokio::process::Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn chromedriver");
        wait_ready(&format!("http://127.0.0.1:{port}/status")).await;
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    // Without these Chromium keeps calling out to the
                    // (closed) network for updates, sync and the like.
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-default-apps",
                    "--disable-extensions",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        Some(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Runs `scenario`; on failure saves a screenshot under the target
    /// directory and fails the test with the scenario's error.
    async fn run<F>(self, name: &str, scenario: F)
    where
        F: AsyncFnOnce(&Client) -> anyhow::Result<()>,
    {
        let outcome = scenario(&self.client).await;
        if let Err(e) = &outcome {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
            let shot = dir.join(format!("ui-{name}.png"));
            match self.client.screenshot().await {
                Ok(png) => {
                    let _ = std::fs::write(&shot, png);
                    eprintln!("screenshot of the failure: {}", shot.display());
                }
                Err(se) => eprintln!("no screenshot: {se}"),
            }
            let url = self.client.current_url().await.map(|u| u.to_string());
            eprintln!("page at failure: {url:?}");
            let _ = self.client.close().await;
            panic!("{name}: {e:#}");
        }
        let _ = self.client.close().await;
    }
}

const WAIT: Duration = Duration::from_secs(15);

/// Polls a JavaScript expression until it is truthy; returns its value.
/// The only way these tests wait: bounded, no fixed sleeps.
async fn until(c: &Client, what: &str, expr: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let script = format!("try {{ return ({expr}); }} catch (e) {{ return null; }}");
    loop {
        let v = c.execute(&script, vec![]).await.context("execute")?;
        let truthy = match &v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64() != Some(0.0),
            Value::String(s) => !s.is_empty(),
            _ => true,
        };
        if truthy {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {WAIT:?} waiting for {what} ({expr}); last value {v}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    // Waiting for it first: views render after their fetches answer.
    until(c, css, &format!("document.querySelector({css:?}) !== null")).await?;
    c.find(Locator::Css(css))
        .await
        .with_context(|| format!("find {css}"))?
        .click()
        .await
        .with_context(|| format!("click {css}"))?;
    Ok(())
}

async fn type_into(c: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    until(c, css, &format!("document.querySelector({css:?}) !== null")).await?;
    let el = c.find(Locator::Css(css)).await?;
    el.clear().await?;
    el.send_keys(text).await?;
    Ok(())
}

/// Every resource the page loaded, and the page itself, came from `origin`.
async fn only_own_origin(c: &Client, origin: &str) -> anyhow::Result<()> {
    let names = c
        .execute(
            "return performance.getEntries().map(e => e.name).filter(n => /^[a-z]+:/.test(n));",
            vec![],
        )
        .await?;
    let names: Vec<String> = serde_json::from_value(names)?;
    ensure!(!names.is_empty(), "no resource entries recorded");
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !n.starts_with(&format!("{origin}/")))
        .collect();
    ensure!(foreign.is_empty(), "requests outside {origin}: {foreign:?}");
    Ok(())
}

async fn post_alert(s: &TestServer, labels: Value) {
    let resp = s
        .post_alerts(json!([{"labels": labels, "annotations": {"summary": "disk almost full"}}]))
        .await;
    assert_eq!(resp.status(), 200);
}

async fn fingerprint_of(s: &TestServer, instance: &str) -> String {
    let alerts = s.get_json("/api/v2/alerts").await;
    alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["instance"] == instance)
        .map(|a| a["fingerprint"].as_str().unwrap().to_owned())
        .expect("alert posted")
}

#[tokio::test]
async fn ui_alerts_silence_expire_routes_in_a_browser() {
    // Servers first: a panic before the session exists leaves no browser behind.
    let s = TestServer::start(PLAIN_CONFIG).await;
    post_alert(
        &s,
        json!({"alertname": "UiDiskFull", "severity": "critical", "instance": "a"}),
    )
    .await;
    post_alert(
        &s,
        json!({"alertname": "UiDiskFull", "severity": "warning", "instance": "b"}),
    )
    .await;
    post_alert(
        &s,
        json!({"alertname": "UiOther", "team": "b", "instance": "c"}),
    )
    .await;
    let fp = fingerprint_of(&s, "a").await;
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };

    browser
        .run("silence-lifecycle", async |c| {
            // Alerts, grouped by receiver and the route's group_by labels.
            c.goto(&format!("{base}/#/alerts")).await?;
            until(c, "two groups rendered", "document.querySelectorAll('.group').length === 2").await?;
            let disk = until(
                c,
                "the UiDiskFull group with both alerts",
                r#"[...document.querySelectorAll('.group[data-receiver="default"]')]
                     .find(g => g.textContent.includes('alertname="UiDiskFull"'))
                     ?.querySelectorAll('.alert').length"#,
            )
            .await?;
            ensure!(disk == json!(2), "UiDiskFull group has {disk} alerts");
            until(
                c,
                "the team=b alert under receiver second",
                r#"document.querySelector('.group[data-receiver="second"]')?.textContent.includes('UiOther')"#,
            )
            .await?;
            until(
                c,
                "severity colouring",
                &format!("document.querySelector('.alert[data-fingerprint=\"{fp}\"]').classList.contains('sev-critical')"),
            )
            .await?;

            // The filter bar suggests label values and filters on Enter.
            type_into(c, ".filter-input", r#"{alertname="UiD"#).await?;
            until(
                c,
                "a value suggestion",
                r#"[...document.querySelectorAll('datalist option')].some(o => o.value === '{alertname="UiDiskFull"')"#,
            )
            .await?;
            type_into(c, ".filter-input", "{alertname=\"UiDiskFull\"}\u{E007}").await?;
            until(c, "one group left", "document.querySelectorAll('.group').length === 1 && location.hash.includes('filter=')").await?;

            // "Silence this" pre-fills the form with the alert's labels.
            click(c, &format!(".alert[data-fingerprint=\"{fp}\"] .silence-this")).await?;
            until(c, "three matcher rows", "document.querySelectorAll('.matcher-row').length === 3").await?;
            until(c, "the preview to find exactly that alert", "document.querySelector('#preview-count')?.textContent === '1'").await?;
            // The comment is required: submitting without one says so by the field.
            type_into(c, "#silence-author", "ui-test").await?;
            click(c, "#silence-submit").await?;
            until(c, "the comment error", "document.querySelector('#error-comment')?.textContent.length > 0").await?;
            type_into(c, "#silence-comment", "from the browser test").await?;
            click(c, "#silence-submit").await?;
            until(c, "the new silence's page", "location.hash.startsWith('#/silences/') && document.querySelector('#silence-state')?.textContent === 'active'").await?;
            let id = until(c, "the silence id", "document.querySelector('.silence-detail')?.dataset.silenceId").await?;
            let id = id.as_str().context("id")?.to_owned();
            until(c, "the muted alert listed", &format!("document.querySelector('.alert[data-fingerprint=\"{fp}\"]') !== null")).await?;

            // Under "active", with its mute count.
            c.goto(&format!("{base}/#/silences")).await?;
            until(c, "the silence under active", &format!("document.querySelector('li.silence[data-silence-id=\"{id}\"]')?.textContent.includes('Mutes 1 alert')")).await?;
            until(c, "the active count", "document.querySelector('.tab-active .count')?.textContent === '1'").await?;

            // The alert is suppressed: hidden by default, shown with the
            // silenced toggle, with a link to its silence.
            c.goto(&format!("{base}/#/alerts?silenced=true")).await?;
            click(c, &format!(".alert[data-fingerprint=\"{fp}\"] .expand")).await?;
            until(
                c,
                "the alert suppressed by the silence",
                &format!(
                    "document.querySelector('.alert[data-fingerprint=\"{fp}\"]')?.classList.contains('state-suppressed') && document.querySelector('.alert[data-fingerprint=\"{fp}\"] .why a[href=\"#/silences/{id}\"]') !== null"
                ),
            )
            .await?;
            c.goto(&format!("{base}/#/alerts")).await?;
            until(c, "the other UiDiskFull alert", "document.querySelectorAll('.alert').length === 2").await?;
            ensure!(
                c.execute(&format!("return document.querySelector('.alert[data-fingerprint=\"{fp}\"]') === null"), vec![]).await? == json!(true),
                "the silenced alert is hidden without the toggle"
            );

            // Expire, with confirmation; then it is under "expired".
            c.goto(&format!("{base}/#/silences")).await?;
            click(c, &format!("li.silence[data-silence-id=\"{id}\"] .expire")).await?;
            click(c, &format!("li.silence[data-silence-id=\"{id}\"] .confirm-expire")).await?;
            until(c, "the active tab to empty", "document.querySelector('.tab-active .count')?.textContent === '0'").await?;
            click(c, ".tab-expired").await?;
            until(c, "the silence under expired", &format!("document.querySelector('li.silence[data-silence-id=\"{id}\"] .recreate') !== null")).await?;
            click(c, &format!("li.silence[data-silence-id=\"{id}\"] .recreate")).await?;
            until(
                c,
                "the recreate form with the old matchers",
                "document.querySelector('h1')?.textContent === 'Recreate silence' && document.querySelectorAll('.matcher-row').length === 3 && document.querySelector('#silence-comment').value === 'from the browser test'",
            )
            .await?;

            // A link with a filter pre-fills the form.
            let filter: String = url::form_urlencoded::byte_serialize(br#"{alertname="X"}"#).collect();
            c.goto(&format!("{base}/#/silences/new?filter={filter}&comment=hello")).await?;
            until(
                c,
                "the matcher pre-filled",
                r#"document.querySelectorAll('.matcher-row').length === 1
                   && document.querySelector('.matcher-name').value === 'alertname'
                   && document.querySelector('.matcher-op').value === '='
                   && document.querySelector('.matcher-value').value === 'X'
                   && document.querySelector('#silence-comment').value === 'hello'
                   && document.querySelector('#silence-author').value === 'ui-test'"#,
            )
            .await?;

            // Routes: test a label set.
            c.goto(&format!("{base}/#/routes")).await?;
            until(c, "the tree", "document.querySelectorAll('.route').length === 2").await?;
            type_into(c, "#route-labels", r#"{alertname="Y", team="b"}"#).await?;
            click(c, "#route-test").await?;
            until(c, "the receiver reached", "document.querySelector('#route-receivers')?.textContent === 'second'").await?;
            until(c, "the matched route highlighted", "document.querySelector('.route.matched')?.dataset.routeId === '1'").await?;

            // Status and notifications render without errors.
            c.goto(&format!("{base}/#/status")).await?;
            until(c, "the version", "document.querySelector('#status-version')?.textContent.length > 0").await?;
            until(c, "the store size", "/^[0-9.]+ (B|KiB|MiB|GiB)$/.test(document.querySelector('#status-store-size')?.textContent || '')").await?;
            c.goto(&format!("{base}/#/notifications")).await?;
            until(c, "the history view", "document.querySelector('#notifications-receiver') !== null && document.querySelector('.empty, table') !== null").await?;
            until(c, "an empty timeline saying so", "document.querySelector('figure.timeline')?.textContent.includes('none sent in the last 24h')").await?;
            ensure!(
                c.execute("return document.querySelectorAll('.error').length", vec![]).await? == json!(0),
                "an error box is shown"
            );
            let errors = c.execute("return document.body.dataset.errors || null", vec![]).await?;
            ensure!(errors.is_null(), "the page reported {errors} script error(s)");

            only_own_origin(c, &base).await
        })
        .await;
}

#[tokio::test]
async fn ui_runs_under_a_route_prefix_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alertmanager.yml"), PLAIN_CONFIG).unwrap();
    let server = BinaryServer::start_prefixed(dir.path(), "/am").await;
    let resp = client()
        .post(server.url("/am/api/v2/alerts"))
        .json(&json!([{"labels": {"alertname": "Prefixed"}}]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let base = server.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("route-prefix", async |c| {
            // The bare prefix redirects to the page; its API calls stay under it.
            c.goto(&format!("{base}/am")).await?;
            until(
                c,
                "the alert",
                "document.querySelector('.alert')?.textContent.includes('Prefixed')",
            )
            .await?;
            let names = c
                .execute(
                    "return performance.getEntriesByType('resource').map(e => e.name)",
                    vec![],
                )
                .await?;
            let names: Vec<String> = serde_json::from_value(names)?;
            ensure!(
                names.iter().all(|n| n.starts_with(&format!("{base}/am/"))),
                "a request left the prefix: {names:?}"
            );
            only_own_origin(c, &base).await
        })
        .await;
}

/// The page's matcher parser (`ui/matchers.js`, run in the browser) and
/// the server's agree: what the UI writes into `?filter=` links and API
/// calls parses on the server to the same matchers.
#[tokio::test]
async fn ui_matcher_syntax_agrees_with_the_server() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    let inputs = [
        r#"{alertname="Foo"}"#,
        r#"alertname=Foo, severity=~"crit|warn""#,
        r#"{a!="x, y", b!~"z.*", c="quote \" and \\ backslash"}"#,
        r#"{ team = "db" , env=~"prod|staging" }"#,
        r#"{msg="naïve ☃"}"#,
        // UTF-8 label names (Alertmanager 0.27+), quoted or not, and the
        // classic parser's reading where the server's default mode uses it.
        r#"{"service.name"="api"}"#,
        r#"service.name=api, "my label"=~"a|b""#,
        r#"{"ключ"="значение", "a=b"!="\U0001f642"}"#,
        r#"{job=~a\d+, tab="x\ty", b="\u00e9"}"#,
    ];
    browser
        .run("matcher-syntax", async |c| {
            c.goto(&format!("{base}/#/status")).await?;
            let out = c
                .execute_async(
                    r#"const [inputs, done] = arguments;
                       import("./ui/matchers.js").then(m => done(inputs.map(t => {
                         const ms = m.parseMatchers(t);
                         return { text: m.formatMatchers(ms), api: ms.map(m.toApi) };
                       }))).catch(e => done(String(e)));"#,
                    vec![json!(inputs)],
                )
                .await?;
            let out = out
                .as_array()
                .with_context(|| format!("not a list: {out}"))?;
            for (input, got) in inputs.iter().zip(out) {
                let text = got["text"].as_str().context("text")?;
                if input.contains("service.name\"=\"api\"}") {
                    ensure!(text == r#"{service.name="api"}"#, "printed as {text}");
                }
                let server = klaxon::matcher::Matchers::parse(text)
                    .with_context(|| format!("server rejects {text} (from {input})"))?;
                let expected = klaxon::matcher::Matchers::parse(input)
                    .with_context(|| format!("server rejects {input}"))?;
                ensure!(
                    server == expected,
                    "{input} → {text}: server reads {server} vs {expected}"
                );
                let api = got["api"].as_array().context("api")?;
                ensure!(api.len() == expected.0.len(), "{input}: {api:?}");
                for (a, m) in api.iter().zip(expected.iter()) {
                    ensure!(
                        a["name"] == m.name.as_str()
                            && a["value"] == m.value.as_str()
                            && a["isRegex"] == m.kind.is_regex()
                            && a["isEqual"] == m.kind.is_equal(),
                        "{input}: {a} vs {m}"
                    );
                }
            }
            Ok(())
        })
        .await;
}

/// UTF-8 label names in the browser: a quoted name in the filter bar,
/// "Silence this" on such an alert, and the silence shown with the
/// matcher as Alertmanager prints it.
#[tokio::test]
async fn ui_filters_and_silences_utf8_label_names_in_a_browser() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    for service in ["api", "db"] {
        post_alert(&s, json!({"alertname": "UiUtf8", "service.name": service})).await;
    }
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("utf8-names", async |c| {
            c.goto(&format!("{base}/#/alerts")).await?;
            until(c, "both alerts", "document.querySelectorAll('.alert').length === 2").await?;
            type_into(c, ".filter-input", "{\"service.name\"=\"api\"}\u{E007}").await?;
            until(
                c,
                "one alert left",
                "document.querySelectorAll('.alert').length === 1 && location.hash.includes('filter=')",
            )
            .await?;
            ensure!(
                c.execute("return document.querySelector('.filter-input').getAttribute('aria-invalid')", vec![])
                    .await?
                    .is_null(),
                "the filter is valid"
            );
            click(c, ".alert .silence-this").await?;
            until(c, "two matcher rows", "document.querySelectorAll('.matcher-row').length === 2").await?;
            until(c, "the preview to find that alert", "document.querySelector('#preview-count')?.textContent === '1'").await?;
            type_into(c, "#silence-author", "ui-test").await?;
            type_into(c, "#silence-comment", "utf8 names").await?;
            click(c, "#silence-submit").await?;
            until(c, "the new silence's page", "location.hash.startsWith('#/silences/') && document.querySelector('#silence-state')?.textContent === 'active'").await?;
            until(
                c,
                "the matcher chip as Alertmanager prints it",
                r#"[...document.querySelectorAll('.chip')].some(e => e.textContent === 'service.name="api"')"#,
            )
            .await?;
            // An unclosed quote is refused by the filter bar, by the field.
            c.goto(&format!("{base}/#/alerts")).await?;
            type_into(c, ".filter-input", "{\"service.name=api}\u{E007}").await?;
            until(c, "the filter error", "document.querySelector('.filter-input').getAttribute('aria-invalid') === 'true' && document.querySelector('.field-error').textContent.includes('quote')").await?;
            Ok(())
        })
        .await;
    let silences = s.get_json("/api/v2/silences").await;
    let names: Vec<&str> = silences[0]["matchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alertname", "service.name"], "{silences}");
}

/// The status page of a clustered klaxon names the leader and each
/// member's role (here a one-member cluster, so itself).
#[tokio::test]
async fn ui_status_shows_the_clusters_leader() {
    let server = TestServer::start_tuned(
        PLAIN_CONFIG,
        klaxon::app::Tuning {
            cluster: Some(klaxon::app::ClusterIdentity {
                name: "solo".into(),
                address: "127.0.0.1:0".into(),
                listen_address: "127.0.0.1:0".into(),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    let base = server.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("cluster-status", async |c| {
            c.goto(&format!("{base}/#/status")).await?;
            until(
                c,
                "the leader",
                "document.querySelector('#status-cluster-leader')?.textContent === 'solo'",
            )
            .await?;
            until(
                c,
                "the member's role",
                "[...document.querySelectorAll('li')].some(li => li.textContent.includes('solo') && li.textContent.includes('leader'))",
            )
            .await?;
            Ok(())
        })
        .await;
}

/// Two receivers reach `team="ops"` alerts (`continue: true`), critical
/// alerts inhibit info ones on the same instance.
const TRIAGE_CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: ops
      matchers: ['team="ops"']
      continue: true
    - receiver: second
      matchers: ['team=~"ops|db"']
receivers:
  - name: default
  - name: ops
  - name: second
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="info"]
    equal: [instance]
"#;

/// 30 alerts: six names (two each critical, warning, info) on five hosts,
/// started an hour apart, with links in their annotations.
async fn post_triage_alerts(s: &TestServer) {
    let now = chrono::Utc::now();
    let names = [
        ("DiskFull", "critical", 0),
        ("HighLatency", "warning", 3),
        ("CertExpiry", "info", 6),
        ("NodeDown", "critical", 9),
        ("QueueBacklog", "warning", 12),
        ("BackupLate", "info", 15),
    ];
    let mut alerts = Vec::new();
    for (name, severity, hours) in names {
        for host in 0..5 {
            alerts.push(json!({
                "labels": {
                    "alertname": name,
                    "severity": severity,
                    "instance": format!("host-{host}.example:9100"),
                    "job": "node",
                    "team": if host % 2 == 0 { "ops" } else { "db" },
                },
                "annotations": {
                    "summary": format!("{name} on host-{host}"),
                    "description": "See https://grafana.example/d/1. Then act.",
                    "runbook_url": format!("https://runbooks.example/{name}"),
                    "dashboard": "javascript:alert(1)",
                },
                "startsAt": (now - chrono::Duration::hours(hours + host)).to_rfc3339(),
            }));
        }
    }
    assert_eq!(s.post_alerts(json!(alerts)).await.status(), 200);
}

/// Counts the alert rows wholly inside the page area.
const ALERTS_IN_VIEW: &str = "return [...document.querySelectorAll('.alert')].filter(e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }).length";

/// Alerts visible in the top 1,000 px of karma's own rendering of its
/// grid fixture: the Chromium snapshot of its visual test, 1280 px wide
/// (prymitive/karma, `ui/src/e2e/snapshots/chromium/Grid.png`, as of
/// commit 17e3d7e). Counted on the image: 5 + 8 + 6 alert rows fully in
/// view over its three columns.
const KARMA_GRID_ALERTS_IN_1280X1000: u64 = 19;

/// The alerts of karma's grid fixture (`ui/src/__fixtures__/Stories.ts`
/// and the "Grid" story): groups "suppressed-only" and "unprocessed-only"
/// of 3 alerts, and group1 … group7 of 1 … 7; a group of fewer than 4
/// alerts carries karma's five annotations on each, one of fewer than 5
/// a summary; the first `ceil(i/3)` of group i are active, the next
/// `i - 2·ceil(i/3)` suppressed (silenced here).
async fn post_karmas_grid_fixture(s: &TestServer) {
    let now = chrono::Utc::now();
    let mut groups: Vec<(String, usize, usize, usize)> = vec![
        ("suppressed-only".into(), 3, 0, 3),
        ("unprocessed-only".into(), 3, 0, 0),
    ];
    for i in 1..=7usize {
        let active = i.div_ceil(3).max(1);
        let suppressed = i.saturating_sub(2 * i.div_ceil(3));
        groups.push((format!("group{i}"), i, active, suppressed));
    }
    let mut alerts = Vec::new();
    for (group, count, active, suppressed) in &groups {
        let n: usize = group
            .strip_prefix("group")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        for i in 1..=*count {
            let mut labels = json!({"alertname": "Fake Alert", "group": group, "instance": format!("instance{i}")});
            if (1..3).contains(&n) {
                labels["cluster"] = json!(format!("prod{n}"));
                labels["job"] = json!("textfile_exporter");
            }
            let mut annotations = json!({});
            if *count < 4 {
                annotations = json!({
                    "dashboard": "http://localhost",
                    "help": "this is a summary text",
                    "hidden": "this is hidden by default",
                    "linkify": "annotation with a link to github.com/prymitive/karma project page",
                    "action": "http://localhost",
                });
            }
            if (1..5).contains(&n) {
                annotations["summary"] = json!("Only 5% free space left on /disk");
            }
            alerts.push(json!({
                "labels": labels,
                "annotations": annotations,
                "startsAt": (now - chrono::Duration::minutes(*count as i64)).to_rfc3339(),
            }));
            if i > *active && i <= active + suppressed {
                s.post_silence(&json!({
                    "matchers": [
                        {"name": "group", "value": group, "isRegex": false},
                        {"name": "instance", "value": format!("instance{i}"), "isRegex": false},
                    ],
                    "startsAt": now.to_rfc3339(),
                    "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
                    "createdBy": "me@example.com",
                    "comment": "Mocked Silence",
                }))
                .await;
            }
        }
    }
    assert_eq!(alerts.len(), 34);
    assert_eq!(s.post_alerts(json!(alerts)).await.status(), 200);
}

/// The issue's yardstick, on karma's own data: the same 34 alerts in the
/// same 1280×1000 window as karma's snapshot, counted the same way (alert
/// rows wholly in view). karma shows 19 (and at most 5 per group).
#[tokio::test]
async fn ui_shows_more_of_karmas_grid_fixture_than_karma_does() {
    let s = TestServer::start(
        "route:\n  receiver: default\n  group_by: [alertname, group]\nreceivers:\n  - name: default\n",
    )
    .await;
    post_karmas_grid_fixture(&s).await;
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("karma-fixture", async |c| {
            // karma's snapshot is of the page itself: the page area, not
            // the window with the browser's own bars, is 1280×1000.
            c.set_window_size(1280, 1000).await?;
            let bars = c.execute("return [outerWidth - innerWidth, outerHeight - innerHeight]", vec![]).await?;
            let bar = |i: usize| bars[i].as_u64().unwrap_or(0) as u32;
            c.set_window_size(1280 + bar(0), 1000 + bar(1)).await?;
            c.goto(&format!("{base}/#/alerts?silenced=true&inhibited=true")).await?;
            until(c, "34 alerts", "document.querySelectorAll('.alert').length === 34").await?;
            let (visible, height) = (
                c.execute(
                    ALERTS_IN_VIEW,
                    vec![],
                )
                .await?,
                c.execute("return innerHeight", vec![]).await?,
            );
            let visible = visible.as_u64().unwrap_or(0);
            eprintln!(
                "karma's grid fixture at 1280×1000: klaxon shows {visible} of 34 alerts ({height}-px page area), karma {KARMA_GRID_ALERTS_IN_1280X1000}"
            );
            ensure!(
                visible > KARMA_GRID_ALERTS_IN_1280X1000,
                "{visible} alerts in view, karma shows {KARMA_GRID_ALERTS_IN_1280X1000}"
            );
            Ok(())
        })
        .await;
}

/// The alerts view as a triage screen at 1400×1000: at least 25 alerts
/// visible at once; an alert reaching two receivers shown and counted
/// once with both listed; groups by severity then age, collapsible (and
/// still collapsed after a reload), re-sortable; "Silence group"
/// pre-filling the group's labels; annotation URLs as links and nothing
/// else; suppression explained by the silence's author and comment and the
/// inhibiting alert's labels; the filter checked on submit; a timeline.
#[tokio::test]
async fn ui_alerts_view_is_a_dense_triage_screen() {
    let s = TestServer::start(TRIAGE_CONFIG).await;
    post_triage_alerts(&s).await;
    let now = chrono::Utc::now();
    s.post_silence(&json!({
        "matchers": [
            {"name": "alertname", "value": "BackupLate", "isRegex": false},
            {"name": "instance", "value": "host-0.example:9100", "isRegex": false},
        ],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(2)).to_rfc3339(),
        "createdBy": "jane",
        "comment": "backup host in maintenance",
    }))
    .await;
    // The raw groups hold the ops alerts twice (receivers ops and second).
    let raw = s
        .get_json("/api/v2/alerts/groups?silenced=true&inhibited=true")
        .await;
    let raw_count: usize = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["alerts"].as_array().unwrap().len())
        .sum();
    assert!(raw_count > 30, "{raw_count} alerts in the API's groups");
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("triage", async |c| {
            c.set_window_size(1400, 1000).await?;
            c.goto(&format!("{base}/#/alerts?silenced=true&inhibited=true")).await?;
            until(c, "30 alerts, each once", "document.querySelectorAll('.alert').length === 30").await?;
            let summary = c.execute("return document.querySelector('.summary').textContent", vec![]).await?;
            ensure!(summary.as_str().unwrap_or("").starts_with("30 alerts in 6 groups"), "summary {summary}");
            let visible = c
                .execute(
                    ALERTS_IN_VIEW,
                    vec![],
                )
                .await?;
            let height = c.execute("return innerHeight", vec![]).await?;
            ensure!(visible.as_u64().unwrap_or(0) >= 25, "{visible} alerts visible in a {height}-px high window");

            // An ops alert lists both receivers; a db one only its own.
            let receivers = c
                .execute(
                    r#"const row = i => document.querySelector(`.group[data-group="alertname=DiskFull"] .alert:nth-child(${i})`);
                       return [row(1).dataset.receivers, row(2).dataset.receivers];"#,
                    vec![],
                )
                .await?;
            ensure!(receivers == json!(["ops,second", "second"]), "receivers {receivers}");
            let fps = c.execute("const f = [...document.querySelectorAll('.alert')].map(e => e.dataset.fingerprint); return new Set(f).size", vec![]).await?;
            ensure!(fps == json!(30), "{fps} distinct alerts");

            // Critical groups first, then warning, then info; newest first within.
            let order = c
                .execute("return [...document.querySelectorAll('.group')].map(g => g.dataset.group)", vec![])
                .await?;
            ensure!(
                order
                    == json!([
                        "alertname=DiskFull",
                        "alertname=NodeDown",
                        "alertname=HighLatency",
                        "alertname=QueueBacklog",
                        "alertname=CertExpiry",
                        "alertname=BackupLate"
                    ]),
                "group order {order}"
            );
            // Oldest first puts the group of the longest-firing alert on top.
            c.execute("const s = document.querySelector('select.sort'); s.value = 'oldest'; s.dispatchEvent(new Event('change'));", vec![]).await?;
            until(c, "BackupLate on top", r#"document.querySelector('.group').dataset.group === "alertname=BackupLate" && location.hash.includes('sort=oldest')"#).await?;
            c.execute("const s = document.querySelector('select.sort'); s.value = 'severity'; s.dispatchEvent(new Event('change'));", vec![]).await?;
            until(c, "DiskFull on top again", r#"document.querySelector('.group').dataset.group === "alertname=DiskFull""#).await?;

            // Collapsing a group hides its alerts, and survives a reload.
            click(c, r#".group[data-group="alertname=DiskFull"] .fold"#).await?;
            until(c, "DiskFull collapsed", r#"document.querySelector('.group[data-group="alertname=DiskFull"]').classList.contains('collapsed') && document.querySelectorAll('.alert').length === 25"#).await?;
            c.refresh().await?;
            until(c, "still collapsed after a reload", r#"document.querySelector('.group[data-group="alertname=DiskFull"]')?.classList.contains('collapsed') && document.querySelectorAll('.alert').length === 25"#).await?;
            click(c, r#".group[data-group="alertname=DiskFull"] .fold"#).await?;
            until(c, "expanded again", "document.querySelectorAll('.alert').length === 30").await?;

            // Details: links for http(s) URLs only, the sentence's full stop left out.
            let db0 = r#".group[data-group="alertname=DiskFull"] .alert:nth-child(1)"#;
            click(c, &format!("{db0} .expand")).await?;
            until(c, "the details", &format!("document.querySelector({:?}) !== null", format!("{db0} .alert-details"))).await?;
            let links = c
                .execute(
                    &format!("return [...document.querySelectorAll({:?})].map(a => [a.getAttribute('href'), a.rel])", format!("{db0} .alert-details a.ext")),
                    vec![],
                )
                .await?;
            ensure!(
                links
                    == json!([
                        ["https://grafana.example/d/1", "noopener noreferrer"],
                        ["https://runbooks.example/DiskFull", "noopener noreferrer"]
                    ]),
                "links {links}"
            );
            let js = c.execute("return document.querySelectorAll('a[href^=\"javascript\" i]').length", vec![]).await?;
            ensure!(js == json!(0), "a javascript: link");
            until(c, "the javascript: text shown as text", &format!("document.querySelector({:?}).textContent.includes('javascript:alert(1)')", format!("{db0} .alert-details"))).await?;

            // A click on the line itself opens it too.
            click(c, r#".group[data-group="alertname=NodeDown"] .alert:nth-child(1) .row-text"#).await?;
            until(c, "NodeDown's details", r#"document.querySelector('.group[data-group="alertname=NodeDown"] .alert:nth-child(1) .alert-details') !== null"#).await?;

            // Suppression: the silence's author, comment and end; the inhibiting alert's labels.
            click(c, r#".group[data-group="alertname=BackupLate"] .alert:nth-child(1) .expand"#).await?;
            until(
                c,
                "who silenced it and why",
                r#"[...document.querySelectorAll('.why-silence')].some(e => e.textContent.includes('jane') && e.textContent.includes('backup host in maintenance') && e.querySelector('time[datetime]'))"#,
            )
            .await?;
            click(c, r#".group[data-group="alertname=CertExpiry"] .alert:nth-child(1) .expand"#).await?;
            until(
                c,
                "the inhibiting alert's labels",
                r#"[...document.querySelectorAll('.why-inhibit')].some(e => e.textContent.includes('alertname="DiskFull"') && e.textContent.includes('severity="critical"'))"#,
            )
            .await?;

            // The timeline: all 30 firing now, critical ones drawn.
            until(c, "the timeline", "document.querySelector('figure.timeline')?.dataset.max === '30' && document.querySelector('figure.timeline rect.sev-critical') !== null").await?;

            // The filter is checked on submit: no error while typing.
            type_into(c, ".filter-input", "sev").await?;
            let typing = c.execute("return [document.querySelector('.filter-input').getAttribute('aria-invalid'), document.querySelector('.field-error').textContent]", vec![]).await?;
            ensure!(typing == json!([null, ""]), "an error while typing: {typing}");
            type_into(c, ".filter-input", "{sev").await?;
            until(c, "a label name suggestion", r#"[...document.querySelectorAll('datalist option')].some(o => o.value === '{severity=')"#).await?;
            type_into(c, ".filter-input", "sev\u{E007}").await?;
            until(c, "the error on submit", "document.querySelector('.filter-input').getAttribute('aria-invalid') === 'true' && document.querySelector('.field-error').textContent.length > 0").await?;

            // "Silence group" pre-fills the group's labels.
            c.goto(&format!("{base}/#/alerts?silenced=true&inhibited=true")).await?;
            click(c, r#".group[data-group="alertname=NodeDown"] .silence-group"#).await?;
            until(
                c,
                "the group's matcher",
                r#"document.querySelectorAll('.matcher-row').length === 1
                   && document.querySelector('.matcher-name').value === 'alertname'
                   && document.querySelector('.matcher-value').value === 'NodeDown'
                   && document.querySelector('#preview-count')?.textContent === '5'"#,
            )
            .await?;
            let errors = c.execute("return document.body.dataset.errors || null", vec![]).await?;
            ensure!(errors.is_null(), "the page reported {errors} script error(s)");
            only_own_origin(c, &base).await
        })
        .await;
}

/// 400 px wide: every view fits the width (nothing scrolls sideways), the
/// primary action stays on screen, and the notification history is a
/// list of cards. At desk width the history has a timeline per receiver.
#[tokio::test]
async fn ui_works_on_a_phone_and_draws_delivery_timelines() {
    let good = crate::harness::WebhookSink::start(vec![]).await;
    // 400 is a permanent failure: recorded at once, no retries.
    let bad = crate::harness::WebhookSink::start(vec![400; 20]).await;
    let config = format!(
        r#"
route:
  receiver: good
  group_by: [alertname]
  group_wait: 0s
  routes:
    - receiver: bad
      matchers: [alertname="Broken"]
receivers:
  - name: good
    webhook_configs: [{{url: "{}"}}]
  - name: bad
    webhook_configs: [{{url: "{}"}}]
"#,
        good.url, bad.url
    );
    let s = TestServer::start(&config).await;
    post_alert(
        &s,
        json!({"alertname": "Works", "severity": "warning", "instance": "a"}),
    )
    .await;
    post_alert(
        &s,
        json!({"alertname": "Broken", "severity": "critical", "instance": "b"}),
    )
    .await;
    crate::harness::eventually(
        Duration::from_secs(15),
        "a sent and a failed attempt",
        || async {
            let h = s.get_json("/api/klaxon/notifications").await;
            let outcomes: Vec<&str> = h["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["outcome"].as_str())
                .collect();
            (outcomes.contains(&"success") && outcomes.contains(&"failure")).then_some(())
        },
    )
    .await;
    let base = s.base.clone();
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .run("phone", async |c| {
            c.set_window_size(1400, 1000).await?;
            c.goto(&format!("{base}/#/notifications")).await?;
            until(
                c,
                "a timeline per receiver, sent and failed",
                r#"(() => {
                     const f = [...document.querySelectorAll('figure.timeline')];
                     const by = n => f.find(x => x.querySelector('.timeline-title').textContent === n);
                     return f.length === 2 && by('good')?.querySelector('rect.sent') && by('bad')?.querySelector('rect.failed');
                   })()"#,
            )
            .await?;

            c.set_window_size(400, 900).await?;
            let width = c.execute("return innerWidth", vec![]).await?;
            ensure!(width.as_u64().unwrap_or(9999) <= 420, "the window is {width} px wide");
            for (view, ready) in [
                ("#/alerts", "document.querySelectorAll('.alert').length === 2"),
                ("#/silences", "document.querySelector('.tabs') !== null"),
                ("#/silences/new", "document.querySelector('#silence-submit') !== null"),
                ("#/notifications", "document.querySelector('table.notifications tbody tr') !== null"),
                ("#/routes", "document.querySelectorAll('.route').length === 2"),
                ("#/status", "document.querySelector('#status-version')?.textContent.length > 0"),
            ] {
                c.goto(&format!("{base}/{view}")).await?;
                until(c, view, ready).await?;
                let overflow = c.execute("return document.documentElement.scrollWidth - innerWidth", vec![]).await?;
                ensure!(overflow.as_i64().unwrap_or(1) <= 0, "{view} is {overflow} px wider than the screen");
                let primary = c
                    .execute(
                        r#"const b = document.querySelector('.new-silence'); const r = b.getBoundingClientRect();
                           return getComputedStyle(b).display !== 'none' && r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight;"#,
                        vec![],
                    )
                    .await?;
                ensure!(primary == json!(true), "{view}: \"New silence\" is not on screen");
            }
            // The history's rows are cards: each cell on its own line, labelled.
            c.goto(&format!("{base}/#/notifications")).await?;
            until(c, "the rows", "document.querySelector('table.notifications tbody tr') !== null").await?;
            let cards = c
                .execute(
                    r#"const tr = document.querySelector('table.notifications tbody tr');
                       const td = tr.querySelector('td');
                       return [getComputedStyle(tr).display, getComputedStyle(td, '::before').content];"#,
                    vec![],
                )
                .await?;
            ensure!(cards == json!(["block", "\"Time\""]), "rows as {cards}");
            Ok(())
        })
        .await;
}

/// `GET /api/klaxon/timeline`, what the timelines draw: an alert counts in
/// every bucket it fired in (resolved ones too), by severity; bad
/// parameters are a 400 naming them.
#[tokio::test]
async fn the_timeline_counts_alerts_per_severity_and_refuses_bad_parameters() {
    let s = TestServer::start(PLAIN_CONFIG).await;
    let now = chrono::Utc::now();
    let at = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let resp = s
        .post_alerts(json!([
            // Fired 3.5 to 4.5 hours into a 6-hour window, then resolved.
            {"labels": {"alertname": "Was", "severity": "critical"}, "startsAt": at(150), "endsAt": at(90)},
            {"labels": {"alertname": "Is", "severity": "warning"}, "startsAt": at(30)},
            {"labels": {"alertname": "NoSeverity"}, "startsAt": at(30)},
        ]))
        .await;
    assert_eq!(resp.status(), 200);
    let t = s.get_json("/api/klaxon/timeline?hours=6&buckets=6").await;
    assert_eq!(t["stepSeconds"], 3600, "{t}");
    let line = |severity: &str| {
        t["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["severity"] == severity)
            .map(|l| l["firing"].clone())
            .unwrap_or_else(|| panic!("no {severity:?} line in {t}"))
    };
    assert_eq!(line("critical"), json!([0, 0, 0, 1, 1, 0]));
    assert_eq!(line("warning"), json!([0, 0, 0, 0, 0, 1]));
    assert_eq!(line(""), json!([0, 0, 0, 0, 0, 1]));
    assert_eq!(t["notifications"], json!([]));
    let default = s.get_json("/api/klaxon/timeline").await;
    assert_eq!(default["stepSeconds"], 1800, "24 hours in 48 buckets");
    for bad in [
        "hours=0",
        "hours=1000",
        "buckets=abc",
        "buckets=0",
        "buckets=100000",
    ] {
        let r = s.get(&format!("/api/klaxon/timeline?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        let name = bad.split('=').next().unwrap();
        assert!(r.text().await.unwrap().contains(name), "{bad}");
    }
}
