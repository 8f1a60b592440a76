//! Inhibition: a firing "source" alert mutes "target" alerts that share the
//! rule's `equal` labels, with Alertmanager's rules.
//!
//! Alertmanager scans every cached source alert for every target, which is
//! quadratic. Here each rule indexes its firing sources by the values of
//! the `equal` labels once, so checking a target is one hash lookup and a
//! whole listing is linear in the number of alerts.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::alert::Alert;
use crate::config::InhibitRuleConfig;
use crate::labels::{Fingerprint, LabelSet};
use crate::matcher::Matchers;

/// One rule, ready to index alerts.
#[derive(Debug, Clone)]
pub struct InhibitRule {
    /// The config's `name`, empty when unnamed.
    pub name: String,
    source: Matchers,
    target: Matchers,
    equal: Vec<String>,
}

impl InhibitRule {
    pub fn from_config(cfg: &InhibitRuleConfig) -> Self {
        Self {
            name: cfg.name.clone(),
            source: cfg.source_matchers.clone(),
            target: cfg.target_matchers.clone(),
            equal: cfg.equal.clone(),
        }
    }

    /// The source matchers, the target matchers and the `equal` names.
    pub fn parts(&self) -> (&Matchers, &Matchers, &[String]) {
        (&self.source, &self.target, &self.equal)
    }

    /// The `equal` label values; a missing label counts as "".
    fn key(&self, labels: &LabelSet) -> Vec<String> {
        self.equal
            .iter()
            .map(|n| labels.get(n).unwrap_or("").to_owned())
            .collect()
    }
}

/// Firing sources of one rule, grouped by their `equal` values. Each entry
/// remembers whether the source also matches the target side, because such
/// a source may not inhibit a target that matches both sides too.
type SourceIndex = HashMap<Vec<String>, Vec<(Fingerprint, bool)>>;

/// The inhibit rules of the running config with their sources indexed at one
/// moment in time.
pub struct Inhibitions {
    rules: Vec<(InhibitRule, SourceIndex)>,
}

impl Inhibitions {
    /// Indexes the firing alerts that can act as sources.
    pub fn index(rules: &[InhibitRule], alerts: &[Arc<Alert>], now: DateTime<Utc>) -> Self {
        let rules = rules
            .iter()
            .map(|rule| {
                let mut sources = SourceIndex::new();
                for a in alerts {
                    // Only firing alerts inhibit.
                    if a.resolved_at(now) || !rule.source.matches(&a.labels) {
                        continue;
                    }
                    sources
                        .entry(rule.key(&a.labels))
                        .or_default()
                        .push((a.fingerprint(), rule.target.matches(&a.labels)));
                }
                for list in sources.values_mut() {
                    // Deterministic answer where several sources qualify.
                    list.sort_unstable();
                }
                (rule.clone(), sources)
            })
            .collect();
        Self { rules }
    }

    /// The source alert that inhibits `alert`, if any.
    pub fn inhibited_by(&self, alert: &Alert) -> Option<Fingerprint> {
        self.inhibiting_rule(alert).map(|(fp, _)| fp)
    }

    /// The source alert that inhibits `alert` and the rule that lets it,
    /// for logs and events.
    pub fn inhibiting_rule(&self, alert: &Alert) -> Option<(Fingerprint, &InhibitRule)> {
        self.inhibited_by_labels(&alert.labels, || alert.fingerprint())
    }

    /// As [`Inhibitions::inhibited_by`], for labels whose fingerprint
    /// `own_fingerprint` gives (asked only when a rule has candidates: most
    /// alerts match no target).
    fn inhibited_by_labels(
        &self,
        labels: &LabelSet,
        own_fingerprint: impl Fn() -> Fingerprint,
    ) -> Option<(Fingerprint, &InhibitRule)> {
        let mut own = None;
        for (rule, sources) in &self.rules {
            if !rule.target.matches(labels) {
                continue;
            }
            let both_sides = rule.source.matches(labels);
            let Some(candidates) = sources.get(&rule.key(labels)) else {
                continue;
            };
            // An alert matching both sides cannot be inhibited by a source
            // that also matches both sides (that includes itself).
            let own = *own.get_or_insert_with(&own_fingerprint);
            if let Some((fp, _)) = candidates
                .iter()
                .find(|(fp, src_is_target)| *fp != own && !(both_sides && *src_is_target))
            {
                return Some((*fp, rule));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn alert(pairs: &[(&str, &str)], ends: i64) -> Arc<Alert> {
        Arc::new(Alert {
            labels: pairs.iter().copied().collect(),
            annotations: LabelSet::new(),
            starts_at: t(0),
            ends_at: t(ends),
            generator_url: "".into(),
            updated_at: t(0),
            timeout: true,
            fingerprint_cache: Default::default(),
        })
    }

    fn rule(source: &str, target: &str, equal: &[&str]) -> InhibitRule {
        InhibitRule {
            name: String::new(),
            source: Matchers::parse(source).unwrap(),
            target: Matchers::parse(target).unwrap(),
            equal: equal.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn inhibitor(idx: &Inhibitions, labels: &LabelSet) -> Option<Fingerprint> {
        idx.inhibited_by_labels(labels, || labels.fingerprint())
            .map(|(fp, _)| fp)
    }

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    #[test]
    fn table_of_inhibition_cases() {
        let crit_c1 = alert(
            &[
                ("alertname", "Down"),
                ("severity", "critical"),
                ("cluster", "c1"),
            ],
            100,
        );
        let resolved = alert(
            &[
                ("alertname", "Old"),
                ("severity", "critical"),
                ("cluster", "c2"),
            ],
            5,
        );
        let alerts = vec![crit_c1.clone(), resolved];
        let sev = rule(
            r#"severity="critical""#,
            r#"severity="warning""#,
            &["cluster"],
        );
        let idx = Inhibitions::index(&[sev], &alerts, t(10));
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case] = &[
            (
                "warning in the same cluster is inhibited",
                &[("severity", "warning"), ("cluster", "c1")],
                true,
            ),
            (
                "warning in another cluster is not",
                &[("severity", "warning"), ("cluster", "c3")],
                false,
            ),
            (
                "a resolved source inhibits nothing",
                &[("severity", "warning"), ("cluster", "c2")],
                false,
            ),
            (
                "an info alert is no target",
                &[("severity", "info"), ("cluster", "c1")],
                false,
            ),
        ];
        for (name, target, inhibited) in cases {
            assert_eq!(
                inhibitor(&idx, &labels(target)).is_some(),
                *inhibited,
                "{name}"
            );
        }
        assert_eq!(
            inhibitor(&idx, &labels(&[("severity", "warning"), ("cluster", "c1")])),
            Some(crit_c1.fingerprint())
        );
    }

    #[test]
    fn missing_equal_labels_count_as_equal_empty_values() {
        let src = alert(&[("alertname", "Src")], 100);
        let idx = Inhibitions::index(
            &[rule(r#"alertname="Src""#, r#"alertname="Dst""#, &["zone"])],
            &[src],
            t(0),
        );
        assert!(inhibitor(&idx, &labels(&[("alertname", "Dst")])).is_some());
        assert!(inhibitor(&idx, &labels(&[("alertname", "Dst"), ("zone", "a")])).is_none());
    }

    #[test]
    fn an_alert_matching_both_sides_does_not_inhibit_itself() {
        let both = alert(&[("alertname", "X"), ("team", "a")], 100);
        let idx = Inhibitions::index(
            &[rule(r#"team="a""#, r#"alertname="X""#, &[])],
            std::slice::from_ref(&both),
            t(0),
        );
        assert!(idx.inhibited_by(&both).is_none());
        // A target that matches only the target side is inhibited by it.
        assert!(inhibitor(&idx, &labels(&[("alertname", "X"), ("team", "b")])).is_some());
    }

    #[test]
    fn the_inhibiting_rule_is_named_for_logs() {
        let mut named = rule(
            r#"severity="critical""#,
            r#"severity="warning""#,
            &["alertname"],
        );
        named.name = "critical mutes warning".into();
        let source = alert(&[("alertname", "A"), ("severity", "critical")], 100);
        let target = alert(&[("alertname", "A"), ("severity", "warning")], 100);
        let idx = Inhibitions::index(&[named], &[source.clone(), target.clone()], t(0));
        assert_eq!(
            idx.inhibiting_rule(&target)
                .map(|(fp, r)| (fp, r.name.as_str())),
            Some((source.fingerprint(), "critical mutes warning"))
        );
    }
}
