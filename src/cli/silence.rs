//! `amctl silence`: add, query (the default), update, expire and import,
//! with amtool's flags.

use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::output::{self, Output, Table, emit};
use super::{CliError, Context, Result, parse_duration, parse_matchers, parse_time};
use crate::api::models::{PostableMatcher, PostableSilence};
use crate::client::{Client, Listed, Silence, raw_json_array};
use crate::labels::LabelSet;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SilenceArgs {
    #[command(subcommand)]
    pub command: Option<SilenceCommand>,
    /// Without a subcommand: `silence query`.
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum SilenceCommand {
    /// Add a silence; prints its ID.
    Add(AddArgs),
    /// List silences (active and pending unless --expired).
    Query(QueryArgs),
    /// Change the times or comment of silences.
    Update(UpdateArgs),
    /// Expire silences now.
    Expire(ExpireArgs),
    /// Add the silences that `silence query -o json` printed.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Matchers (`name=value`, `!=`, `=~`, `!~`); a bare first word means alertname=WORD.
    pub matchers: Vec<String>,
    /// How long the silence lasts from its start.
    #[arg(short = 'd', long, default_value = "1h")]
    pub duration: String,
    /// Start time (RFC 3339); default now.
    #[arg(long)]
    pub start: Option<String>,
    /// End time (RFC 3339); overrides --duration.
    #[arg(long)]
    pub end: Option<String>,
    /// Why the silence exists.
    #[arg(short = 'c', long)]
    pub comment: Option<String>,
    /// Who creates it (default: the settings file's author, else the OS user).
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// key=value notes stored with the silence (Alertmanager 0.33 annotations).
    #[arg(long)]
    pub annotation: Vec<String>,
    /// Refuse to add a silence without a comment (default true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub require_comment: Option<bool>,
    /// Same as --require-comment=false.
    #[arg(long, conflicts_with = "require_comment")]
    pub no_require_comment: bool,
}

#[derive(Debug, Default, clap::Args)]
pub struct QueryArgs {
    /// Only silences whose matchers match these (server-side filter).
    pub matchers: Vec<String>,
    /// Show expired silences instead of active and pending ones.
    #[arg(long)]
    pub expired: bool,
    /// Only silences that end within DUR (or, with --expired, ended within DUR).
    #[arg(long, value_name = "DUR")]
    pub within: Option<String>,
    /// Only silences created by this author.
    #[arg(long)]
    pub created_by: Option<String>,
    /// Only the silence with this ID.
    #[arg(long)]
    pub id: Option<String>,
    /// Print only IDs, one per line (for xargs).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Silence IDs.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// New length, counted from the (new) start.
    #[arg(short = 'd', long)]
    pub duration: Option<String>,
    /// New start time (RFC 3339).
    #[arg(long)]
    pub start: Option<String>,
    /// New end time (RFC 3339).
    #[arg(long)]
    pub end: Option<String>,
    /// New comment.
    #[arg(short = 'c', long)]
    pub comment: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ExpireArgs {
    /// Silence IDs.
    #[arg(required = true)]
    pub ids: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A JSON file as `silence query -o json` prints it; `-` or none reads stdin.
    pub file: Option<String>,
    /// Drop the IDs, so every silence is added as a new one.
    #[arg(short = 'f', long)]
    pub force: bool,
    /// How many silences are posted at once.
    #[arg(short = 'c', long = "worker", default_value_t = 8)]
    pub worker: usize,
}

pub async fn run(ctx: &Context, args: SilenceArgs) -> Result {
    match args.command {
        None => query(ctx, args.query).await,
        Some(SilenceCommand::Query(q)) => query(ctx, q).await,
        Some(SilenceCommand::Add(a)) => add(ctx, a).await,
        Some(SilenceCommand::Update(u)) => update(ctx, u).await,
        Some(SilenceCommand::Expire(e)) => expire(ctx, e).await,
        Some(SilenceCommand::Import(i)) => import(ctx, i).await,
    }
}

async fn add(ctx: &Context, a: AddArgs) -> Result {
    let matchers = parse_matchers(&a.matchers)?;
    if matchers.is_empty() {
        return Err(CliError::Usage(
            "silence add needs at least one matcher, e.g. alertname=HighLoad".into(),
        ));
    }
    let require_comment = !a.no_require_comment && a.require_comment.unwrap_or(ctx.require_comment);
    let comment = a.comment.unwrap_or_default();
    if require_comment && comment.trim().is_empty() {
        return Err(CliError::Usage(
            "a comment is required: pass -c/--comment (or --require-comment=false)".into(),
        ));
    }
    let mut annotations = LabelSet::new();
    for note in &a.annotation {
        let Some((name, value)) = note.split_once('=') else {
            return Err(CliError::Usage(format!(
                "bad --annotation {note:?}: annotations must be specified as key=value pairs"
            )));
        };
        let value = value.trim().trim_matches('"');
        annotations.insert(name.trim(), value);
    }
    let duration = parse_duration("--duration", &a.duration)?;
    let starts_at = a
        .start
        .as_deref()
        .map(|s| parse_time("--start", s))
        .transpose()?
        .unwrap_or(ctx.now);
    let ends_at = match &a.end {
        Some(e) => parse_time("--end", e)?,
        None => starts_at + duration,
    };
    check_times(starts_at, ends_at, ctx.now)?;
    let silence = PostableSilence {
        id: None,
        matchers: Some(
            matchers
                .iter()
                .map(|m| PostableMatcher {
                    is_equal: Some(m.kind.is_equal()),
                    is_regex: Some(m.kind.is_regex()),
                    name: Some(m.name.clone()),
                    value: Some(m.value.clone()),
                })
                .collect(),
        ),
        starts_at: Some(starts_at),
        ends_at: Some(ends_at),
        created_by: Some(a.author.unwrap_or_else(|| ctx.author.clone())),
        comment: Some(comment),
        annotations: (!annotations.is_empty()).then_some(annotations),
    };
    let id = ctx.client()?.post_silence(&silence).await?;
    emit(&format!("{id}\n"));
    Ok(())
}

fn check_times(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, now: DateTime<Utc>) -> Result {
    if ends_at <= starts_at {
        return Err(CliError::Usage(
            "the silence must end after it starts (check --start, --end, --duration)".into(),
        ));
    }
    if ends_at <= now {
        return Err(CliError::Usage("the silence would end in the past".into()));
    }
    Ok(())
}

async fn query(ctx: &Context, q: QueryArgs) -> Result {
    let filter: Vec<String> = parse_matchers(&q.matchers)?
        .iter()
        .map(ToString::to_string)
        .collect();
    let within = q
        .within
        .as_deref()
        .map(|w| parse_duration("--within", w))
        .transpose()?;
    let now = ctx.now;
    let all = ctx.client()?.silences(&filter).await?;
    let shown: Vec<Listed<Silence>> = all
        .into_iter()
        .filter(|l| {
            let s = &l.item;
            let expired = s.status.state == "expired";
            let in_window = match within {
                None => true,
                Some(w) if q.expired => s.ends_at >= now - w,
                Some(w) => s.ends_at <= now + w,
            };
            expired == q.expired
                && in_window
                && q.created_by.as_ref().is_none_or(|c| &s.created_by == c)
                && q.id.as_ref().is_none_or(|id| &s.id == id)
        })
        .collect();
    if q.quiet {
        emit(
            &shown
                .iter()
                .map(|l| format!("{}\n", l.item.id))
                .collect::<String>(),
        );
        return Ok(());
    }
    print_silences(ctx.output, &shown, now);
    Ok(())
}

fn print_silences(format: Output, silences: &[Listed<Silence>], now: DateTime<Utc>) {
    let sorted = by_end(silences);
    let table = match format {
        Output::Json => {
            emit(&format!("{}\n", raw_json_array(silences)));
            return;
        }
        Output::Simple => {
            let mut t = Table::new(&["ID", "Matchers", "Ends At", "Created By", "Comment"]);
            for Listed { item: s, .. } in sorted.iter().copied() {
                t.row(vec![
                    s.id.clone(),
                    output::matchers(&s.matchers),
                    output::ends(&s.ends_at, now),
                    s.created_by.clone(),
                    output::one_line(&s.comment),
                ]);
            }
            t
        }
        Output::Extended => {
            let mut t = Table::new(&[
                "ID",
                "Matchers",
                "State",
                "Starts At",
                "Ends At",
                "Updated At",
                "Created By",
                "Comment",
            ]);
            for Listed { item: s, .. } in sorted.iter().copied() {
                t.row(vec![
                    s.id.clone(),
                    output::matchers(&s.matchers),
                    s.status.state.clone(),
                    output::starts(&s.starts_at, now),
                    output::ends(&s.ends_at, now),
                    output::updated(&s.updated_at, now),
                    s.created_by.clone(),
                    output::one_line(&s.comment),
                ]);
            }
            t
        }
    };
    emit(&table.render());
}

/// amtool's table order: the silence that ends first, first (its
/// `ByEndAt`, stable as Go's sort is on short lists). `-q` and JSON keep
/// the server's order, as amtool's do.
fn by_end(silences: &[Listed<Silence>]) -> Vec<&Listed<Silence>> {
    let mut sorted: Vec<&Listed<Silence>> = silences.iter().collect();
    sorted.sort_by_key(|l| l.item.ends_at);
    sorted
}

/// The silence, or a clear "not found" for an unknown ID.
async fn fetch(client: &Client, id: &str) -> Result<Silence> {
    match client.silence(id).await {
        Ok(l) => Ok(l.item),
        // Alertmanager answers a malformed ID with 422, an unknown one with 404.
        Err(e) if matches!(e.status(), Some(404 | 422)) => {
            Err(CliError::Failed(format!("silence {id} not found")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn update(ctx: &Context, u: UpdateArgs) -> Result {
    if u.duration.is_none() && u.start.is_none() && u.end.is_none() && u.comment.is_none() {
        return Err(CliError::Usage(
            "nothing to update: pass --duration, --start, --end or --comment".into(),
        ));
    }
    let duration = u
        .duration
        .as_deref()
        .map(|d| parse_duration("--duration", d))
        .transpose()?;
    let start = u
        .start
        .as_deref()
        .map(|s| parse_time("--start", s))
        .transpose()?;
    let end = u
        .end
        .as_deref()
        .map(|s| parse_time("--end", s))
        .transpose()?;
    let client = ctx.client()?;
    let mut ids = String::new();
    for id in &u.ids {
        let mut s = fetch(&client, id).await?;
        if let Some(t) = start {
            s.starts_at = t;
        }
        if let Some(t) = end {
            s.ends_at = t;
        }
        if let Some(d) = duration {
            s.ends_at = s.starts_at + d;
        }
        if let Some(c) = &u.comment {
            s.comment = c.clone();
        }
        if s.ends_at <= s.starts_at {
            return Err(CliError::Usage(format!(
                "silence {id} would end before it starts"
            )));
        }
        let new_id = client
            .post_silence(&postable(&s, Some(s.id.clone())))
            .await?;
        ids.push_str(&new_id);
        ids.push('\n');
    }
    emit(&ids);
    Ok(())
}

fn postable(s: &Silence, id: Option<String>) -> PostableSilence {
    PostableSilence {
        id,
        matchers: Some(
            s.matchers
                .iter()
                .map(|m| PostableMatcher {
                    is_equal: Some(m.is_equal),
                    is_regex: Some(m.is_regex),
                    name: Some(m.name.clone()),
                    value: Some(m.value.clone()),
                })
                .collect(),
        ),
        starts_at: Some(s.starts_at),
        ends_at: Some(s.ends_at),
        created_by: Some(s.created_by.clone()),
        comment: Some(s.comment.clone()),
        annotations: (!s.annotations.is_empty()).then(|| s.annotations.clone()),
    }
}

async fn expire(ctx: &Context, e: ExpireArgs) -> Result {
    let client = ctx.client()?;
    for id in &e.ids {
        match client.expire_silence(id).await {
            Ok(()) => {}
            Err(err) if matches!(err.status(), Some(404 | 422)) => {
                return Err(CliError::Failed(format!("silence {id} not found")));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

async fn import(ctx: &Context, i: ImportArgs) -> Result {
    let (name, text) = match i.file.as_deref() {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Failed(format!("reading stdin: {e}")))?;
            ("stdin".to_owned(), text)
        }
        Some(path) => (
            path.to_owned(),
            std::fs::read_to_string(path)
                .map_err(|e| CliError::Failed(format!("cannot read {path}: {e}")))?,
        ),
    };
    let silences: Vec<PostableSilence> = serde_json::from_str(&text).map_err(|e| {
        CliError::Failed(format!(
            "{name}: not a JSON list of silences (as `silence query -o json` prints): {e}"
        ))
    })?;
    let client = Arc::new(ctx.client()?);
    let total = silences.len();
    let queue = Arc::new(std::sync::Mutex::new(
        silences.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..i.worker.clamp(1, 64) {
        let (client, queue, force) = (client.clone(), queue.clone(), i.force);
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = queue.lock().expect("import queue").pop();
                let Some((n, mut silence)) = next else { break };
                if force {
                    silence.id = None;
                }
                done.push((n, client.post_silence(&silence).await));
            }
            done
        });
    }
    let mut results = Vec::with_capacity(total);
    while let Some(batch) = workers.join_next().await {
        results.extend(batch.map_err(|e| CliError::Failed(format!("import worker: {e}")))?);
    }
    results.sort_by_key(|(n, _)| *n);
    let mut ids = String::new();
    let mut failed = 0;
    for (n, result) in results {
        match result {
            Ok(id) => {
                ids.push_str(&id);
                ids.push('\n');
            }
            Err(e) => {
                failed += 1;
                eprintln!("amctl: silence #{} of {name}: {e}", n + 1);
            }
        }
    }
    emit(&ids);
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} of {total} silences were not imported"
        )));
    }
    Ok(())
}
