//! The web UI: static HTML, CSS and JavaScript modules from `src/ui/`,
//! embedded in the binary with `include_bytes!` (no build step, no Node
//! toolchain) and served at `<route prefix>/`.
//!
//! Every URL the page uses is relative (`ui/app.js`, `api/v2/alerts`), so
//! it works under `--web.route-prefix` and behind a proxy that serves
//! klaxon at the external URL's path. The page itself only talks to the
//! API; it sits at the end of the pipeline, beside amctl.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

/// One embedded file.
pub struct Asset {
    /// Path under `ui/` in URLs, and under `src/ui/` in the source tree.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("ui/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything the page loads. A file missing here is a 404, so adding a
/// module means adding a line.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("filter_bar.js", JS),
    asset!("matchers.js", JS),
    asset!("time.js", JS),
    asset!("links.js", JS),
    asset!("timeline.js", JS),
    asset!("views/alerts.js", JS),
    asset!("views/silences.js", JS),
    asset!("views/silence_form.js", JS),
    asset!("views/silence_view.js", JS),
    asset!("views/status.js", JS),
    asset!("views/notifications.js", JS),
    asset!("views/routes.js", JS),
];

/// The browser may load only from klaxon itself: this enforces the "no
/// asset from the internet" promise even if a future change slips one in.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'self'";

/// The UI's routes for a route prefix of `""` or `"/prefix"`. They are
/// registered with the prefix spelled out rather than nested, so that both
/// `/prefix` (redirected) and `/prefix/` reach the page.
pub fn router<S: Clone + Send + Sync + 'static>(prefix: &str) -> Router<S> {
    let mut r = Router::new()
        .route(&format!("{prefix}/"), get(index))
        .route(&format!("{prefix}/ui/{{*path}}"), get(asset));
    if !prefix.is_empty() {
        // Relative asset URLs need the trailing slash, as in Alertmanager.
        r = r.route(prefix, get(add_slash));
    }
    r
}

// The UI's routes are not nested, so `Uri` is the full path.
async fn add_slash(uri: Uri) -> Redirect {
    let mut to = format!("{}/", uri.path());
    if let Some(q) = uri.query() {
        to.push('?');
        to.push_str(q);
    }
    Redirect::permanent(&to)
}

async fn index(headers: HeaderMap) -> Response {
    serve(0, &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.path == path) {
        Some(i) => serve(i, &headers),
        None => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

/// Asset file names carry no content hash (ES module imports name each
/// other plainly), so nothing may be cached blindly: every load revalidates
/// with an ETag and an unchanged file costs a 304.
fn serve(i: usize, headers: &HeaderMap) -> Response {
    let a = &ASSETS[i];
    let etag = &etags()[i];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut resp = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, a.content_type)], a.body).into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

/// One ETag per asset, a hash of its bytes. A process-wide cache is fine
/// here: it is a pure function of data compiled into the binary.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let mut h = fnv::FnvHasher::default();
                std::hash::Hasher::write(&mut h, a.body);
                format!("\"{:016x}\"", std::hash::Hasher::finish(&h))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(a: &Asset) -> &str {
        std::str::from_utf8(a.body).expect("UTF-8 asset")
    }

    #[test]
    fn index_is_the_first_asset() {
        assert_eq!(ASSETS[0].path, "index.html");
    }

    #[test]
    fn every_file_under_src_ui_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let rel = p.strip_prefix(&root).unwrap().to_str().unwrap();
                assert!(
                    ASSETS.iter().any(|a| a.path == rel),
                    "src/ui/{rel} is not in ASSETS"
                );
            }
        }
    }

    #[test]
    fn assets_name_no_absolute_url() {
        // A request outside klaxon's origin needs `scheme://` or a
        // protocol-relative `//host`. Comments are scanned too: stricter.
        for a in ASSETS {
            let t = text(a);
            for bad in ["://", "\"//", "'//", "(//", "`//", "=//"] {
                assert!(!t.contains(bad), "{} contains {bad:?}", a.path);
            }
        }
    }

    #[test]
    fn every_module_import_is_relative_and_embedded() {
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let dir = a.path.rsplit_once('/').map_or("", |(d, _)| d);
            let t = text(a);
            // Every static import ends `from "<spec>"` (possibly after a
            // multi-line list of names).
            for (at, _) in t.match_indices("from \"") {
                let rest = &t[at + 6..];
                let spec = &rest[..rest.find('"').expect("closing quote")];
                assert!(
                    spec.starts_with("./") || spec.starts_with("../"),
                    "{}: import {spec} is not relative",
                    a.path
                );
                let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    ASSETS.iter().any(|x| x.path == target),
                    "{}: imports {target}, which is not embedded",
                    a.path
                );
            }
        }
    }

    #[test]
    fn unchanged_assets_answer_304() {
        let etag = etags()[0].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        assert_eq!(serve(0, &h).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(serve(0, &HeaderMap::new()).status(), StatusCode::OK);
    }
}
