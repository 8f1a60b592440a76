//! Log lines in Alertmanager 0.34's formats, as a tracing-subscriber event
//! formatter, so log pipelines written for Alertmanager keep working.
//!
//! Alertmanager 0.34 logs through `github.com/prometheus/common/promslog`
//! (v0.70.1) in its default "slog" style, that is Go's `log/slog` handlers:
//! - `logfmt` (slog's TextHandler):
//!   `time=2026-12-03T10:00:00.123Z level=INFO source=app.rs:42 msg="Loading configuration file" file=/etc/am.yml`.
//!   `time` is local time with exactly three decimals and `Z` or `±hh:mm`;
//!   the level is upper case; `source` is the file's base name and line;
//!   a value (or key) is quoted Go-style when it is empty or holds a space,
//!   `=`, `"`, a control or a non-printable character.
//! - `json` (slog's JSONHandler): `{"time":"…","level":"INFO","source":"app.rs:42","msg":"…",…}`,
//!   the time with up to nine decimals, trailing zeros trimmed (Go's
//!   RFC3339Nano); numbers and booleans stay JSON numbers and booleans.
//!
//! An event field named `time`, `level` or `source` becomes `logged_time`
//! (…), as promslog renames them so keys stay unique. Span fields are not
//! written: klaxon logs with event fields only.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Local, SecondsFormat};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// `--log.format`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Logfmt,
    Json,
}

impl LogFormat {
    /// Parses the flag's value; anything but `json` and `logfmt` is refused
    /// by the flag parser before this is reached.
    pub fn from_flag(value: &str) -> LogFormat {
        if value == "json" {
            LogFormat::Json
        } else {
            LogFormat::Logfmt
        }
    }
}

/// Installs the global subscriber writing to stderr. `level` is
/// `--log.level`; `KLAXON_LOG` (an `EnvFilter` directive) overrides it.
pub fn init(level: &str, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    // sled (read once to convert an earlier store) and handlebars log
    // every page flush and helper call at debug; openraft every vote and
    // election at info and every retry at warn.
    let filter = EnvFilter::try_from_env("KLAXON_LOG").unwrap_or_else(|_| {
        EnvFilter::new(format!("{level},sled=off,handlebars=warn,openraft=error"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .event_format(AlertmanagerFormat {
            format,
            clock: Local::now,
        })
        .init();
}

/// The event formatter. `clock` is injectable so tests get a fixed time.
#[derive(Debug, Clone, Copy)]
pub struct AlertmanagerFormat {
    pub format: LogFormat,
    pub clock: fn() -> DateTime<Local>,
}

impl<S, N> FormatEvent<S, N> for AlertmanagerFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let source = meta.file().map(|file| {
            let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
            format!("{base}:{}", meta.line().unwrap_or(0))
        });
        let line = Line {
            time: (self.clock)(),
            level: level_name(meta.level()),
            source,
            msg: fields.message.unwrap_or_default(),
            fields: fields.pairs,
        };
        let text = match self.format {
            LogFormat::Logfmt => line.logfmt(),
            LogFormat::Json => line.json(),
        };
        writer.write_str(&text)?;
        writer.write_char('\n')
    }
}

/// slog's level names; tracing's TRACE is four below DEBUG, which slog
/// prints as `DEBUG-4`.
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "DEBUG-4",
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    pairs: Vec<(String, Value)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Value::Str(s) => s,
                other => other.to_text(),
            });
            return;
        }
        let key = match name {
            "time" | "level" | "source" => format!("logged_{name}"),
            _ => name.trim_start_matches("r#").to_owned(),
        };
        self.pairs.push((key, value));
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::Str(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::Str(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::U64(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::Str(value.to_string()));
    }
}

impl Value {
    fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::I64(n) => n.to_string(),
            Value::U64(n) => n.to_string(),
            Value::F64(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => serde_json::Value::from(s.as_str()),
            Value::I64(n) => serde_json::Value::from(*n),
            Value::U64(n) => serde_json::Value::from(*n),
            // NaN and infinities are not JSON numbers; slog writes an
            // error string there, a string keeps the line valid.
            Value::F64(n) if n.is_finite() => serde_json::Value::from(*n),
            Value::F64(n) => serde_json::Value::from(n.to_string()),
            Value::Bool(b) => serde_json::Value::from(*b),
        }
    }
}

struct Line {
    time: DateTime<Local>,
    level: &'static str,
    source: Option<String>,
    msg: String,
    fields: Vec<(String, Value)>,
}

impl Line {
    fn logfmt(&self) -> String {
        let mut out = String::with_capacity(128);
        out.push_str("time=");
        out.push_str(&logfmt_time(&self.time));
        out.push_str(" level=");
        out.push_str(self.level);
        if let Some(source) = &self.source {
            out.push_str(" source=");
            push_logfmt(&mut out, source);
        }
        out.push_str(" msg=");
        push_logfmt(&mut out, &self.msg);
        for (key, value) in &self.fields {
            out.push(' ');
            push_logfmt(&mut out, key);
            out.push('=');
            push_logfmt(&mut out, &value.to_text());
        }
        out
    }

    fn json(&self) -> String {
        // Built by hand (not a map) to keep slog's key order.
        let mut out = String::with_capacity(160);
        out.push_str("{\"time\":");
        out.push_str(&json_string(&json_time(&self.time)));
        out.push_str(",\"level\":");
        out.push_str(&json_string(self.level));
        if let Some(source) = &self.source {
            out.push_str(",\"source\":");
            out.push_str(&json_string(source));
        }
        out.push_str(",\"msg\":");
        out.push_str(&json_string(&self.msg));
        for (key, value) in &self.fields {
            out.push(',');
            out.push_str(&json_string(key));
            out.push(':');
            out.push_str(&value.to_json().to_string());
        }
        out.push('}');
        out
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Go's `2006-01-02T15:04:05.000Z07:00`: three decimals, `Z` for UTC.
fn logfmt_time(time: &DateTime<Local>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Go's RFC3339Nano: up to nine decimals with trailing zeros (and a bare
/// `.`) trimmed, `Z` for UTC.
fn json_time(time: &DateTime<Local>) -> String {
    let full = time.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let Some(dot) = full.find('.') else {
        return full;
    };
    let end = full[dot + 1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(full.len(), |i| dot + 1 + i);
    let fraction = full[dot + 1..end].trim_end_matches('0');
    if fraction.is_empty() {
        format!("{}{}", &full[..dot], &full[end..])
    } else {
        format!("{}.{fraction}{}", &full[..dot], &full[end..])
    }
}

/// Writes `s` as slog's TextHandler does: bare when safe, else Go-quoted.
fn push_logfmt(out: &mut String, s: &str) {
    if needs_quoting(s) {
        push_go_quoted(out, s);
    } else {
        out.push_str(s);
    }
}

/// slog's rule: empty, a space, `=`, `"`, an ASCII control character, or a
/// non-ASCII space or non-printable character. A backslash alone is fine.
fn needs_quoting(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| {
            if c.is_ascii() {
                c == ' ' || c == '=' || c == '"' || (c.is_ascii_control() && c != '\x7f')
            } else {
                c.is_whitespace() || c.is_control() || c == char::REPLACEMENT_CHARACTER
            }
        })
}

/// Go's `strconv.Quote`: printable characters as they are, the usual
/// backslash escapes, `\xHH` for other ASCII, `\uHHHH`/`\UHHHHHHHH` above.
fn push_go_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() && (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::TimeZone;
    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    fn fixed_time() -> DateTime<Local> {
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 3, 10, 0, 0)
            .unwrap()
            .checked_add_signed(chrono::Duration::microseconds(123_400))
            .unwrap()
            .with_timezone(&Local)
    }

    /// Logs with `emit` under the given format and returns the one line.
    fn capture(format: LogFormat, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buffer.clone())
            .with_max_level(Level::TRACE)
            .event_format(AlertmanagerFormat {
                format,
                clock: fixed_time,
            })
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    /// A small logfmt reader: `key=value` pairs with Go-quoted values.
    fn parse_logfmt(line: &str) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut rest = line.trim_end_matches('\n');
        while !rest.is_empty() {
            let eq = rest.find('=').expect("key=value");
            let key = rest[..eq].to_owned();
            rest = &rest[eq + 1..];
            let value;
            if let Some(quoted) = rest.strip_prefix('"') {
                let mut out = String::new();
                let mut chars = quoted.char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => match chars.next().unwrap().1 {
                            'n' => out.push('\n'),
                            't' => out.push('\t'),
                            other => out.push(other),
                        },
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        c => out.push(c),
                    }
                }
                value = out;
                rest = &quoted[end.expect("closing quote") + 1..];
            } else {
                let end = rest.find(' ').unwrap_or(rest.len());
                value = rest[..end].to_owned();
                rest = &rest[end..];
            }
            rest = rest.strip_prefix(' ').unwrap_or(rest);
            pairs.push((key, value));
        }
        pairs
    }

    #[test]
    fn logfmt_lines_carry_alertmanagers_keys_in_order() {
        let line = capture(LogFormat::Logfmt, || {
            tracing::info!(
                file = "/etc/alertmanager/alertmanager.yml",
                "Loading configuration file"
            );
        });
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line:?}"
        );
        let pairs = parse_logfmt(&line);
        let keys: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["time", "level", "source", "msg", "file"]);
        assert_eq!(pairs[1].1, "INFO");
        assert!(pairs[2].1.starts_with("logging.rs:"), "{}", pairs[2].1);
        assert!(!pairs[2].1.contains('/'));
        assert_eq!(pairs[3].1, "Loading configuration file");
        assert_eq!(pairs[4].1, "/etc/alertmanager/alertmanager.yml");
        assert!(line.contains(" file=/etc/alertmanager/alertmanager.yml"));
    }

    #[test]
    fn logfmt_time_has_three_decimals_and_the_offset() {
        let line = capture(LogFormat::Logfmt, || tracing::warn!("x"));
        let time = &parse_logfmt(&line)[0].1;
        let parsed = DateTime::parse_from_rfc3339(time).unwrap();
        assert_eq!(parsed, fixed_time() - chrono::Duration::microseconds(400));
        let decimals = time.split('.').nth(1).unwrap();
        assert!(decimals[..3].chars().all(|c| c.is_ascii_digit()));
        assert!(matches!(&decimals[3..4], "Z" | "+" | "-"), "{time}");
    }

    #[test]
    fn logfmt_quotes_like_go_slog() {
        let line = capture(LogFormat::Logfmt, || {
            tracing::error!(
                empty = "",
                spaced = "a b",
                equals = "a=b",
                quote = "say \"hi\"",
                newline = "a\nb",
                backslash = r"C:\x",
                unicode = "héllo",
                count = 3,
                ok = true,
                "done"
            );
        });
        for expected in [
            " level=ERROR ",
            " msg=done ",
            " empty=\"\" ",
            " spaced=\"a b\" ",
            " equals=\"a=b\" ",
            " quote=\"say \\\"hi\\\"\" ",
            " newline=\"a\\nb\" ",
            " backslash=C:\\x ",
            " unicode=héllo ",
            " count=3 ",
            " ok=true",
        ] {
            assert!(line.contains(expected), "{expected:?} not in {line:?}");
        }
        let pairs = parse_logfmt(&line);
        assert!(pairs.contains(&("newline".into(), "a\nb".into())));
        assert!(pairs.contains(&("quote".into(), "say \"hi\"".into())));
    }

    #[test]
    fn levels_are_slogs_upper_case_names() {
        for (emit, name) in [
            (
                Box::new(|| tracing::debug!("m")) as Box<dyn FnOnce()>,
                "DEBUG",
            ),
            (Box::new(|| tracing::info!("m")), "INFO"),
            (Box::new(|| tracing::warn!("m")), "WARN"),
            (Box::new(|| tracing::error!("m")), "ERROR"),
        ] {
            let line = capture(LogFormat::Logfmt, emit);
            assert_eq!(parse_logfmt(&line)[1], ("level".into(), name.into()));
        }
    }

    #[test]
    fn reserved_field_names_are_renamed_with_logged_prefix() {
        let line = capture(LogFormat::Logfmt, || {
            tracing::info!(level = "x", time = 1, source = "y", "m");
        });
        let keys: Vec<_> = parse_logfmt(&line).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "time",
                "level",
                "source",
                "msg",
                "logged_level",
                "logged_time",
                "logged_source"
            ]
        );
    }

    #[test]
    fn json_lines_are_slogs_json_objects() {
        let line = capture(LogFormat::Json, || {
            tracing::info!(receiver = "team-x", attempts = 2, ok = false, error = %"boom", "Notify success");
        });
        assert!(line.starts_with("{\"time\":\""), "{line}");
        let value: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        let object = value.as_object().unwrap();
        let keys: Vec<_> = object.keys().map(String::as_str).collect();
        // serde_json's map is sorted; the order on the line is checked above
        // and here by position.
        assert_eq!(keys.len(), 8);
        let positions: Vec<_> = [
            "\"time\"",
            "\"level\"",
            "\"source\"",
            "\"msg\"",
            "\"receiver\"",
        ]
        .iter()
        .map(|k| line.find(k).unwrap())
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
        assert_eq!(object["level"], "INFO");
        assert_eq!(object["msg"], "Notify success");
        assert_eq!(object["receiver"], "team-x");
        assert_eq!(object["attempts"], 2);
        assert_eq!(object["ok"], false);
        assert_eq!(object["error"], "boom");
        assert!(
            object["source"]
                .as_str()
                .unwrap()
                .starts_with("logging.rs:")
        );
        let time = object["time"].as_str().unwrap();
        assert_eq!(
            DateTime::parse_from_rfc3339(time).unwrap(),
            fixed_time(),
            "{time}"
        );
        assert!(time.contains(".1234") && !time.contains(".12340"), "{time}");
    }

    #[test]
    fn json_time_trims_trailing_zeros_like_rfc3339nano() {
        let whole = chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .unwrap()
            .with_timezone(&Local);
        let text = json_time(&whole);
        assert!(!text.contains('.'), "{text}");
        assert_eq!(DateTime::parse_from_rfc3339(&text).unwrap(), whole);
        let half = whole + chrono::Duration::milliseconds(500);
        assert!(json_time(&half).contains(":05.5"), "{}", json_time(&half));
    }

    #[test]
    fn go_quoting_escapes_control_characters() {
        let mut out = String::new();
        push_go_quoted(&mut out, "a\u{1}b\u{85}c\td");
        assert_eq!(out, "\"a\\x01b\\u0085c\\td\"");
    }

    #[test]
    fn format_flag_values_map_to_formats() {
        assert_eq!(LogFormat::from_flag("json"), LogFormat::Json);
        assert_eq!(LogFormat::from_flag("logfmt"), LogFormat::Logfmt);
    }
}
