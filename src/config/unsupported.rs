//! Keys Alertmanager knows that klaxon does not support, explained rather
//! than reported as merely unknown. (Every receiver type of Alertmanager
//! 0.34 is supported; what is left is inside `http_config`.)

/// The message for an unsupported key, if `key` is one.
pub(super) fn message(key: &str) -> Option<String> {
    (key == "oauth2").then(|| {
        "klaxon does not support oauth2 in http_config (yet); use authorization or basic_auth"
            .to_owned()
    })
}
