//! `/api/products`: product search, off by default, and against a fake PA-API when configured.
//! (`tests/catalog_paapi.rs` checks the PA-API adapter itself, signatures included; this fake only
//! answers.)

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Router,
    extract::State,
    http::StatusCode as FakeStatus,
    response::{IntoResponse, Response},
    routing::post,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use showrunner::config::CatalogConfig;

use crate::helpers::{TestApp, assert_error, error_fields, spawn_app, spawn_app_with};

/// A stand-in for `webservices.amazon.com` that gives one canned answer to every search.
struct FakePaApi {
    status: FakeStatus,
    answer: Value,
    searches: AtomicUsize,
    last_request: Mutex<Option<Value>>,
}

async fn search_items(State(fake): State<Arc<FakePaApi>>, body: axum::body::Bytes) -> Response {
    fake.searches.fetch_add(1, Ordering::SeqCst);
    *fake.last_request.lock().unwrap() = serde_json::from_slice(&body).ok();
    (fake.status, axum::Json(fake.answer.clone())).into_response()
}

/// Starts the fake and an app whose catalog points at it.
async fn app_with_catalog(status: FakeStatus, answer: Value) -> (TestApp, Arc<FakePaApi>) {
    let fake = Arc::new(FakePaApi {
        status,
        answer,
        searches: AtomicUsize::new(0),
        last_request: Mutex::new(None),
    });
    let router = Router::new()
        .route("/paapi5/searchitems", post(search_items))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let app = spawn_app_with(|c| {
        c.catalog = Some(CatalogConfig {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "secret".into(),
            partner_tag: "showrunner-20".into(),
            endpoint,
            ..CatalogConfig::default()
        })
    })
    .await;
    (app, fake)
}

fn one_item() -> Value {
    json!({"SearchResult": {"Items": [{
        "ASIN": "B0TESTAAAA",
        "DetailPageURL": "https://www.amazon.com/dp/B0TESTAAAA?tag=showrunner-20",
        "Images": {"Primary": {"Large": {"URL": "https://m.media-amazon.com/images/I/a.jpg"}}},
        "ItemInfo": {"Title": {"DisplayValue": "Running shoes"}},
        "Offers": {"Listings": [{"Price": {"DisplayAmount": "$59.99"}}]}
    }]}})
}

async fn search(app: &TestApp, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url("/api/products"))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_a_configured_catalog_search_is_disabled() {
    let app = spawn_app().await;
    let anna = app.user("anna").await;

    let r = search(&app, &anna.token, &[("keywords", "shoes")]).await;

    let body = assert_error(r, StatusCode::NOT_FOUND, "catalog_disabled").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("operator"),
        "{body}"
    );
    let anonymous = app.get("/api/products?keywords=shoes").await;
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn a_signed_in_user_finds_products_in_the_configured_catalog() {
    let (app, fake) = app_with_catalog(FakeStatus::OK, one_item()).await;
    let anna = app.user("anna").await;

    let r = search(
        &app,
        &anna.token,
        &[("keywords", " running shoes "), ("page", "2")],
    )
    .await;

    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"products": [{
            "asin": "B0TESTAAAA",
            "title": "Running shoes",
            "price": "$59.99",
            "image_url": "https://m.media-amazon.com/images/I/a.jpg",
            "product_url": "https://www.amazon.com/dp/B0TESTAAAA?tag=showrunner-20"
        }]})
    );
    let sent = fake.last_request.lock().unwrap().clone().unwrap();
    assert_eq!(sent["Keywords"], "running shoes");
    assert_eq!(sent["ItemPage"], 2);
    assert_eq!(sent["PartnerTag"], "showrunner-20");
}

#[tokio::test]
async fn bad_keywords_and_pages_are_refused_before_searching() {
    let (app, fake) = app_with_catalog(FakeStatus::OK, one_item()).await;
    let anna = app.user("anna").await;
    let long = "k".repeat(151);

    for (query, field) in [
        (vec![], "keywords"),
        (vec![("keywords", "   ")], "keywords"),
        (vec![("keywords", long.as_str())], "keywords"),
        (vec![("keywords", "shoes"), ("page", "0")], "page"),
        (vec![("keywords", "shoes"), ("page", "11")], "page"),
        (vec![("keywords", "shoes"), ("page", "two")], "page"),
    ] {
        let r = search(&app, &anna.token, &query).await;
        let body = assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(error_fields(&body), [field], "{query:?}");
    }

    assert_eq!(fake.searches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_throttled_catalog_is_429_and_a_failing_one_503() {
    let throttled = json!({"__type": "com.amazon.paapi5#TooManyRequestsException",
        "Errors": [{"Code": "TooManyRequests", "Message": "slow down"}]});
    let (app, _fake) = app_with_catalog(FakeStatus::TOO_MANY_REQUESTS, throttled).await;
    let anna = app.user("anna").await;
    let r = search(&app, &anna.token, &[("keywords", "shoes")]).await;
    assert_eq!(r.headers()["retry-after"], "1");
    assert_error(r, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;

    let failing =
        json!({"Errors": [{"Code": "InternalFailure", "Message": "Something went wrong."}]});
    let (app, _fake) = app_with_catalog(FakeStatus::INTERNAL_SERVER_ERROR, failing).await;
    let anna = app.user("anna").await;
    let r = search(&app, &anna.token, &[("keywords", "shoes")]).await;
    assert_error(r, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
}
