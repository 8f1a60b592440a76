//! Query-string parameters shared by the list endpoints: repeated
//! `filter=` matchers, booleans with defaults, and the `receiver` regex.

use regex::Regex;

use super::ApiError;
use crate::matcher::{Matcher, Matchers, NameMode};

/// The raw `key=value` pairs of a query string, decoded, and the mode its
/// matchers are parsed in.
pub struct Query {
    pairs: Vec<(String, String)>,
    mode: NameMode,
}

impl Query {
    pub fn parse(raw: Option<&str>, mode: NameMode) -> Self {
        Self {
            pairs: url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
            mode,
        }
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every `filter=` value, each one matcher as in Alertmanager.
    pub fn filter(&self) -> Result<Matchers, ApiError> {
        self.matchers("filter")
    }

    /// Every `receiver_matchers=` value: matchers over a receiver's labels
    /// (its config `labels` plus `name`), as newest Alertmanager takes them.
    pub fn receiver_matchers(&self) -> Result<Matchers, ApiError> {
        self.matchers("receiver_matchers")
    }

    fn matchers(&self, key: &str) -> Result<Matchers, ApiError> {
        self.all(key)
            .map(|f| {
                Matcher::parse_in(f, self.mode, "api").map_err(|e| match key {
                    // Alertmanager's own message, unprefixed.
                    "filter" => ApiError::BadRequest(e.to_string()),
                    _ => ApiError::BadRequest(format!("{key}: {e}")),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Matchers)
    }

    /// Alertmanager reads booleans with go-openapi's `ConvertBool`: a few
    /// words mean true, anything else means false, nothing is refused.
    pub fn flag(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        Ok(match self.all(key).last() {
            None | Some("") => default,
            Some(v) => matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "1" | "yes" | "ok" | "y" | "on" | "selected" | "checked" | "t" | "enabled"
            ),
        })
    }

    /// `receiver=` is a regex over receiver names, anchored like matchers.
    pub fn receiver(&self) -> Result<Option<Regex>, ApiError> {
        match self.all("receiver").last() {
            None | Some("") => Ok(None),
            Some(re) => Regex::new(&format!("^(?:{re})$"))
                .map(Some)
                .map_err(|e| ApiError::BadRequest(format!("receiver: {e}"))),
        }
    }
}
