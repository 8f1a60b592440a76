//! `amctl receiver test NAME`: asks klaxon to send a marked test
//! notification through every integration of a receiver now, and prints
//! each integration's result. klaxon only (`/api/klaxon/`).

use super::output::{Output, Table, emit};
use super::{CliError, Context, Result};

#[derive(Debug, clap::Args)]
pub struct ReceiverArgs {
    #[command(subcommand)]
    pub command: ReceiverCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReceiverCommand {
    /// Send a test notification through every integration of a receiver.
    Test {
        /// The receiver's name in the config.
        name: String,
    },
}

pub async fn run(ctx: &Context, args: ReceiverArgs) -> Result {
    let ReceiverCommand::Test { name } = args.command;
    let results = match ctx.client()?.test_receiver(&name).await {
        Ok(r) => r,
        Err(e) if e.status() == Some(404) => {
            return Err(CliError::Failed(format!(
                "receiver {name:?} not found in the running config (or the server is not klaxon)"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if ctx.output == Output::Json {
        emit(&format!(
            "{}\n",
            serde_json::to_string(&results).unwrap_or_default()
        ));
    } else if !results.is_empty() {
        let mut t = Table::new(&["Integration", "Result"]);
        for r in &results {
            let result = match (&r.error, r.ok) {
                (_, true) => "ok".to_owned(),
                (Some(e), false) => format!("FAILED: {e}"),
                (None, false) => "FAILED".to_owned(),
            };
            t.row(vec![format!("{}[{}]", r.integration, r.index), result]);
        }
        emit(&t.render());
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    if results.is_empty() {
        return Err(CliError::Failed(format!(
            "receiver {name:?} has no integrations that klaxon delivers to: nothing was sent"
        )));
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} of {} integrations of receiver {name:?} failed",
            results.len()
        )));
    }
    Ok(())
}
