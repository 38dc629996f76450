//! Product search for the "Amazon product" stream action: a streamer searches the catalog, picks
//! an item, and sends it as an [`AmazonProduct`](crate::domain::AmazonProduct) action.
//!
//! [`ProductCatalog`] is the port; [`PaApiCatalog`] talks to Amazon's Product Advertising API 5.0,
//! and [`DisabledCatalog`] stands in when no partner credentials are configured.

mod paapi;

pub use paapi::{PaApiCatalog, PaApiConfig};

use serde::Serialize;
use utoipa::ToSchema;

/// Searches a product catalog.
#[async_trait::async_trait]
pub trait ProductCatalog: Send + Sync {
    /// One page of results for `keywords`, most relevant first. `keywords` is checked with
    /// [`parse_keywords`] before anything is sent (`InvalidKeywords`); `page` is 1–10
    /// (`InvalidKeywords` too, as it is part of the same query). Returns up to
    /// [`PAGE_SIZE`] items, and an empty list when nothing matches. Read-only and idempotent;
    /// nothing is cached, and a caller should expect `Throttled` under bursts (PA-API allows
    /// about one request per second per partner account).
    async fn search(&self, keywords: &str, page: u32) -> Result<Vec<CatalogProduct>, CatalogError>;
}

/// Items per result page.
pub const PAGE_SIZE: usize = 10;
/// Result pages a search may go through.
pub const MAX_PAGE: u32 = 10;
/// Longest search, in characters after trimming.
pub const MAX_KEYWORDS: usize = 150;

/// One search result, as the streamer's picker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CatalogProduct {
    /// Amazon's product id.
    pub asin: String,
    pub title: String,
    /// As the marketplace displays it (`"$24.99"`); absent when the item has no current offer.
    pub price: Option<String>,
    pub image_url: Option<String>,
    /// The product page, carrying the partner tag.
    pub product_url: String,
}

/// Why a search gave no results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Product search is not configured on this server.
    #[error("product search is disabled")]
    Disabled,
    /// The query was refused before being sent; the text says why.
    #[error("invalid search: {0}")]
    InvalidKeywords(String),
    /// The catalog's rate limit was hit; try again later.
    #[error("product search is throttled")]
    Throttled,
    /// The catalog could not be reached or failed on its side.
    #[error("product search is unavailable: {0}")]
    Unavailable(String),
    /// The catalog refused the request (bad credentials, bad parameters); its message.
    #[error("product search was refused: {0}")]
    Rejected(String),
}

/// Trims `raw` and checks it is 1–[`MAX_KEYWORDS`] characters with no control characters.
pub fn parse_keywords(raw: &str) -> Result<&str, CatalogError> {
    let keywords = raw.trim();
    let len = keywords.chars().count();
    if len == 0 || len > MAX_KEYWORDS {
        return Err(CatalogError::InvalidKeywords(format!(
            "keywords must be 1–{MAX_KEYWORDS} characters"
        )));
    }
    if keywords.chars().any(char::is_control) {
        return Err(CatalogError::InvalidKeywords(
            "keywords must not contain control characters".into(),
        ));
    }
    Ok(keywords)
}

fn check_page(page: u32) -> Result<(), CatalogError> {
    if (1..=MAX_PAGE).contains(&page) {
        Ok(())
    } else {
        Err(CatalogError::InvalidKeywords(format!(
            "page must be 1–{MAX_PAGE}"
        )))
    }
}

/// The catalog when product search is switched off: every search is `Disabled`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DisabledCatalog;

#[async_trait::async_trait]
impl ProductCatalog for DisabledCatalog {
    async fn search(
        &self,
        _keywords: &str,
        _page: u32,
    ) -> Result<Vec<CatalogProduct>, CatalogError> {
        Err(CatalogError::Disabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_trimmed_and_one_to_150_characters() {
        assert_eq!(parse_keywords("  running shoes ").unwrap(), "running shoes");
        assert!(parse_keywords(&"é".repeat(150)).is_ok());
        assert!(matches!(
            parse_keywords(&"é".repeat(151)),
            Err(CatalogError::InvalidKeywords(_))
        ));
        assert!(matches!(
            parse_keywords(" \t "),
            Err(CatalogError::InvalidKeywords(_))
        ));
        assert!(matches!(
            parse_keywords("a\u{0}b"),
            Err(CatalogError::InvalidKeywords(_))
        ));
    }

    #[test]
    fn pages_are_one_to_ten() {
        assert!(check_page(1).is_ok());
        assert!(check_page(10).is_ok());
        assert!(check_page(0).is_err());
        assert!(check_page(11).is_err());
    }
}
