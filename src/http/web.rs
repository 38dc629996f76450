//! What is served outside `/api`: uploaded assets and the browser client.
//!
//! The client is a single-page app built by Vite into `web/dist` (or `http.web_dir`):
//! `index.html` answers every page path (`/`, `/login`, `/<username>`, …) so that client-side
//! routes survive a reload, and the hashed bundles under `/static/` are cached for a year. Paths
//! that belong to the server keep their own behaviour: an unknown `/api/...` is the API's JSON 404,
//! and `/ws`, `/assets`, `/static`, `/healthz`, `/readyz` and `/metrics` never fall back to the page.
//!
//! Without a built client, `/` and the pages that mailed links open (`/verify`, `/reset`) are small
//! built-in pages, so a local user can still follow those links.

use std::path::{Path, PathBuf};

use axum::{
    Router,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use tower_http::{
    services::ServeDir,
    set_header::{SetResponseHeader, SetResponseHeaderLayer},
};

use super::{AppState, error::ApiError};

/// Where the built client is looked for when `http.web_dir` is not set (relative to the working
/// directory, which is the repository root under `cargo run`).
const DEFAULT_WEB_DIR: &str = "web/dist";

/// Vite's `build.assetsDir`: file names carry a content hash, so they never change in place.
/// Not `/assets`, which is where uploaded images are served.
const STATIC_PREFIX: &str = "/static";

/// Path prefixes that are the server's own: never answered with the client's page.
const SERVER_PREFIXES: &[&str] = &[
    "/api",
    "/ws",
    "/assets",
    STATIC_PREFIX,
    "/healthz",
    "/readyz",
    "/metrics",
];

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    if let Some(dir) = &state.asset_dir {
        // Asset keys change whenever the content does, so they can be cached forever.
        router = router.nest_service("/assets", immutable_files(dir));
    }
    router.merge(client_routes(client_dir(
        state.config.http.web_dir.as_deref(),
    )))
}

/// The folder of the built client to serve, if there is one: the configured folder, else
/// `web/dist` when it exists. A folder without `index.html` is not a built client.
fn client_dir(configured: Option<&Path>) -> Option<PathBuf> {
    let dir = match configured {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from(DEFAULT_WEB_DIR),
    };
    if dir.join("index.html").is_file() {
        tracing::info!(dir = %dir.display(), "serving the web client");
        Some(dir)
    } else {
        if configured.is_some_and(|d| !d.as_os_str().is_empty()) {
            tracing::warn!(dir = %dir.display(), "http.web_dir has no index.html; serving the built-in pages");
        } else {
            tracing::info!(
                "no web client built (web/dist); serving the built-in pages — `scripts/run` builds it"
            );
        }
        None
    }
}

/// The client's routes, or the built-in pages when there is no built client. Generic over the
/// router's state so it can be tested on its own.
fn client_routes<S: Clone + Send + Sync + 'static>(dist: Option<PathBuf>) -> Router<S> {
    match dist {
        Some(dist) => {
            let index = dist.join("index.html");
            Router::new()
                .nest_service(STATIC_PREFIX, immutable_files(&dist.join("static")))
                .fallback(move |method: Method, uri: Uri| {
                    let index = index.clone();
                    async move { fallback(method, uri, Some(&index)).await }
                })
        }
        None => Router::new()
            .route("/", get(|| async { Html(INDEX) }))
            .route("/verify", get(|| async { Html(VERIFY) }))
            .route("/reset", get(|| async { Html(RESET) }))
            .fallback(|method: Method, uri: Uri| async move { fallback(method, uri, None).await }),
    }
}

/// Files whose names change whenever their content does, so they are cached for a year.
fn immutable_files(
    dir: &Path,
) -> SetResponseHeader<SetResponseHeader<ServeDir, HeaderValue>, HeaderValue> {
    tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(IMMUTABLE),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .service(ServeDir::new(dir))
}

/// Whether `path` is `prefix` itself or below it (`/api`, `/api/x`, but not `/apiary`, which is
/// a channel).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Every request no route took: the API's JSON 404 under `/api`, a plain 404 for the server's
/// other paths and for anything but GET/HEAD, and the client's page for the rest.
async fn fallback(method: Method, uri: Uri, index: Option<&Path>) -> Response {
    let path = uri.path();
    if under(path, "/api") {
        return ApiError::NotFound("route").into_response();
    }
    let page_request = method == Method::GET || method == Method::HEAD;
    let server_path = SERVER_PREFIXES.iter().any(|p| under(path, p));
    let Some(index) = index.filter(|_| page_request && !server_path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Read on every request (it is small): a client rebuilt while the server runs is served at once.
    match tokio::fs::read(index).await {
        Ok(html) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            html,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, index = %index.display(), "the web client's index.html cannot be read");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The web client is missing; rebuild it.",
            )
                .into_response()
        }
    }
}

const INDEX: &str = r#"<!doctype html><meta charset="utf-8"><title>Showrunner</title>
<h1>Showrunner</h1><p>The API is served under <code>/api</code>; its description is at
<a href="/api/openapi.json">/api/openapi.json</a>. Health: <a href="/healthz">/healthz</a>.</p>
<p>The web client is not built: run <code>scripts/run</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>).</p>"#;

const VERIFY: &str = r#"<!doctype html><meta charset="utf-8"><title>Verify email · Showrunner</title>
<h1>Verify your email</h1><p id="out">Verifying…</p>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
fetch('/api/auth/verify', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({token})})
  .then(async r => { document.getElementById('out').textContent = r.ok ? 'Your email address is verified. You can log in now.' : ((await r.json()).error.message); });
</script>"#;

const RESET: &str = r#"<!doctype html><meta charset="utf-8"><title>Reset password · Showrunner</title>
<h1>Choose a new password</h1>
<form id="f"><label>New password <input id="pw" type="password" autocomplete="new-password" required></label>
<button>Set password</button></form><p id="out" role="status"></p>
<script>
document.getElementById('f').addEventListener('submit', async e => {
  e.preventDefault();
  const token = new URLSearchParams(location.search).get('token') || '';
  const r = await fetch('/api/auth/reset/confirm', {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({token, password: document.getElementById('pw').value})});
  document.getElementById('out').textContent = r.ok ? 'Password changed. You can log in now.' : (await r.json()).error.message;
});
</script>"#;

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    use super::*;

    fn built_client() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            "<!doctype html><div id=app></div>",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("static")).unwrap();
        std::fs::write(dir.path().join("static/index-abc123.js"), "console.log(1)").unwrap();
        dir
    }

    async fn send(router: &Router, method: Method, path: &str) -> Response {
        router
            .clone()
            .oneshot(
                Request::builder()
                    .method(method)
                    .uri(path)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap()
    }

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn page_paths_are_answered_with_the_client_index_uncached() {
        let dist = built_client();
        let router: Router = client_routes(Some(dist.path().to_path_buf()));

        for path in [
            "/",
            "/login",
            "/settings",
            "/some.user",
            "/verify?token=x",
            "/apiary",
        ] {
            let response = send(&router, Method::GET, path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(
                response.headers()[header::CACHE_CONTROL],
                "no-cache",
                "{path}"
            );
            assert!(
                response.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            assert!(body(response).await.contains("id=app"), "{path}");
        }
    }

    #[tokio::test]
    async fn hashed_bundles_are_served_with_a_year_long_cache() {
        let dist = built_client();
        let router: Router = client_routes(Some(dist.path().to_path_buf()));

        let response = send(&router, Method::GET, "/static/index-abc123.js").await;

        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(body(response).await, "console.log(1)");
    }

    #[tokio::test]
    async fn server_paths_never_fall_back_to_the_page() {
        let dist = built_client();
        let router: Router = client_routes(Some(dist.path().to_path_buf()));

        for path in [
            "/static/missing.js",
            "/ws",
            "/assets/nope.png",
            "/metrics/x",
            "/healthz/x",
        ] {
            let response = send(&router, Method::GET, path).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(!body(response).await.contains("id=app"), "{path}");
        }
    }

    #[tokio::test]
    async fn an_unknown_api_path_is_the_apis_json_404_with_or_without_a_client() {
        let dist = built_client();
        for router in [
            client_routes::<()>(Some(dist.path().to_path_buf())),
            client_routes::<()>(None),
        ] {
            for method in [Method::GET, Method::POST] {
                let response = send(&router, method, "/api/nope").await;
                assert_eq!(response.status(), StatusCode::NOT_FOUND);
                let json: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
                assert_eq!(json["error"]["code"], "not_found");
            }
        }
    }

    #[tokio::test]
    async fn other_methods_on_page_paths_are_not_found() {
        let dist = built_client();
        let router: Router = client_routes(Some(dist.path().to_path_buf()));

        let response = send(&router, Method::POST, "/login").await;

        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn without_a_built_client_the_builtin_pages_answer_and_nothing_else() {
        let router: Router = client_routes(None);

        for path in ["/", "/verify?token=x", "/reset?token=x"] {
            let response = send(&router, Method::GET, path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
        let response = send(&router, Method::GET, "/settings").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_folder_without_index_html_is_not_a_client() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(client_dir(Some(empty.path())), None);

        let dist = built_client();
        assert_eq!(
            client_dir(Some(dist.path())),
            Some(dist.path().to_path_buf())
        );
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(under("/api", "/api"));
        assert!(under("/api/x", "/api"));
        assert!(!under("/apiary", "/api"));
        assert!(!under("/", "/api"));
    }
}
