//! Jira (`jira_configs`): one issue per alert group. Each notification
//! searches for the group's issue (by the label `ALERT{<SHA-256 of the
//! group key>}`), creates it while the group fires or updates it, then
//! moves it with `resolve_transition` when the group is resolved or
//! `reopen_transition` when a done issue fires again.
//!
//! As in Alertmanager 0.34: 429 and 5xx answers are retried (after
//! `Retry-After`), others are permanent; a resolved group without an
//! issue creates none; on Jira Cloud (`api_type: cloud`, or `auto` on an
//! `atlassian.net` host) the search uses API v3's `search/jql`, and an API
//! v3 `api_url` takes the description as Atlassian Document Format JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{ACCEPT_LANGUAGE, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{HttpClient, Request};
use super::webhook::render_payload;
use super::{
    AlertStatus, Notification, Notifier, NotifyError, NotifyFuture, encode_body, group_key_hash,
    truncate,
};
use crate::config::JiraConfig;
use crate::http_client::HttpClientError;
use crate::metrics::Metrics;
use crate::template::{Data, Flavor, Templates};

/// Jira's limits, in runes.
pub const MAX_SUMMARY_RUNES: usize = 255;
pub const MAX_DESCRIPTION_RUNES: usize = 32767;
const ANSWER_LIMIT: usize = 256 * 1024;

const DEFAULT_SUMMARY: &str = r#"{{ template "jira.default.summary" . }}"#;
const DEFAULT_DESCRIPTION: &str = r#"{{ template "jira.default.description" . }}"#;
const DEFAULT_PRIORITY: &str = r#"{{ template "jira.default.priority" . }}"#;

pub struct Jira {
    config: JiraConfig,
    client: HttpClient,
    templates: Arc<Templates>,
    metrics: Arc<Metrics>,
}

/// An issue found by the search.
#[derive(Debug, Clone, Deserialize)]
struct FoundIssue {
    key: String,
    #[serde(default)]
    fields: Option<FoundFields>,
}

#[derive(Debug, Clone, Deserialize)]
struct FoundFields {
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Debug, Clone, Deserialize)]
struct Status {
    #[serde(default, rename = "statusCategory")]
    category: Category,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Category {
    #[serde(default)]
    key: String,
}

#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    issues: Vec<FoundIssue>,
}

#[derive(Serialize)]
struct Search<'a> {
    fields: [&'static str; 1],
    jql: &'a str,
    #[serde(rename = "maxResults")]
    max_results: u32,
}

#[derive(Deserialize)]
struct Transitions {
    #[serde(default)]
    transitions: Vec<Transition>,
}

#[derive(Deserialize)]
struct Transition {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// The issue body: `{"fields": {...}}` with the keys sorted, as Go's
/// encoder writes Alertmanager's map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueBody {
    pub fields: BTreeMap<String, Value>,
}

impl Jira {
    pub fn new(
        config: JiraConfig,
        templates: Arc<Templates>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, HttpClientError> {
        let client = HttpClient::new(&config.http_config, None)?;
        Ok(Jira {
            config,
            client,
            templates,
            metrics,
        })
    }

    fn api_url(&self) -> &str {
        self.config.api_url.as_deref().unwrap_or_default()
    }

    /// Go's `URL.JoinPath`: `path` after the API root's path and one slash.
    fn join(&self, path: &str) -> Result<String, NotifyError> {
        let mut url = reqwest::Url::parse(self.api_url())
            .map_err(|e| NotifyError::permanent(format!("invalid api_url: {e}")))?;
        let joined = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        Ok(url.into())
    }

    fn is_api_v3(&self) -> bool {
        let path = reqwest::Url::parse(self.api_url())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        path.ends_with("/3")
    }

    fn search_url(&self) -> Result<String, NotifyError> {
        let host = reqwest::Url::parse(self.api_url())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let kind = self.config.api_type();
        if kind == "cloud" || (kind == "auto" && host.ends_with("atlassian.net")) {
            return Ok(self
                .join("search/jql")?
                .replacen("/rest/api/2/", "/rest/api/3/", 1));
        }
        self.join("search")
    }

    fn render(&self, field: &str, text: &str, data: &Data) -> Result<String, NotifyError> {
        self.templates
            .render(text, Flavor::Text, data)
            .map_err(|e| NotifyError::permanent(format!("{field} template: {e}")))
    }

    /// The create (or update) body for the group.
    pub fn issue(&self, msg: &Notification, data: &Data) -> Result<IssueBody, NotifyError> {
        let c = &self.config;
        let summary = self.render(
            "summary",
            c.summary.template.as_deref().unwrap_or(DEFAULT_SUMMARY),
            data,
        )?;
        let summary = truncate::field(
            &self.metrics,
            "jira",
            "summary",
            summary,
            MAX_SUMMARY_RUNES,
            truncate::in_runes,
        );
        let description = self.render(
            "description",
            c.description
                .template
                .as_deref()
                .unwrap_or(DEFAULT_DESCRIPTION),
            data,
        )?;
        let description = truncate::field(
            &self.metrics,
            "jira",
            "description",
            description,
            MAX_DESCRIPTION_RUNES,
            truncate::in_runes,
        );
        let mut fields = BTreeMap::new();
        for (name, value) in &c.fields {
            let rendered = render_payload(value, &|t| self.render("fields", t, data))?;
            fields.insert(name.clone(), rendered);
        }
        fields.insert("summary".into(), Value::String(summary));
        if self.is_api_v3() {
            let text = description.trim();
            if !text.is_empty() {
                let adf: Value = serde_json::from_str(text).map_err(|_| {
                    NotifyError::permanent("description template: invalid JSON for API v3")
                })?;
                fields.insert("description".into(), adf);
            }
        } else if !description.is_empty() {
            fields.insert("description".into(), Value::String(description));
        }
        fields.insert(
            "issuetype".into(),
            serde_json::json!({"name": self.render("issue_type", &c.issue_type, data)?}),
        );
        let mut labels = c
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| self.render(&format!("labels[{i}]"), l, data))
            .collect::<Result<Vec<_>, _>>()?;
        labels.push(format!("ALERT{{{}}}", group_key_hash(&msg.group_key)));
        labels.sort();
        fields.insert("labels".into(), serde_json::json!(labels));
        let priority = self.render(
            "priority",
            c.priority.as_deref().unwrap_or(DEFAULT_PRIORITY),
            data,
        )?;
        if !priority.is_empty() {
            fields.insert("priority".into(), serde_json::json!({"name": priority}));
        }
        fields.insert(
            "project".into(),
            serde_json::json!({"key": self.render("project", &c.project, data)?}),
        );
        Ok(IssueBody { fields })
    }

    /// Alertmanager's JQL for the group's issue.
    fn jql(&self, msg: &Notification, firing: bool, data: &Data) -> Result<String, NotifyError> {
        let c = &self.config;
        let mut jql = String::new();
        if let Some(r) = c.wont_fix_resolution.as_deref().filter(|r| !r.is_empty()) {
            // `!=` alone would drop unresolved issues (resolution EMPTY).
            jql.push_str(&format!(
                "(resolution is EMPTY or resolution != {}) and ",
                go_quote(r)
            ));
        }
        let reopen_minutes = c.reopen_duration.map_or(0, |d| d.as_std().as_secs() / 60);
        let reopens = c
            .reopen_transition
            .as_deref()
            .is_some_and(|t| !t.is_empty());
        if firing && reopens && reopen_minutes > 0 {
            jql.push_str(&format!(
                "(resolutiondate is EMPTY OR resolutiondate >= -{reopen_minutes}m) and "
            ));
        } else {
            jql.push_str("statusCategory != Done and ");
        }
        let project = self.render("project", &c.project, data)?;
        let label = format!("ALERT{{{}}}", group_key_hash(&msg.group_key));
        jql.push_str(&format!(
            "project={} and labels={} order by status ASC,resolutiondate DESC",
            go_quote(&project),
            go_quote(&label)
        ));
        Ok(jql)
    }

    /// One API call: JSON in and out, `Accept-Language: en`, Alertmanager's
    /// status rules (429 and 5xx retried).
    async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, NotifyError> {
        let request = Request {
            method,
            url,
            content_type: Some("application/json"),
            headers: vec![(ACCEPT_LANGUAGE, HeaderValue::from_static("en"))],
            body,
            authorize: true,
        };
        let answer = self.client.request(request, ANSWER_LIMIT).await?;
        answer.classify()?;
        Ok(answer.body)
    }

    async fn find(
        &self,
        msg: &Notification,
        firing: bool,
        data: &Data,
    ) -> Result<Option<FoundIssue>, NotifyError> {
        let jql = self.jql(msg, firing, data)?;
        let body = encode_body(&Search {
            fields: ["status"],
            jql: &jql,
            max_results: 2,
        })?;
        let found = self
            .call(Method::POST, &self.search_url()?, Some(body))
            .await
            .map_err(|e| e.map_reason(|r| format!("failed to look up existing issues: {r}")))?;
        let result: SearchResult = serde_json::from_slice(&found).map_err(|e| {
            NotifyError::permanent(format!("failed to look up existing issues: {e}"))
        })?;
        if result.issues.len() > 1 {
            tracing::warn!(
                integration = "jira",
                selected_issue = %result.issues[0].key,
                "more than one issue matched, selecting the most recently resolved"
            );
        }
        Ok(result.issues.into_iter().next())
    }

    async fn send(&self, msg: &Notification) -> Result<(), NotifyError> {
        let data = Data::new(msg);
        let firing = msg.alerts.iter().any(|a| !a.resolved_at(msg.now));
        let existing = self.find(msg, firing, &data).await?;
        let mut issue = self.issue(msg, &data)?;
        let (method, path) = match &existing {
            None if msg.status() == AlertStatus::Resolved => return Ok(()),
            None => (Method::POST, "issue".to_owned()),
            Some(found) => {
                if !self.config.description.updates() {
                    issue.fields.remove("description");
                }
                if !self.config.summary.updates() {
                    issue.fields.remove("summary");
                }
                (Method::PUT, format!("issue/{}", found.key))
            }
        };
        let body = encode_body(&issue)?;
        self.call(method.clone(), &self.join(&path)?, Some(body))
            .await
            .map_err(|e| {
                e.map_reason(|r| format!("failed to {method} request to {path:?}: {r}"))
            })?;
        match existing {
            Some(found) => self.transition(found, firing).await,
            None => Ok(()),
        }
    }

    /// Resolves a group's open issue, or reopens its done one.
    async fn transition(&self, issue: FoundIssue, firing: bool) -> Result<(), NotifyError> {
        let Some(status) = issue.fields.and_then(|f| f.status) else {
            return Ok(());
        };
        let done = status.category.key == "done";
        let wanted = match (firing, done) {
            (true, true) => self.config.reopen_transition.as_deref(),
            (false, false) => self.config.resolve_transition.as_deref(),
            _ => None,
        };
        let Some(name) = wanted.filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let path = format!("issue/{}/transitions", issue.key);
        let url = self.join(&path)?;
        let listed = self.call(Method::GET, &url, None).await?;
        let transitions: Transitions = serde_json::from_slice(&listed)
            .map_err(|e| NotifyError::permanent(format!("reading the transitions: {e}")))?;
        let Some(t) = transitions.transitions.iter().find(|t| t.name == name) else {
            return Err(NotifyError::permanent(format!(
                "can't find transition {name} for issue {}",
                issue.key
            )));
        };
        let body = encode_body(&serde_json::json!({"transition": {"id": t.id}}))?;
        self.call(Method::POST, &url, Some(body)).await?;
        Ok(())
    }
}

/// Go's `%q` for the strings JQL gets: double quotes, with backslashes,
/// quotes and control characters escaped.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Notifier for Jira {
    fn name(&self) -> &'static str {
        "jira"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    fn notify<'a>(&'a self, msg: &'a Notification) -> NotifyFuture<'a> {
        Box::pin(self.send(msg))
    }

    fn preview(&self, msg: &Notification) -> Result<String, NotifyError> {
        let issue = self.issue(msg, &Data::new(msg))?;
        let body = encode_body(&issue)?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}

#[cfg(test)]
#[path = "jira_tests.rs"]
mod tests;
