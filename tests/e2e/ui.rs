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
