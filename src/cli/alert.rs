//! `amctl alert`: query (the default) and add, with amtool's flags.

use chrono::{DateTime, Utc};

use super::output::{self, Output, Table, emit};
use super::{CliError, Context, Result, parse_labels, parse_matchers, parse_time};
use crate::api::models::PostableAlert;
use crate::client::{Alert, AlertQuery, Listed, raw_json_array};
use crate::labels::LabelSet;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertArgs {
    #[command(subcommand)]
    pub command: Option<AlertCommand>,
    /// Without a subcommand: `alert query`.
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum AlertCommand {
    /// List alerts (active ones unless a state flag is given).
    Query(QueryArgs),
    /// Post an alert, as Prometheus would.
    Add(AddArgs),
}

#[derive(Debug, Default, clap::Args)]
pub struct QueryArgs {
    /// Matchers; a bare first word means alertname=WORD.
    pub matchers: Vec<String>,
    /// Show active alerts.
    #[arg(short = 'a', long)]
    pub active: bool,
    /// Show silenced alerts.
    #[arg(short = 's', long)]
    pub silenced: bool,
    /// Show inhibited alerts.
    #[arg(short = 'i', long)]
    pub inhibited: bool,
    /// Show unprocessed alerts.
    #[arg(short = 'u', long)]
    pub unprocessed: bool,
    /// Only alerts routed to receivers matching this regex.
    #[arg(short = 'r', long)]
    pub receiver: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Labels (`name=value`); a bare first word means alertname=WORD.
    pub labels: Vec<String>,
    /// Annotations, `key=value`, repeatable.
    #[arg(long)]
    pub annotation: Vec<String>,
    /// Start time (RFC 3339); default: the server's now.
    #[arg(long)]
    pub start: Option<String>,
    /// End time (RFC 3339); default: the server's resolve_timeout.
    #[arg(long)]
    pub end: Option<String>,
    /// Link back to the alert's source.
    #[arg(long)]
    pub generator_url: Option<String>,
}

pub async fn run(ctx: &Context, args: AlertArgs) -> Result {
    match args.command {
        None => query(ctx, args.query).await,
        Some(AlertCommand::Query(q)) => query(ctx, q).await,
        Some(AlertCommand::Add(a)) => add(ctx, a).await,
    }
}

async fn query(ctx: &Context, q: QueryArgs) -> Result {
    let filter = parse_matchers(&q.matchers)?
        .iter()
        .map(ToString::to_string)
        .collect();
    // amtool: with no state flag, active alerts only; with some, exactly those.
    let none = !(q.active || q.silenced || q.inhibited || q.unprocessed);
    let query = AlertQuery {
        filter,
        active: Some(q.active || none),
        silenced: Some(q.silenced),
        inhibited: Some(q.inhibited),
        unprocessed: Some(q.unprocessed),
        receiver: q.receiver,
    };
    let alerts = ctx.client()?.alerts(&query).await?;
    print_alerts(ctx.output, &alerts, ctx.now);
    Ok(())
}

fn print_alerts(format: Output, alerts: &[Listed<Alert>], now: DateTime<Utc>) {
    let sorted = by_start(alerts);
    let table = match format {
        Output::Json => {
            emit(&format!("{}\n", raw_json_array(alerts)));
            return;
        }
        Output::Simple => {
            let mut t = Table::new(&["Alertname", "Starts At", "Summary", "State"]);
            for Listed { item: a, .. } in sorted.iter().copied() {
                t.row(vec![
                    a.labels.get("alertname").unwrap_or("").to_owned(),
                    output::starts(&a.starts_at, now),
                    output::one_line(a.annotations.get("summary").unwrap_or("")),
                    a.status.state.clone(),
                ]);
            }
            t
        }
        Output::Extended => {
            let mut t = Table::new(&[
                "Fingerprint",
                "Labels",
                "Annotations",
                "Starts At",
                "Ends At",
                "Generator URL",
                "State",
                "Receivers",
            ]);
            for Listed { item: a, .. } in sorted.iter().copied() {
                let receivers: Vec<&str> = a.receivers.iter().map(|r| r.name.as_str()).collect();
                t.row(vec![
                    a.fingerprint.clone(),
                    output::label_set(&a.labels),
                    output::one_line(&output::label_set(&a.annotations)),
                    output::starts(&a.starts_at, now),
                    output::ends(&a.ends_at, now),
                    a.generator_url.clone(),
                    a.status.state.clone(),
                    receivers.join(","),
                ]);
            }
            t
        }
    };
    emit(&table.render());
}

/// amtool's table order: oldest start first (its `ByStartsAt`; Go's sort
/// keeps equal starts in the server's order for the lists people read).
/// Its JSON keeps the server's order, and so does amctl's.
fn by_start(alerts: &[Listed<Alert>]) -> Vec<&Listed<Alert>> {
    let mut sorted: Vec<&Listed<Alert>> = alerts.iter().collect();
    sorted.sort_by_key(|l| l.item.starts_at);
    sorted
}

async fn add(ctx: &Context, a: AddArgs) -> Result {
    let labels = parse_labels(&a.labels)?;
    if labels.is_empty() {
        return Err(CliError::Usage(
            "alert add needs at least one label, e.g. alertname=TestAlert".into(),
        ));
    }
    let mut annotations = LabelSet::new();
    for note in &a.annotation {
        let Some((k, v)) = note.split_once('=') else {
            return Err(CliError::Usage(format!(
                "bad --annotation {note:?}: expected key=value"
            )));
        };
        annotations.insert(k, v);
    }
    let starts_at = a
        .start
        .as_deref()
        .map(|s| parse_time("--start", s))
        .transpose()?;
    let ends_at = a
        .end
        .as_deref()
        .map(|s| parse_time("--end", s))
        .transpose()?;
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e < s
    {
        return Err(CliError::Usage("--end is before --start".into()));
    }
    let alert = PostableAlert {
        labels: Some(labels),
        annotations: (!annotations.is_empty()).then_some(annotations),
        starts_at,
        ends_at,
        generator_url: a.generator_url.map(Into::into),
    };
    ctx.client()?.post_alerts(&[alert]).await?;
    Ok(())
}
