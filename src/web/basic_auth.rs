//! HTTP basic authentication against the web config's bcrypt hashes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::config::ConfigError;

/// Remembered successful logins at most; bcrypt costs tens of
/// milliseconds a check, which every request would otherwise pay.
const MAX_REMEMBERED: usize = 1024;

/// Compared against when the user is unknown, so the answer takes as long
/// as for a known one and does not tell which names exist. Cost 10 is what
/// Go's bcrypt and `htpasswd -B` use by default.
static UNKNOWN_USER_HASH: LazyLock<String> =
    LazyLock::new(|| bcrypt::hash("klaxon unknown user", 10).expect("bcrypt hashes"));

#[derive(Clone)]
pub struct BasicAuth {
    inner: Arc<Inner>,
}

struct Inner {
    /// User name → bcrypt hash.
    users: HashMap<String, String>,
    /// (user, password) pairs already verified.
    verified: Mutex<HashSet<(String, String)>>,
}

impl BasicAuth {
    /// Checks each hash's form up front: a typo must fail at startup, not
    /// turn into refused logins.
    pub fn new(users: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        for (user, hash) in &users {
            hash.parse::<bcrypt::HashParts>().map_err(|e| {
                ConfigError::at(
                    format!("basic_auth_users.{user}"),
                    format!("not a bcrypt hash: {e}"),
                )
            })?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                users: users.into_iter().collect(),
                verified: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// Every route answers 401 without valid credentials.
    pub fn wrap(self, router: Router) -> Router {
        router.layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let auth = self.clone();
                async move { auth.check(req, next).await }
            },
        ))
    }

    async fn check(&self, req: Request, next: Next) -> Response {
        let credentials = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_basic);
        let allowed = match credentials {
            Some((user, password)) => self.verify(user, password).await,
            None => false,
        };
        if allowed {
            next.run(req).await
        } else {
            unauthorized()
        }
    }

    async fn verify(&self, user: String, password: String) -> bool {
        let key = (user, password);
        if self.remembered().contains(&key) {
            return true;
        }
        let hash = self.inner.users.get(&key.0).cloned();
        let (user, password) = key;
        // bcrypt is deliberately slow: off the async threads.
        let checked = tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| UNKNOWN_USER_HASH.clone());
            let matches = bcrypt::verify(&password, &hash).unwrap_or(false);
            (known && matches, (user, password))
        })
        .await;
        let Ok((ok, key)) = checked else {
            return false;
        };
        if ok {
            let mut remembered = self.remembered();
            if remembered.len() >= MAX_REMEMBERED {
                remembered.clear();
            }
            remembered.insert(key);
        }
        ok
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String)>> {
        self.inner.verified.lock().expect("basic auth cache lock")
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
fn unauthorized() -> Response {
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
        // Remembered now; still only for the same pair.
        assert!(auth.verify("alice".into(), "secret".into()).await);
        assert!(!auth.verify("alice".into(), "wrong".into()).await);
        assert!(!auth.verify("bob".into(), "secret".into()).await);
    }

    #[test]
    fn a_malformed_hash_is_a_config_error_naming_the_user() {
        let err = BasicAuth::new([("alice".to_owned(), "plaintext".to_owned())].into())
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("basic_auth_users.alice"));
    }
}
