//! Extractors whose rejections speak the API's error shape.

use axum::{
    extract::{ConnectInfo, FromRequest, FromRequestParts, rejection::JsonRejection},
    http::{StatusCode, header, request::Parts},
};

use super::{AppState, error::ApiError};
use crate::{accounts::CurrentUser, domain::FieldError};

/// `axum::Json`, but a bad body is answered in the API's error shape: 415 for a missing JSON
/// content type, 400 for broken JSON, 422 naming the field for a wrong or missing field.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                // axum reports "…target type: <path>: <serde message>"; the path names the field.
                let detail = text
                    .split_once("target type: ")
                    .map(|(_, rest)| rest)
                    .unwrap_or(&text);
                let (field, message) = match detail.split_once(": ") {
                    Some((path, msg)) if !path.contains(' ') && path != "." => {
                        (path.to_owned(), msg)
                    }
                    _ => ("body".to_owned(), detail),
                };
                let field = missing_or_unknown_field(message).unwrap_or(field);
                ApiError::Validation(
                    FieldError::new(field, "invalid", strip_position(message)).into(),
                )
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::Malformed(e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge(super::JSON_BODY_LIMIT)
            }
            other => ApiError::Malformed(other.body_text()),
        }
    }
}

/// serde names a missing or unknown field only inside its message.
fn missing_or_unknown_field(message: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The signed-in user. Missing or bad credentials are 401.
#[derive(Debug, Clone)]
pub struct AuthUser(pub CurrentUser);

/// The signed-in user if there is one. Credentials that are present but bad are still 401:
/// a client that thinks it is signed in must learn that it is not.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<CurrentUser>);

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("invalid_token"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::Unauthenticated("invalid_token")),
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.ok_or(ApiError::Unauthenticated("unauthenticated"))?;
        let user =
            state
                .accounts
                .authenticate(token)
                .await
                .map_err(|e| match ApiError::from(e) {
                    ApiError::Unauthenticated(_) => ApiError::Unauthenticated("invalid_token"),
                    other => other,
                })?;
        Ok(AuthUser(user))
    }
}

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if bearer(parts)?.is_none() {
            return Ok(MaybeAuthUser(None));
        }
        AuthUser::from_request_parts(parts, state)
            .await
            .map(|AuthUser(user)| MaybeAuthUser(Some(user)))
    }
}

/// The client's address, for rate limits: the socket peer, or the first `X-Forwarded-For`
/// hop when the operator says a proxy sets it.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.http.trust_forwarded_for
            && let Some(first) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        {
            return Ok(ClientAddr(first.to_owned()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<crate::gateway::socket::Peer>>()
            .map(|ConnectInfo(peer)| peer.addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(peer))
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_yield_the_field_they_name() {
        assert_eq!(
            missing_or_unknown_field("missing field `email` at line 1 column 2").as_deref(),
            Some("email")
        );
        assert_eq!(missing_or_unknown_field("invalid type: integer"), None);
        assert_eq!(
            strip_position("invalid type: integer `1`, expected a string at line 1 column 14"),
            "invalid type: integer `1`, expected a string"
        );
    }

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; showrunner_refresh=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, "showrunner_refresh"), Some("xyz"));
        assert_eq!(cookie(&headers, "c"), None);
    }
}
