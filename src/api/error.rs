//! The one error type of the HTTP API. Bad input gets its status and a
//! message; internal failures are logged and answered with a generic text.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input that parsed but is not valid (400, as Alertmanager).
    #[error("{0}")]
    BadRequest(String),
    /// A body that is not the JSON it should be (400 with a JSON object).
    #[error("{0}")]
    Malformed(String),
    /// Input missing a required field (code 602) or with a bad format
    /// (code 601): 422, as Alertmanager's OpenAPI validation answers.
    #[error("{message}")]
    Unprocessable { code: u16, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("unsupported content type, expected application/json")]
    UnsupportedMediaType,
    /// A klaxon endpoint's own status, with a message (a JSON string).
    #[error("{1}")]
    Status(StatusCode, String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A required field is missing.
    pub fn required(field: &str) -> Self {
        ApiError::Unprocessable {
            code: 602,
            message: format!("{field} in body is required"),
        }
    }

    /// A field does not have the format the spec gives it.
    pub fn format(field: &str, kind: &str, value: &str) -> Self {
        ApiError::Unprocessable {
            code: 601,
            message: format!("{field} must be of type {kind}: {value:?}"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            // Alertmanager answers these with a bare JSON string.
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, Json(m)).into_response(),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, Json(m)).into_response(),
            ApiError::Status(status, m) => (status, Json(m)).into_response(),
            ApiError::Malformed(m) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "code": 400, "message": m })),
            )
                .into_response(),
            ApiError::Unprocessable { code, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "code": code, "message": message })),
            )
                .into_response(),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(serde_json::json!({
                    "code": 415,
                    "message": "unsupported media type, expected application/json"
                })),
            )
                .into_response(),
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json("internal error, see klaxon's log"),
                )
                    .into_response()
            }
        }
    }
}
