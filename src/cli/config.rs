//! `amctl config`: the running config (`show`) and its routing tree
//! (`routes show`, `routes test`), read from `--config.file` with the
//! server's loader or from the server's `/api/v2/status`. Routing runs the
//! server's own route tree code, so the answer is what klaxon would do.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::output::{Output, emit};
use super::{CliError, Context, Result, parse_labels};
use crate::config::{Config, RouteConfig, parse_yaml};
use crate::dispatch::Route;

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Without a subcommand: `config show`.
    #[command(subcommand)]
    pub command: Option<ConfigCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// The running config (secrets shown as <secret>).
    Show,
    /// The routing tree (default: draw it).
    Routes(RoutesArgs),
}

#[derive(Debug, clap::Args)]
pub struct RoutesArgs {
    #[command(subcommand)]
    pub command: Option<RoutesCommand>,
    /// Read the routes from this alertmanager.yml instead of the server.
    #[arg(long = "config.file", global = true, value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum RoutesCommand {
    /// Draw the routing tree.
    Show,
    /// Which receivers a label set reaches.
    Test(TestArgs),
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Labels (`name=value`); a bare first word means alertname=WORD.
    pub labels: Vec<String>,
    /// Expected receivers, in order; exit 1 when they differ.
    #[arg(long = "verify.receivers", value_delimiter = ',', value_name = "A,B")]
    pub verify_receivers: Option<Vec<String>>,
    /// Also draw the tree, marking the routes the labels reach.
    #[arg(long)]
    pub tree: bool,
}

pub async fn run(ctx: &Context, args: ConfigArgs) -> Result {
    match args.command {
        None | Some(ConfigCommand::Show) => show(ctx).await,
        Some(ConfigCommand::Routes(r)) => routes(ctx, r).await,
    }
}

async fn show(ctx: &Context) -> Result {
    let status = ctx.client()?.status().await?;
    match ctx.output {
        Output::Json => emit(&format!("{}\n", status.raw.get())),
        _ => {
            let mut text = status.item.config.original;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            emit(&text);
        }
    }
    Ok(())
}

/// Only the route of a served config: the rest (receivers with `<secret>`
/// URLs) would not pass validation again, and routing does not need it.
#[derive(Deserialize)]
struct Served {
    route: RouteConfig,
}

async fn load_route(ctx: &Context, file: Option<&Path>) -> Result<Route> {
    let config = match file {
        Some(path) => {
            Config::load_file(path)
                .map_err(|e| CliError::Failed(e.to_string()))?
                .route
        }
        None => {
            let client = ctx.client()?;
            let status = client.status().await?;
            let shown = format!("{}/api/v2/status config.original", client.url());
            let mut served: Served = parse_yaml(&status.item.config.original, Path::new(&shown))
                .map_err(|e| CliError::Failed(e.to_string()))?;
            // Printed by the server; read back in amtool's default mode.
            served
                .route
                .parse_matchers("route", crate::labels::NameMode::default())
                .map_err(|e| CliError::Failed(e.to_string()))?;
            served.route
        }
    };
    // A served config parsed here has not been through the loader's checks.
    check_matchers(&config)?;
    Ok(Route::from_config(&config))
}

/// `Route::from_config` relies on every matcher having been checked.
fn check_matchers(route: &RouteConfig) -> Result {
    route
        .all_matchers()
        .map_err(|e| CliError::Failed(format!("route matchers: {e}")))?;
    route.routes.iter().try_for_each(check_matchers)
}

async fn routes(ctx: &Context, args: RoutesArgs) -> Result {
    let route = load_route(ctx, args.config_file.as_deref()).await?;
    match args.command {
        None | Some(RoutesCommand::Show) => {
            emit(&draw(&route, &HashSet::new()));
            Ok(())
        }
        Some(RoutesCommand::Test(t)) => test(ctx, &route, t),
    }
}

fn test(ctx: &Context, route: &Route, t: TestArgs) -> Result {
    let labels = parse_labels(&t.labels)?;
    let matched = route.matches(&labels);
    let mut receivers: Vec<&str> = Vec::new();
    for r in &matched {
        if !receivers.contains(&r.opts.receiver.as_str()) {
            receivers.push(&r.opts.receiver);
        }
    }
    if t.tree {
        let ids = matched.iter().map(|r| r.id).collect();
        emit(&draw(route, &ids));
    }
    match ctx.output {
        Output::Json => emit(&format!(
            "{}\n",
            serde_json::to_string(&receivers).unwrap_or_default()
        )),
        _ => emit(&format!("{}\n", receivers.join(","))),
    }
    if let Some(expected) = t.verify_receivers {
        let expected: Vec<&str> = expected.iter().map(|s| s.trim()).collect();
        if expected != receivers {
            return Err(CliError::Failed(format!(
                "expected receivers {} but the labels reach {}",
                expected.join(","),
                receivers.join(",")
            )));
        }
    }
    Ok(())
}

/// The tree as lines with box-drawing branches; routes in `marked` get
/// a `<- matched` note.
pub fn draw(root: &Route, marked: &HashSet<usize>) -> String {
    let mut out = String::from("Routing tree:\n");
    node(root, "", true, true, marked, &mut out);
    out
}

fn node(
    r: &Route,
    prefix: &str,
    last: bool,
    root: bool,
    marked: &HashSet<usize>,
    out: &mut String,
) {
    let branch = if last { "└── " } else { "├── " };
    let name = if root {
        "default-route".to_owned()
    } else {
        r.matchers.to_string()
    };
    out.push_str(prefix);
    out.push_str(branch);
    out.push_str(&name);
    if r.continue_ {
        out.push_str("  continue: true");
    }
    out.push_str("  receiver: ");
    out.push_str(&r.opts.receiver);
    if marked.contains(&r.id) {
        out.push_str("  <- matched");
    }
    out.push('\n');
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    for (i, c) in r.routes.iter().enumerate() {
        node(
            c,
            &child_prefix,
            i + 1 == r.routes.len(),
            false,
            marked,
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_tree_with_branches() {
        let cfg = Config::load_str(
            r#"
route:
  receiver: default
  routes:
    - receiver: crit
      matchers: ['severity="critical"']
      continue: true
      routes:
        - receiver: db
          matchers: [service=db]
    - receiver: team-b
      matchers: [team=b]
receivers: [{name: default}, {name: crit}, {name: db}, {name: team-b}]
"#,
            Path::new("t.yml"),
            &|_| None,
        )
        .unwrap();
        let route = Route::from_config(&cfg.route);
        let marked = [route.routes[1].id].into_iter().collect();
        assert_eq!(
            draw(&route, &marked),
            "Routing tree:\n\
             └── default-route  receiver: default\n    \
             ├── {severity=\"critical\"}  continue: true  receiver: crit\n    \
             │   └── {service=\"db\"}  receiver: db\n    \
             └── {team=\"b\"}  receiver: team-b  <- matched\n"
        );
    }
}
