//! The two exposition formats `/metrics` answers in. prometheus-client
//! writes OpenMetrics 1.0, where a counter family is named without its
//! `_total` suffix; in Prometheus' 0.0.4 text format (what scrapers get
//! unless they ask for OpenMetrics) the `# HELP`/`# TYPE` lines must carry
//! the sample's full `_total` name, or `promtool check metrics` reports
//! "no help text" and a scraper loses the type.

/// The content type of [`to_text_0_0_4`]'s output.
pub const TEXT_0_0_4: &str = "text/plain; version=0.0.4; charset=utf-8";
/// The content type of prometheus-client's own output.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether a scraper's `Accept` header asks for OpenMetrics, as
/// Prometheus' does when it prefers it.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

/// Rewrites OpenMetrics text into the 0.0.4 format: counter families named
/// `…_total` in their metadata, `unknown` as `untyped`, and no `# UNIT` or
/// `# EOF` lines. Sample lines are already the same in both.
pub fn to_text_0_0_4(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + counters.len() * 16);
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (p, rest)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) && !name.ends_with("_total") {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(if prefix == "# TYPE " && tail == "unknown" {
                    "untyped"
                } else {
                    tail
                });
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_named_with_total_and_openmetrics_lines_dropped() {
        let om = "# HELP alertmanager_alerts_received The total number of received alerts.\n\
                  # TYPE alertmanager_alerts_received counter\n\
                  alertmanager_alerts_received_total{status=\"firing\"} 3\n\
                  # HELP alertmanager_alerts How many alerts by state.\n\
                  # TYPE alertmanager_alerts gauge\n\
                  alertmanager_alerts{state=\"active\"} 1\n\
                  # HELP x_seconds A duration.\n\
                  # TYPE x_seconds unknown\n\
                  # UNIT x_seconds seconds\n\
                  x_seconds 1\n\
                  # EOF\n";
        assert_eq!(
            to_text_0_0_4(om),
            "# HELP alertmanager_alerts_received_total The total number of received alerts.\n\
             # TYPE alertmanager_alerts_received_total counter\n\
             alertmanager_alerts_received_total{status=\"firing\"} 3\n\
             # HELP alertmanager_alerts How many alerts by state.\n\
             # TYPE alertmanager_alerts gauge\n\
             alertmanager_alerts{state=\"active\"} 1\n\
             # HELP x_seconds A duration.\n\
             # TYPE x_seconds untyped\n\
             x_seconds 1\n"
        );
    }

    #[test]
    fn openmetrics_is_chosen_only_when_asked_for() {
        assert!(wants_openmetrics(Some(
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
        )));
        assert!(!wants_openmetrics(Some("text/plain")));
        assert!(!wants_openmetrics(None));
    }
}
