//! amctl's commands, one module per command group; `src/bin/amctl.rs` only
//! parses flags and calls in here. Every command is a client of API v2
//! (plus `/api/klaxon/`), except the offline ones (`check-config`,
//! `config routes --config.file`), which run the server's own code.
//!
//! Exit codes: 0 done, 1 the operation failed (server unreachable or
//! refusing, unknown ID, a failed check), 2 the command line is wrong
//! (clap's own errors, bad matchers, durations or times, a missing
//! required comment).

pub mod alert;
pub mod check_config;
pub mod cluster;
pub mod config;
pub mod output;
pub mod receiver;
pub mod silence;
pub mod template;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::client::{Client, ClientError, ClientOptions};
use crate::config::parse_yaml;
use crate::matcher::{MatchType, Matcher, MatcherError, Matchers, NameMode};
pub use output::Output;

/// What makes amctl stop with a non-zero exit code; the text is the one
/// line printed on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is wrong: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The operation failed: exit code 1.
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Client(_) => 1,
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, CliError>;

/// Settings every command may use, resolved from flags, environment and
/// the settings file.
pub struct Context {
    pub client: ClientOptions,
    pub output: Output,
    /// Default `--author` of new silences.
    pub author: String,
    /// Whether `silence add` insists on a comment.
    pub require_comment: bool,
    pub now: DateTime<Utc>,
}

impl Context {
    pub fn client(&self) -> Result<Client> {
        Ok(Client::new(&self.client)?)
    }
}

/// amtool's settings file keys (every other key is ignored, as amtool's
/// file may hold flags amctl does not have).
#[derive(Debug, Default, Deserialize)]
pub struct Settings {
    #[serde(rename = "alertmanager.url")]
    pub url: Option<String>,
    pub author: Option<String>,
    #[serde(rename = "require-comment")]
    pub require_comment: Option<bool>,
    pub output: Option<String>,
}

impl Settings {
    /// `$HOME/.config/amctl/config.yml`, else amtool's
    /// `$HOME/.config/amtool/config.yml`, else nothing.
    pub fn load(home: Option<&Path>) -> Result<Settings> {
        let Some(home) = home else {
            return Ok(Settings::default());
        };
        let candidates: [PathBuf; 2] = [
            home.join(".config/amctl/config.yml"),
            home.join(".config/amtool/config.yml"),
        ];
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Ok(Settings::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", path.display())))?;
        if text.trim().is_empty() {
            return Ok(Settings::default());
        }
        parse_yaml(&text, path).map_err(|e| CliError::Failed(e.to_string()))
    }
}

/// amtool's default author: Go's `user.Current()`, which is the passwd
/// entry of the process' (real) uid and, when there is none, `$USER`.
/// `amctl` only when neither names anyone. `$USER` comes second because it
/// may be stale (`sudo -E`, `su` without `-`) while the uid is not.
pub fn os_user() -> String {
    let from_passwd = current_uid().and_then(|uid| {
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd_name(&passwd, uid)
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "amctl".to_owned())
}

/// The name of `uid` in an `/etc/passwd` text (`name:x:uid:gid:…`), as
/// Go's pure-Go lookup reads it: the first line with that uid wins.
fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        if line.starts_with('#') {
            return None;
        }
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid: u32 = fields.nth(1)?.trim().parse().ok()?;
        (entry_uid == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// Go's `user.Current()` asks for the real uid (`getuid`), not the
/// effective one; for amctl (never setuid) they are the same.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn current_uid() -> Option<u32> {
    // SAFETY: getuid takes no arguments, cannot fail and touches no memory.
    Some(unsafe { libc::getuid() })
}

/// libc is a dependency only on glibc Linux; elsewhere `$USER` decides.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn current_uid() -> Option<u32> {
    None
}

/// Command-line matchers. A first word without an operator means
/// `alertname=<word>`, as in amtool; each argument may hold several
/// comma-separated matchers or a `{…}` list.
pub fn parse_matchers(args: &[String]) -> Result<Vec<Matcher>> {
    let bad = |arg: &str, e: MatcherError| {
        // The regex crate explains over several lines; its last says why.
        let why = match e {
            MatcherError::Regex { value, reason } => {
                let last = reason.lines().rev().find(|l| !l.trim().is_empty());
                let last = last.unwrap_or("").trim().trim_start_matches("error: ");
                format!("invalid regular expression {value:?}: {last}")
            }
            other => other.to_string(),
        };
        CliError::Usage(format!("bad matcher {arg:?}: {why}"))
    };
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i == 0 && is_bare_word(arg) {
            out.push(Matcher::new("alertname", MatchType::Equal, arg).map_err(|e| bad(arg, e))?);
            continue;
        }
        // amtool's default mode: UTF-8 names (`"service.name"=api`), with
        // the classic parser as fallback.
        let mode = NameMode::default();
        let parsed = Matchers::parse_in(arg, mode, "cli").map_err(|e| bad(arg, e))?;
        for m in parsed.0 {
            m.validate_name(mode).map_err(|e| bad(arg, e))?;
            out.push(m);
        }
    }
    Ok(out)
}

fn is_bare_word(arg: &str) -> bool {
    !arg.is_empty() && !arg.contains(['=', '!', '~', '{', '}', ',', '"'])
}

/// `name=value` labels (alert add, routes test); the same bare-word rule.
pub fn parse_labels(args: &[String]) -> Result<crate::labels::LabelSet> {
    let mut labels = crate::labels::LabelSet::new();
    for m in parse_matchers(args)? {
        if m.kind != MatchType::Equal {
            return Err(CliError::Usage(format!(
                "bad label {m}: labels are name=value, not {}",
                m.kind.as_str()
            )));
        }
        labels.insert(m.name, m.value);
    }
    Ok(labels)
}

/// A Prometheus duration (`1h`, `2h30m`, `1d`) that must be positive.
pub fn parse_duration(flag: &str, text: &str) -> Result<chrono::Duration> {
    let d: crate::config::Duration = text
        .parse()
        .map_err(|e| CliError::Usage(format!("invalid {flag} {text:?}: {e}")))?;
    let d = chrono::Duration::from_std(d.as_std())
        .map_err(|_| CliError::Usage(format!("invalid {flag} {text:?}: too long")))?;
    if d <= chrono::Duration::zero() {
        return Err(CliError::Usage(format!("{flag} must be longer than 0s")));
    }
    Ok(d)
}

/// An RFC 3339 time (`2026-05-01T10:00:00Z`).
pub fn parse_time(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            CliError::Usage(format!(
                "invalid {flag} {text:?}: {e} (expected RFC 3339, e.g. 2026-05-01T10:00:00Z)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_bare_first_word_is_an_alertname() {
        let ms = parse_matchers(&args(&["HighLoad", "severity=~crit|warn"])).unwrap();
        let shown: Vec<String> = ms.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [r#"alertname="HighLoad""#, r#"severity=~"crit|warn""#]
        );
    }

    #[test]
    fn quoted_utf8_label_names_are_read_as_amtool_does() {
        let ms = parse_matchers(&args(&[r#""service.name"=api"#, "1a=b"])).unwrap();
        let shown: Vec<String> = ms.iter().map(ToString::to_string).collect();
        assert_eq!(shown, [r#"service.name="api""#, r#"1a="b""#]);
    }

    #[test]
    fn bad_matchers_are_usage_errors() {
        for bad in [
            &["a=~("][..],
            &["x", "justaword"],
            &[r#""service.name=api"#],
            &[r#"""=x"#],
        ] {
            let e = parse_matchers(&args(bad)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
            assert!(e.to_string().starts_with("bad matcher"), "{e}");
        }
    }

    #[test]
    fn the_passwd_entry_of_the_uid_names_the_user() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # a comment:x:1000:\n\
                      broken line\n\
                      jane:x:1000:1000:Jane:/home/jane:/bin/sh\n\
                      alias:x:1000:1000::/home/jane:/bin/sh\n";
        let cases = [(0, Some("root")), (1000, Some("jane")), (4242, None)];
        for (uid, name) in cases {
            assert_eq!(passwd_name(passwd, uid).as_deref(), name, "uid {uid}");
        }
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn the_default_author_is_the_passwd_name_of_this_process() {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        // SAFETY: as in current_uid.
        let uid = unsafe { libc::getuid() };
        if let Some(name) = passwd_name(&passwd, uid) {
            assert_eq!(os_user(), name);
        }
    }

    #[test]
    fn durations_must_be_positive_prometheus_durations() {
        assert_eq!(
            parse_duration("--duration", "1h30m").unwrap(),
            chrono::Duration::minutes(90)
        );
        assert!(parse_duration("--duration", "0s").is_err());
        assert!(parse_duration("--duration", "1.5h").is_err());
    }
}
