//! Checks Alertmanager performs after parsing, plus the global SMTP defaults
//! folded into each email config. Pure: no I/O (see files.rs for that).

use std::collections::HashSet;

use super::{Config, ConfigError, GlobalConfig, HttpConfig, RouteConfig, Secret, TlsConfig};
use crate::labels::{NameMode, is_valid_label_name};

type Result<T = ()> = std::result::Result<T, ConfigError>;

pub(super) fn validate(config: &mut Config, mode: NameMode) -> Result {
    parse_matchers(config, mode)?;
    check_global(&config.global)?;
    if let Some(t) = &config.tracing {
        super::tracing_config::check(t)?;
        if let Some(tls) = &t.tls_config {
            check_tls("tracing.tls_config", tls)?;
        }
    }
    super::event_recorder::check(&config.event_recorder)?;
    let mut names = HashSet::new();
    for (i, r) in config.receivers.iter_mut().enumerate() {
        let at = format!("receivers[{i}]");
        if r.name.is_empty() {
            return Err(ConfigError::at(
                format!("{at}.name"),
                "receiver name must not be empty",
            ));
        }
        if !names.insert(r.name.clone()) {
            return Err(ConfigError::at(
                format!("{at}.name"),
                format!("receiver name {:?} is not unique", r.name),
            ));
        }
        for (path, c) in r.integrations_mut() {
            // An `http_config` left out (equal to the default) is the
            // global one, as in Alertmanager.
            if let Some(h) = c.http_config_mut()
                && *h == HttpConfig::default()
            {
                *h = config.global.http_config.clone();
            }
            c.apply_globals(&config.global);
            c.validate(&format!("{at}.{path}"))?;
        }
    }

    let mut interval_names = HashSet::new();
    for (i, ti) in config.time_intervals.iter().enumerate() {
        let at = format!("time_intervals[{i}].name");
        if ti.name.is_empty() {
            return Err(ConfigError::at(at, "time interval name must not be empty"));
        }
        if !interval_names.insert(ti.name.as_str()) {
            return Err(ConfigError::at(
                at,
                format!("time interval {:?} is not unique", ti.name),
            ));
        }
    }

    let root = &config.route;
    if root.receiver.as_deref().unwrap_or("").is_empty() {
        return Err(ConfigError::at(
            "route.receiver",
            "the root route must specify a default receiver",
        ));
    }
    if !root.matchers.is_empty() || !root.match_.is_empty() || !root.match_re.is_empty() {
        return Err(ConfigError::at(
            "route",
            "the root route must not have any matchers",
        ));
    }
    if !root.mute_time_intervals.is_empty() || !root.active_time_intervals.is_empty() {
        return Err(ConfigError::at(
            "route",
            "the root route must not have any mute or active time intervals",
        ));
    }
    check_route("route", root, &names, &interval_names, mode)?;

    for (i, rule) in config.inhibit_rules.iter().enumerate() {
        for (j, name) in rule.equal.iter().enumerate() {
            if !mode.is_valid(name) {
                return Err(ConfigError::at(
                    format!("inhibit_rules[{i}].equal[{j}]"),
                    format!("invalid label name {name:?} in equal list"),
                ));
            }
        }
        for (what, ms) in [
            ("source_matchers", &rule.source_matchers),
            ("target_matchers", &rule.target_matchers),
        ] {
            for m in ms.iter() {
                m.validate_name(mode).map_err(|e| {
                    ConfigError::at(format!("inhibit_rules[{i}].{what}"), e.to_string())
                })?;
            }
        }
    }
    Ok(())
}

/// Parses every `matchers:` list as written (routes and inhibit rules) in
/// the running mode; a bad one is an error at its path.
fn parse_matchers(config: &mut Config, mode: NameMode) -> Result {
    config.route.parse_matchers("route", mode)?;
    for (i, rule) in config.inhibit_rules.iter_mut().enumerate() {
        for (what, lines, into) in [
            (
                "source_matchers",
                &rule.source_lines,
                &mut rule.source_matchers,
            ),
            (
                "target_matchers",
                &rule.target_lines,
                &mut rule.target_matchers,
            ),
        ] {
            let parsed = lines.parse(mode).map_err(|(j, e)| {
                ConfigError::at(format!("inhibit_rules[{i}].{what}[{j}]"), e.to_string())
            })?;
            into.0.extend(parsed.0);
            into.sort();
        }
    }
    Ok(())
}

fn check_route(
    at: &str,
    route: &RouteConfig,
    receivers: &HashSet<String>,
    intervals: &HashSet<&str>,
    mode: NameMode,
) -> Result {
    if let Some(name) = &route.receiver
        && !receivers.contains(name)
    {
        return Err(ConfigError::at(
            format!("{at}.receiver"),
            format!("undefined receiver {name:?} used in route"),
        ));
    }
    if let Some(group_by) = &route.group_by {
        let mut seen = HashSet::new();
        for (i, name) in group_by.iter().enumerate() {
            let here = format!("{at}.group_by[{i}]");
            if name == "..." {
                if group_by.len() > 1 {
                    return Err(ConfigError::at(
                        here,
                        "cannot have wildcard group_by (`...`) and other labels at the same time",
                    ));
                }
            } else if !mode.is_valid(name) {
                return Err(ConfigError::at(
                    here,
                    format!("invalid label name {name:?} in group_by list"),
                ));
            }
            if !seen.insert(name) {
                return Err(ConfigError::at(
                    here,
                    format!("duplicated label {name:?} in group_by"),
                ));
            }
        }
    }
    for (field, d) in [
        ("group_interval", route.group_interval),
        ("repeat_interval", route.repeat_interval),
    ] {
        if d.is_some_and(|d| d.0.is_zero()) {
            return Err(ConfigError::at(
                format!("{at}.{field}"),
                format!("{field} cannot be zero"),
            ));
        }
    }
    if let Some(name) = route.labels.keys().find(|n| !is_valid_label_name(n)) {
        return Err(ConfigError::at(
            format!("{at}.labels"),
            format!("invalid label name {name:?} in route labels"),
        ));
    }
    for (field, map) in [("match", &route.match_), ("match_re", &route.match_re)] {
        if let Some(name) = map.keys().find(|n| !is_valid_label_name(n)) {
            return Err(ConfigError::at(
                format!("{at}.{field}"),
                format!("invalid label name {name:?}"),
            ));
        }
    }
    for m in route.matchers.iter() {
        m.validate_name(mode)
            .map_err(|e| ConfigError::at(format!("{at}.matchers"), e.to_string()))?;
    }
    route
        .all_matchers()
        .map_err(|e| ConfigError::at(format!("{at}.match_re"), e.to_string()))?;
    for (field, names) in [
        ("mute_time_intervals", &route.mute_time_intervals),
        ("active_time_intervals", &route.active_time_intervals),
    ] {
        for (i, name) in names.iter().enumerate() {
            if !intervals.contains(name.as_str()) {
                return Err(ConfigError::at(
                    format!("{at}.{field}[{i}]"),
                    format!("undefined time interval {name:?} used in route"),
                ));
            }
        }
    }
    for (i, child) in route.routes.iter().enumerate() {
        check_route(
            &format!("{at}.routes[{i}]"),
            child,
            receivers,
            intervals,
            mode,
        )?;
    }
    Ok(())
}

pub(super) fn one_of<A, B>(at: &str, a: (&str, Option<A>), b: (&str, Option<B>)) -> Result {
    match (a.1.is_some(), b.1.is_some()) {
        (true, false) | (false, true) => Ok(()),
        (false, false) => Err(ConfigError::at(
            at,
            format!("one of {} or {} must be configured", a.0, b.0),
        )),
        (true, true) => Err(ConfigError::at(
            at,
            format!("at most one of {} and {} may be configured", a.0, b.0),
        )),
    }
}

pub(super) fn at_most_one<A, B>(at: &str, a: (&str, Option<A>), b: (&str, Option<B>)) -> Result {
    if a.1.is_some() && b.1.is_some() {
        return Err(ConfigError::at(
            at,
            format!("at most one of {} and {} may be configured", a.0, b.0),
        ));
    }
    Ok(())
}

/// A URL must be absolute http(s). The value is a secret, so it is not
/// echoed in the message.
pub(super) fn check_url(text: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(text.trim()).map_err(|e| {
        format!("not a valid absolute URL ({e}); expected http:// or https://… (an unsubstituted placeholder?)")
    })?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err("URL has no host".to_owned()),
        other => Err(format!(
            "unsupported URL scheme {other:?}: expected http or https"
        )),
    }
}

/// A URL field that `global:` may fill: present (else `missing`, the
/// Alertmanager message) and absolute http(s).
pub(super) fn check_required_url(
    at: &str,
    field: &str,
    url: Option<&String>,
    missing: &str,
) -> Result {
    let here = format!("{at}.{field}");
    match url {
        Some(u) => check_url(u).map_err(|m| ConfigError::at(here, m)),
        None => Err(ConfigError::at(here, missing)),
    }
}

pub(super) fn check_secret_url(at: &str, field: &str, url: Option<&Secret>) -> Result {
    if let Some(url) = url {
        check_url(url.expose()).map_err(|m| ConfigError::at(format!("{at}.{field}"), m))?;
    }
    Ok(())
}

/// prometheus/common refuses these in `http_headers`: the client sets them.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "upgrade",
    "te",
    "trailer",
    "transfer-encoding",
];

/// The fields prometheus/common added to `http_config` since 0.25.
fn check_http_extras(at: &str, http: &HttpConfig) -> Result {
    if http.proxy_from_environment && http.proxy_url.is_some() {
        return Err(ConfigError::at(
            format!("{at}.proxy_from_environment"),
            "if proxy_from_environment is configured, proxy_url must not be configured",
        ));
    }
    if http.proxy_from_environment && http.no_proxy.is_some() {
        return Err(ConfigError::at(
            format!("{at}.no_proxy"),
            "if proxy_from_environment is configured, no_proxy must not be configured",
        ));
    }
    if http.no_proxy.is_some() && http.proxy_url.is_none() {
        return Err(ConfigError::at(
            format!("{at}.no_proxy"),
            "if no_proxy is configured, proxy_url must also be configured",
        ));
    }
    if !http.proxy_connect_header.is_empty()
        && http.proxy_url.is_none()
        && !http.proxy_from_environment
    {
        return Err(ConfigError::at(
            format!("{at}.proxy_connect_header"),
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured",
        ));
    }
    for name in http.http_headers.keys() {
        let here = format!("{at}.http_headers.{name}");
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
            || name.to_ascii_lowercase().starts_with("x-prometheus-")
        {
            return Err(ConfigError::at(
                here,
                format!("setting header {name:?} is not allowed"),
            ));
        }
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(ConfigError::at(
                here,
                format!("invalid header name {name:?}"),
            ));
        }
    }
    Ok(())
}

pub(super) fn check_http(at: &str, http: &HttpConfig) -> Result {
    check_http_extras(at, http)?;
    if let Some(b) = &http.basic_auth {
        at_most_one(
            &format!("{at}.basic_auth"),
            ("password", b.password.as_ref()),
            ("password_file", b.password_file.as_ref()),
        )?;
        if !b.username.is_empty() && b.username_file.is_some() {
            return Err(ConfigError::at(
                format!("{at}.basic_auth"),
                "at most one of basic_auth username and username_file must be configured",
            ));
        }
    }
    if let Some(a) = &http.authorization {
        let here = format!("{at}.authorization");
        at_most_one(
            &here,
            ("credentials", a.credentials.as_ref()),
            ("credentials_file", a.credentials_file.as_ref()),
        )?;
        if a.kind.eq_ignore_ascii_case("basic") {
            return Err(ConfigError::at(
                format!("{here}.type"),
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
            ));
        }
    }
    at_most_one(
        at,
        ("bearer_token", http.bearer_token.as_ref()),
        ("bearer_token_file", http.bearer_token_file.as_ref()),
    )?;
    let bearer = http.bearer_token.is_some() || http.bearer_token_file.is_some();
    let schemes = [
        bearer,
        http.basic_auth.is_some(),
        http.authorization.is_some(),
        http.oauth2.is_some(),
    ];
    if schemes.iter().filter(|s| **s).count() > 1 {
        return Err(ConfigError::at(
            at,
            "at most one of basic_auth, oauth2, authorization and bearer_token(_file) may be configured",
        ));
    }
    if let Some(b) = &http.basic_auth {
        no_secret_ref(&format!("{at}.basic_auth.username_ref"), &b.username_ref)?;
        no_secret_ref(&format!("{at}.basic_auth.password_ref"), &b.password_ref)?;
    }
    if let Some(a) = &http.authorization {
        no_secret_ref(
            &format!("{at}.authorization.credentials_ref"),
            &a.credentials_ref,
        )?;
    }
    if let Some(o) = &http.oauth2 {
        let here = format!("{at}.oauth2");
        if o.grant_type == super::JWT_BEARER {
            at_most_one(
                &here,
                ("client_certificate_key", o.client_certificate_key.as_ref()),
                (
                    "client_certificate_key_file",
                    o.client_certificate_key_file.as_ref(),
                ),
            )?;
            no_secret_ref(
                &format!("{here}.client_certificate_key_ref"),
                &o.client_certificate_key_ref,
            )?;
            if !["", "RS256", "RS384", "RS512"].contains(&o.signature_algorithm.as_str()) {
                return Err(ConfigError::at(
                    format!("{here}.signature_algorithm"),
                    "valid signature algorithms are RS256, RS384 and RS512",
                ));
            }
            if o.client_certificate_key.is_none() && o.client_certificate_key_file.is_none() {
                return Err(ConfigError::at(
                    format!("{here}.client_certificate_key"),
                    "the jwt-bearer grant needs client_certificate_key or client_certificate_key_file",
                ));
            }
        } else {
            at_most_one(
                &here,
                ("client_secret", o.client_secret.as_ref()),
                ("client_secret_file", o.client_secret_file.as_ref()),
            )?;
            no_secret_ref(&format!("{here}.client_secret_ref"), &o.client_secret_ref)?;
        }
        check_url(&o.token_url).map_err(|m| ConfigError::at(format!("{here}.token_url"), m))?;
        if let Some(proxy) = &o.proxy_url {
            check_url(proxy).map_err(|m| ConfigError::at(format!("{here}.proxy_url"), m))?;
        }
        if let Some(tls) = &o.tls_config {
            check_tls(&format!("{here}.tls_config"), tls)?;
        }
    }
    if let Some(proxy) = &http.proxy_url {
        check_url(proxy).map_err(|m| ConfigError::at(format!("{at}.proxy_url"), m))?;
    }
    if let Some(tls) = &http.tls_config {
        check_tls(&format!("{at}.tls_config"), tls)?;
    }
    Ok(())
}

/// `*_ref` names a secret in a secret manager; Alertmanager configures none,
/// so prometheus/common refuses every reference with this message.
fn no_secret_ref(field: &str, value: &Option<String>) -> Result {
    match value {
        Some(r) if !r.is_empty() => Err(ConfigError::at(
            field,
            "cannot use secret ref without manager",
        )),
        _ => Ok(()),
    }
}

pub(super) fn check_tls(at: &str, tls: &TlsConfig) -> Result {
    let version = |field: &str, v: &Option<String>| -> Result<Option<u8>> {
        match v.as_deref() {
            None => Ok(None),
            Some("TLS10") => Ok(Some(0)),
            Some("TLS11") => Ok(Some(1)),
            Some("TLS12") => Ok(Some(2)),
            Some("TLS13") => Ok(Some(3)),
            Some(other) => Err(ConfigError::at(
                format!("{at}.{field}"),
                format!("unknown TLS version {other:?}: expected TLS10, TLS11, TLS12 or TLS13"),
            )),
        }
    };
    let min = version("min_version", &tls.min_version)?;
    let max = version("max_version", &tls.max_version)?;
    if let (Some(min), Some(max)) = (min, max)
        && max < min
    {
        return Err(ConfigError::at(
            format!("{at}.max_version"),
            "tls_config.max_version must be greater than or equal to tls_config.min_version if both are specified",
        ));
    }
    no_secret_ref(&format!("{at}.ca_ref"), &tls.ca_ref)?;
    no_secret_ref(&format!("{at}.cert_ref"), &tls.cert_ref)?;
    no_secret_ref(&format!("{at}.key_ref"), &tls.key_ref)?;
    at_most_one(
        at,
        ("ca", tls.ca.as_ref()),
        ("ca_file", tls.ca_file.as_ref()),
    )?;
    at_most_one(
        at,
        ("cert", tls.cert.as_ref()),
        ("cert_file", tls.cert_file.as_ref()),
    )?;
    at_most_one(
        at,
        ("key", tls.key.as_ref()),
        ("key_file", tls.key_file.as_ref()),
    )?;
    let cert = tls.cert.is_some() || tls.cert_file.is_some();
    let key = tls.key.is_some() || tls.key_file.is_some();
    if cert != key {
        return Err(ConfigError::at(
            at,
            "cert_file and key_file must be configured together",
        ));
    }
    Ok(())
}

fn check_global(g: &GlobalConfig) -> Result {
    if let Some(host) = &g.smtp_smarthost {
        check_host_port(host).map_err(|m| ConfigError::at("global.smtp_smarthost", m))?;
    }
    at_most_one(
        "global",
        ("smtp_auth_password", g.smtp_auth_password.as_ref()),
        (
            "smtp_auth_password_file",
            g.smtp_auth_password_file.as_ref(),
        ),
    )?;
    at_most_one(
        "global",
        ("smtp_auth_secret", g.smtp_auth_secret.as_ref()),
        ("smtp_auth_secret_file", g.smtp_auth_secret_file.as_ref()),
    )?;
    check_http("global.http_config", &g.http_config)
}

/// `host:port` with a non-empty host and a numeric port (IPv6 in brackets).
pub(super) fn check_host_port(s: &str) -> std::result::Result<(), String> {
    let (host, port) = s.rsplit_once(':').ok_or_else(|| {
        format!("address {s:?}: missing port (expected host:port, e.g. smtp.example.com:587)")
    })?;
    if host.is_empty() {
        return Err(format!("address {s:?}: missing host (expected host:port)"));
    }
    if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(format!(
            "address {s:?}: too many colons (write IPv6 hosts as [::1]:25)"
        ));
    }
    // Like Go's net.SplitHostPort, a service name (`smtp`) is a valid port.
    if port.is_empty() {
        return Err(format!("address {s:?}: missing port (expected host:port)"));
    }
    Ok(())
}
