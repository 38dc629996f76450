//! `PaApiCatalog` against a fake PA-API 5 on 127.0.0.1. The fake checks the request the way
//! Amazon does, including the SigV4 signature, which it recomputes from what it received and the
//! secret it knows; so a wrongly signed request fails here as it would there.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};
use showrunner::catalog::{
    CatalogError, CatalogProduct, PaApiCatalog, PaApiConfig, ProductCatalog,
};
use tokio::sync::Mutex;
use url::Url;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const PARTNER_TAG: &str = "showrunner-20";
const REGION: &str = "eu-west-1";
const MARKETPLACE: &str = "www.amazon.de";

/// What the fake answers once a request has passed its checks.
#[derive(Clone)]
enum Reply {
    Ok(Value),
    Status(StatusCode, Value),
}

/// A stand-in for `webservices.amazon.<tld>`.
struct FakePaApi {
    reply: Reply,
    /// Every request that arrived, checked or not.
    requests: AtomicUsize,
    /// Requests refused because their signature did not match.
    bad_signatures: AtomicUsize,
    /// The JSON body of the last request that passed the checks.
    last_body: Mutex<Option<Value>>,
}

impl FakePaApi {
    /// Serves the fake on a random local port; returns its base URL.
    async fn spawn(reply: Reply) -> (Url, Arc<Self>) {
        let fake = Arc::new(Self {
            reply,
            requests: AtomicUsize::new(0),
            bad_signatures: AtomicUsize::new(0),
            last_body: Mutex::new(None),
        });
        let app = Router::new()
            .fallback(any(search_items))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (Url::parse(&format!("http://{addr}")).unwrap(), fake)
    }
}

fn error_body(kind: &str, code: &str, message: &str) -> Value {
    json!({
        "__type": format!("com.amazon.paapi5#{kind}"),
        "Errors": [{"Code": code, "Message": message}]
    })
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(error_body("ValidationException", code, message)),
    )
        .into_response()
}

async fn search_items(
    State(fake): State<Arc<FakePaApi>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if method != Method::POST || uri.path() != "/paapi5/searchitems" {
        return refuse(
            StatusCode::NOT_FOUND,
            "UnknownOperation",
            "wrong method or path",
        );
    }
    if header("x-amz-target") != PaApiCatalog::TARGET || header("content-encoding") != "amz-1.0" {
        return refuse(
            StatusCode::BAD_REQUEST,
            "UnknownOperation",
            "wrong target or encoding",
        );
    }
    if let Err(why) = verify_signature(&method, &uri, &headers, &body) {
        fake.bad_signatures.fetch_add(1, Ordering::SeqCst);
        let body = error_body("InvalidSignatureException", "InvalidSignature", &why);
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "InvalidInput", "body is not JSON");
    };
    *fake.last_body.lock().await = Some(request);
    match fake.reply.clone() {
        Reply::Ok(body) => axum::Json(body).into_response(),
        Reply::Status(status, body) => (status, axum::Json(body)).into_response(),
    }
}

/// Checks the SigV4 `authorization` header as the service would: the credential scope, the
/// signed headers, and the signature itself, recomputed from the request and [`SECRET_KEY`].
fn verify_signature(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let authorization = header("authorization");
    let amz_date = header("x-amz-date");
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not a SigV4 authorization header")?;
    let part = |key: &str| {
        rest.split(", ")
            .find_map(|p| p.strip_prefix(key))
            .ok_or(format!("authorization lacks {key}"))
    };
    let credential = part("Credential=")?;
    let signed_headers = part("SignedHeaders=")?;
    part("Signature=")?;

    let day = amz_date.get(..8).ok_or("missing x-amz-date")?;
    let scope = format!("{ACCESS_KEY}/{day}/{REGION}/ProductAdvertisingAPI/aws4_request");
    if credential != scope {
        return Err(format!("credential scope {credential} is not {scope}"));
    }
    for required in [
        "content-encoding",
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-target",
    ] {
        if !signed_headers.split(';').any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }

    let time: SystemTime = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
        .map_err(|e| format!("x-amz-date: {e}"))?
        .and_utc()
        .into();
    // The signer derives `host` from the URI and `x-amz-date` from the time.
    let signed: Vec<(&str, &str)> = signed_headers
        .split(';')
        .filter(|h| !matches!(*h, "host" | "x-amz-date"))
        .map(|h| (h, header(h)))
        .collect();
    let url = format!("http://{}{}", header("host"), uri);
    let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "fake").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("ProductAdvertisingAPI")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let request = SignableRequest::new(
        method.as_str(),
        url,
        signed.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let expected = instructions
        .headers()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.to_owned())
        .ok_or("the signer gave no authorization header")?;
    if expected != authorization {
        return Err(
            "The request signature we calculated does not match the signature you provided.".into(),
        );
    }
    Ok(())
}

fn catalog(base: &Url, secret_key: &str) -> PaApiCatalog {
    let config = PaApiConfig {
        access_key: ACCESS_KEY.into(),
        secret_key: secret_key.into(),
        partner_tag: PARTNER_TAG.into(),
        host: "webservices.amazon.de".into(),
        region: REGION.into(),
        marketplace: MARKETPLACE.into(),
    };
    PaApiCatalog::new(config).unwrap().with_base_url(base)
}

fn two_items() -> Value {
    json!({
        "SearchResult": {
            "Items": [
                {
                    "ASIN": "B0TESTAAAA",
                    "DetailPageURL": "https://www.amazon.de/dp/B0TESTAAAA?tag=showrunner-20&linkCode=osi",
                    "Images": {"Primary": {"Large": {"URL": "https://m.media-amazon.com/images/I/a.jpg", "Height": 500, "Width": 500}}},
                    "ItemInfo": {"Title": {"DisplayValue": "Laufschuhe Herren", "Label": "Title", "Locale": "de_DE"}},
                    "Offers": {"Listings": [{"Id": "x", "Price": {"Amount": 59.99, "Currency": "EUR", "DisplayAmount": "59,99 €"}}]}
                },
                {
                    "ASIN": "B0TESTBBBB",
                    "DetailPageURL": "https://www.amazon.de/dp/B0TESTBBBB?tag=showrunner-20",
                    "ItemInfo": {"Title": {"DisplayValue": "Sneaker, out of stock"}}
                }
            ],
            "SearchURL": "https://www.amazon.de/s?k=laufschuhe",
            "TotalResultCount": 2
        }
    })
}

#[tokio::test]
async fn a_search_returns_the_mapped_products() {
    let (base, fake) = FakePaApi::spawn(Reply::Ok(two_items())).await;

    let products = catalog(&base, SECRET_KEY)
        .search("  laufschuhe ", 2)
        .await
        .unwrap();

    assert_eq!(
        products,
        [
            CatalogProduct {
                asin: "B0TESTAAAA".into(),
                title: "Laufschuhe Herren".into(),
                price: Some("59,99 €".into()),
                image_url: Some("https://m.media-amazon.com/images/I/a.jpg".into()),
                product_url: "https://www.amazon.de/dp/B0TESTAAAA?tag=showrunner-20&linkCode=osi"
                    .into(),
            },
            CatalogProduct {
                asin: "B0TESTBBBB".into(),
                title: "Sneaker, out of stock".into(),
                price: None,
                image_url: None,
                product_url: "https://www.amazon.de/dp/B0TESTBBBB?tag=showrunner-20".into(),
            },
        ]
    );
    let sent = fake.last_body.lock().await.clone().unwrap();
    assert_eq!(sent["Keywords"], "laufschuhe");
    assert_eq!(sent["PartnerTag"], PARTNER_TAG);
    assert_eq!(sent["PartnerType"], "Associates");
    assert_eq!(sent["Marketplace"], MARKETPLACE);
    assert_eq!(sent["ItemPage"], 2);
    let resources: Vec<_> = sent["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for wanted in [
        "Images.Primary.Large",
        "ItemInfo.Title",
        "Offers.Listings.Price",
    ] {
        assert!(resources.contains(&wanted), "{resources:?}");
    }
}

#[tokio::test]
async fn a_request_signed_with_the_wrong_secret_is_refused() {
    let (base, fake) = FakePaApi::spawn(Reply::Ok(two_items())).await;

    let result = catalog(&base, "not-the-secret").search("shoes", 1).await;

    let Err(CatalogError::Rejected(message)) = result else {
        panic!("expected a rejection, got {result:?}");
    };
    assert!(message.contains("signature"), "{message}");
    assert_eq!(fake.bad_signatures.load(Ordering::SeqCst), 1);
    assert!(fake.last_body.lock().await.is_none());
}

#[tokio::test]
async fn too_many_requests_is_throttled() {
    let body = error_body(
        "TooManyRequestsException",
        "TooManyRequests",
        "The request was denied due to request throttling.",
    );
    let (base, _fake) = FakePaApi::spawn(Reply::Status(StatusCode::TOO_MANY_REQUESTS, body)).await;

    let result = catalog(&base, SECRET_KEY).search("shoes", 1).await;

    assert_eq!(result, Err(CatalogError::Throttled));
}

#[tokio::test]
async fn bad_keywords_and_pages_are_refused_before_any_request() {
    let (base, fake) = FakePaApi::spawn(Reply::Ok(two_items())).await;
    let catalog = catalog(&base, SECRET_KEY);

    for (keywords, page) in [
        ("", 1),
        ("   ", 1),
        (&*"k".repeat(151), 1),
        ("shoes", 0),
        ("shoes", 11),
    ] {
        let result = catalog.search(keywords, page).await;
        assert!(
            matches!(result, Err(CatalogError::InvalidKeywords(_))),
            "{keywords:?} {page}: {result:?}"
        );
    }

    assert_eq!(fake.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_error_answer_is_rejected_with_amazons_message() {
    let message = "The value [nope-21] provided in the request for PartnerTag is invalid.";
    let body = error_body("ValidationException", "InvalidParameterValue", message);
    let (base, _fake) = FakePaApi::spawn(Reply::Status(StatusCode::BAD_REQUEST, body)).await;

    let result = catalog(&base, SECRET_KEY).search("shoes", 1).await;

    assert_eq!(result, Err(CatalogError::Rejected(message.into())));
}

#[tokio::test]
async fn no_results_is_an_empty_page() {
    let body = json!({"Errors": [{"__type": "com.amazon.paapi#ErrorData", "Code": "NoResults", "Message": "No results found for your request."}]});
    let (base, _fake) = FakePaApi::spawn(Reply::Status(StatusCode::NOT_FOUND, body)).await;

    let result = catalog(&base, SECRET_KEY).search("zzzxxyq", 1).await;

    assert_eq!(result, Ok(Vec::new()));
}

#[tokio::test]
async fn server_errors_and_unreachable_hosts_are_unavailable() {
    let body = error_body(
        "InternalFailure",
        "InternalFailure",
        "Something went wrong.",
    );
    let (base, _fake) =
        FakePaApi::spawn(Reply::Status(StatusCode::SERVICE_UNAVAILABLE, body)).await;
    let result = catalog(&base, SECRET_KEY).search("shoes", 1).await;
    assert!(
        matches!(result, Err(CatalogError::Unavailable(_))),
        "{result:?}"
    );

    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let base = Url::parse(&format!("http://{closed}")).unwrap();
    let result = catalog(&base, SECRET_KEY).search("shoes", 1).await;
    assert!(
        matches!(result, Err(CatalogError::Unavailable(_))),
        "{result:?}"
    );
}
