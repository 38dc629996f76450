//! The one error type of the HTTP boundary, its one status mapping and its one JSON shape.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    accounts::AccountError,
    actors::{ChannelError, stage::StageError},
    assets::UploadError,
    domain::{FieldError, FieldErrors},
    stages::ParticipantToken,
    store::UniqueField,
};

/// Every error the API answers with. Internal details are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("forbidden: {1}")]
    Forbidden(&'static str, &'static str),
    #[error("not found")]
    NotFound(&'static str),
    #[error("conflict on {0}")]
    Conflict(UniqueField),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("rate limited")]
    Throttled(u64),
    #[error("refused by the channel: {0}")]
    Channel(ChannelError),
    #[error("refused by the stage: {0}")]
    Stage(StageError),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// A full stage offers a subscribe-only token to watch it instead (`stage_full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub spectator_token: Option<ParticipantToken>,
}

impl ErrorBody {
    pub fn new(error: ErrorDetail) -> Self {
        ErrorBody {
            error,
            spectator_token: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `validation_failed`, `username_taken`.
    pub code: String,
    /// For people.
    pub message: String,
    /// Per-field problems, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(..) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Channel(e) => match e {
                ChannelError::NotFound
                | ChannelError::NoSuchMessage
                | ChannelError::NoPoll
                | ChannelError::NoAction => StatusCode::NOT_FOUND,
                ChannelError::SignInRequired => StatusCode::UNAUTHORIZED,
                ChannelError::Forbidden(_)
                | ChannelError::Banned
                | ChannelError::TimedOut(_)
                | ChannelError::FollowersOnly(_) => StatusCode::FORBIDDEN,
                ChannelError::SlowMode(_) | ChannelError::RateLimited(_) => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                ChannelError::Invalid(_)
                | ChannelError::BannedWord
                | ChannelError::InvalidOption => StatusCode::UNPROCESSABLE_ENTITY,
                ChannelError::PollClosed | ChannelError::AlreadyVoted | ChannelError::StageLive => {
                    StatusCode::CONFLICT
                }
                ChannelError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            ApiError::Stage(e) => match e {
                StageError::NoStage | StageError::NoRequest | StageError::NotAParticipant => {
                    StatusCode::NOT_FOUND
                }
                StageError::Forbidden(_) | StageError::InvalidInvite => StatusCode::FORBIDDEN,
                StageError::Full(_)
                | StageError::AlreadyOnStage
                | StageError::AlreadyRequested
                | StageError::AlreadyLive => StatusCode::CONFLICT,
                StageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> ErrorDetail {
        let plain = |code: &str, message: String| ErrorDetail {
            code: code.into(),
            message,
            fields: Vec::new(),
        };
        match self {
            ApiError::Validation(errors) => ErrorDetail {
                code: "validation_failed".into(),
                message: errors
                    .0
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                fields: errors
                    .0
                    .iter()
                    .map(|e| FieldProblem {
                        field: e.field.to_string(),
                        code: e.code.into(),
                        message: e.message.clone(),
                    })
                    .collect(),
            },
            ApiError::Malformed(why) => plain("malformed_request", why.clone()),
            ApiError::Unauthenticated(code) => plain(code, "authentication is required".into()),
            ApiError::Forbidden(code, why) => plain(code, (*why).into()),
            ApiError::NotFound(what) => plain("not_found", format!("{what} not found")),
            ApiError::Conflict(field) => ErrorDetail {
                code: format!("{field}_taken"),
                message: format!("this {field} is already taken"),
                fields: vec![FieldProblem {
                    field: field.to_string(),
                    code: "taken".into(),
                    message: "is already taken".into(),
                }],
            },
            ApiError::PayloadTooLarge(limit) => plain(
                "payload_too_large",
                format!("the body is larger than the limit of {limit} bytes"),
            ),
            ApiError::UnsupportedMediaType => plain(
                "unsupported_media_type",
                "the file is not a PNG, JPEG or WebP image".into(),
            ),
            ApiError::Throttled(secs) => plain(
                "rate_limited",
                format!("too many attempts; try again in {secs} seconds"),
            ),
            ApiError::Channel(ChannelError::Invalid(errors)) => {
                ApiError::Validation(errors.clone()).detail()
            }
            ApiError::Channel(e @ ChannelError::BannedWord) => ErrorDetail {
                code: e.code().into(),
                message: e.to_string(),
                fields: vec![FieldProblem {
                    field: "text".into(),
                    code: "banned_word".into(),
                    message: e.to_string(),
                }],
            },
            ApiError::Channel(e @ ChannelError::InvalidOption) => ErrorDetail {
                code: e.code().into(),
                message: e.to_string(),
                fields: vec![FieldProblem {
                    field: "option".into(),
                    code: "invalid_option".into(),
                    message: e.to_string(),
                }],
            },
            ApiError::Channel(ChannelError::Unavailable(_)) => plain(
                "unavailable",
                "a service this request needs is unavailable; try again".into(),
            ),
            ApiError::Channel(e) => plain(e.code(), e.to_string()),
            ApiError::Stage(StageError::Unavailable(_)) => plain(
                "unavailable",
                "a service this request needs is unavailable; try again".into(),
            ),
            ApiError::Stage(e) => plain(e.code(), e.to_string()),
            ApiError::Unavailable(_) => plain(
                "unavailable",
                "a service this request needs is unavailable; try again".into(),
            ),
            ApiError::Internal(_) => plain("internal", "something went wrong on our side".into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Unavailable(detail)
            | ApiError::Channel(ChannelError::Unavailable(detail))
            | ApiError::Stage(StageError::Unavailable(detail)) => {
                tracing::warn!(%detail, "dependency unavailable")
            }
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let mut body = ErrorBody::new(self.detail());
        if let ApiError::Stage(StageError::Full(Some(token))) = &self {
            body.spectator_token = Some((**token).clone());
        }
        let mut response = (status, Json(body)).into_response();
        match &self {
            ApiError::Channel(ChannelError::SlowMode(secs) | ChannelError::RateLimited(secs)) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            ApiError::Throttled(secs) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            ApiError::Unauthenticated(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<ChannelError> for ApiError {
    fn from(e: ChannelError) -> Self {
        ApiError::Channel(e)
    }
}

impl From<StageError> for ApiError {
    fn from(e: StageError) -> Self {
        ApiError::Stage(e)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::Validation(e)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation(e.into())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(errors) => ApiError::Validation(errors),
            AccountError::Taken(field) => ApiError::Conflict(field),
            AccountError::BadCredentials => ApiError::Unauthenticated("invalid_credentials"),
            AccountError::EmailNotVerified => ApiError::Forbidden(
                "email_not_verified",
                "verify your email address first: follow the link we mailed you",
            ),
            AccountError::Unauthenticated => ApiError::Unauthenticated("unauthenticated"),
            AccountError::NotFound => ApiError::NotFound("resource"),
            AccountError::Throttled { retry_after_secs } => ApiError::Throttled(retry_after_secs),
            AccountError::Upload(UploadError::TooLarge { limit }) => {
                ApiError::PayloadTooLarge(limit)
            }
            AccountError::Upload(UploadError::Unsupported) => ApiError::UnsupportedMediaType,
            AccountError::Upload(other) => ApiError::Validation(
                FieldError::new("file", "unreadable", other.to_string()).into(),
            ),
            AccountError::Unavailable(msg) => ApiError::Unavailable(msg),
            AccountError::Internal(msg) => ApiError::Internal(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_mistakes_never_map_to_a_server_error() {
        let client_errors = [
            ApiError::Validation(FieldErrors::default()),
            ApiError::Malformed("x".into()),
            ApiError::Unauthenticated("unauthenticated"),
            ApiError::Forbidden("x", "y"),
            ApiError::NotFound("x"),
            ApiError::Conflict(UniqueField::Email),
            ApiError::PayloadTooLarge(1),
            ApiError::UnsupportedMediaType,
            ApiError::Throttled(3),
        ];
        for e in client_errors {
            assert!(e.status_code().is_client_error(), "{e:?}");
        }
    }

    async fn body_of(e: ApiError) -> (StatusCode, serde_json::Value) {
        let response = e.into_response();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body reads");
        (
            status,
            serde_json::from_slice(&bytes).expect("the body is JSON"),
        )
    }

    #[tokio::test]
    async fn a_full_stage_answers_conflict_with_its_spectator_token() {
        let token = ParticipantToken {
            token: "watch-only".into(),
            participant_id: "p-1".into(),
            capabilities: vec![crate::stages::Capability::Subscribe],
            expires_at: chrono::Utc::now(),
        };
        let (status, body) = body_of(StageError::Full(Some(Box::new(token))).into()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["code"], "stage_full");
        assert_eq!(body["spectator_token"]["token"], "watch-only");

        let (_, body) = body_of(StageError::Full(None).into()).await;
        assert!(body.get("spectator_token").is_none(), "{body}");
    }

    #[tokio::test]
    async fn an_unavailable_stage_keeps_its_cause_to_the_log() {
        let cause = StageError::Unavailable("dial tcp 10.0.0.7:443: refused".into());
        let (status, body) = body_of(cause.into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["error"]["code"], "unavailable");
        assert!(!body.to_string().contains("10.0.0.7"), "{body}");
    }

    #[test]
    fn a_conflict_names_the_field() {
        let detail = ApiError::Conflict(UniqueField::Username).detail();
        assert_eq!(detail.code, "username_taken");
        assert_eq!(detail.fields[0].field, "username");
    }
}
