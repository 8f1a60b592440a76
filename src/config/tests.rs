//! Loading tests: parsing, expansion, errors with locations, validation.

use std::path::Path;

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "HOOK" => Some("https://example.com/hook".into()),
        "TLS" => Some("false".into()),
        "RECV" => Some("team".into()),
        "MAX" => Some("7".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::load_str(text, Path::new("/etc/am/alertmanager.yml"), &env)
}

fn load_err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

const MINIMAL: &str = "route:\n  receiver: team\nreceivers:\n- name: team\n";

#[test]
fn loads_a_minimal_config_with_defaults() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.global.resolve_timeout.to_string(), "5m");
    assert_eq!(c.global.smtp_hello, "localhost");
    assert!(c.global.smtp_require_tls);
    assert!(c.global.http_config.follow_redirects);
    assert_eq!(c.route.receiver.as_deref(), Some("team"));
}

#[test]
fn expands_variables_in_strings_bools_and_numbers() {
    let c = load(
        "global:\n  smtp_require_tls: ${TLS}\nroute:\n  receiver: \"${RECV}\"\nreceivers:\n- name: team\n  webhook_configs:\n  - url: ${HOOK}\n    max_alerts: ${MAX}\n    send_resolved: ${TLS}\n",
    )
    .unwrap();
    assert!(!c.global.smtp_require_tls);
    assert_eq!(c.route.receiver.as_deref(), Some("team"));
    let w = &c.receivers[0].webhook_configs[0];
    assert_eq!(w.url.as_ref().unwrap().expose(), "https://example.com/hook");
    assert_eq!(w.max_alerts, 7);
    assert!(!w.send_resolved);
}

#[test]
fn keeps_dollars_that_are_not_references() {
    let c = load(
        "route:\n  receiver: team\n  routes:\n  - receiver: team\n    match_re:\n      job: '(a|b)$'\nreceivers:\n- name: team\n  email_configs:\n  - to: a@example.com\n    from: b@example.com\n    smarthost: smtp.example.com:587\n    auth_password: pa$$word\n    text: '{{ $labels.x }} $${NOT_EXPANDED}'\n",
    )
    .unwrap();
    let e = &c.receivers[0].email_configs[0];
    assert_eq!(e.auth_password.as_ref().unwrap().expose(), "pa$$word");
    assert_eq!(e.text.as_deref(), Some("{{ $labels.x }} ${NOT_EXPANDED}"));
    assert_eq!(c.route.routes[0].match_re["job"], "(a|b)$");
}

#[test]
fn reports_unset_variable_with_field_and_line() {
    let err = load("route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: ${NOPE}\n")
        .unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].webhook_configs[0].url"),
        "{err}"
    );
    assert!(err.message.contains("NOPE"), "{err}");
    assert!(
        err.to_string().starts_with("/etc/am/alertmanager.yml:6:"),
        "{err}"
    );
}

#[test]
fn rejects_unknown_fields_naming_field_and_line() {
    let err = load("route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://x.example/\n    title: hi\n")
        .unwrap_err();
    assert_eq!(err.line, Some(7), "{err}");
    assert!(err.to_string().contains("title"), "{err}");
    assert!(
        err.field
            .as_deref()
            .unwrap_or("")
            .starts_with("receivers[0].webhook_configs[0]"),
        "{err}"
    );
}

#[test]
fn every_alertmanager_0_34_receiver_type_is_supported() {
    let kinds: Vec<&str> = crate::config::INTEGRATION_KINDS
        .iter()
        .map(|(k, _)| *k)
        .collect();
    for kind in [
        "webhook_configs",
        "discord_configs",
        "email_configs",
        "slack_configs",
        "telegram_configs",
        "pagerduty_configs",
        "opsgenie_configs",
        "pushover_configs",
        "victorops_configs",
        "wechat_configs",
        "sns_configs",
        "webex_configs",
        "msteams_configs",
        "msteamsv2_configs",
        "jira_configs",
        "rocketchat_configs",
        "incidentio_configs",
        "mattermost_configs",
    ] {
        assert!(kinds.contains(&kind), "{kind}");
    }
    assert_eq!(kinds.len(), 18);
    // An empty list of any of them is fine, as in Alertmanager.
    load("route:\n  receiver: team\nreceivers:\n- name: team\n  telegram_configs: []\n").unwrap();
}

#[test]
fn accepts_every_alertmanager_global_key_with_its_defaults() {
    let c = load("global:\n  slack_api_url: https://hooks.slack.com/x\n  opsgenie_api_key: k\n  wechat_api_corp_id: c\n  jira_api_url: https://jira.example/\nroute:\n  receiver: a\nreceivers:\n- name: a\n").unwrap();
    let g = &c.global;
    assert_eq!(g.pagerduty_url, "https://events.pagerduty.com/v2/enqueue");
    assert_eq!(g.telegram_api_url, "https://api.telegram.org");
    assert_eq!(g.slack_app_url, "https://slack.com/api/chat.postMessage");
    assert_eq!(g.wechat_api_corp_id.as_deref(), Some("c"));
    let yaml = c.original();
    assert!(!yaml.contains("hooks.slack.com"), "{yaml}");
}

#[test]
fn supports_anchors_and_merge_keys() {
    let c = load(
        "route:\n  receiver: a\nreceivers:\n- name: a\n  discord_configs:\n  - &base\n    webhook_url: https://discord.com/api/webhooks/1/x\n    title: base\n  - <<: *base\n    title: override\n",
    )
    .unwrap();
    let d = &c.receivers[0].discord_configs;
    assert_eq!(d[1].title.as_deref(), Some("override"));
    assert_eq!(d[1].webhook_url, d[0].webhook_url);
}

#[test]
fn treats_null_sections_as_empty() {
    let c = load("global:\nroute:\n  receiver: team\n  routes:\n  - receiver: null\nreceivers:\n- name: team\ninhibit_rules:\n").unwrap();
    assert!(c.inhibit_rules.is_empty());
    assert_eq!(c.route.routes[0].receiver, None);
}

#[test]
fn folds_legacy_inhibit_matchers() {
    let c = load(
        "route:\n  receiver: team\nreceivers:\n- name: team\ninhibit_rules:\n- source_match:\n    severity: critical\n  target_match_re:\n    severity: warning|info\n  target_matchers: ['team=\"x\"']\n  equal: [alertname]\n",
    )
    .unwrap();
    let rule = &c.inhibit_rules[0];
    assert_eq!(rule.source_matchers.to_string(), "{severity=\"critical\"}");
    assert_eq!(rule.target_matchers.0.len(), 2);
    assert_eq!(rule.equal, vec!["alertname".to_owned()]);
}

#[test]
fn route_all_matchers_combines_legacy_and_new() {
    let c = load(
        "route:\n  receiver: team\n  routes:\n  - receiver: team\n    match: {b: '1'}\n    match_re: {a: 'x.*'}\n    matchers: ['c!=\"2\"']\nreceivers:\n- name: team\n",
    )
    .unwrap();
    let all = c.route.routes[0].all_matchers().unwrap();
    assert_eq!(all.0.len(), 3);
}

#[test]
fn merges_legacy_mute_time_intervals() {
    let c = load(
        "route:\n  receiver: team\n  routes:\n  - receiver: team\n    mute_time_intervals: [nights]\n    active_time_intervals: [office]\nreceivers:\n- name: team\ntime_intervals:\n- name: office\n  time_intervals:\n  - weekdays: ['monday:friday']\n    times: [{start_time: '09:00', end_time: '17:00'}]\n    location: Europe/Paris\nmute_time_intervals:\n- name: nights\n  time_intervals:\n  - times: [{start_time: '00:00', end_time: '06:00'}]\n",
    )
    .unwrap();
    let names: Vec<_> = c.time_intervals.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["office", "nights"]);
    let office = &c.time_intervals[0].time_intervals[0];
    assert_eq!(office.weekdays[0].0, InclusiveRange { begin: 1, end: 5 });
    assert_eq!(
        office.location,
        Some(IntervalLocation::Zone(chrono_tz::Europe::Paris))
    );
}

#[test]
fn reads_unquoted_clock_times_as_text() {
    let c = load(
        "route:\n  receiver: team\nreceivers:\n- name: team\ntime_intervals:\n- name: x\n  time_intervals:\n  - times:\n    - start_time: 09:00\n      end_time: 24:00\n",
    )
    .unwrap();
    let t = c.time_intervals[0].time_intervals[0].times[0];
    assert_eq!((t.start_minute, t.end_minute), (540, 1440));
}

#[test]
fn reports_bad_time_interval_with_line() {
    let err = load(
        "route:\n  receiver: team\nreceivers:\n- name: team\ntime_intervals:\n- name: x\n  time_intervals:\n  - weekdays: ['monday:sunday']\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(8), "{err}");
    assert!(
        err.field
            .as_deref()
            .unwrap_or("")
            .starts_with("time_intervals[0].time_intervals[0].weekdays"),
        "{err}"
    );
}

#[test]
fn rejects_invalid_configs_naming_the_field() {
    let cases = [
        (
            "route:\n  receiver: nobody\nreceivers:\n- name: team\n",
            "route.receiver",
            "undefined receiver",
        ),
        (
            "route: {}\nreceivers:\n- name: team\n",
            "route.receiver",
            "default receiver",
        ),
        (
            "route:\n  receiver: team\n  matchers: ['a=\"b\"']\nreceivers:\n- name: team\n",
            "route",
            "matchers",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n- name: team\n",
            "receivers[1].name",
            "not unique",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: ''\n",
            "receivers[0].name",
            "empty",
        ),
        (
            "route:\n  receiver: team\n  routes:\n  - receiver: team\n    mute_time_intervals: [nope]\nreceivers:\n- name: team\n",
            "route.routes[0].mute_time_intervals[0]",
            "undefined time interval",
        ),
        (
            "route:\n  receiver: team\n  group_by: ['...', a]\nreceivers:\n- name: team\n",
            "route.group_by[0]",
            "wildcard",
        ),
        (
            "route:\n  receiver: team\n  group_by: ['']\nreceivers:\n- name: team\n",
            "route.group_by[0]",
            "invalid label name",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  discord_configs:\n  - webhook_url: DISCORD_WEBHOOK_URL_PLACEHOLDER\n",
            "receivers[0].discord_configs[0].webhook_url",
            "not a valid absolute URL",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: ftp://x.example/\n",
            "receivers[0].webhook_configs[0].url",
            "scheme",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - send_resolved: true\n",
            "receivers[0].webhook_configs[0]",
            "one of url or url_file",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  email_configs:\n  - from: a@b.c\n    smarthost: h:25\n",
            "receivers[0].email_configs[0].to",
            "missing to",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  email_configs:\n  - to: a@b.c\n    smarthost: h:25\n",
            "receivers[0].email_configs[0].from",
            "from",
        ),
        (
            "route:\n  receiver: team\nreceivers:\n- name: team\n  email_configs:\n  - to: a@b.c\n    from: a@b.c\n    smarthost: smtp.example.com\n",
            "receivers[0].email_configs[0].smarthost",
            "missing port",
        ),
        (
            "global:\n  smtp_smarthost: nohost\nroute:\n  receiver: team\nreceivers:\n- name: team\n",
            "global.smtp_smarthost",
            "missing port",
        ),
        (
            "route:\n  receiver: team\ntime_intervals:\n- name: a\n- name: a\nreceivers:\n- name: team\n",
            "time_intervals[1].name",
            "not unique",
        ),
        (
            "route:\n  receiver: team\n  routes:\n  - receiver: team\n    group_interval: 0s\nreceivers:\n- name: team\n",
            "route.routes[0].group_interval",
            "zero",
        ),
    ];
    for (text, field, needle) in cases {
        let err = load(text).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{err}\n---\n{text}");
        assert!(err.message.contains(needle), "{err}\n---\n{text}");
    }
}

#[test]
fn applies_global_smtp_defaults_to_email_configs() {
    let c = load(
        "global:\n  smtp_from: am@example.com\n  smtp_smarthost: smtp.example.com:587\n  smtp_auth_username: am\n  smtp_auth_password: hunter2\n  smtp_require_tls: false\nroute:\n  receiver: mail\nreceivers:\n- name: mail\n  email_configs:\n  - to: ops@example.com\n  - to: dev@example.com\n    from: other@example.com\n    require_tls: true\n",
    )
    .unwrap();
    let [a, b] = &c.receivers[0].email_configs[..] else {
        panic!()
    };
    assert_eq!(a.from.as_deref(), Some("am@example.com"));
    assert_eq!(a.smarthost.as_deref(), Some("smtp.example.com:587"));
    assert_eq!(
        a.auth_password.as_ref().map(Secret::expose),
        Some("hunter2")
    );
    assert_eq!(a.require_tls, Some(false));
    assert_eq!(a.hello.as_deref(), Some("localhost"));
    assert_eq!(b.from.as_deref(), Some("other@example.com"));
    assert_eq!(b.require_tls, Some(true));
}

#[test]
fn a_missing_secret_file_loads_but_a_missing_tls_file_does_not() {
    let dir = tempfile::tempdir().unwrap();
    // Alertmanager starts on a secret that is mounted later: it is read
    // at each send.
    let text = "route:\n  receiver: d\nreceivers:\n- name: d\n  discord_configs:\n  - webhook_url_file: secrets/hook\n";
    let path = dir.path().join("am.yml");
    let c = Config::load_str(text, &path, &env).unwrap();
    let file = c.receivers[0].discord_configs[0]
        .webhook_url_file
        .as_deref()
        .unwrap();
    assert_eq!(Path::new(file), dir.path().join("secrets/hook"));
    let tls = "route:\n  receiver: d\nreceivers:\n- name: d\n  webhook_configs:\n  - url: http://x.example/\n    http_config:\n      tls_config: {ca_file: missing.pem}\n";
    let err = Config::load_str(tls, &path, &env).unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].webhook_configs[0].http_config.tls_config.ca_file")
    );
    assert!(err.message.contains("missing.pem"), "{err}");
}

#[test]
fn original_redacts_secrets_and_fills_defaults() {
    let c = load(
        "global:\n  smtp_auth_password: hunter2\nroute:\n  receiver: team\n  group_by: [alertname]\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://example.com/secret-token\n    http_config:\n      basic_auth: {username: u, password: p4ss}\n",
    )
    .unwrap();
    let yaml = c.original();
    for secret in ["hunter2", "secret-token", "p4ss"] {
        assert!(!yaml.contains(secret), "{yaml}");
    }
    for want in [
        "resolve_timeout: 5m",
        "smtp_hello: localhost",
        "follow_redirects: true",
        "send_resolved: true",
        "<secret>",
        "continue: false",
    ] {
        assert!(yaml.contains(want), "missing {want}:\n{yaml}");
    }
    assert!(format!("{:?}", c.global.smtp_auth_password).contains("<secret>"));
}

#[test]
fn oauth2_is_checked_as_prometheus_common_does() {
    let c = load(
        "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://x.example/\n    http_config:\n      oauth2: {client_id: a, client_secret: s, token_url: 'https://auth.example/token', scopes: [alerts]}\n",
    )
    .unwrap();
    assert!(!c.original().contains(": s"), "the secret stays hidden");
    let err = load_err(
        "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://x.example/\n    http_config:\n      bearer_token: t\n      oauth2: {client_id: a, token_url: 'https://auth.example/token'}\n",
    );
    assert!(err.contains("at most one of basic_auth, oauth2"), "{err}");
    let err = load_err(
        "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: https://x.example/\n    http_config:\n      oauth2: {client_id: a, token_url: 'no-scheme'}\n",
    );
    assert!(err.contains("oauth2.token_url"), "{err}");
}

#[test]
fn load_file_names_the_file_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("am.yml");
    std::fs::write(
        &path,
        "route:\n  receiver: nobody\nreceivers:\n- name: team\n",
    )
    .unwrap();
    let err = Config::load_file(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:2:3: route.receiver: ", path.display())),
        "{err}"
    );
    let missing = Config::load_file(&dir.path().join("nope.yml")).unwrap_err();
    assert!(missing.message.contains("cannot read"), "{missing}");
}

#[test]
fn validation_errors_point_at_the_line() {
    let err = load("route:\n  receiver: team\nreceivers:\n- name: team\n  discord_configs:\n  - title: x\n    webhook_url: not-a-url\n")
        .unwrap_err();
    assert_eq!(err.line, Some(7), "{err}");
    assert_eq!(
        err.field.as_deref(),
        Some("receivers[0].discord_configs[0].webhook_url")
    );
}

const EMAIL: &str = "route:\n  receiver: team\nreceivers:\n- name: team\n  email_configs:\n  - to: a@example.com\n    from: b@example.com\n    smarthost: smtp.example.com:587\n";

#[test]
fn inhibit_rules_may_be_named_and_names_may_repeat() {
    let c = load(&format!(
        "{MINIMAL}inhibit_rules:\n- name: critical mutes warning\n  source_matchers: [severity=critical]\n  target_matchers: [severity=warning]\n- name: critical mutes warning\n  source_matchers: [a=b]\n- target_matchers: [c=d]\n"
    ))
    .unwrap();
    assert_eq!(c.inhibit_rules[0].name, "critical mutes warning");
    assert_eq!(c.inhibit_rules[1].name, "critical mutes warning");
    assert_eq!(c.inhibit_rules[2].name, "");
    assert!(c.original().contains("name: critical mutes warning"));
    let err = load(&format!("{MINIMAL}inhibit_rules:\n- name: [x]\n")).unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
}

#[test]
fn email_threading_is_read_and_checked_like_alertmanager() {
    let c = load(&format!(
        "{EMAIL}    threading:\n      enabled: true\n      thread_by_date: daily\n"
    ))
    .unwrap();
    let t = &c.receivers[0].email_configs[0].threading;
    assert!(t.enabled);
    assert_eq!(t.thread_by_date, "daily");
    // Disabled, nothing else is checked (Alertmanager's order).
    load(&format!(
        "{EMAIL}    threading:\n      thread_by_date: weekly\n"
    ))
    .unwrap();

    let cases = [
        (
            "    threading:\n      enabled: true\n",
            "threading.thread_by_date",
            "must be either 'none' or 'daily'",
            9,
        ),
        (
            "    threading:\n      enabled: true\n      thread_by_date: weekly\n",
            "threading.thread_by_date",
            "must be either 'none' or 'daily'",
            11,
        ),
        (
            "    headers:\n      references: x\n    threading:\n      enabled: true\n      thread_by_date: none\n",
            "threading.enabled",
            "conflicts with custom References header",
            12,
        ),
        (
            "    headers:\n      In-Reply-To: x\n    threading:\n      enabled: true\n      thread_by_date: none\n",
            "threading.enabled",
            "conflicts with custom In-Reply-To header",
            12,
        ),
    ];
    for (extra, field, message, line) in cases {
        let err = load(&format!("{EMAIL}{extra}")).unwrap_err();
        assert_eq!(
            err.field.as_deref(),
            Some(&*format!("receivers[0].email_configs[0].{field}")),
            "{err}"
        );
        assert!(err.message.contains(message), "{err}");
        assert_eq!(err.line, Some(line), "{err}");
    }
    let err = load(&format!("{EMAIL}    threading:\n      enable: true\n")).unwrap_err();
    assert!(err.to_string().contains("enable"), "{err}");
}

#[test]
fn tracing_is_read_with_alertmanagers_defaults() {
    let c = load(&format!("{MINIMAL}tracing:\n  endpoint: collector:4317\n")).unwrap();
    let t = c.tracing.as_ref().unwrap();
    assert_eq!(t.client_type, TracingClientType::Grpc);
    assert_eq!(t.sampling_fraction, 0.0);
    assert!(load(MINIMAL).unwrap().tracing.is_none());

    let c = load(&format!(
        "{MINIMAL}tracing:\n  client_type: http\n  endpoint: 127.0.0.1:4318\n  sampling_fraction: 0.5\n  insecure: true\n  compression: gzip\n  timeout: 5s\n  headers:\n    Authorization:\n      secrets: [token123]\n    X-Tenant:\n      values: [a]\n  tls_config:\n    insecure_skip_verify: true\n"
    ))
    .unwrap();
    let t = c.tracing.as_ref().unwrap();
    assert_eq!(t.client_type, TracingClientType::Http);
    assert_eq!(t.timeout.unwrap().to_string(), "5s");
    assert_eq!(t.headers["X-Tenant"].values, ["a"]);
    let original = c.original();
    assert!(!original.contains("token123"), "{original}");
    assert!(original.contains("<secret>"), "{original}");
}

#[test]
fn bad_tracing_settings_name_the_field_and_line() {
    let cases = [
        (
            "tracing:\n  insecure: true\n",
            "tracing.endpoint",
            "endpoint must be set",
        ),
        (
            "tracing:\n  endpoint: http://collector:4318\n",
            "tracing.endpoint",
            "host:port",
        ),
        (
            "tracing:\n  endpoint: collector\n",
            "tracing.endpoint",
            "missing port",
        ),
        (
            "tracing:\n  endpoint: c:4318\n  sampling_fraction: 2\n",
            "tracing.sampling_fraction",
            "between 0 and 1",
        ),
        (
            "tracing:\n  endpoint: c:4318\n  compression: zstd\n",
            "tracing.compression",
            "valid options: gzip",
        ),
        (
            "tracing:\n  endpoint: c:4318\n  headers:\n    X-A: {}\n",
            "tracing.headers.X-A",
            "values, secrets or files",
        ),
    ];
    for (extra, field, message) in cases {
        let err = load(&format!("{MINIMAL}{extra}")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{err}");
        assert!(err.message.contains(message), "{err}");
        assert!(err.line.is_some_and(|l| l >= 5), "{err}");
    }
    let err = load(&format!(
        "{MINIMAL}tracing:\n  client_type: udp\n  endpoint: c:1\n"
    ))
    .unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    assert!(err.to_string().contains("udp"), "{err}");
}

#[test]
fn route_labels_are_read_and_their_names_and_templates_checked() {
    let c = load(
        "route:\n  receiver: team\n  labels:\n    team: '{{ .GroupLabels.x }}'\n  routes:\n  - labels: {tier: a}\nreceivers:\n- name: team\n",
    )
    .unwrap();
    assert_eq!(c.route.labels["team"], "{{ .GroupLabels.x }}");
    assert_eq!(c.route.routes[0].labels["tier"], "a");

    let err = load(
        "route:\n  receiver: team\n  routes:\n  - labels:\n      '': x\nreceivers:\n- name: team\n",
    )
    .unwrap_err();
    assert_eq!(
        err.field.as_deref(),
        Some("route.routes[0].labels"),
        "{err}"
    );
    assert!(err.message.contains("in route labels"), "{err}");
    assert_eq!(err.line, Some(4), "{err}");

    let err = load("route:\n  receiver: team\n  labels:\n    team: '{{ .GroupLabels.x '\nreceivers:\n- name: team\n")
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("route.labels.team"), "{err}");
}

#[test]
fn newer_http_config_fields_are_read_and_checked() {
    let hook = |http: &str| {
        format!(
            "route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n  - url: http://h/x\n    http_config:\n{http}"
        )
    };
    let c = load(&hook(
        "      proxy_url: http://proxy:3128\n      no_proxy: localhost,10.0.0.0/8\n      http_headers:\n        X-Tenant:\n          values: [a]\n          secrets: [tok]\n",
    ))
    .unwrap();
    let h = &c.receivers[0].webhook_configs[0].http_config;
    assert_eq!(h.no_proxy.as_deref(), Some("localhost,10.0.0.0/8"));
    assert_eq!(h.http_headers["X-Tenant"].values, ["a"]);
    assert!(!c.original().contains("tok\n"));
    load(&hook("      proxy_from_environment: true\n")).unwrap();
    load(&hook(
        "      proxy_from_environment: true\n      proxy_connect_header:\n        Proxy-Authorization: [x]\n      tls_config:\n        min_version: TLS12\n        max_version: TLS13\n",
    ))
    .unwrap();
    let c = load(&hook(
        "      proxy_url: http://p:1\n      proxy_connect_header:\n        Proxy-Authorization: [Basic eDp5]\n",
    ))
    .unwrap();
    assert!(
        !c.original().contains("eDp5"),
        "connect headers are secrets"
    );

    let cases = [
        (
            "      proxy_from_environment: true\n      proxy_url: http://p:1\n",
            "http_config.proxy_from_environment",
            "proxy_url must not be configured",
        ),
        (
            "      no_proxy: localhost\n",
            "http_config.no_proxy",
            "proxy_url must also be configured",
        ),
        (
            "      proxy_connect_header:\n        Proxy-Authorization: [x]\n",
            "http_config.proxy_connect_header",
            "proxy_url or proxy_from_environment must also be configured",
        ),
        (
            "      proxy_from_environment: true\n      no_proxy: localhost\n",
            "http_config.no_proxy",
            "no_proxy must not be configured",
        ),
        (
            "      basic_auth:\n        username: u\n        password_ref: vault/am\n",
            "http_config.basic_auth.password_ref",
            "cannot use secret ref without manager",
        ),
        (
            "      authorization:\n        credentials_ref: vault/am\n",
            "http_config.authorization.credentials_ref",
            "cannot use secret ref without manager",
        ),
        (
            "      tls_config:\n        ca_ref: vault/ca\n",
            "http_config.tls_config.ca_ref",
            "cannot use secret ref without manager",
        ),
        (
            "      tls_config:\n        min_version: TLS13\n        max_version: TLS12\n",
            "http_config.tls_config.max_version",
            "max_version must be greater than or equal to tls_config.min_version",
        ),
        (
            "      oauth2:\n        client_id: c\n        token_url: http://t/\n        client_secret_ref: vault/s\n",
            "http_config.oauth2.client_secret_ref",
            "cannot use secret ref without manager",
        ),
        (
            "      oauth2:\n        client_id: c\n        token_url: http://t/\n        grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer\n        client_certificate_key: k\n        signature_algorithm: HS256\n",
            "http_config.oauth2.signature_algorithm",
            "valid signature algorithms are RS256, RS384 and RS512",
        ),
        (
            "      oauth2:\n        client_id: c\n        token_url: http://t/\n        grant_type: urn:ietf:params:oauth:grant-type:jwt-bearer\n",
            "http_config.oauth2.client_certificate_key",
            "needs client_certificate_key",
        ),
        (
            "      http_headers:\n        Authorization:\n          values: [x]\n",
            "http_config.http_headers.Authorization",
            "is not allowed",
        ),
    ];
    for (http, field, message) in cases {
        let err = load(&hook(http)).unwrap_err();
        assert_eq!(
            err.field.as_deref(),
            Some(&*format!("receivers[0].webhook_configs[0].{field}")),
            "{err}"
        );
        assert!(err.message.contains(message), "{err}");
        assert!(err.line.is_some(), "{err}");
    }
}

#[test]
fn an_integration_without_http_config_uses_the_global_one() {
    let c = load("global:\n  http_config:\n    proxy_url: http://proxy.example:3128\nroute:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: http://a.example/\n  - url: http://b.example/\n    http_config:\n      follow_redirects: false\n").unwrap();
    let w = &c.receivers[0].webhook_configs;
    assert_eq!(
        w[0].http_config.proxy_url.as_deref(),
        Some("http://proxy.example:3128")
    );
    // Its own http_config replaces the global one whole, as in Alertmanager.
    assert_eq!(w[1].http_config.proxy_url, None);
    assert!(!w[1].http_config.follow_redirects);
}

#[test]
fn event_recorder_outputs_are_read_and_checked_as_alertmanager_does() {
    let c = load(&format!(
        "{MINIMAL}event_recorder:\n  file_outputs:\n  - path: events.jsonl\n  webhook_outputs:\n  - url: https://events.example.com/in?token=s3cr3t\n    batch: true\n    batch_max_events: 10\n  kafka_outputs:\n  - brokers: [k1:9092]\n    topic: events\n  stdout_outputs:\n  - {{}}\n"
    ))
    .unwrap();
    let e = &c.event_recorder;
    assert_eq!(
        e.file_outputs[0].path, "/etc/am/events.jsonl",
        "relative to the config"
    );
    assert!(e.webhook_outputs[0].batch);
    assert_eq!(e.kafka_outputs[0].topic, "events");
    assert_eq!(e.stdout_outputs.len(), 1);
    assert!(!c.original().contains("s3cr3t"), "the URL is a secret");
    assert!(load(MINIMAL).unwrap().event_recorder.is_empty());

    for (block, field, message) in [
        (
            "file_outputs:\n  - path: ''",
            "event_recorder.file_outputs[0].path",
            "requires a path",
        ),
        (
            "webhook_outputs:\n  - workers: 2",
            "event_recorder.webhook_outputs[0].url",
            "requires a url",
        ),
        (
            "webhook_outputs:\n  - url: /relative",
            "event_recorder.webhook_outputs[0].url",
            "absolute http(s) url",
        ),
        (
            "webhook_outputs:\n  - url: http://h/\n    batch_max_events: 5",
            "event_recorder.webhook_outputs[0].batch",
            "batch settings require batch: true",
        ),
        (
            "webhook_outputs:\n  - url: http://h/\n    batch: true\n    batch_max_bytes: -1",
            "event_recorder.webhook_outputs[0].batch",
            "cannot be negative",
        ),
        (
            "kafka_outputs:\n  - topic: t",
            "event_recorder.kafka_outputs[0].brokers",
            "at least one broker",
        ),
        (
            "kafka_outputs:\n  - brokers: [k:1]",
            "event_recorder.kafka_outputs[0].topic",
            "requires a topic",
        ),
        (
            "kafka_outputs:\n  - brokers: [k:1]\n    topic: t\n    acks: most",
            "event_recorder.kafka_outputs[0].acks",
            "unknown acks",
        ),
        (
            "kafka_outputs:\n  - brokers: [k:1]\n    topic: t\n    format: xml",
            "event_recorder.kafka_outputs[0].format",
            "unknown format",
        ),
        ("other_outputs: []", "event_recorder", "other_outputs"),
    ] {
        let err = load(&format!("{MINIMAL}event_recorder:\n  {block}\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(message), "{block}: {text}");
        assert!(
            text.contains(field) || err.line.is_some(),
            "{block}: {text}"
        );
    }
}
