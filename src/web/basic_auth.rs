//! HTTP basic authentication against the web config's bcrypt hashes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::config::ConfigError;

/// Checks remembered at most, right or wrong: bcrypt costs tens of
/// milliseconds a check, which every request would otherwise pay.
const MAX_REMEMBERED: usize = 1024;

/// bcrypt reads no further into a password; remembering no more keeps
/// huge passwords from filling memory.
const BCRYPT_MAX_BYTES: usize = 72;

#[derive(Clone)]
pub struct BasicAuth {
    inner: Arc<Inner>,
}

struct Inner {
    /// User name → bcrypt hash.
    users: HashMap<String, String>,
    /// Checked for an unknown user, at the highest cost of the known
    /// hashes: the answer takes as long and does not tell which names exist.
    decoy: String,
    /// (user, password's first 72 bytes) → whether they matched.
    checked: Mutex<HashMap<(String, Vec<u8>), bool>>,
    /// One bcrypt at a time, as exporter-toolkit does: a flood of wrong
    /// passwords takes one core, not all of them and the blocking pool.
    bcrypt: tokio::sync::Semaphore,
}

impl BasicAuth {
    /// Checks each hash's form up front: a typo must fail at startup, not
    /// turn into refused logins.
    pub fn new(users: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut cost = 4;
        for (user, hash) in &users {
            let parts = hash.parse::<bcrypt::HashParts>().map_err(|e| {
                ConfigError::at(
                    format!("basic_auth_users.{user}"),
                    format!("not a bcrypt hash: {e}"),
                )
            })?;
            cost = cost.max(parts.get_cost());
        }
        let decoy = bcrypt::hash("klaxon: no such user", cost)
            .map_err(|e| ConfigError::at("basic_auth_users", format!("bcrypt cost {cost}: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                users: users.into_iter().collect(),
                decoy,
                checked: Mutex::new(HashMap::new()),
                bcrypt: tokio::sync::Semaphore::new(1),
            }),
        })
    }

    /// Whether the request's `Authorization` header names a user with the
    /// right password.
    pub async fn allows(&self, headers: &HeaderMap) -> bool {
        let credentials = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_basic);
        match credentials {
            Some((user, password)) => self.verify(user, password).await,
            None => false,
        }
    }

    async fn verify(&self, user: String, password: String) -> bool {
        let mut password = password.into_bytes();
        password.truncate(BCRYPT_MAX_BYTES);
        let key = (user, password);
        if let Some(known) = self.remembered(&key) {
            return known;
        }
        let Ok(_turn) = self.inner.bcrypt.acquire().await else {
            return false;
        };
        // The same pair may have been checked while this one waited.
        if let Some(known) = self.remembered(&key) {
            return known;
        }
        let inner = self.inner.clone();
        // bcrypt is deliberately slow: off the async threads.
        let checked = tokio::task::spawn_blocking(move || {
            let ok = inner.check(&key.0, &key.1);
            (ok, key)
        })
        .await;
        let Ok((ok, key)) = checked else {
            return false;
        };
        let mut remembered = self.inner.checked.lock().expect("basic auth cache lock");
        if remembered.len() >= MAX_REMEMBERED {
            remembered.clear();
        }
        remembered.insert(key, ok);
        ok
    }

    fn remembered(&self, key: &(String, Vec<u8>)) -> Option<bool> {
        let remembered = self.inner.checked.lock().expect("basic auth cache lock");
        remembered.get(key).copied()
    }
}

impl Inner {
    fn check(&self, user: &str, password: &[u8]) -> bool {
        match self.users.get(user) {
            Some(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            None => {
                let _ = bcrypt::verify(password, &self.decoy);
                false
            }
        }
    }
}

/// `Basic base64(user:password)`; the password may contain colons.
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// As exporter-toolkit answers.
pub fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic")],
        "Unauthorized\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_with_colons_in_the_password() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:pa:ss")
        );
        assert_eq!(parse_basic(&header), Some(("alice".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[tokio::test]
    async fn only_the_right_password_of_a_known_user_passes() {
        let hash = bcrypt::hash("secret", 4).unwrap();
        let auth = BasicAuth::new([("alice".to_owned(), hash)].into()).unwrap();
        assert!(auth.verify("alice".into(), "secret".into()).await);
        // Remembered now, right or wrong; still only for the same pair.
        for _ in 0..2 {
            assert!(auth.verify("alice".into(), "secret".into()).await);
            assert!(!auth.verify("alice".into(), "wrong".into()).await);
            assert!(!auth.verify("bob".into(), "secret".into()).await);
        }
        // bcrypt reads 72 bytes: so does the cache, and both agree.
        let long = "x".repeat(100);
        let hash = bcrypt::hash(&long, 4).unwrap();
        let auth = BasicAuth::new([("carol".to_owned(), hash)].into()).unwrap();
        assert!(auth.verify("carol".into(), long.clone()).await);
        assert!(
            auth.verify("carol".into(), format!("{}y", &long[..72]))
                .await
        );
    }

    #[test]
    fn a_malformed_hash_is_a_config_error_naming_the_user() {
        let err = BasicAuth::new([("alice".to_owned(), "plaintext".to_owned())].into())
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("basic_auth_users.alice"));
    }
}
