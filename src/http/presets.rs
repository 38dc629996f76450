//! `/api/me/presets`: stream actions a streamer saved under a name, to start again in one step.
//!
//! A preset is saved (created or replaced) by name and deleted by id. Actions are checked with
//! [`ActionInput::parse`] before they are kept, and kept in their checked form, so a preset can be
//! sent back to `POST /api/channels/{username}/actions` as it is.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    AppState,
    error::{ApiError, ErrorBody},
    extract::{AuthUser, Json},
};
use crate::{
    domain::{ActionInput, FieldError, StreamAction},
    store::{Preset, StoreError},
};

/// Presets one account may keep. Replacing a preset by name never counts against it.
pub const MAX_PRESETS: usize = 50;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_presets))
        .routes(routes!(save_preset, delete_preset))
}

/// A preset's name: trimmed, 1–[`PresetName::MAX`] characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetName(String);

impl PresetName {
    pub const MAX: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 {
            return Err(FieldError::new("name", "required", "must not be empty"));
        }
        if len > Self::MAX {
            return Err(FieldError::new(
                "name",
                "length",
                format!("must be 1–{} characters", Self::MAX),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "characters",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A saved preset.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetView {
    id: Uuid,
    name: String,
    /// The checked action, in the shape `POST /api/channels/{username}/actions` takes.
    #[schema(value_type = StreamAction)]
    action: serde_json::Value,
    updated_at: DateTime<Utc>,
}

impl From<Preset> for PresetView {
    fn from(p: Preset) -> Self {
        Self {
            id: p.id,
            name: p.name,
            action: p.action,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PresetList {
    /// By name.
    presets: Vec<PresetView>,
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        // The account went away between authentication and the write.
        StoreError::NotFound => ApiError::Unauthenticated("invalid_token"),
        StoreError::Backend(source) => ApiError::Internal(source.to_string()),
        other => ApiError::Unavailable(other.to_string()),
    }
}

/// Your presets, by name.
#[utoipa::path(get, path = "/api/me/presets", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "Your presets, by name", body = PresetList),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody)))]
async fn list_presets(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<PresetList>, ApiError> {
    let presets = state
        .store
        .presets(user.account.id)
        .await
        .map_err(store_error)?;
    Ok(Json(PresetList {
        presets: presets.into_iter().map(PresetView::from).collect(),
    }))
}

/// Save a stream action under a name: creates the preset, or replaces the action of your preset
/// of that name (keeping its id). The name is trimmed and 1–40 characters; an account keeps at
/// most 50 presets.
#[utoipa::path(put, path = "/api/me/presets/{preset}", tag = "me", security(("bearer" = [])),
    params(("preset" = String, Path, description = "The preset's name (1–40 characters, trimmed)")),
    request_body = ActionInput,
    responses((status = 200, description = "Replaced the action of your preset of that name", body = PresetView),
        (status = 201, description = "Created a preset", body = PresetView),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 422, description = "Invalid name or action, or already 50 presets (field `name`, code `too_many_presets`)", body = ErrorBody)))]
async fn save_preset(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(name): Path<String>,
    Json(body): Json<ActionInput>,
) -> Result<(StatusCode, Json<PresetView>), ApiError> {
    // Every bad field at once: the name's problem, then the action's.
    let name = PresetName::parse(&name);
    let action = body.parse();
    let (name, action) = match (name, action) {
        (Ok(name), Ok(action)) => (name, action),
        (name, action) => {
            let mut errors = action.err().unwrap_or_default();
            if let Err(e) = name {
                errors.0.insert(0, e);
            }
            return Err(ApiError::Validation(errors));
        }
    };
    let owner = user.account.id;
    let existing = state.store.presets(owner).await.map_err(store_error)?;
    let replacing = existing.iter().any(|p| p.name == name.as_str());
    // Checked before the write, so two first saves racing at 49 may both land; the limit keeps
    // lists short, it is not a quota anyone relies on.
    if !replacing && existing.len() >= MAX_PRESETS {
        return Err(FieldError::new(
            "name",
            "too_many_presets",
            format!("you already have {MAX_PRESETS} presets; delete one or reuse a name"),
        )
        .into());
    }
    let action = serde_json::to_value(&action)
        .map_err(|e| ApiError::Internal(format!("an action does not serialise: {e}")))?;
    let stored = state
        .store
        .put_preset(Preset {
            id: Uuid::now_v7(),
            owner,
            name: name.as_str().to_owned(),
            action,
            updated_at: Utc::now(),
        })
        .await
        .map_err(store_error)?;
    let status = if replacing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(stored.into())))
}

/// Delete one of your presets.
#[utoipa::path(delete, path = "/api/me/presets/{preset}", tag = "me", security(("bearer" = [])),
    params(("preset" = String, Path, description = "The preset's id")),
    responses((status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "You have no preset with this id", body = ErrorBody)))]
async fn delete_preset(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("preset"))?;
    let deleted = state
        .store
        .delete_preset(user.account.id, id)
        .await
        .map_err(store_error)?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("preset"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_names_are_trimmed_and_one_to_forty_characters() {
        assert_eq!(
            PresetName::parse("  Quiz night ").unwrap().as_str(),
            "Quiz night"
        );
        assert_eq!(
            PresetName::parse(&"é".repeat(40))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            40
        );
        let code = |raw: &str| PresetName::parse(raw).unwrap_err().code;
        assert_eq!(code("   "), "required");
        assert_eq!(code(&"é".repeat(41)), "length");
        assert_eq!(code("a\u{7}b"), "characters");
        assert_eq!(PresetName::parse("").unwrap_err().field, "name");
    }
}
