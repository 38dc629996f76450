//! Amazon Product Advertising API 5.0 `SearchItems`, signed with AWS Signature Version 4.

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{CatalogError, CatalogProduct, PAGE_SIZE, ProductCatalog, check_page, parse_keywords};

/// Partner credentials and the marketplace to search. Each marketplace has its own host and
/// signing region (Amazon's "Locale Reference"); the default is the US store.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PaApiConfig {
    pub access_key: String,
    pub secret_key: String,
    /// The Associates tracking id (`name-20`) that product links carry.
    pub partner_tag: String,
    /// `webservices.amazon.<tld>`.
    pub host: String,
    /// The SigV4 signing region of `host`, e.g. `us-east-1` or `eu-west-1`.
    pub region: String,
    /// `www.amazon.<tld>`.
    pub marketplace: String,
}

impl Default for PaApiConfig {
    fn default() -> Self {
        Self {
            access_key: String::new(),
            secret_key: String::new(),
            partner_tag: String::new(),
            host: "webservices.amazon.com".into(),
            region: "us-east-1".into(),
            marketplace: "www.amazon.com".into(),
        }
    }
}

/// Keeps the secret key out of logs.
impl fmt::Debug for PaApiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaApiConfig")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("partner_tag", &self.partner_tag)
            .field("host", &self.host)
            .field("region", &self.region)
            .field("marketplace", &self.marketplace)
            .finish()
    }
}

/// [`ProductCatalog`] over PA-API 5 `SearchItems`.
#[derive(Debug, Clone)]
pub struct PaApiCatalog {
    config: PaApiConfig,
    /// Where requests go: `https://<host>/paapi5/searchitems` unless overridden for tests.
    endpoint: Url,
    http: reqwest::Client,
}

impl PaApiCatalog {
    /// The SigV4 service name of PA-API.
    pub const SERVICE: &'static str = "ProductAdvertisingAPI";
    pub const PATH: &'static str = "/paapi5/searchitems";
    pub const TARGET: &'static str = "com.amazon.paapi5.v1.ProductAdvertisingAPIv1.SearchItems";
    /// PA-API answers within a second or two; a search box should not hang longer than this.
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// Fails with `Disabled` when a credential or the partner tag is empty (the feature cannot
    /// work without them), and with `Unavailable` when `host` is not a host name.
    pub fn new(config: PaApiConfig) -> Result<Self, CatalogError> {
        if [&config.access_key, &config.secret_key, &config.partner_tag]
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return Err(CatalogError::Disabled);
        }
        let endpoint = Url::parse(&format!("https://{}{}", config.host, Self::PATH))
            .map_err(|e| CatalogError::Unavailable(format!("bad PA-API host: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Self::TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A signed call is for one URL; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CatalogError::Unavailable(format!("http client: {e}")))?;
        Ok(Self {
            config,
            endpoint,
            http,
        })
    }

    /// Sends requests to `base` (scheme, host and port, e.g. `http://127.0.0.1:4000`) instead of
    /// `https://<host>`; the path stays `/paapi5/searchitems`. For tests and local fakes.
    pub fn with_base_url(mut self, base: &Url) -> Self {
        let mut endpoint = base.clone();
        endpoint.set_path(Self::PATH);
        endpoint.set_query(None);
        self.endpoint = endpoint;
        self
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`) for a POST of `body` with `headers`.
    fn signature(
        &self,
        headers: &[(&'static str, &str)],
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, CatalogError> {
        let identity = Credentials::new(
            &self.config.access_key,
            &self.config.secret_key,
            None,
            None,
            "showrunner-config",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name(Self::SERVICE)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| CatalogError::Unavailable(format!("signing: {e}")))?
            .into();
        let request = SignableRequest::new(
            "POST",
            self.endpoint.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| CatalogError::Unavailable(format!("signing: {e}")))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| CatalogError::Unavailable(format!("signing: {e}")))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect())
    }
}

#[async_trait::async_trait]
impl ProductCatalog for PaApiCatalog {
    async fn search(&self, keywords: &str, page: u32) -> Result<Vec<CatalogProduct>, CatalogError> {
        let keywords = parse_keywords(keywords)?;
        check_page(page)?;
        let body = serde_json::to_vec(&SearchItemsRequest {
            keywords,
            partner_tag: &self.config.partner_tag,
            partner_type: "Associates",
            marketplace: &self.config.marketplace,
            item_page: page,
            item_count: PAGE_SIZE,
            resources: &[
                "Images.Primary.Large",
                "ItemInfo.Title",
                "Offers.Listings.Price",
            ],
        })
        .map_err(|e| CatalogError::Unavailable(format!("encoding the request: {e}")))?;

        // `host` is signed too: the signer takes it from the endpoint, as reqwest sends it.
        let headers = [
            ("content-encoding", "amz-1.0"),
            ("content-type", "application/json; charset=utf-8"),
            ("x-amz-target", Self::TARGET),
        ];
        let mut request = self.http.post(self.endpoint.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        for (name, value) in self.signature(&headers, &body, SystemTime::now())? {
            request = request.header(name, value);
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| CatalogError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| CatalogError::Unavailable(e.without_url().to_string()))?;
        interpret(status, &text)
    }
}

/// Turns a PA-API answer into results or the matching error.
fn interpret(status: StatusCode, body: &str) -> Result<Vec<CatalogProduct>, CatalogError> {
    let parsed: SearchItemsResponse = serde_json::from_str(body).unwrap_or_default();
    let first_error = parsed.errors.first();
    let throttled = status == StatusCode::TOO_MANY_REQUESTS
        || parsed.kind.ends_with("TooManyRequestsException")
        || first_error.is_some_and(|e| e.code == "TooManyRequests");
    if throttled {
        return Err(CatalogError::Throttled);
    }
    // "Nothing matched" comes back as an error, but it is an empty page to a searcher.
    if first_error.is_some_and(|e| e.code == "NoResults") {
        return Ok(Vec::new());
    }
    let message = || match first_error {
        Some(e) if !e.message.is_empty() => e.message.clone(),
        Some(e) if !e.code.is_empty() => e.code.clone(),
        _ => format!("HTTP {status}"),
    };
    if status.is_client_error() {
        return Err(CatalogError::Rejected(message()));
    }
    if !status.is_success() {
        return Err(CatalogError::Unavailable(message()));
    }
    match parsed.search_result {
        Some(result) => Ok(result
            .items
            .into_iter()
            .filter_map(Item::into_product)
            .take(PAGE_SIZE)
            .collect()),
        None if first_error.is_some() => Err(CatalogError::Rejected(message())),
        None => Err(CatalogError::Unavailable(
            "PA-API answered without a search result".into(),
        )),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SearchItemsRequest<'a> {
    keywords: &'a str,
    partner_tag: &'a str,
    partner_type: &'a str,
    marketplace: &'a str,
    item_page: u32,
    item_count: usize,
    resources: &'a [&'a str],
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchItemsResponse {
    /// `com.amazon.paapi5#TooManyRequestsException` and the like, on errors.
    #[serde(rename = "__type", default)]
    kind: String,
    search_result: Option<SearchResult>,
    #[serde(default)]
    errors: Vec<ApiError>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ApiError {
    code: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchResult {
    #[serde(default)]
    items: Vec<Item>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    #[serde(rename = "ASIN")]
    asin: String,
    #[serde(rename = "DetailPageURL")]
    detail_page_url: Option<String>,
    item_info: Option<ItemInfo>,
    images: Option<Images>,
    offers: Option<Offers>,
}

impl Item {
    /// An item without a product page cannot be linked to, so it is left out.
    fn into_product(self) -> Option<CatalogProduct> {
        let product_url = self.detail_page_url?;
        let title = self
            .item_info
            .and_then(|i| i.title)
            .map(|t| t.display_value)
            .unwrap_or_else(|| self.asin.clone());
        let image_url = self
            .images
            .and_then(|i| i.primary)
            .and_then(|p| p.large)
            .map(|l| l.url);
        let price = self
            .offers
            .and_then(|o| o.listings.into_iter().next())
            .and_then(|l| l.price)
            .map(|p| p.display_amount);
        Some(CatalogProduct {
            asin: self.asin,
            title,
            price,
            image_url,
            product_url,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemInfo {
    title: Option<DisplayValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DisplayValue {
    display_value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Images {
    primary: Option<ImageSizes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageSizes {
    large: Option<Image>,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "URL")]
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Offers {
    #[serde(default)]
    listings: Vec<Listing>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    price: Option<Price>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Price {
    display_amount: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_missing_parts_still_map() {
        let body = r#"{"SearchResult":{"Items":[
            {"ASIN":"B1","DetailPageURL":"https://www.amazon.com/dp/B1?tag=t-20"},
            {"ASIN":"B2"}
        ]}}"#;
        let items = interpret(StatusCode::OK, body).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "B1");
        assert_eq!(
            (items[0].price.as_deref(), items[0].image_url.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn no_results_is_an_empty_page() {
        let body = r#"{"Errors":[{"__type":"com.amazon.paapi#ErrorData","Code":"NoResults","Message":"No results found for your request."}]}"#;
        assert_eq!(interpret(StatusCode::NOT_FOUND, body).unwrap(), []);
    }

    #[test]
    fn errors_map_by_status_and_code() {
        let throttled = r#"{"__type":"com.amazon.paapi5#TooManyRequestsException","Errors":[{"Code":"TooManyRequests","Message":"slow down"}]}"#;
        assert_eq!(
            interpret(StatusCode::TOO_MANY_REQUESTS, ""),
            Err(CatalogError::Throttled)
        );
        assert_eq!(
            interpret(StatusCode::BAD_REQUEST, throttled),
            Err(CatalogError::Throttled)
        );
        assert_eq!(
            interpret(StatusCode::BAD_GATEWAY, "<html>"),
            Err(CatalogError::Unavailable("HTTP 502 Bad Gateway".into()))
        );
        assert_eq!(
            interpret(StatusCode::FORBIDDEN, "not json"),
            Err(CatalogError::Rejected("HTTP 403 Forbidden".into()))
        );
    }

    #[test]
    fn the_secret_key_is_not_logged() {
        let config = PaApiConfig {
            secret_key: "very-secret".into(),
            ..PaApiConfig::default()
        };
        assert!(!format!("{config:?}").contains("very-secret"));
    }

    #[test]
    fn missing_credentials_disable_the_catalog() {
        let config = PaApiConfig {
            access_key: "AK".into(),
            secret_key: "SK".into(),
            ..PaApiConfig::default()
        };
        assert_eq!(
            PaApiCatalog::new(config).unwrap_err(),
            CatalogError::Disabled
        );
    }
}
