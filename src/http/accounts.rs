//! `/api/auth/*`: registration, login sessions and mailed links.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{ClientAddr, Json, MaybeAuthUser, cookie},
    views::MeView,
};
use crate::accounts::{LoginOutcome, Registration};

/// The HttpOnly cookie that carries the refresh token for browsers.
pub const REFRESH_COOKIE: &str = "showrunner_refresh";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 4–20 letters, digits, `.` or `_`; unique regardless of case.
    username: String,
    email: String,
    /// At least 8 characters with an upper-case letter, a lower-case letter, a digit and a symbol.
    password: String,
    /// A palette color; a random one when absent.
    color: Option<String>,
    /// An avatar preset; a random one when absent.
    avatar: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    account: MeView,
    /// `true` when a verification link was mailed and must be followed before logging in.
    verification_required: bool,
}

/// Create an account and its channel.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Created", body = RegisterResponse),
        (status = 409, description = "Username or email taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<RegisterResponse>), ApiError> {
    let account = state
        .accounts
        .register(Registration {
            username: body.username,
            email: body.email,
            password: body.password,
            color: body.color,
            avatar: body.avatar,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisterResponse {
            verification_required: !account.email_verified,
            account: MeView::new(&account, &state.accounts, &state.config),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    login: String,
    password: String,
}

/// A new session. The refresh token is also set as an HttpOnly cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// Single use: each refresh returns a new one.
    refresh_token: String,
    account: MeView,
}

fn session_response(state: &AppState, outcome: LoginOutcome) -> Response {
    let cookie = refresh_cookie(state, Some(outcome.refresh_token.expose()));
    let body = SessionResponse {
        access_token: outcome.access_token,
        token_type: "Bearer",
        expires_in: outcome.expires_in,
        refresh_token: outcome.refresh_token.expose().to_owned(),
        account: MeView::new(&outcome.account, &state.accounts, &state.config),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The refresh cookie, or an expired one that deletes it.
fn refresh_cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.config.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let value = match token {
        Some(token) => format!(
            "{REFRESH_COOKIE}={token}; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            state.accounts.settings().refresh_ttl.num_seconds()
        ),
        None => format!(
            "{REFRESH_COOKIE}=; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
        ),
    };
    HeaderValue::from_str(&value).expect("cookie value is ASCII")
}

/// Log in with username or email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "OK", body = SessionResponse),
        (status = 401, description = "Wrong login or password", body = ErrorBody),
        (status = 403, description = "Email not verified yet", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let outcome = state
        .accounts
        .login(&body.login, &body.password, &client)
        .await?;
    Ok(session_response(&state, outcome))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Not needed when the refresh cookie is sent.
    refresh_token: Option<String>,
}

/// A body that may be empty (browsers send only the cookie).
fn optional_json(body: &Bytes) -> Result<Option<RefreshRequest>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| ApiError::Malformed(format!("invalid JSON body: {e}")))
}

fn presented_refresh(headers: &HeaderMap, body: Option<RefreshRequest>) -> Option<String> {
    body.and_then(|b| b.refresh_token)
        .or_else(|| cookie(headers, REFRESH_COOKIE).map(str::to_owned))
        .filter(|t| !t.is_empty())
}

/// Trade a refresh token (body or cookie) for a new session pair. Each token works once; a
/// replayed one revokes its session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body(content = Option<RefreshRequest>),
    responses(
        (status = 200, description = "OK", body = SessionResponse),
        (status = 401, description = "Unknown, spent, expired or revoked refresh token", body = ErrorBody),
    ))]
async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = presented_refresh(&headers, optional_json(&body)?)
        .ok_or(ApiError::Unauthenticated("unauthenticated"))?;
    let outcome = state.accounts.refresh(&token).await?;
    Ok(session_response(&state, outcome))
}

/// End the session of the access token and/or of the refresh token, and clear the cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body(content = Option<RefreshRequest>),
    security((), ("bearer" = [])),
    responses((status = 204, description = "Done"), (status = 401, description = "A bad access token was sent", body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = presented_refresh(&headers, optional_json(&body)?);
    state
        .accounts
        .logout(user.map(|u| u.session), token.as_deref())
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, refresh_cookie(&state, None));
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the mailed link.
    token: String,
}

/// Follow a verification link.
#[utoipa::path(post, path = "/api/auth/verify", tag = "auth", request_body = TokenRequest,
    responses((status = 204, description = "Done"), (status = 422, description = "Invalid, expired or used link", body = ErrorBody)))]
async fn verify_email(
    State(state): State<AppState>,
    Json(body): Json<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    state.accounts.verify_email(&body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    email: String,
}

/// Mail a new verification link. The answer is the same whether or not the email is known.
#[utoipa::path(post, path = "/api/auth/verify/resend", tag = "auth", request_body = EmailRequest,
    responses((status = 202, description = "Accepted; mail is sent if the address is known"), (status = 422, description = "Invalid fields", body = ErrorBody), (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody)))]
async fn resend_verification(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .resend_verification(&body.email, &client)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Mail a password-reset link. The answer is the same whether or not the email is known.
#[utoipa::path(post, path = "/api/auth/reset", tag = "auth", request_body = EmailRequest,
    responses((status = 202, description = "Accepted; mail is sent if the address is known"), (status = 422, description = "Invalid fields", body = ErrorBody), (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody)))]
async fn request_password_reset(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<EmailRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .request_password_reset(&body.email, &client)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    token: String,
    /// The new password; same policy as registration.
    password: String,
}

/// Follow a reset link: set a new password. Every session of the account is signed out.
#[utoipa::path(post, path = "/api/auth/reset/confirm", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204, description = "Done"), (status = 422, description = "Weak password, or invalid link", body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    Json(body): Json<ResetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .reset_password(&body.token, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
