//! The routing tree: which routes (and so receivers and group settings) an
//! alert belongs to, with Alertmanager's inheritance and matching rules.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::RouteConfig;
use crate::labels::{Fingerprint, LabelSet};
use crate::matcher::Matchers;

/// Alertmanager's defaults for a route's timers.
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 60 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// `group_by: ['...']`: every label is a grouping label.
    All,
    Labels(GroupNames),
}

/// A route's `group_by` names: as configured, for display, and sorted
/// (the config refuses repeats; they are dropped here all the same), the
/// order a group's fingerprint hashes them in, so routing an alert does
/// not sort them again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupNames {
    configured: Vec<String>,
    sorted: Vec<String>,
}

impl GroupNames {
    pub fn new(configured: Vec<String>) -> Self {
        let mut sorted = configured.clone();
        sorted.sort_unstable();
        sorted.dedup();
        Self { configured, sorted }
    }

    pub fn configured(&self) -> &[String] {
        &self.configured
    }

    fn sorted(&self) -> impl Iterator<Item = &str> {
        self.sorted.iter().map(String::as_str)
    }
}

/// The settings a route passes on to its aggregation groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOpts {
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    /// The route's `labels` merged over its parent's, still templates.
    pub labels: BTreeMap<String, String>,
}

impl RouteOpts {
    /// The labels of `alert` that define its group on this route.
    pub fn group_labels(&self, alert: &LabelSet) -> LabelSet {
        match &self.group_by {
            GroupBy::All => alert.clone(),
            GroupBy::Labels(names) => alert.subset(names.sorted()),
        }
    }

    /// The fingerprint of [`RouteOpts::group_labels`], without building them.
    pub fn group_fingerprint(&self, alert: &LabelSet) -> Fingerprint {
        match &self.group_by {
            GroupBy::All => alert.fingerprint(),
            GroupBy::Labels(names) => alert.subset_fingerprint(names.sorted()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    /// Position in a depth-first walk; unique within one tree, unlike `key`
    /// (siblings may have identical matchers).
    pub id: usize,
    pub matchers: Matchers,
    pub continue_: bool,
    pub opts: RouteOpts,
    pub routes: Vec<Route>,
    /// Alertmanager's route key: the parent's key, `/`, this route's matchers.
    pub key: String,
}

impl Route {
    /// Builds the tree from the validated config; children inherit what they
    /// do not set.
    pub fn from_config(root: &RouteConfig) -> Route {
        let opts = RouteOpts {
            receiver: root.receiver.clone().unwrap_or_default(),
            group_by: group_by(root.group_by.as_deref())
                .unwrap_or(GroupBy::Labels(GroupNames::default())),
            group_wait: root.group_wait.map_or(DEFAULT_GROUP_WAIT, |d| d.as_std()),
            group_interval: root
                .group_interval
                .map_or(DEFAULT_GROUP_INTERVAL, |d| d.as_std()),
            repeat_interval: root
                .repeat_interval
                .map_or(DEFAULT_REPEAT_INTERVAL, |d| d.as_std()),
            mute_time_intervals: root.mute_time_intervals.clone(),
            active_time_intervals: root.active_time_intervals.clone(),
            labels: root.labels.clone(),
        };
        let mut next_id = 0;
        Self::build(root, opts, None, &mut next_id)
    }

    fn build(
        cfg: &RouteConfig,
        opts: RouteOpts,
        parent_key: Option<&str>,
        next_id: &mut usize,
    ) -> Route {
        let id = *next_id;
        *next_id += 1;
        // Every matcher was compiled once already when the config was validated.
        let matchers = cfg
            .all_matchers()
            .expect("route matchers are checked at config load");
        let key = match parent_key {
            Some(p) => format!("{p}/{matchers}"),
            None => matchers.to_string(),
        };
        let routes = cfg
            .routes
            .iter()
            .map(|child| Self::build(child, inherit(&opts, child), Some(&key), next_id))
            .collect();
        Route {
            id,
            matchers,
            continue_: cfg.continue_,
            opts,
            routes,
            key,
        }
    }

    /// Depth-first: the first matching child wins unless it has
    /// `continue: true`; a route none of whose children match is itself
    /// the match.
    pub fn matches<'a>(&'a self, labels: &LabelSet) -> Matched<'a> {
        let mut out = Matched::new();
        self.collect(labels, &mut out);
        out
    }

    fn collect<'a>(&'a self, labels: &LabelSet, out: &mut Matched<'a>) -> bool {
        if !self.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            if child.collect(labels, out) && !child.continue_ {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// Alertmanager's group key: `<route key>:<group labels>`.
    pub fn group_key(&self, group_labels: &LabelSet) -> String {
        format!("{}:{}", self.key, group_labels)
    }
}

/// The routes an alert matched; nearly always one, so kept off the heap
/// (routing runs for every received alert).
pub type Matched<'a> = smallvec::SmallVec<[&'a Route; 4]>;

fn group_by(names: Option<&[String]>) -> Option<GroupBy> {
    names.map(|names| {
        if names.iter().any(|n| n == "...") {
            GroupBy::All
        } else {
            GroupBy::Labels(GroupNames::new(names.to_vec()))
        }
    })
}

fn inherit(parent: &RouteOpts, child: &RouteConfig) -> RouteOpts {
    RouteOpts {
        receiver: child
            .receiver
            .clone()
            .unwrap_or_else(|| parent.receiver.clone()),
        group_by: group_by(child.group_by.as_deref()).unwrap_or_else(|| parent.group_by.clone()),
        group_wait: child.group_wait.map_or(parent.group_wait, |d| d.as_std()),
        group_interval: child
            .group_interval
            .map_or(parent.group_interval, |d| d.as_std()),
        repeat_interval: child
            .repeat_interval
            .map_or(parent.repeat_interval, |d| d.as_std()),
        // Alertmanager does not pass time intervals down to children.
        mute_time_intervals: child.mute_time_intervals.clone(),
        active_time_intervals: child.active_time_intervals.clone(),
        // Unlike time intervals, labels are inherited, the child's winning.
        labels: parent
            .labels
            .iter()
            .chain(&child.labels)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn tree(yaml: &str) -> Route {
        let cfg = Config::load_str(yaml, std::path::Path::new("test.yml"), &|_| None).unwrap();
        Route::from_config(&cfg.route)
    }

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    const TREE: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: crit
      matchers: ['severity="critical"']
      group_by: [alertname, team]
      continue: true
    - receiver: db
      match: {service: db}
    - receiver: never
      match: {service: db}
receivers:
  - name: default
  - name: crit
  - name: db
  - name: never
"#;

    #[test]
    fn first_match_wins_unless_continue() {
        let root = tree(TREE);
        let names = |ls: &LabelSet| -> Vec<String> {
            root.matches(ls)
                .iter()
                .map(|r| r.opts.receiver.clone())
                .collect()
        };
        assert_eq!(names(&labels(&[("alertname", "A")])), ["default"]);
        assert_eq!(names(&labels(&[("service", "db")])), ["db"]);
        assert_eq!(
            names(&labels(&[("severity", "critical"), ("service", "db")])),
            ["crit", "db"]
        );
    }

    #[test]
    fn group_keys_match_alertmanager() {
        let root = tree(TREE);
        let alert = labels(&[
            ("alertname", "Foo"),
            ("team", "x"),
            ("severity", "critical"),
        ]);
        let routes = root.matches(&alert);
        let crit = routes[0];
        assert_eq!(
            crit.group_key(&crit.opts.group_labels(&alert)),
            r#"{}/{severity="critical"}:{alertname="Foo", team="x"}"#
        );
        let plain = labels(&[("alertname", "Foo")]);
        assert_eq!(
            root.group_key(&root.opts.group_labels(&plain)),
            r#"{}:{alertname="Foo"}"#
        );
    }

    /// Names are hashed sorted, whatever order the config gave them in,
    /// and still shown as configured.
    #[test]
    fn group_fingerprint_is_the_group_labels_fingerprint() {
        let root = tree(
            "route:\n  receiver: r\n  group_by: [team, alertname, missing, env]\nreceivers: [{name: r}]\n",
        );
        let alert = labels(&[
            ("alertname", "A"),
            ("team", "x"),
            ("env", "prod"),
            ("z", "1"),
        ]);
        let group = root.opts.group_labels(&alert);
        assert_eq!(
            group.to_string(),
            r#"{alertname="A", env="prod", team="x"}"#
        );
        assert_eq!(root.opts.group_fingerprint(&alert), group.fingerprint());
        let GroupBy::Labels(names) = &root.opts.group_by else {
            panic!("named labels")
        };
        assert_eq!(names.configured(), ["team", "alertname", "missing", "env"]);
    }

    #[test]
    fn children_inherit_timers_and_grouping() {
        let root = tree(
            r#"
route:
  receiver: a
  group_by: ['...']
  group_wait: 1s
  routes:
    - receiver: b
      match: {x: y}
receivers: [{name: a}, {name: b}]
"#,
        );
        let child = &root.routes[0];
        assert_eq!(child.opts.group_by, GroupBy::All);
        assert_eq!(child.opts.group_wait, Duration::from_secs(1));
        assert_eq!(child.opts.group_interval, DEFAULT_GROUP_INTERVAL);
    }

    #[test]
    fn children_inherit_route_labels_and_override_them() {
        let root = tree(
            r#"
route:
  receiver: a
  labels: {team: storage, tier: base}
  routes:
    - match: {x: y}
      labels: {tier: edge}
      routes:
        - match: {z: w}
receivers: [{name: a}]
"#,
        );
        let want = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            root.opts.labels,
            want(&[("team", "storage"), ("tier", "base")])
        );
        let child = &root.routes[0];
        assert_eq!(
            child.opts.labels,
            want(&[("team", "storage"), ("tier", "edge")])
        );
        assert_eq!(child.routes[0].opts.labels, child.opts.labels);
    }
}
