//! Differential tests: the same requests go to a real Alertmanager and to
//! klaxon, and the answers are compared after normalising what legitimately
//! differs (times, silence IDs, `status.mutedBy` which 0.25 lacks). The main
//! tests run twice: against Debian 12's 0.25 (installed) and, as `…_0_28`,
//! against Debian 13's 0.28.1 (unpacked by `.ci/peers`). Label-name rules
//! compare like for like: klaxon runs in `classic-mode` beside 0.25, in its
//! default (UTF-8 fallback) mode beside 0.28.1.
//!
//! Each test collects every difference before failing, so one run lists all
//! of them. Known deliberate differences are not compared: DELETE of an
//! unknown silence (0.25 answers 500, klaxon 404 like newer releases),
//! `/api/v1/*` (klaxon answers 410), `versionInfo` and `config.original`.
//! 0.28's own differences from 0.25 are tested at the end: `mutedBy` on
//! groups, and the alert list that leaves time-interval mutes out.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{
    TestServer, WebhookSink, alertmanager_028, client, eventually, free_port, peer, wait_ready,
};

/// PLAIN_CONFIG plus grouping by `team` under the second route, so groups
/// differ by labels as well as by receiver. No inhibition: klaxon does not
/// implement it yet.
const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: second
      group_by: [team]
      matchers: ['team="b"']
receivers:
  - name: default
  - name: second
"#;

/// The real Alertmanager a differential test compares with: Debian 12's
/// 0.25 (installed) or Debian 13's 0.28.1 (unpacked by `.ci/peers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    V025,
    V028,
}

impl Reference {
    /// The binary, or `None` (the test skips) when it is absent.
    pub(crate) fn program(self) -> Option<PathBuf> {
        match self {
            Reference::V025 => peer("prometheus-alertmanager"),
            Reference::V028 => alertmanager_028(),
        }
    }

    /// Flags for the reference: none. Both 0.28 and klaxon take UTF-8 label
    /// names by default ("fallback" mode); 0.25's rules are klaxon's
    /// `classic-mode`, see [`Reference::klaxon_features`].
    pub(crate) fn flags(self) -> &'static [&'static str] {
        &[]
    }

    /// klaxon's switches that give the reference's label-name rules.
    fn klaxon_features(self) -> klaxon::features::Features {
        match self {
            Reference::V025 => klaxon::features::Features::parse("classic-mode").unwrap(),
            Reference::V028 => Default::default(),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Reference::V025 => "Alertmanager 0.25",
            Reference::V028 => "Alertmanager 0.28.1",
        }
    }
}

/// A real Alertmanager child process, cluster disabled, on loopback.
pub(crate) struct Alertmanager {
    child: tokio::process::Child,
    pub(crate) base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Alertmanager {
    pub(crate) async fn start(program: &Path, config: &str) -> Alertmanager {
        Self::start_with(program, config, &[]).await
    }

    /// As `start`, with extra flags.
    pub(crate) async fn start_with(program: &Path, config: &str, extra: &[&str]) -> Alertmanager {
        let dir = tempfile::tempdir().expect("alertmanager dir");
        std::fs::write(dir.path().join("alertmanager.yml"), config).expect("write config");
        let port = free_port();
        let log = dir.path().join("alertmanager.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = tokio::process::Command::new(program)
            .current_dir(dir.path())
            .arg(format!(
                "--config.file={}",
                dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .expect("spawn alertmanager");
        let base = format!("http://127.0.0.1:{port}");
        let mut am = Alertmanager {
            child,
            base,
            log,
            _dir: dir,
        };
        am.assert_running();
        wait_ready(&format!("{}/-/ready", am.base)).await;
        am
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "alertmanager exited ({status}):\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// One answer: status and body (JSON when it parses).
#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    body: Value,
    text: String,
}

/// Both servers, the silence-ID map and the list of differences found.
struct Pair {
    reference: Reference,
    am: Alertmanager,
    kx: TestServer,
    client: reqwest::Client,
    /// Silence ID (either side) to `silence#<n>`, in creation order.
    ids: HashMap<String, String>,
    created: usize,
    diffs: Vec<String>,
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &Method,
    path: &str,
    body: Option<(&str, &str)>,
) -> Answer {
    let mut req = client.request(method.clone(), format!("{base}{path}"));
    if let Some((content_type, text)) = body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(text.to_owned());
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {base}{path}: {e}"));
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, body, text }
}

impl Pair {
    async fn start(reference: Reference) -> Option<Pair> {
        Self::start_with(reference, Default::default()).await
    }

    /// With klaxon's `--enable-feature` switches set to `features`.
    async fn start_with(
        reference: Reference,
        features: klaxon::features::Features,
    ) -> Option<Pair> {
        let program = reference.program()?;
        let am = Alertmanager::start_with(&program, CONFIG, reference.flags()).await;
        let kx = TestServer::start_with_features(CONFIG, features).await;
        Some(Pair {
            reference,
            am,
            kx,
            client: client(),
            ids: HashMap::new(),
            created: 0,
            diffs: Vec::new(),
        })
    }

    /// Sends the same request to both; `(alertmanager, klaxon)`.
    async fn both(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> (Answer, Answer) {
        let am = send(&self.client, &self.am.base, &method, path, body).await;
        let kx = send(&self.client, &self.kx.base, &method, path, body).await;
        (am, kx)
    }

    async fn post_json(&self, path: &str, body: &Value) -> (Answer, Answer) {
        let text = body.to_string();
        self.both(Method::POST, path, Some(("application/json", &text)))
            .await
    }

    fn differ(&mut self, what: &str, am: impl std::fmt::Display, kx: impl std::fmt::Display) {
        self.diffs.push(format!(
            "{what}\n    alertmanager: {am}\n    klaxon:       {kx}"
        ));
    }

    /// Status codes must match.
    fn same_status(&mut self, what: &str, am: &Answer, kx: &Answer) {
        if am.status != kx.status {
            self.differ(
                &format!("{what}: status"),
                format!("{} {}", am.status, am.text.trim()),
                format!("{} {}", kx.status, kx.text.trim()),
            );
        }
    }

    /// Posts alerts to both; both must accept.
    async fn post_alerts(&mut self, alerts: Value) {
        let (am, kx) = self.post_json("/api/v2/alerts", &alerts).await;
        assert_eq!(am.status, 200, "alertmanager refused {alerts}: {}", am.text);
        self.same_status(&format!("POST /api/v2/alerts {alerts}"), &am, &kx);
    }

    /// Creates the same silence on both and maps both IDs to one name.
    async fn post_silence(&mut self, silence: Value) -> (String, String) {
        let (am, kx) = self.post_json("/api/v2/silences", &silence).await;
        assert_eq!(
            am.status, 200,
            "alertmanager refused {silence}: {}",
            am.text
        );
        assert_eq!(kx.status, 200, "klaxon refused {silence}: {}", kx.text);
        let am_id = am.body["silenceID"].as_str().expect("silenceID").to_owned();
        let kx_id = kx.body["silenceID"].as_str().expect("silenceID").to_owned();
        let name = format!("silence#{}", self.created);
        self.created += 1;
        self.ids.insert(am_id.clone(), name.clone());
        self.ids.insert(kx_id.clone(), name);
        (am_id, kx_id)
    }

    /// Edits silence `ids` (Alertmanager's, klaxon's) on both sides as a
    /// client would: GET the stored silence, change it with `edit`, POST it
    /// back with its ID. A new ID is mapped to `name`.
    async fn update_silence(
        &mut self,
        what: &str,
        ids: &(String, String),
        name: &str,
        edit: impl Fn(&mut Value),
    ) {
        let mut answers = Vec::new();
        for (base, id) in [(&self.am.base, &ids.0), (&self.kx.base, &ids.1)] {
            let stored = send(
                &self.client,
                base,
                &Method::GET,
                &format!("/api/v2/silence/{id}"),
                None,
            )
            .await
            .body;
            let mut body = json!({"id": id});
            for field in ["matchers", "startsAt", "endsAt", "createdBy", "comment"] {
                body[field] = stored[field].clone();
            }
            edit(&mut body);
            let text = body.to_string();
            answers.push(
                send(
                    &self.client,
                    base,
                    &Method::POST,
                    "/api/v2/silences",
                    Some(("application/json", &text)),
                )
                .await,
            );
        }
        let (am, kx) = (&answers[0], &answers[1]);
        self.same_status(&format!("update silence ({what})"), am, kx);
        let kept = |a: &Answer, id: &str| a.body["silenceID"] == id;
        let (am_kept, kx_kept) = (kept(am, &ids.0), kept(kx, &ids.1));
        if am_kept != kx_kept {
            self.differ(
                &format!("update silence ({what}): answer keeps the ID"),
                format!("{am_kept} ({})", am.text.trim()),
                format!("{kx_kept} ({})", kx.text.trim()),
            );
        }
        for a in [am, kx] {
            if let Some(id) = a.body["silenceID"].as_str()
                && !self.ids.contains_key(id)
            {
                self.ids.insert(id.to_owned(), name.to_owned());
            }
        }
    }

    /// Waits until Alertmanager's dispatcher has seen every alert (no
    /// `unprocessed` state left on either side).
    async fn settle(&self) {
        for base in [&self.am.base, &self.kx.base] {
            let c = &self.client;
            eventually(
                Duration::from_secs(10),
                "alerts to be processed",
                || async move {
                    let a = send(c, base, &Method::GET, "/api/v2/alerts", None).await;
                    let list = a.body.as_array()?;
                    list.iter()
                        .all(|a| a["status"]["state"] != "unprocessed")
                        .then_some(())
                },
            )
            .await;
        }
    }

    /// GETs `path` from both until the normalised answers are equal (both
    /// servers act asynchronously), for at most 5 s; records the last
    /// difference otherwise.
    async fn compare(
        &mut self,
        path: &str,
        normalise: fn(&Value, &HashMap<String, String>) -> Value,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let (am, kx) = self.both(Method::GET, path, None).await;
            let (na, nk) = (
                normalise(&am.body, &self.ids),
                normalise(&kx.body, &self.ids),
            );
            if am.status == kx.status && na == nk {
                assert_eq!(am.status, 200, "GET {path} on alertmanager: {}", am.text);
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                self.differ(
                    &format!("GET {path}"),
                    format!("{} {}", am.status, serde_json::to_string(&na).unwrap()),
                    format!("{} {}", kx.status, serde_json::to_string(&nk).unwrap()),
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn finish(self) {
        let Pair {
            am,
            kx,
            diffs,
            reference,
            ..
        } = self;
        am.stop().await;
        kx.stop().await;
        assert!(
            diffs.is_empty(),
            "klaxon differs from {} in {} place(s):\n{}",
            reference.name(),
            diffs.len(),
            diffs.join("\n")
        );
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn map_id(id: &Value, ids: &HashMap<String, String>) -> Value {
    match id.as_str() {
        Some(s) => Value::from(
            ids.get(s)
                .cloned()
                .unwrap_or_else(|| format!("unknown:{s}")),
        ),
        None => id.clone(),
    }
}

/// One alert without its times (kept when the poster set them: label
/// `times="explicit"`), without `mutedBy`, silence IDs by creation index.
fn normalise_alert(a: &Value, ids: &HashMap<String, String>) -> Value {
    let mut a = a.clone();
    let Some(obj) = a.as_object_mut() else {
        return a;
    };
    let explicit = obj.get("labels").is_some_and(|l| l["times"] == "explicit");
    obj.remove("updatedAt");
    if !explicit {
        obj.remove("startsAt");
        obj.remove("endsAt");
    }
    if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
        status.remove("mutedBy");
        if let Some(Value::Array(silenced)) = status.get_mut("silencedBy") {
            let mut mapped: Vec<Value> = silenced.iter().map(|id| map_id(id, ids)).collect();
            mapped.sort_by_key(|v| v.to_string());
            *silenced = mapped;
        }
    }
    a
}

fn normalise_alerts(list: &Value, ids: &HashMap<String, String>) -> Value {
    let Some(list) = list.as_array() else {
        return list.clone();
    };
    let mut out: Vec<Value> = list.iter().map(|a| normalise_alert(a, ids)).collect();
    out.sort_by_key(|a| a["fingerprint"].as_str().unwrap_or_default().to_owned());
    Value::Array(out)
}

/// Groups keep Alertmanager's order (receiver and labels); alerts inside a
/// group are sorted by fingerprint, since 0.25 orders them by start time.
fn normalise_groups(list: &Value, ids: &HashMap<String, String>) -> Value {
    let Some(list) = list.as_array() else {
        return list.clone();
    };
    Value::Array(
        list.iter()
            .map(|g| {
                let mut g = g.clone();
                if let Some(alerts) = g.get("alerts") {
                    g["alerts"] = normalise_alerts(alerts, ids);
                }
                // 0.34's `routeLabels` (`{}` for routes without labels),
                // which neither reference release has.
                if g.get("routeLabels") == Some(&serde_json::json!({})) {
                    g.as_object_mut().unwrap().remove("routeLabels");
                }
                g
            })
            .collect(),
    )
}

/// Silences in the server's order, IDs by creation index; `updatedAt` and
/// `startsAt` (set to "now" when in the past) dropped, and `endsAt` of
/// expired silences (set to the moment of expiry).
fn normalise_silence(s: &Value, ids: &HashMap<String, String>) -> Value {
    let mut s = s.clone();
    let Some(obj) = s.as_object_mut() else {
        return s;
    };
    if let Some(id) = obj.get("id") {
        let mapped = map_id(id, ids);
        obj.insert("id".into(), mapped);
    }
    obj.remove("updatedAt");
    let pending = obj.get("status").is_some_and(|st| st["state"] == "pending");
    if !pending {
        obj.remove("startsAt");
    }
    if obj.get("status").is_some_and(|st| st["state"] == "expired") {
        obj.remove("endsAt");
    }
    s
}

fn normalise_silences(list: &Value, ids: &HashMap<String, String>) -> Value {
    match list.as_array() {
        Some(list) => Value::Array(list.iter().map(|s| normalise_silence(s, ids)).collect()),
        None => list.clone(),
    }
}

/// Receiver labels are newer than Alertmanager 0.25.
fn without_receiver_labels(v: &Value, _: &HashMap<String, String>) -> Value {
    let mut v = v.clone();
    for r in v.as_array_mut().into_iter().flatten() {
        if let Some(obj) = r.as_object_mut() {
            obj.remove("labels");
        }
    }
    v
}

fn silence(matchers: Value, starts: DateTime<Utc>, ends: DateTime<Utc>, comment: &str) -> Value {
    json!({
        "matchers": matchers,
        "startsAt": rfc3339(starts),
        "endsAt": rfc3339(ends),
        "createdBy": "differential",
        "comment": comment,
    })
}

fn eq(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value, "isRegex": false, "isEqual": true})
}

/// URL-encodes a query value (the filters carry `=`, `"`, `~`, `!`).
fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn alerts_groups_and_receivers_match_alertmanager() {
    alerts_groups_and_receivers_match_alertmanager_on(Reference::V025).await;
}

#[tokio::test]
async fn alerts_groups_and_receivers_match_alertmanager_0_28() {
    alerts_groups_and_receivers_match_alertmanager_on(Reference::V028).await;
}

async fn alerts_groups_and_receivers_match_alertmanager_on(reference: Reference) {
    let Some(mut p) = Pair::start(reference).await else {
        return;
    };
    let now = Utc::now();
    // Whole seconds, so both servers see exactly the same instants.
    let now = now - chrono::Duration::nanoseconds(now.timestamp_subsec_nanos().into());

    // Batch 1: no times, two routes, annotations and a generator URL.
    p.post_alerts(json!([
        {"labels": {"alertname": "DiffA", "instance": "host1", "severity": "warning"},
         "annotations": {"summary": "a on host1"},
         "generatorURL": "http://prometheus.example/graph?g0.expr=up"},
        {"labels": {"alertname": "DiffA", "instance": "host2", "severity": "critical"}},
        {"labels": {"alertname": "DiffB", "instance": "host1", "team": "b"},
         "annotations": {"summary": "b", "runbook": "https://runbooks.example/b"}},
        {"labels": {"alertname": "DiffC", "instance": "host3", "team": "b"}},
        // An empty label value is dropped, not stored.
        {"labels": {"alertname": "DiffEmptyValue", "instance": "host4", "dropped": ""}}
    ]))
    .await;
    // Batch 2: explicit times, one resolved (hidden from the list).
    p.post_alerts(json!([
        {"labels": {"alertname": "DiffTimed", "times": "explicit", "instance": "host1"},
         "startsAt": rfc3339(now - chrono::Duration::minutes(10)),
         "endsAt": rfc3339(now + chrono::Duration::hours(2))},
        {"labels": {"alertname": "DiffResolved", "times": "explicit"},
         "startsAt": rfc3339(now - chrono::Duration::minutes(10)),
         "endsAt": rfc3339(now - chrono::Duration::minutes(1))},
        {"labels": {"alertname": "DiffEndsOnly", "instance": "host5"},
         "endsAt": rfc3339(now + chrono::Duration::hours(1))}
    ]))
    .await;
    // Batch 3: the same alert again with new annotations replaces them.
    p.post_alerts(json!([
        {"labels": {"alertname": "DiffA", "instance": "host1", "severity": "warning"},
         "annotations": {"summary": "a on host1, updated", "extra": "x"},
         "generatorURL": "http://prometheus.example/graph?g0.expr=up%3D%3D0"}
    ]))
    .await;
    // Batch 4: resolving an alert hides it; unicode and multi-line values.
    p.post_alerts(json!([
        {"labels": {"alertname": "DiffEndsOnly", "instance": "host5"},
         "endsAt": rfc3339(now - chrono::Duration::seconds(30))},
        {"labels": {"alertname": "DiffUnicode", "instance": "hôte-ü", "__meta": "x"},
         "annotations": {"description": "line one\nline two ✓", "empty": ""}}
    ]))
    .await;

    // Batch 5: a group bigger than a part of the listing (klaxon writes
    // it in pieces, in parallel), job and instance labels out of order.
    let big: Vec<Value> = (0..300)
        .map(|i| {
            json!({"labels": {
                "alertname": "DiffBig",
                "instance": format!("big-{:03}", (i * 7) % 300),
                "job": if i % 2 == 0 { "node" } else { "blackbox" },
            }})
        })
        .collect();
    p.post_alerts(Value::Array(big)).await;

    // Silences: active equality, pending, `!=` and regex matchers.
    p.post_silence(silence(
        json!([eq("alertname", "DiffA"), eq("instance", "host2")]),
        now - chrono::Duration::minutes(1),
        now + chrono::Duration::hours(1),
        "active equality",
    ))
    .await;
    p.post_silence(silence(
        json!([eq("alertname", "DiffC")]),
        now + chrono::Duration::hours(1),
        now + chrono::Duration::hours(2),
        "pending",
    ))
    .await;
    p.post_silence(silence(
        json!([
            {"name": "team", "value": "b", "isRegex": false, "isEqual": true},
            {"name": "alertname", "value": "DiffC", "isRegex": false, "isEqual": false}
        ]),
        now,
        now + chrono::Duration::hours(3),
        "not-equal",
    ))
    .await;
    p.post_silence(silence(
        json!([
            {"name": "instance", "value": "host[45]", "isRegex": true, "isEqual": true},
            {"name": "alertname", "value": "DiffEnds.*", "isRegex": true, "isEqual": false}
        ]),
        now,
        now + chrono::Duration::hours(4),
        "regex and negative regex",
    ))
    .await;
    p.post_silence(silence(
        json!([{"name": "instance", "value": "big-0[0-4].", "isRegex": true, "isEqual": true}]),
        now,
        now + chrono::Duration::hours(1),
        "part of the big group",
    ))
    .await;
    p.settle().await;

    p.compare("/api/v2/alerts", normalise_alerts).await;
    p.compare("/api/v2/alerts/groups", normalise_groups).await;
    p.compare("/api/v2/receivers", without_receiver_labels)
        .await;
    p.compare("/api/v2/silences", normalise_silences).await;

    // Raw order of the alert list (Alertmanager sorts by fingerprint).
    let (am, kx) = p.both(Method::GET, "/api/v2/alerts", None).await;
    let order = |a: &Answer| -> Vec<String> {
        a.body
            .as_array()
            .map(|l| l.iter().map(|x| x["fingerprint"].to_string()).collect())
            .unwrap_or_default()
    };
    if order(&am) != order(&kx) {
        p.differ(
            "GET /api/v2/alerts: order",
            format!("{:?}", order(&am)),
            format!("{:?}", order(&kx)),
        );
    }

    for filter in [
        "alertname=\"DiffA\"",
        "alertname=DiffA",
        "team!=\"b\"",
        "instance=~\"host[12]\"",
        "instance!~\"host1\"",
        "alertname=~\"Diff(A|B)\"",
        "nosuchlabel=\"\"",
        "nosuchlabel!=\"\"",
    ] {
        p.compare(
            &format!("/api/v2/alerts?filter={}", q(filter)),
            normalise_alerts,
        )
        .await;
        p.compare(
            &format!("/api/v2/alerts/groups?filter={}", q(filter)),
            normalise_groups,
        )
        .await;
    }
    p.compare(
        &format!(
            "/api/v2/alerts?filter={}&filter={}",
            q("alertname=\"DiffA\""),
            q("severity=\"critical\"")
        ),
        normalise_alerts,
    )
    .await;
    for query in [
        "silenced=false",
        "silenced=true",
        "active=false",
        "active=true&silenced=false",
        "inhibited=false",
        "unprocessed=false",
        "active=false&silenced=false&inhibited=false",
        "receiver=second",
        "receiver=default",
        "receiver=sec.*",
        "receiver=seco",
        "receiver=nobody",
        // go-openapi reads booleans with swag.ConvertBool: "1", "yes", "on",
        // "t"... (any case) are true, anything else false, never an error.
        "silenced=1",
        "silenced=yes",
        "active=FALSE",
        "active=off",
    ] {
        p.compare(&format!("/api/v2/alerts?{query}"), normalise_alerts)
            .await;
        if query != "unprocessed=false" {
            p.compare(&format!("/api/v2/alerts/groups?{query}"), normalise_groups)
                .await;
        }
    }
    for filter in ["alertname=\"DiffA\"", "team=\"b\"", "alertname=\"Nothing\""] {
        p.compare(
            &format!("/api/v2/silences?filter={}", q(filter)),
            normalise_silences,
        )
        .await;
    }

    // Mixed batch: the valid alert is kept, the request still fails.
    let (am, kx) = p
        .post_json(
            "/api/v2/alerts",
            &json!([{"labels": {"alertname": "DiffMixedValid"}}, {"labels": {}}]),
        )
        .await;
    p.same_status("POST /api/v2/alerts mixed valid/invalid", &am, &kx);
    p.settle().await;
    p.compare(
        &format!(
            "/api/v2/alerts?filter={}",
            q("alertname=\"DiffMixedValid\"")
        ),
        normalise_alerts,
    )
    .await;

    p.finish().await;
}

#[tokio::test]
async fn silence_lifecycle_matches_alertmanager() {
    silence_lifecycle_matches_alertmanager_on(Reference::V025).await;
}

#[tokio::test]
async fn silence_lifecycle_matches_alertmanager_0_28() {
    silence_lifecycle_matches_alertmanager_on(Reference::V028).await;
}

async fn silence_lifecycle_matches_alertmanager_on(reference: Reference) {
    let Some(mut p) = Pair::start(reference).await else {
        return;
    };
    let now = Utc::now();
    let now = now - chrono::Duration::nanoseconds(now.timestamp_subsec_nanos().into());
    p.post_alerts(json!([
        {"labels": {"alertname": "LifeA", "instance": "i1"}},
        {"labels": {"alertname": "LifeB", "instance": "i2"}},
        {"labels": {"alertname": "LifeC", "instance": "i3"}}
    ]))
    .await;

    let active = p
        .post_silence(silence(
            json!([eq("alertname", "LifeA")]),
            now,
            now + chrono::Duration::hours(1),
            "first",
        ))
        .await;
    let same_second = p
        .post_silence(silence(
            json!([eq("alertname", "LifeA"), eq("instance", "i1")]),
            now,
            now + chrono::Duration::hours(1),
            "start will move within its second",
        ))
        .await;
    let pending = p
        .post_silence(silence(
            json!([eq("alertname", "LifeB")]),
            now + chrono::Duration::hours(1),
            now + chrono::Duration::hours(2),
            "pending",
        ))
        .await;
    let to_expire = p
        .post_silence(silence(
            json!([{"name": "instance", "value": "i.*", "isRegex": true, "isEqual": true}]),
            now,
            now + chrono::Duration::hours(5),
            "to expire",
        ))
        .await;
    let rematch = p
        .post_silence(silence(
            json!([eq("alertname", "LifeC")]),
            now,
            now + chrono::Duration::hours(1),
            "matchers will change",
        ))
        .await;
    p.settle().await;
    p.compare("/api/v2/alerts", normalise_alerts).await;

    // GET one silence.
    let am = send(
        &p.client,
        &p.am.base,
        &Method::GET,
        &format!("/api/v2/silence/{}", active.0),
        None,
    )
    .await;
    let kx = send(
        &p.client,
        &p.kx.base,
        &Method::GET,
        &format!("/api/v2/silence/{}", active.1),
        None,
    )
    .await;
    p.same_status("GET /api/v2/silence/{id}", &am, &kx);
    let (na, nk) = (
        normalise_silence(&am.body, &p.ids),
        normalise_silence(&kx.body, &p.ids),
    );
    if na != nk {
        p.differ("GET /api/v2/silence/{id}", na, nk);
    }

    // Alertmanager compares an active silence's start to the second, so
    // the millisecond round trip below keeps the ID. Editing an active silence as amtool and the UI do (the stored silence
    // sent back with a new comment and end) keeps its ID on 0.25.
    p.update_silence(
        "active: comment and endsAt",
        &active,
        "silence#active-edited",
        |s| {
            s["comment"] = json!("first, extended");
            s["endsAt"] = json!(rfc3339(now + chrono::Duration::hours(2)));
        },
    )
    .await;
    // 0.25 compares an active silence's start to the second
    // (`StartsAt.Unix()`), so a start in the same second still updates.
    p.update_silence(
        "active: startsAt in the same second",
        &same_second,
        "silence#active-same-second",
        |s| {
            let starts = s["startsAt"].as_str().unwrap_or_default();
            let second = format!("{}.000Z", &starts[..starts.len().min(19)]);
            s["startsAt"] = json!(second);
            s["comment"] = json!("first, same second");
        },
    )
    .await;
    // New matchers: the old silence expires and a new one replaces it.
    p.update_silence(
        "active: matchers changed",
        &rematch,
        "silence#rematched",
        |s| {
            s["matchers"] = json!([eq("alertname", "LifeC"), eq("instance", "i3")]);
        },
    )
    .await;
    // A pending silence may move in time.
    p.update_silence(
        "pending: times moved",
        &pending,
        "silence#pending-moved",
        |s| {
            s["startsAt"] = json!(rfc3339(now + chrono::Duration::minutes(30)));
            s["endsAt"] = json!(rfc3339(now + chrono::Duration::hours(3)));
        },
    )
    .await;
    p.update_silence(
        "pending: matchers changed",
        &pending,
        "silence#pending-rematched",
        |s| {
            s["matchers"] = json!([eq("alertname", "LifeB"), eq("instance", "i2")]);
        },
    )
    .await;

    // Expire one, twice.
    for what in [
        "DELETE /api/v2/silence/{id}",
        "DELETE /api/v2/silence/{id} again",
    ] {
        let am = send(
            &p.client,
            &p.am.base,
            &Method::DELETE,
            &format!("/api/v2/silence/{}", to_expire.0),
            None,
        )
        .await;
        let kx = send(
            &p.client,
            &p.kx.base,
            &Method::DELETE,
            &format!("/api/v2/silence/{}", to_expire.1),
            None,
        )
        .await;
        p.same_status(what, &am, &kx);
    }
    // Updating an expired silence creates a new one.
    p.update_silence("expired: revived", &to_expire, "silence#revived", |s| {
        s["startsAt"] = json!(rfc3339(now));
        s["endsAt"] = json!(rfc3339(now + chrono::Duration::hours(6)));
        s["comment"] = json!("revived");
    })
    .await;

    p.settle().await;
    p.compare("/api/v2/silences", normalise_silences).await;
    p.compare("/api/v2/alerts", normalise_alerts).await;
    p.compare("/api/v2/alerts?silenced=false", normalise_alerts)
        .await;
    p.finish().await;
}

#[tokio::test]
async fn bad_requests_get_alertmanager_status_codes() {
    bad_requests_get_alertmanager_status_codes_on(Reference::V025).await;
}

#[tokio::test]
async fn bad_requests_get_alertmanager_status_codes_0_28() {
    bad_requests_get_alertmanager_status_codes_on(Reference::V028).await;
}

async fn bad_requests_get_alertmanager_status_codes_on(reference: Reference) {
    let Some(mut p) = Pair::start_with(reference, reference.klaxon_features()).await else {
        return;
    };
    let now = Utc::now();
    let later = rfc3339(now + chrono::Duration::hours(1));
    let nows = rfc3339(now);
    let earlier = rfc3339(now - chrono::Duration::hours(1));
    let json_ct = "application/json";

    let alert_posts: Vec<(&str, String, &str)> = vec![
        (
            "malformed JSON",
            r#"[{"labels": {"alertname": "X"}"#.into(),
            json_ct,
        ),
        (
            "not an array",
            r#"{"labels": {"alertname": "X"}}"#.into(),
            json_ct,
        ),
        ("empty body", "".into(), json_ct),
        ("empty array", "[]".into(), json_ct),
        (
            "missing labels",
            r#"[{"annotations": {"a": "b"}}]"#.into(),
            json_ct,
        ),
        ("empty labels", r#"[{"labels": {}}]"#.into(), json_ct),
        (
            "only empty label values",
            r#"[{"labels": {"alertname": ""}}]"#.into(),
            json_ct,
        ),
        (
            "label name starting with a digit",
            r#"[{"labels": {"0bad": "x"}}]"#.into(),
            json_ct,
        ),
        (
            "label name with a dash",
            r#"[{"labels": {"bad-name": "x"}}]"#.into(),
            json_ct,
        ),
        (
            "label value not a string",
            r#"[{"labels": {"alertname": 1}}]"#.into(),
            json_ct,
        ),
        (
            "invalid annotation name",
            r#"[{"labels": {"alertname": "X"}, "annotations": {"0bad": "x"}}]"#.into(),
            json_ct,
        ),
        (
            "generatorURL that does not parse",
            r#"[{"labels": {"alertname": "X"}, "generatorURL": "http://%zz"}]"#.into(),
            json_ct,
        ),
        (
            "generatorURL without scheme",
            r#"[{"labels": {"alertname": "X"}, "generatorURL": "::not a url"}]"#.into(),
            json_ct,
        ),
        (
            "generatorURL relative",
            r#"[{"labels": {"alertname": "X"}, "generatorURL": "graph?g0=1"}]"#.into(),
            json_ct,
        ),
        (
            "startsAt not a time",
            r#"[{"labels": {"alertname": "X"}, "startsAt": "yesterday"}]"#.into(),
            json_ct,
        ),
        (
            "endsAt before startsAt",
            format!(
                r#"[{{"labels": {{"alertname": "X"}}, "startsAt": "{nows}", "endsAt": "{earlier}"}}]"#
            ),
            json_ct,
        ),
        (
            "unknown field",
            r#"[{"labels": {"alertname": "DiffUnknownField"}, "bogus": 1}]"#.into(),
            json_ct,
        ),
        (
            "text/plain content type",
            r#"[{"labels": {"alertname": "DiffTextPlain"}}]"#.into(),
            "text/plain",
        ),
        (
            "form content type",
            r#"[{"labels": {"alertname": "DiffForm"}}]"#.into(),
            "application/x-www-form-urlencoded",
        ),
        (
            "mixed valid and invalid",
            r#"[{"labels": {"alertname": "DiffMixed"}}, {"labels": {"0bad": "x"}}]"#.into(),
            json_ct,
        ),
        (
            "startsAt in the future without endsAt",
            format!(r#"[{{"labels": {{"alertname": "DiffFuture"}}, "startsAt": "{later}"}}]"#),
            json_ct,
        ),
        (
            "empty label name",
            r#"[{"labels": {"alertname": "X", "": "y"}}]"#.into(),
            json_ct,
        ),
        (
            "annotation value not a string",
            r#"[{"labels": {"alertname": "X"}, "annotations": {"a": 1}}]"#.into(),
            json_ct,
        ),
        (
            "empty generatorURL",
            r#"[{"labels": {"alertname": "DiffEmptyGenerator"}, "generatorURL": ""}]"#.into(),
            json_ct,
        ),
        ("labels null", r#"[{"labels": null}]"#.into(), json_ct),
        ("null body", "null".into(), json_ct),
    ];
    for (what, body, content_type) in &alert_posts {
        let (am, kx) = p
            .both(
                Method::POST,
                "/api/v2/alerts",
                Some((content_type, body.as_str())),
            )
            .await;
        p.same_status(&format!("POST /api/v2/alerts ({what}) {body}"), &am, &kx);
    }

    let sil = |matchers: &str, starts: &str, ends: &str| {
        format!(
            r#"{{"matchers": {matchers}, "startsAt": "{starts}", "endsAt": "{ends}", "createdBy": "differential", "comment": "bad"}}"#
        )
    };
    let ok_matchers = r#"[{"name": "alertname", "value": "X", "isRegex": false, "isEqual": true}]"#;
    let silence_posts: Vec<(&str, String)> = vec![
        ("malformed JSON", r#"{"matchers": ["#.into()),
        (
            "bad regex",
            sil(
                r#"[{"name": "alertname", "value": "(", "isRegex": true}]"#,
                &nows,
                &later,
            ),
        ),
        ("ends before starts", sil(ok_matchers, &later, &nows)),
        ("ends in the past", sil(ok_matchers, &earlier, &earlier)),
        ("empty matchers", sil("[]", &nows, &later)),
        (
            "matcher matching the empty string",
            sil(
                r#"[{"name": "alertname", "value": ".*", "isRegex": true}]"#,
                &nows,
                &later,
            ),
        ),
        (
            "invalid matcher name",
            sil(
                r#"[{"name": "0bad", "value": "x", "isRegex": false}]"#,
                &nows,
                &later,
            ),
        ),
        // 0.25 answers 422 (OpenAPI "required" check, code 602).
        (
            "matcher without isRegex",
            sil(r#"[{"name": "alertname", "value": "X"}]"#, &nows, &later),
        ),
        (
            "missing comment",
            format!(
                r#"{{"matchers": {ok_matchers}, "startsAt": "{nows}", "endsAt": "{later}", "createdBy": "d"}}"#
            ),
        ),
        (
            "empty comment",
            format!(
                r#"{{"matchers": {ok_matchers}, "startsAt": "{nows}", "endsAt": "{later}", "createdBy": "d", "comment": ""}}"#
            ),
        ),
        (
            "missing createdBy",
            format!(
                r#"{{"matchers": {ok_matchers}, "startsAt": "{nows}", "endsAt": "{later}", "comment": "c"}}"#
            ),
        ),
        (
            "missing startsAt",
            format!(
                r#"{{"matchers": {ok_matchers}, "endsAt": "{later}", "createdBy": "d", "comment": "c"}}"#
            ),
        ),
        (
            "unknown id",
            format!(
                r#"{{"id": "5d0e1f5c-2c7e-4a51-9d8e-0f7d5d0c0a11", "matchers": {ok_matchers}, "startsAt": "{nows}", "endsAt": "{later}", "createdBy": "d", "comment": "c"}}"#
            ),
        ),
        (
            "non-UUID id",
            format!(
                r#"{{"id": "nope", "matchers": {ok_matchers}, "startsAt": "{nows}", "endsAt": "{later}", "createdBy": "d", "comment": "c"}}"#
            ),
        ),
    ];
    let (am, kx) = p
        .both(
            Method::POST,
            "/api/v2/silences",
            Some(("text/plain", &sil(ok_matchers, &nows, &later))),
        )
        .await;
    p.same_status("POST /api/v2/silences as text/plain", &am, &kx);
    for (what, body) in &silence_posts {
        let (am, kx) = p
            .both(
                Method::POST,
                "/api/v2/silences",
                Some((json_ct, body.as_str())),
            )
            .await;
        p.same_status(&format!("POST /api/v2/silences ({what}) {body}"), &am, &kx);
        // Where both accept (a UTF-8 name beside 0.28.1), the two new
        // silences are one for the comparisons below.
        if let (Some(am_id), Some(kx_id)) =
            (am.body["silenceID"].as_str(), kx.body["silenceID"].as_str())
        {
            p.ids.insert(am_id.to_owned(), format!("accepted ({what})"));
            p.ids.insert(kx_id.to_owned(), format!("accepted ({what})"));
        }
    }

    let gets: Vec<String> = vec![
        "/api/v2/silence/5d0e1f5c-2c7e-4a51-9d8e-0f7d5d0c0a11".into(),
        "/api/v2/silence/not-a-uuid".into(),
        format!("/api/v2/alerts?filter={}", q("foo")),
        format!("/api/v2/alerts?filter={}", q("alertname=~\"(\"")),
        format!("/api/v2/alerts?filter={}", q("0bad=\"x\"")),
        format!("/api/v2/alerts?filter={}", q("")),
        // 0.25 reads any non-true word as false and answers 200.
        "/api/v2/alerts?active=maybe".into(),
        "/api/v2/alerts?receiver=(".into(),
        format!("/api/v2/alerts/groups?filter={}", q("foo")),
        "/api/v2/alerts/groups?silenced=maybe".into(),
        format!("/api/v2/silences?filter={}", q("foo")),
        format!("/api/v2/silences?filter={}", q("alertname=~\"(\"")),
        "/api/v2/nothing-here".into(),
        "/api/v2/alerts?receiver=".into(),
        format!("/api/v2/alerts?filter={}", q("{alertname=\"X\"}")),
        format!(
            "/api/v2/alerts?filter={}",
            q("alertname=\"X\",instance=\"y\"")
        ),
        format!("/api/v2/alerts?filter={}", q("alertname=\"unterminated")),
        "/api/v2/alerts?unknownparam=1".into(),
        "/api/v2/silences?filter=".into(),
    ];
    for path in &gets {
        let (am, kx) = p.both(Method::GET, path, None).await;
        p.same_status(&format!("GET {path}"), &am, &kx);
    }
    // A non-UUID id is a format error, not the (deliberately different)
    // unknown-silence case.
    let (am, kx) = p
        .both(Method::DELETE, "/api/v2/silence/not-a-uuid", None)
        .await;
    p.same_status("DELETE /api/v2/silence/not-a-uuid", &am, &kx);

    // What the lenient cases stored must match too.
    p.settle().await;
    p.compare("/api/v2/alerts", normalise_alerts).await;
    let counts = |v: &Value| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in v.as_array().into_iter().flatten() {
            *m.entry(s["status"]["state"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        m
    };
    let (am, kx) = p.both(Method::GET, "/api/v2/silences", None).await;
    if counts(&am.body) != counts(&kx.body) {
        p.differ(
            "GET /api/v2/silences after bad posts: states",
            format!("{:?}", counts(&am.body)),
            format!("{:?}", counts(&kx.body)),
        );
    }

    // Status: cluster disabled, config present (original text and version
    // info deliberately differ).
    let (am, kx) = p.both(Method::GET, "/api/v2/status", None).await;
    p.same_status("GET /api/v2/status", &am, &kx);
    if am.body["cluster"] != kx.body["cluster"] {
        p.differ(
            "GET /api/v2/status: cluster",
            &am.body["cluster"],
            &kx.body["cluster"],
        );
    }
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    if keys(&am.body) != keys(&kx.body) {
        p.differ(
            "GET /api/v2/status: keys",
            format!("{:?}", keys(&am.body)),
            format!("{:?}", keys(&kx.body)),
        );
    }

    p.finish().await;
}

/// The same config and alert timeline go to Alertmanager and to klaxon,
/// each with its own webhook receiver; the notifications must be the same,
/// in the same order, field for field (only `externalURL` differs).
#[tokio::test]
async fn notification_sequence_matches_alertmanager() {
    notification_sequence_matches_alertmanager_on(Reference::V025).await;
}

#[tokio::test]
async fn notification_sequence_matches_alertmanager_0_28() {
    notification_sequence_matches_alertmanager_on(Reference::V028).await;
}

async fn notification_sequence_matches_alertmanager_on(reference: Reference) {
    let Some(program) = reference.program() else {
        return;
    };
    const WAIT: Duration = Duration::from_secs(20);
    let config = |url: &str| {
        format!(
            r#"
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 2s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: db
      matchers: ['team="db"']
      group_by: [alertname, team]
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
  - name: db
    webhook_configs:
      - url: {url}
        max_alerts: 1
"#
        )
    };
    let am_sink = WebhookSink::start(vec![]).await;
    let kx_sink = WebhookSink::start(vec![]).await;
    let am = Alertmanager::start_with(&program, &config(&am_sink.url), reference.flags()).await;
    let kx = TestServer::start(&config(&kx_sink.url)).await;
    let c = client();

    // Every new group gets fresh start times: for an alert older than
    // group_wait, Alertmanager flushes the moment the first alert of a batch
    // lands, racing the rest of the batch (klaxon inserts the whole batch
    // first). Fresh alerts make both wait group_wait, which is deterministic.
    let firing = |name: &str, i: u32, started: &str| {
        json!({"labels": {"alertname": name, "instance": format!("h{i}")},
               "annotations": {"summary": format!("{name} on h{i}")},
               "startsAt": started, "generatorURL": "http://prometheus.example/graph"})
    };
    let resolved = |name: &str, i: u32, started: &str, ended: &str| {
        let mut a = firing(name, i, started);
        a["endsAt"] = json!(ended);
        a
    };
    let db = |i: u32, started: &str| {
        let mut a = firing("DbDown", i, started);
        a["labels"]["team"] = json!("db");
        a
    };
    let t0 = rfc3339(Utc::now());
    // Each step builds its batch right before it is posted.
    type Step<'a> = (&'a str, Box<dyn Fn() -> Value + 'a>);
    let steps: Vec<Step> = vec![
        (
            "two alerts start firing",
            Box::new(|| json!([firing("Seq", 1, &t0), firing("Seq", 2, &t0)])),
        ),
        (
            "a third joins the group",
            Box::new(|| {
                json!([
                    firing("Seq", 1, &t0),
                    firing("Seq", 2, &t0),
                    firing("Seq", 3, &t0)
                ])
            }),
        ),
        (
            "one resolves",
            Box::new(|| {
                let now = rfc3339(Utc::now());
                json!([
                    resolved("Seq", 1, &t0, &now),
                    firing("Seq", 2, &t0),
                    firing("Seq", 3, &t0)
                ])
            }),
        ),
        (
            "all resolve",
            Box::new(|| {
                let now = rfc3339(Utc::now());
                json!([resolved("Seq", 2, &t0, &now), resolved("Seq", 3, &t0, &now)])
            }),
        ),
        (
            "a child route with max_alerts",
            Box::new(|| {
                let now = rfc3339(Utc::now());
                json!([db(1, &now), db(2, &now)])
            }),
        ),
    ];
    let timeline = steps.iter().map(|(step, make)| (*step, make()));
    for (step, batch) in timeline {
        for base in [&am.base, &kx.base] {
            let r = c
                .post(format!("{base}/api/v2/alerts"))
                .json(&batch)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{step}");
        }
        let mut a = am_sink.next(WAIT).await;
        let mut k = kx_sink.next(WAIT).await;
        for p in [&mut a, &mut k] {
            p.as_object_mut().unwrap().remove("externalURL");
        }
        // Alertmanager 0.25 predates `notification_reason`.
        assert!(k["notification_reason"].is_string(), "{step}: {k}");
        k.as_object_mut().unwrap().remove("notification_reason");
        // ... and `routeLabels` (0.34; `{}` on routes without labels).
        assert_eq!(k["routeLabels"], serde_json::json!({}), "{step}: {k}");
        k.as_object_mut().unwrap().remove("routeLabels");
        assert_eq!(
            a, k,
            "{step}: Alertmanager and klaxon sent different notifications"
        );
    }
    am.stop().await;
}

/// Alertmanager 0.28 added `mutedBy` (time intervals) to the API. Where it
/// shows: `/api/v2/alerts/groups` lists a group's muting intervals once the
/// group's flush was muted (and the `muted` filter hides such groups);
/// `/api/v2/alerts` always answers `mutedBy: []` and keeps the state the
/// silences and inhibitions give (0.34 the same). Both are compared on a
/// route muted by an interval that always applies.
const MUTED_CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  routes:
    - matchers: ['alertname="Muted"']
      mute_time_intervals: [always]
receivers:
  - name: default
time_intervals:
  - name: always
    time_intervals:
      - weekdays: ['sunday:saturday']
"#;

/// Both servers with one alert on the muted route, once each has muted the
/// group's first flush; `None` when 0.28.1 is absent.
async fn muted_pair() -> Option<(Alertmanager, TestServer)> {
    let program = Reference::V028.program()?;
    let am = Alertmanager::start_with(&program, MUTED_CONFIG, Reference::V028.flags()).await;
    let kx = TestServer::start(MUTED_CONFIG).await;
    let c = client();
    for base in [&am.base, &kx.base] {
        let r = c
            .post(format!("{base}/api/v2/alerts"))
            .json(&json!([{"labels": {"alertname": "Muted"}}]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    for base in [&am.base, &kx.base] {
        eventually(Duration::from_secs(10), "the group to be muted", || {
            let url = format!("{base}/api/v2/alerts/groups");
            let c = c.clone();
            async move {
                let v: Value = c.get(&url).send().await.ok()?.json().await.ok()?;
                (v[0]["alerts"][0]["status"]["mutedBy"] == json!(["always"])).then_some(())
            }
        })
        .await;
    }
    Some((am, kx))
}

async fn get_value(base: &str, path: &str) -> Value {
    client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn muted_groups_show_muted_by_as_in_alertmanager_0_28() {
    let Some((am, kx)) = muted_pair().await else {
        return;
    };
    let path = "/api/v2/alerts/groups";
    let (a, k) = (
        get_value(&am.base, path).await,
        get_value(&kx.base, path).await,
    );
    assert_eq!(a[0]["alerts"][0]["status"], k[0]["alerts"][0]["status"]);
    assert_eq!(a[0]["labels"], k[0]["labels"]);
    // `muted=false` hides the muted group in both.
    let path = "/api/v2/alerts/groups?muted=false";
    let (a, k) = (
        get_value(&am.base, path).await,
        get_value(&kx.base, path).await,
    );
    assert_eq!(a, json!([]));
    assert_eq!(a, k);
    am.stop().await;
}

#[tokio::test]
async fn alert_list_leaves_time_interval_mutes_to_groups_as_alertmanager_0_28() {
    let Some((am, kx)) = muted_pair().await else {
        return;
    };
    let (a, k) = (
        get_value(&am.base, "/api/v2/alerts").await,
        get_value(&kx.base, "/api/v2/alerts").await,
    );
    assert_eq!(
        a[0]["status"],
        json!({"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"})
    );
    assert_eq!(a[0]["status"], k[0]["status"]);
    am.stop().await;
}
