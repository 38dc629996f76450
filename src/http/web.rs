//! What is served outside `/api`: uploaded assets and the browser client.
//!
//! Until the web client is built (`web/dist`), `/` and the pages that mailed links open
//! (`/verify`, `/reset`) are small built-in pages, so a local user can follow those links.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::Html,
    routing::get,
};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use super::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    if let Some(dir) = &state.asset_dir {
        // Asset keys change whenever the content does, so they can be cached forever.
        router = router.nest_service(
            "/assets",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .service(ServeDir::new(dir)),
        );
    }
    router
        .route("/", get(|| async { Html(INDEX) }))
        .route("/verify", get(|| async { Html(VERIFY) }))
        .route("/reset", get(|| async { Html(RESET) }))
}

const INDEX: &str = r#"<!doctype html><meta charset="utf-8"><title>Showrunner</title>
<h1>Showrunner</h1><p>The API is served under <code>/api</code>; its description is at
<a href="/api/openapi.json">/api/openapi.json</a>. Health: <a href="/healthz">/healthz</a>.</p>"#;

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
