//! `amctl check-config FILE…`: the server's own loader and validator
//! (`Config::load_file`, then building the receivers' notifiers as startup
//! does), so a file that passes here is a file klaxon starts with.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::output::emit;
use super::{CliError, Result};
use crate::config::{Config, RouteConfig, UnsetVariable, expand};
use crate::notify::pipeline::build_receivers;

#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// alertmanager.yml files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

pub fn run(args: CheckConfigArgs) -> Result {
    let mut failed = 0;
    for (i, file) in args.files.iter().enumerate() {
        let mut report = String::new();
        if i > 0 {
            report.push('\n');
        }
        match check(file) {
            Ok(summary) => {
                let _ = writeln!(report, "Checking {}  SUCCESS", file.display());
                report.push_str(&summary);
            }
            Err(lines) => {
                failed += 1;
                let _ = writeln!(report, "Checking {}  FAILED: {}", file.display(), lines[0]);
                for line in &lines[1..] {
                    let _ = writeln!(report, "  {line}");
                }
            }
        }
        emit(&report);
    }
    if failed > 0 {
        return Err(CliError::Failed(format!(
            "{failed} of {} config files failed the check",
            args.files.len()
        )));
    }
    Ok(())
}

/// The summary of a config that loads, or the lines saying why it does not.
pub fn check(file: &Path) -> std::result::Result<String, Vec<String>> {
    let config = Config::load_file(file).map_err(|e| {
        let mut lines = vec![one_line(&e.to_string())];
        if let Ok(text) = std::fs::read_to_string(file) {
            let unset = unset_variables(&text);
            if !unset.is_empty() {
                lines.push(format!(
                    "unset environment variables: {}",
                    unset.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        lines
    })?;
    // Startup builds every notifier too (reading CA files, parsing headers).
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    build_receivers(&config.receivers, config.template_set(), &metrics).map_err(|e| {
        vec![format!(
            "{}: receivers: building a notifier: {e}",
            file.display()
        )]
    })?;
    Ok(summary(&config))
}

/// The regex crate explains a bad pattern over several lines, the last of
/// which says why; a report line keeps the first and that last one.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message.lines().collect();
    match (lines.first(), lines.last()) {
        (Some(first), Some(last)) if lines.len() > 1 => {
            let first = first.trim_end().trim_end_matches("regex parse error:");
            let first = first.trim_end().trim_end_matches(':');
            format!("{first}: {}", last.trim().trim_start_matches("error: "))
        }
        _ => message.to_owned(),
    }
}

fn summary(c: &Config) -> String {
    let mut out = String::from("Found:\n - global config\n");
    let routes = count_routes(&c.route) - 1;
    let _ = writeln!(out, " - route with {routes} child routes");
    let receivers: Vec<String> = c
        .receivers
        .iter()
        .map(|r| {
            let mut counts: Vec<(&str, usize)> = Vec::new();
            for (_, _, c) in r.integrations() {
                match counts.last_mut() {
                    Some((kind, n)) if *kind == c.kind() => *n += 1,
                    _ => counts.push((c.kind(), 1)),
                }
            }
            let kinds: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            if kinds.is_empty() {
                format!("{} (no integrations)", r.name)
            } else {
                format!("{} ({})", r.name, kinds.join(", "))
            }
        })
        .collect();
    let _ = writeln!(
        out,
        " - {} receivers: {}",
        c.receivers.len(),
        receivers.join(", ")
    );
    let _ = writeln!(out, " - {} inhibit rules", c.inhibit_rules.len());
    let _ = writeln!(out, " - {} time intervals", c.time_intervals.len());
    // Loading compiled every `templates:` file and templated field already.
    let _ = writeln!(
        out,
        " - {} template globs, {} templated fields (compiled)",
        c.templates.len(),
        c.templated_fields().len()
    );
    out
}

fn count_routes(r: &RouteConfig) -> usize {
    1 + r.routes.iter().map(count_routes).sum::<usize>()
}

/// Every `${NAME}` without a default whose variable is unset, outside
/// comment lines. The loader stops at the first; this lists them all.
pub fn unset_variables(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let mut line = line.to_owned();
        while let Err(UnsetVariable(name)) = expand(&line, &|n| std::env::var(n).ok()) {
            let next = line.replacen(&format!("${{{name}}}"), "", 1);
            names.insert(name);
            if next == line {
                break;
            }
            line = next;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_unset_variable_without_a_default() {
        let text = "a: ${AMCTL_TEST_UNSET_ONE}/${AMCTL_TEST_UNSET_TWO}\n\
                    # ${AMCTL_TEST_UNSET_COMMENT}\n\
                    b: ${AMCTL_TEST_UNSET_THREE:-fine}\n\
                    c: ${AMCTL_TEST_UNSET_ONE}\n";
        let names: Vec<String> = unset_variables(text).into_iter().collect();
        assert_eq!(names, ["AMCTL_TEST_UNSET_ONE", "AMCTL_TEST_UNSET_TWO"]);
    }
}
