//! `amctl cluster status`: the replicas' cluster as the server sees it —
//! leader, term, log position and each member. klaxon only (`/api/klaxon/`).

use super::output::{Output, Table, emit};
use super::{CliError, Context, Result};

#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    pub command: ClusterCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Show the leader, the term and every member.
    Status,
}

pub async fn run(ctx: &Context, args: ClusterArgs) -> Result {
    let ClusterCommand::Status = args.command;
    let detail = match ctx.client()?.cluster().await {
        Ok(d) => d,
        Err(e) if e.status() == Some(404) => {
            return Err(CliError::Failed(
                "the server runs as a single instance (or is not klaxon)".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if ctx.output == Output::Json {
        emit(&format!(
            "{}\n",
            serde_json::to_string(&detail).unwrap_or_default()
        ));
        return Ok(());
    }
    let leader = detail
        .members
        .iter()
        .find(|m| m.leader)
        .map_or("none".to_owned(), |m| format!("{} ({})", m.name, m.id));
    emit(&format!(
        "Replica: {} ({})\nLeader:  {leader}\nTerm:    {}\nLog:     last {} applied {}\n\n",
        detail.name,
        detail.id,
        detail.term,
        detail.last_log_index.map_or("-".into(), |i| i.to_string()),
        detail
            .last_applied_index
            .map_or("-".into(), |i| i.to_string()),
    ));
    let mut t = Table::new(&["Name", "ID", "Address", "Role", "Matched", "Config"]);
    for m in &detail.members {
        let role = match (m.leader, m.voter) {
            (true, _) => "leader",
            (false, true) => "voter",
            (false, false) => "learner",
        };
        t.row(vec![
            m.name.clone(),
            m.id.clone(),
            m.address.clone(),
            role.to_owned(),
            m.matched_index.map_or("-".into(), |i| i.to_string()),
            if m.config_differs { "DIFFERS" } else { "same" }.to_owned(),
        ]);
    }
    emit(&t.render());
    Ok(())
}
