//! `--web.timeout` and `--web.get-concurrency`, as Alertmanager's
//! `limitHandler`: every GET needs one of a fixed number of slots and is
//! refused with 503 when none is free (never queued); with a timeout set,
//! a request that runs longer is answered with 503 and its work dropped.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::flags::go_duration;
use crate::metrics::{LimitMetrics, get_method};

#[derive(Clone)]
pub struct RequestLimits {
    gets: Arc<Semaphore>,
    get_concurrency: usize,
    timeout: Option<Duration>,
    metrics: LimitMetrics,
}

impl RequestLimits {
    /// `get_concurrency` above 0; `timeout` `None` for none.
    pub fn new(get_concurrency: usize, timeout: Option<Duration>, metrics: LimitMetrics) -> Self {
        let get_concurrency = get_concurrency.max(1);
        Self {
            gets: Arc::new(Semaphore::new(get_concurrency)),
            get_concurrency,
            timeout,
            metrics,
        }
    }

    /// `router` with the limits in front of every route.
    pub fn wrap(self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(self, limit_request))
    }
}

/// Go's `http.Error` body type.
fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Decrements the in-flight gauge however the request ends.
struct InFlight(LimitMetrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .http_requests_in_flight
            .get_or_create(&get_method())
            .dec();
    }
}

async fn limit_request(State(limits): State<RequestLimits>, req: Request, next: Next) -> Response {
    let _slot = if req.method() == Method::GET {
        match limits.gets.clone().try_acquire_owned() {
            Ok(permit) => {
                limits
                    .metrics
                    .http_requests_in_flight
                    .get_or_create(&get_method())
                    .inc();
                Some((permit, InFlight(limits.metrics.clone())))
            }
            Err(_) => {
                limits
                    .metrics
                    .http_concurrency_limit_exceeded
                    .get_or_create(&get_method())
                    .inc();
                return plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "Limit of concurrent GET requests reached ({}), try again later.\n",
                        limits.get_concurrency
                    ),
                );
            }
        }
    } else {
        None
    };
    let Some(timeout) = limits.timeout else {
        return next.run(req).await;
    };
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        // Go's http.TimeoutHandler: 503 and the configured message.
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Exceeded configured timeout of {}.\n",
                go_duration::format(timeout)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn call(router: &Router, method: Method, path: &str) -> (StatusCode, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn slow_router(limits: RequestLimits) -> Router {
        limits.wrap(
            Router::new()
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        "done"
                    })
                    .post(|| async {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        "done"
                    }),
                )
                .route("/fast", get(|| async { "ok" })),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_over_the_timeout_gets_alertmanagers_503() {
        let limits = RequestLimits::new(
            8,
            Some(Duration::from_millis(1500)),
            LimitMetrics::default(),
        );
        let router = slow_router(limits);
        let start = tokio::time::Instant::now();
        let (status, body) = call(&router, Method::GET, "/slow").await;
        assert_eq!(start.elapsed(), Duration::from_millis(1500));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "Exceeded configured timeout of 1.5s.\n");
        // Every method, not only GET.
        let (status, _) = call(&router, Method::POST, "/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(call(&router, Method::GET, "/fast").await.0, StatusCode::OK);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_timeout_a_slow_request_finishes() {
        let router = slow_router(RequestLimits::new(8, None, LimitMetrics::default()));
        let (status, body) = call(&router, Method::GET, "/slow").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "done"));
    }

    #[tokio::test(start_paused = true)]
    async fn gets_beyond_the_concurrency_limit_are_refused_not_queued() {
        let metrics = LimitMetrics::default();
        let router = slow_router(RequestLimits::new(2, None, metrics.clone()));
        let first = tokio::spawn({
            let r = router.clone();
            async move { call(&r, Method::GET, "/slow").await }
        });
        let second = tokio::spawn({
            let r = router.clone();
            async move { call(&r, Method::GET, "/slow").await }
        });
        // Both take their slots before the clock moves.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let in_flight = || {
            metrics
                .http_requests_in_flight
                .get_or_create(&get_method())
                .get()
        };
        assert_eq!(in_flight(), 2);
        let (status, body) = call(&router, Method::GET, "/fast").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            "Limit of concurrent GET requests reached (2), try again later.\n"
        );
        let exceeded = metrics
            .http_concurrency_limit_exceeded
            .get_or_create(&get_method())
            .get();
        assert_eq!(exceeded, 1);
        // Other methods are not limited.
        let post = tokio::spawn({
            let r = router.clone();
            async move { call(&r, Method::POST, "/slow").await }
        });
        assert_eq!(first.await.unwrap().0, StatusCode::OK);
        assert_eq!(second.await.unwrap().0, StatusCode::OK);
        assert_eq!(post.await.unwrap().0, StatusCode::OK);
        assert_eq!(in_flight(), 0);
        assert_eq!(call(&router, Method::GET, "/fast").await.0, StatusCode::OK);
    }
}
