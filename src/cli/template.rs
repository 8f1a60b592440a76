//! `amctl template render --receiver NAME [--alerts FILE]`: what that
//! receiver's integrations would send (the Discord or webhook body, the
//! whole email), rendered offline from `--config.file` with the server's
//! own templates and notifiers, for sample alerts or the given ones.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::output::emit;
use super::{CliError, Result};
use crate::alert::Alert;
use crate::api::models::PostableAlert;
use crate::config::Config;
use crate::dispatch::route::Route;
use crate::integrations::Notification;
use crate::labels::LabelSet;
use crate::notify::pipeline::build_receivers;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The receiver whose integrations are rendered.
    #[arg(long)]
    pub receiver: String,
    /// A JSON list of alerts as `POST /api/v2/alerts` takes them
    /// [default: two sample firing alerts].
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// The configuration whose templates and receiver are used.
    #[arg(long = "config.file", default_value = "alertmanager.yml")]
    pub config_file: PathBuf,
    /// `.ExternalURL` in the templates.
    #[arg(long = "web.external-url", default_value = "http://localhost:9093")]
    pub external_url: String,
}

pub fn run(args: RenderArgs) -> Result {
    let config = Config::load_file(&args.config_file)
        .map_err(|e| CliError::Failed(super::output::one_line(&e.to_string())))?;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let receivers = build_receivers(&config.receivers, config.template_set(), &metrics)
        .map_err(|e| CliError::Failed(format!("building the receivers: {e}")))?;
    let integrations = receivers.get(&args.receiver).ok_or_else(|| {
        CliError::Failed(format!(
            "no receiver named {:?} in {}",
            args.receiver,
            args.config_file.display()
        ))
    })?;
    if integrations.is_empty() {
        return Err(CliError::Failed(format!(
            "receiver {:?} has no integrations",
            args.receiver
        )));
    }
    let now = Utc::now();
    let alerts = match &args.alerts {
        Some(file) => read_alerts(file, now)?,
        None => sample_alerts(now),
    };
    let msg = notification(&config, &args, alerts, now);
    let mut out = String::new();
    for i in integrations {
        let text = i
            .notifier
            .preview(&msg)
            .map_err(|e| CliError::Failed(format!("{}[{}]: {e}", i.notifier.name(), i.index)))?;
        out.push_str(&format!(
            "== {}[{}] ==\n{}",
            i.notifier.name(),
            i.index,
            text
        ));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    emit(&out);
    Ok(())
}

/// Group labels and key as the route tree gives them for the first alert
/// on a route to this receiver (the root route's when none leads there).
fn notification(
    config: &Config,
    args: &RenderArgs,
    alerts: Vec<Arc<Alert>>,
    now: DateTime<Utc>,
) -> Notification {
    let root = Route::from_config(&config.route);
    let first = alerts.first().map(|a| a.labels.clone()).unwrap_or_default();
    let matched = root.matches(&first);
    let route = matched
        .iter()
        .find(|r| r.opts.receiver == args.receiver)
        .copied()
        .unwrap_or(&root);
    let group_labels = route.opts.group_labels(&first);
    Notification {
        receiver: args.receiver.clone(),
        group_key: route.group_key(&group_labels),
        group_labels,
        alerts,
        external_url: args.external_url.clone(),
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
