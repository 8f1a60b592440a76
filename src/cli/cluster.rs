//! `amctl cluster status|add|remove`: the replicas' cluster as the server
//! sees it — leader, term, log position and each member — and changes to
//! who is a member. klaxon only (`/api/klaxon/`).

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
    /// Add the replica whose cluster port is at ADDRESS (host:port): it
    /// joins as a learner and votes once it has caught up.
    Add { address: String },
    /// Remove a member for good, by ID, name or cluster address (a
    /// replica that is gone; one still running and listed in the
    /// leader's --cluster.peer is added back).
    Remove { member: String },
}

pub async fn run(ctx: &Context, args: ClusterArgs) -> Result {
    let done = match args.command {
        ClusterCommand::Status => return status(ctx).await,
        ClusterCommand::Add { address } => ctx.client()?.cluster_add(&address).await,
        ClusterCommand::Remove { member } => ctx.client()?.cluster_remove(&member).await,
    };
    match done {
        Ok(done) => {
            emit(&format!("{done}\n"));
            Ok(())
        }
        Err(e) if e.status() == Some(404) => Err(CliError::Failed(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

async fn status(ctx: &Context) -> Result {
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
