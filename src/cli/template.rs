//! `amctl template render`, in two modes:
//! - amtool's: `--template.glob=GLOB --template.text=TEXT
//!   [--template.type=text|html] [--template.data=FILE]` renders TEXT with
//!   the templates of the globs (after klaxon's defaults, as a config's
//!   `templates:` loads them) and the data of FILE (Alertmanager's
//!   `template.Data` as JSON) or amtool's own example data, and prints the
//!   result as amtool does: as is, no newline added;
//! - klaxon's: `--receiver NAME [--alerts FILE]` shows what that
//!   receiver's integrations would send, rendered offline from
//!   `--config.file` with the server's own templates and notifiers, for
//!   sample alerts or the given ones: an email as its headers and decoded
//!   parts, a JSON body indented.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::output::emit;
use super::{CliError, Result};
use crate::alert::Alert;
use crate::api::models::PostableAlert;
use crate::config::Config;
use crate::dispatch::route::Route;
use crate::integrations::Notification;
use crate::labels::LabelSet;
use crate::notify::pipeline::build_receivers;
use crate::template::{Flavor, JsonData, Templates};

#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("mode")
        .required(true)
        .args(["receiver", "template_text"])
))]
pub struct RenderArgs {
    /// klaxon's mode: the receiver whose integrations are rendered.
    #[arg(long)]
    pub receiver: Option<String>,
    /// With --receiver: a JSON list of alerts as `POST /api/v2/alerts`
    /// takes them [default: two sample firing alerts].
    #[arg(long, value_name = "FILE", requires = "receiver")]
    pub alerts: Option<PathBuf>,
    /// With --receiver: the configuration whose templates and receiver are used.
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    pub config_file: PathBuf,
    /// With --receiver: `.ExternalURL` in the templates.
    #[arg(long = "web.external-url", default_value = "http://localhost:9093")]
    pub external_url: String,
    /// amtool's mode: the template that will be rendered.
    #[arg(long = "template.text", value_name = "TEXT")]
    pub template_text: Option<String>,
    /// Glob of template files to load, repeatable (amtool requires one;
    /// `klaxon:alertmanager-defaults` loads Alertmanager's own defaults).
    #[arg(
        long = "template.glob",
        value_name = "GLOB",
        requires = "template_text"
    )]
    pub template_glob: Vec<String>,
    /// The type of the template: text (default) or html.
    #[arg(
        long = "template.type",
        value_name = "TYPE",
        requires = "template_text"
    )]
    pub template_type: Option<TemplateType>,
    /// A JSON file in Alertmanager's `template.Data` layout (a webhook body
    /// is one) [default: amtool's example data].
    #[arg(
        long = "template.data",
        value_name = "FILE",
        requires = "template_text"
    )]
    pub template_data: Option<PathBuf>,
}

/// `--template.type`: Go's text/template or html/template escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateType {
    Text,
    Html,
}

pub fn run(args: RenderArgs) -> Result {
    match &args.template_text {
        Some(text) => render_text(&args, text),
        None => render_receiver(&args),
    }
}

/// amtool's `template render`.
fn render_text(args: &RenderArgs, text: &str) -> Result {
    // Relative globs are relative to the working directory, as amtool's.
    let templates = Templates::load(&args.template_glob, Path::new(""))
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let data = match &args.template_data {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))?;
            serde_json::from_str(&text)
                .map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))?
        }
        None => amtool_example_data(Utc::now()),
    };
    let data = JsonData::parse(&data).map_err(|e| CliError::Failed(e.to_string()))?;
    let flavor = match args.template_type {
        Some(TemplateType::Html) => Flavor::Html,
        Some(TemplateType::Text) | None => Flavor::Text,
    };
    let out = templates
        .render_json(text, flavor, &data)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    emit(&out);
    Ok(())
}

/// amtool's built-in example (`defaultData` of its `template render`):
/// its values, so that a template renders the same text in both tools.
/// Its times are "now" minus 5 and 10 minutes, in the local zone.
fn amtool_example_data(now: DateTime<Utc>) -> serde_json::Value {
    let at = |minutes_ago: i64| local_rfc3339(now - chrono::Duration::minutes(minutes_ago));
    let common_labels = json!({
        "commonlabelkey1": "commonlabelvalue1",
        "commonlabelkey2": "commonlabelvalue2",
    });
    let common_annotations = json!({
        "commonannotationkey1": "commonannotationvalue1",
        "commonannotationkey2": "commonannotationvalue2",
    });
    let with_common = |own: serde_json::Value, common: &serde_json::Value| {
        let mut all = own;
        if let (Some(all), Some(common)) = (all.as_object_mut(), common.as_object()) {
            all.extend(common.clone());
        }
        all
    };
    json!({
        "receiver": "receiver",
        "status": "alertstatus",
        "alerts": [
            {
                "status": "alertstatus",
                "labels": with_common(
                    json!({"label1": "value1", "label2": "value2", "instance": "foo.bar:1234"}),
                    &common_labels,
                ),
                "annotations": with_common(
                    json!({"annotation1": "value1", "annotation2": "value2"}),
                    &common_annotations,
                ),
                "startsAt": at(5),
                "endsAt": at(0),
                "generatorURL": "https://generatorurl.com",
                "fingerprint": "fingerprint1",
            },
            {
                "status": "alertstatus",
                "labels": with_common(json!({"foo": "bar", "baz": "qux"}), &common_labels),
                "annotations": with_common(json!({"aaa": "bbb", "ccc": "ddd"}), &common_annotations),
                "startsAt": at(10),
                "endsAt": at(0),
                "generatorURL": "https://generatorurl.com",
                "fingerprint": "fingerprint2",
            },
        ],
        "groupLabels": {
            "grouplabelkey1": "grouplabelvalue1",
            "grouplabelkey2": "grouplabelvalue2",
        },
        "commonLabels": common_labels,
        "commonAnnotations": common_annotations,
        "externalURL": "https://example.com",
    })
}

/// `t` in the zone templates call local (`TZ` when chrono-tz knows it,
/// else UTC), so the times read back in that zone, as Go's `time.Now()`.
fn local_rfc3339(t: DateTime<Utc>) -> String {
    match std::env::var("TZ")
        .ok()
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
    {
        Some(tz) => t.with_timezone(&tz).to_rfc3339(),
        None => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    }
}

/// klaxon's `--receiver` mode.
fn render_receiver(args: &RenderArgs) -> Result {
    let Some(receiver) = args.receiver.as_deref() else {
        return Err(CliError::Usage(
            "template render needs --receiver or --template.text".into(),
        ));
    };
    let config = Config::load_file(&args.config_file)
        .map_err(|e| CliError::Failed(super::output::one_line(&e.to_string())))?;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let receivers = build_receivers(&config.receivers, config.template_set(), &metrics)
        .map_err(|e| CliError::Failed(format!("building the receivers: {e}")))?;
    let integrations = receivers.get(receiver).ok_or_else(|| {
        CliError::Failed(format!(
            "no receiver named {receiver:?} in {}",
            args.config_file.display()
        ))
    })?;
    if integrations.is_empty() {
        return Err(CliError::Failed(format!(
            "receiver {receiver:?} has no integrations"
        )));
    }
    let now = Utc::now();
    let alerts = match &args.alerts {
        Some(file) => read_alerts(file, now)?,
        None => sample_alerts(now),
    };
    let msg = notification(&config, receiver, &args.external_url, alerts, now);
    let mut out = String::new();
    for i in integrations {
        let name = i.notifier.name();
        let body = i
            .notifier
            .preview(&msg)
            .map_err(|e| CliError::Failed(format!("{name}[{}]: {e}", i.index)))?;
        out.push_str(&format!(
            "== {name}[{}] ==\n{}",
            i.index,
            readable(name, &body)
        ));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    emit(&out);
    Ok(())
}

/// A body as a person reads it: an email's headers and decoded parts, a
/// JSON body indented; anything else as it is.
fn readable(integration: &str, body: &str) -> String {
    if integration == "email"
        && let Some(shown) = email_parts(body)
    {
        return shown;
    }
    pretty_json(body).unwrap_or_else(|| body.to_owned())
}

/// The message's headers (values decoded, MIME structure left out), then
/// each text part decoded from its transfer encoding, under its type.
fn email_parts(raw: &str) -> Option<String> {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    let message = MessageParser::default().parse(raw.as_bytes())?;
    let mut out = String::new();
    for header in message.headers() {
        let name = header.name.as_str();
        let structural = ["MIME-Version", "Content-Type", "Content-Transfer-Encoding"];
        if structural.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            continue;
        }
        out.push_str(&format!(
            "{name}: {}\n",
            header_value(message.raw_message(), header)
        ));
    }
    for part in &message.parts {
        let text = match &part.body {
            PartType::Text(t) | PartType::Html(t) => t.replace("\r\n", "\n"),
            PartType::Binary(b) | PartType::InlineBinary(b) => format!("({} bytes)\n", b.len()),
            PartType::Message(_) | PartType::Multipart(_) => continue,
        };
        let kind = part.content_type().map_or_else(
            || "text/plain".to_owned(),
            |c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")),
        );
        out.push_str(&format!("\n-- {kind} --\n{text}"));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Some(out)
}

/// A header's value as written, unfolded; RFC 2047 encoded words
/// (`=?utf-8?b?…?=`, a non-ASCII subject or name) decoded.
fn header_value(raw: &[u8], header: &mail_parser::Header) -> String {
    use mail_parser::{Address, HeaderValue};
    let start = header.offset_start as usize;
    let end = (header.offset_end as usize).min(raw.len());
    let written = String::from_utf8_lossy(raw.get(start..end).unwrap_or_default());
    let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
    if !written.contains("=?") {
        return written;
    }
    match &header.value {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(", "),
        HeaderValue::Address(Address::List(list)) => list
            .iter()
            .map(|a| match (&a.name, &a.address) {
                (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                (None, Some(addr)) => addr.to_string(),
                (Some(n), None) => n.to_string(),
                (None, None) => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => written,
    }
}

/// A JSON object or list indented as serde_json's pretty printer does,
/// keeping the body's key order (serde_json's `Value` would sort them);
/// `None` when the body is not JSON.
fn pretty_json(body: &str) -> Option<String> {
    let body = body.trim();
    if !body.starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(body).ok()?;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    let mut out = String::with_capacity(body.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out.push('\n');
    Some(out)
}

/// Group labels and key as the route tree gives them for the first alert
/// on a route to this receiver (the root route's when none leads there).
fn notification(
    config: &Config,
    receiver: &str,
    external_url: &str,
    alerts: Vec<Arc<Alert>>,
    now: DateTime<Utc>,
) -> Notification {
    let root = Route::from_config(&config.route);
    let first = alerts.first().map(|a| a.labels.clone()).unwrap_or_default();
    let matched = root.matches(&first);
    let route = matched
        .iter()
        .find(|r| r.opts.receiver == receiver)
        .copied()
        .unwrap_or(&root);
    let group_labels = route.opts.group_labels(&first);
    Notification {
        receiver: receiver.to_owned(),
        group_key: route.group_key(&group_labels),
        group_labels,
        alerts,
        external_url: external_url.to_owned(),
        now,
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

fn read_alerts(file: &PathBuf, now: DateTime<Utc>) -> Result<Vec<Arc<Alert>>> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Failed(format!("reading {}: {e}", file.display())))?;
    let posted: Vec<PostableAlert> = serde_json::from_str(&text).map_err(|e| {
        CliError::Failed(format!(
            "{}: not a JSON list of alerts: {e}",
            file.display()
        ))
    })?;
    posted
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let labels = p.labels.ok_or_else(|| {
                CliError::Failed(format!("{}: alert {i} has no labels", file.display()))
            })?;
            let starts_at = p.starts_at.unwrap_or(now);
            Ok(Arc::new(Alert {
                labels,
                annotations: p.annotations.unwrap_or_default(),
                starts_at,
                ends_at: p.ends_at.unwrap_or(now + chrono::Duration::minutes(5)),
                generator_url: p.generator_url.as_deref().unwrap_or_default().into(),
                updated_at: now,
                timeout: false,
                fingerprint_cache: Default::default(),
            }))
        })
        .collect()
}

fn sample_alerts(now: DateTime<Utc>) -> Vec<Arc<Alert>> {
    (1..=2)
        .map(|i| {
            let mut labels = LabelSet::new();
            labels.insert("alertname", "KlaxonSample");
            labels.insert("severity", "critical");
            labels.insert("instance", format!("host-{i}"));
            let mut annotations = LabelSet::new();
            annotations.insert("summary", format!("Sample alert on host-{i}"));
            annotations.insert(
                "description",
                "A sample alert rendered by amctl template render.",
            );
            Arc::new(Alert {
                labels,
                annotations,
                starts_at: now - chrono::Duration::minutes(10),
                ends_at: now + chrono::Duration::minutes(5),
                generator_url: "http://prometheus.example:9090/graph".into(),
                updated_at: now,
                timeout: true,
                fingerprint_cache: Default::default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_indented_in_their_own_key_order() {
        let cases = [
            (
                r#"{"z":1,"a":[1,{"k":"v, {x}: \"q\""}],"e":{},"f":[]}"#,
                "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    {\n      \"k\": \"v, {x}: \\\"q\\\"\"\n    }\n  ],\n  \"e\": {},\n  \"f\": []\n}\n",
            ),
            ("[]", "[]\n"),
        ];
        for (body, pretty) in cases {
            assert_eq!(pretty_json(body).as_deref(), Some(pretty), "{body}");
            // The same as serde_json's pretty printer, but for key order.
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            let theirs: serde_json::Value = serde_json::from_str(pretty).unwrap();
            assert_eq!(value, theirs);
        }
        for not_json in ["token=abc&x=1", "{broken", "\"a string\""] {
            assert_eq!(pretty_json(not_json), None, "{not_json}");
        }
    }

    #[test]
    fn an_email_shows_its_headers_and_decoded_parts() {
        let raw = "From: =?utf-8?b?S2zDpHhvbg==?= <klaxon@example.com>\r\n\
                   Subject: =?utf-8?b?w5xuw69jb2Rl?= firing\r\n\
                   Message-ID: <abc@example.com>\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: multipart/alternative; boundary=\"B\"\r\n\
                   \r\n\
                   --B\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\
                   \r\n\
                   a =3D b, a long line that goes on and on and on and on and on and o=\r\n\
                   n\r\n\
                   --B\r\n\
                   Content-Type: text/html; charset=utf-8\r\n\
                   Content-Transfer-Encoding: base64\r\n\
                   \r\n\
                   PHA+aGk8L3A+\r\n\
                   --B--\r\n";
        let shown = email_parts(raw).unwrap();
        assert_eq!(
            shown,
            "From: Kläxon <klaxon@example.com>\n\
             Subject: Ünïcode firing\n\
             Message-ID: <abc@example.com>\n\
             \n-- text/plain --\n\
             a = b, a long line that goes on and on and on and on and on and on\n\
             \n-- text/html --\n<p>hi</p>\n"
        );
    }

    #[test]
    fn amtools_example_data_renders_as_amtool_renders_it() {
        let now = "2026-05-01T10:00:00Z".parse().unwrap();
        let data = JsonData::parse(&amtool_example_data(now)).unwrap();
        let templates = Templates::builtin();
        let cases = [
            (
                "{{ .Status }} {{ .Receiver }} {{ len .Alerts }}",
                "alertstatus receiver 2",
            ),
            ("{{ .Alerts.Firing | len }}", "0"),
            (
                "{{ range .Alerts }}{{ .Fingerprint }}={{ .Labels.SortedPairs.Values | join \",\" }};{{ end }}",
                "fingerprint1=commonlabelvalue1,commonlabelvalue2,foo.bar:1234,value1,value2;\
                 fingerprint2=qux,commonlabelvalue1,commonlabelvalue2,bar;",
            ),
            (
                r#"{{ template "__subject" . }}"#,
                "[ALERTSTATUS] grouplabelvalue1 grouplabelvalue2 ",
            ),
            ("", ""),
        ];
        for (text, want) in cases {
            let got = templates.render_json(text, Flavor::Text, &data).unwrap();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn template_data_is_read_as_go_reads_it() {
        let templates = Templates::builtin();
        let data = JsonData::parse(&json!({
            "Receiver": "r",
            "alerts": [{"status": "firing", "startsAt": "2026-05-01T10:00:00+02:00", "labels": null}],
            "unknown": 1,
        }))
        .unwrap();
        let text = "{{ .Receiver }}|{{ .ExternalURL }}|{{ range .Alerts }}{{ .StartsAt }}|{{ .EndsAt }}{{ end }}";
        let got = templates.render_json(text, Flavor::Text, &data).unwrap();
        assert_eq!(
            got,
            "r||2026-05-01 10:00:00 +0200 +0200|0001-01-01 00:00:00 +0000 UTC"
        );
        let bad = JsonData::parse(&json!({"receiver": 1})).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "json: cannot unmarshal number into Go struct field Data.receiver of type string"
        );
    }
}
