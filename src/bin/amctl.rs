//! amctl: klaxon's command-line client, amtool's commands and flags over
//! API v2. This file parses flags and settings, then hands over to
//! `klaxon::cli`; exit codes: 0 ok, 1 failed, 2 bad command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory, Parser, Subcommand};
use klaxon::cli::{self, CliError, Context, Output, Settings};
use klaxon::client::ClientOptions;

#[derive(Debug, Parser)]
#[command(
    name = "amctl",
    version,
    about = "Command-line client for klaxon and Alertmanager (amtool-compatible)"
)]
struct Cli {
    /// Base URL of the server [default: http://localhost:9093]
    #[arg(long = "alertmanager.url", env = "ALERTMANAGER_URL", global = true)]
    alertmanager_url: Option<String>,
    /// Output format [default: simple, or the settings file's `output`]
    #[arg(short = 'o', long, global = true)]
    output: Option<Output>,
    /// Time limit for each request.
    #[arg(long, default_value = "30s", global = true)]
    timeout: String,
    /// Prometheus http_config file: basic_auth, authorization, bearer_token, tls_config.
    #[arg(long = "http.config.file", global = true, value_name = "FILE")]
    http_config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Add, list, update, expire and import silences.
    Silence(cli::silence::SilenceArgs),
    /// List and add alerts.
    Alert(cli::alert::AlertArgs),
    /// Check alertmanager.yml files with klaxon's own loader.
    CheckConfig(cli::check_config::CheckConfigArgs),
    /// Show the running config and test its routing tree.
    Config(cli::config::ConfigArgs),
    /// Render notification templates offline.
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// Test a receiver's integrations.
    Receiver(cli::receiver::ReceiverArgs),
    /// Show the replicas' cluster (klaxon HA).
    Cluster(cli::cluster::ClusterArgs),
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// Render a template as amtool does (--template.text), or what a
    /// receiver's integrations would send (--receiver), offline.
    Render(cli::template::RenderArgs),
}

/// The commands that talk to a server.
enum Remote {
    Silence(cli::silence::SilenceArgs),
    Alert(cli::alert::AlertArgs),
    Config(cli::config::ConfigArgs),
    Receiver(cli::receiver::ReceiverArgs),
    Cluster(cli::cluster::ClusterArgs),
}

fn main() -> ExitCode {
    // reqwest needs a process-wide rustls provider before any client exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("amctl: {e:#}");
            ExitCode::from(e.downcast_ref::<CliError>().map_or(1, CliError::exit_code))
        }
    }
}

/// clap's usage errors as one line and exit code 2; help and version as
/// clap prints them.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        e.exit();
    }
    let text = e.render().to_string();
    // The message is the first paragraph; a missing argument is named on
    // the lines after "the following required arguments were not provided:".
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = match message.join(" ") {
        m if m.is_empty() => "invalid command line".to_owned(),
        m => m,
    };
    eprintln!(
        "amctl: {} (see amctl --help)",
        message.trim_start_matches("error: ")
    );
    ExitCode::from(2)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let command = match cli.command {
        Command::Completion { shell } => {
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut Cli::command(), "amctl", &mut out);
            return Ok(());
        }
        Command::CheckConfig(args) => return Ok(cli::check_config::run(args)?),
        Command::Template {
            command: TemplateCommand::Render(args),
        } => return Ok(cli::template::run(args)?),
        Command::Silence(a) => Remote::Silence(a),
        Command::Alert(a) => Remote::Alert(a),
        Command::Config(a) => Remote::Config(a),
        Command::Receiver(a) => Remote::Receiver(a),
        Command::Cluster(a) => Remote::Cluster(a),
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let settings = Settings::load(home.as_deref())?;
    let output = match (cli.output, settings.output.as_deref()) {
        (Some(o), _) => o,
        (None, Some(text)) => text
            .parse()
            .map_err(|e| CliError::Failed(format!("settings file: output: {e}")))?,
        (None, None) => Output::Simple,
    };
    let timeout: klaxon::config::Duration = cli
        .timeout
        .parse()
        .map_err(|e| CliError::Usage(format!("invalid --timeout: {e}")))?;
    let http = match &cli.http_config_file {
        Some(path) => ClientOptions::read_http_config(path).map_err(CliError::from)?,
        None => Default::default(),
    };
    let ctx = Context {
        client: ClientOptions {
            url: cli
                .alertmanager_url
                .or(settings.url)
                .unwrap_or_else(|| "http://localhost:9093".to_owned()),
            timeout: timeout.as_std(),
            http,
        },
        output,
        author: settings.author.unwrap_or_else(cli::os_user),
        require_comment: settings.require_comment.unwrap_or(true),
        now: chrono::Utc::now(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match command {
            Remote::Silence(a) => cli::silence::run(&ctx, a).await,
            Remote::Alert(a) => cli::alert::run(&ctx, a).await,
            Remote::Config(a) => cli::config::run(&ctx, a).await,
            Remote::Receiver(a) => cli::receiver::run(&ctx, a).await,
            Remote::Cluster(a) => cli::cluster::run(&ctx, a).await,
        }
    })?;
    Ok(())
}
