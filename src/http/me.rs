//! `/api/me/*`: the signed-in user's own account, profile and channel.

use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, State, rejection::BytesRejection},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouterExt},
    routes,
};

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json},
    views::MeView,
};
use crate::{accounts::ProfileEdit, assets::AssetKind};

pub fn routes() -> OpenApiRouter<AppState> {
    // Uploads may be larger than JSON bodies; the per-kind limit is checked on the bytes.
    let upload_limit = DefaultBodyLimit::max(AssetKind::Banner.max_bytes() + 1);
    OpenApiRouter::new()
        .routes(routes!(me, delete_account))
        .routes(routes!(update_profile))
        .routes(routes!(upload_avatar).layer(upload_limit))
        .routes(routes!(upload_banner, remove_banner).layer(upload_limit))
        .routes(routes!(rename))
        .routes(routes!(change_password))
        .routes(routes!(reset_stream_key))
}

/// Your account, profile and channel (including the stream key).
#[utoipa::path(get, path = "/api/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody)))]
async fn me(State(state): State<AppState>, AuthUser(user): AuthUser) -> Json<MeView> {
    Json(MeView::new(&user.account, &state.accounts, &state.config))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    /// A palette color.
    color: Option<String>,
    /// An avatar preset (uploads go through `PUT /api/me/avatar`).
    avatar: Option<String>,
}

/// Change profile color and/or avatar preset. No other field can be written.
#[utoipa::path(patch, path = "/api/me/profile", tag = "me", security(("bearer" = [])), request_body = ProfileRequest,
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn update_profile(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(body): Json<ProfileRequest>,
) -> Result<Json<MeView>, ApiError> {
    let account = state
        .accounts
        .update_profile(
            &user,
            ProfileEdit {
                color: body.color,
                avatar: body.avatar,
            },
        )
        .await?;
    Ok(Json(MeView::new(&account, &state.accounts, &state.config)))
}

async fn upload(
    state: &AppState,
    user: &crate::accounts::CurrentUser,
    kind: AssetKind,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MeView>, ApiError> {
    let bytes = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(kind.max_bytes()),
        _ => ApiError::Malformed(e.body_text()),
    })?;
    if bytes.is_empty() {
        return Err(crate::domain::FieldError::new(
            "file",
            "required",
            "the body must be the image file",
        )
        .into());
    }
    let account = state.accounts.upload_asset(user, kind, bytes).await?;
    Ok(Json(MeView::new(&account, &state.accounts, &state.config)))
}

/// Upload an avatar: the raw image file as the body (PNG, JPEG or WebP, at most 1 MB).
/// The type is read from the content, never from headers; the image is re-encoded.
#[utoipa::path(put, path = "/api/me/avatar", tag = "me", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 413, description = "Payload too large", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG or WebP image", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn upload_avatar(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MeView>, ApiError> {
    upload(&state, &user, AssetKind::Avatar, body).await
}

/// Upload a banner: the raw image file as the body (PNG, JPEG or WebP, at most 5 MB).
#[utoipa::path(put, path = "/api/me/banner", tag = "me", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 413, description = "Payload too large", body = ErrorBody),
        (status = 415, description = "Not a PNG, JPEG or WebP image", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn upload_banner(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<MeView>, ApiError> {
    upload(&state, &user, AssetKind::Banner, body).await
}

/// Remove the banner.
#[utoipa::path(delete, path = "/api/me/banner", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody)))]
async fn remove_banner(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<MeView>, ApiError> {
    let account = state.accounts.remove_banner(&user).await?;
    Ok(Json(MeView::new(&account, &state.accounts, &state.config)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    username: String,
}

/// Change your username; your channel's URL follows it.
#[utoipa::path(put, path = "/api/me/username", tag = "me", security(("bearer" = [])), request_body = RenameRequest,
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 409, description = "Conflict", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn rename(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(body): Json<RenameRequest>,
) -> Result<Json<MeView>, ApiError> {
    let account = state.accounts.rename(&user, &body.username).await?;
    Ok(Json(MeView::new(&account, &state.accounts, &state.config)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// Change your password. Your other sessions are signed out; this one stays.
#[utoipa::path(put, path = "/api/me/password", tag = "me", security(("bearer" = [])), request_body = PasswordRequest,
    responses((status = 204, description = "Done"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 422, description = "Invalid fields", body = ErrorBody), (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(body): Json<PasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .accounts
        .change_password(&user, &body.current_password, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace your stream key; the old one stops working.
#[utoipa::path(post, path = "/api/me/stream-key/reset", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "OK", body = MeView), (status = 401, description = "Missing or invalid credentials", body = ErrorBody)))]
async fn reset_stream_key(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<MeView>, ApiError> {
    let account = state.accounts.reset_stream_key(&user).await?;
    Ok(Json(MeView::new(&account, &state.accounts, &state.config)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// Your current password, to confirm.
    password: String,
}

/// Delete your account and channel, with everything that refers to them.
#[utoipa::path(delete, path = "/api/me", tag = "me", security(("bearer" = [])), request_body = DeleteAccountRequest,
    responses((status = 204, description = "Done"), (status = 401, description = "Missing or invalid credentials", body = ErrorBody), (status = 422, description = "Wrong password", body = ErrorBody)))]
async fn delete_account(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Json(body): Json<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    state.accounts.delete_account(&user, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
