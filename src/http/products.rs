//! `/api/products`: product search for the "Amazon product" stream action. The streamer searches,
//! picks an item, and starts it as an `amazon_product` action. Answers come from the
//! [`ProductCatalog`](crate::catalog::ProductCatalog) port; nothing is cached.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ErrorBody, ErrorDetail},
    extract::{AuthUser, Json},
};
use crate::{
    catalog::{CatalogError, CatalogProduct, MAX_PAGE, parse_keywords},
    domain::FieldError,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_products))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// What to search for: 1–150 characters.
    keywords: Option<String>,
    /// The result page, 1–10 (default 1); ten items a page.
    #[param(value_type = Option<u32>)]
    page: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductList {
    /// Most relevant first; empty when nothing matches.
    products: Vec<CatalogProduct>,
}

const DISABLED_MESSAGE: &str =
    "product search is not available: the operator has not configured a product catalog";

/// Why a search has no answer. `ApiError` has no variant for "this feature is switched off"
/// (a 404 with its own code), so that one case is answered here, in the same error shape.
#[derive(Debug)]
enum SearchError {
    Disabled,
    Api(ApiError),
}

impl From<ApiError> for SearchError {
    fn from(e: ApiError) -> Self {
        SearchError::Api(e)
    }
}

impl From<CatalogError> for SearchError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Disabled => SearchError::Disabled,
            CatalogError::InvalidKeywords(why) => {
                ApiError::from(FieldError::new("keywords", "invalid", why)).into()
            }
            // PA-API allows about one request a second per partner account.
            CatalogError::Throttled => ApiError::Throttled(1).into(),
            CatalogError::Unavailable(why) => ApiError::Unavailable(why).into(),
            // Amazon refused our credentials or parameters: the operator's problem, not the
            // caller's; logged with the message, answered as unavailable.
            CatalogError::Rejected(why) => {
                ApiError::Unavailable(format!("the catalog refused the request: {why}")).into()
            }
        }
    }
}

impl IntoResponse for SearchError {
    fn into_response(self) -> Response {
        match self {
            SearchError::Api(e) => e.into_response(),
            SearchError::Disabled => (
                StatusCode::NOT_FOUND,
                Json(ErrorBody::new(ErrorDetail {
                    code: "catalog_disabled".into(),
                    message: DISABLED_MESSAGE.into(),
                    fields: Vec::new(),
                })),
            )
                .into_response(),
        }
    }
}

/// Search the product catalog (signed-in users). Ten items a page, most relevant first.
#[utoipa::path(get, path = "/api/products", tag = "live", security(("bearer" = [])), params(SearchParams),
    responses((status = 200, description = "One page of results; empty when nothing matches", body = ProductList),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "Product search is not configured on this server (code `catalog_disabled`)", body = ErrorBody),
        (status = 422, description = "Invalid `keywords` or `page`", body = ErrorBody),
        (status = 429, description = "The catalog is throttling searches; see Retry-After", body = ErrorBody),
        (status = 503, description = "The catalog is unavailable", body = ErrorBody)))]
async fn search_products(
    State(state): State<AppState>,
    AuthUser(_user): AuthUser,
    Query(params): Query<SearchParams>,
) -> Result<Json<ProductList>, SearchError> {
    let keywords = parse_keywords(params.keywords.as_deref().unwrap_or_default())?;
    let page = match params.page.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| {
                ApiError::from(FieldError::new(
                    "page",
                    "range",
                    format!("must be a whole number 1–{MAX_PAGE}"),
                ))
            })?,
    };
    let products = state.catalog.search(keywords, page).await?;
    Ok(Json(ProductList { products }))
}
