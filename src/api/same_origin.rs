//! No cross-site writes. Without authentication (Alertmanager's default)
//! any web page could make a visitor's browser post to klaxon: a form or a
//! `text/plain` body needs no CORS preflight. So a request that changes
//! state (POST, PUT, PATCH, DELETE) is refused when its body is of a type
//! a page can send cross-origin without asking (415), or when it carries
//! an `Origin` other than klaxon's own (403). Tools (Prometheus, amtool,
//! curl) send JSON or nothing, and no `Origin`: they pass unchanged.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// The body types a browser sends cross-origin without a preflight.
const SIMPLE_BODIES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

pub async fn refuse_cross_site(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let changes_state = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !changes_state {
        return next.run(req).await;
    }
    let media_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if let Some(media_type) = media_type.filter(|m| SIMPLE_BODIES.contains(&m.as_str())) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!(
                "a {media_type} body is refused on a request that changes state (a web page could send it cross-site); send application/json"
            ),
        );
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if !own_origin(origin, &req, &state) {
            return refuse(
                StatusCode::FORBIDDEN,
                &format!("a request from origin {origin:?} may not change state here"),
            );
        }
    }
    next.run(req).await
}

/// The origin a browser shows for klaxon's own pages: the host the request
/// was made to (either scheme: a page elsewhere cannot name this host), or
/// the `--web.external-url`'s (behind a proxy).
fn own_origin(origin: &str, req: &Request, state: &AppState) -> bool {
    let origin = origin.trim_end_matches('/');
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let by_host = !host.is_empty()
        && (origin.eq_ignore_ascii_case(&format!("http://{host}"))
            || origin.eq_ignore_ascii_case(&format!("https://{host}")));
    let external = state.options.external_url.origin().ascii_serialization();
    by_host || origin.eq_ignore_ascii_case(&external)
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "code": status.as_u16(), "message": message })),
    )
        .into_response()
}
