//! The console's files, compiled in. Each answer carries a strong ETag (its content hash) and
//! `no-cache`, so a browser revalidates cheaply (304) and never runs a stale mix after an upgrade.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

struct Asset {
    name: &'static str,
    body: &'static str,
}

impl Asset {
    /// The content type, from the file's extension (the table holds only these three kinds).
    fn mime(&self) -> &'static str {
        match self.name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("html") => "text/html; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "text/javascript; charset=utf-8",
        }
    }
}

macro_rules! asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("assets/", $name)),
        }
    };
}

const FILES: &[Asset] = &[
    asset!("index.html"),
    asset!("style.css"),
    asset!("app.js"),
    asset!("api.js"),
    asset!("dom.js"),
    asset!("pages.js"),
    asset!("pages/shared.js"),
    asset!("pages/workspaces.js"),
    asset!("pages/dashboard.js"),
    asset!("pages/connections.js"),
    asset!("pages/rules.js"),
    asset!("pages/events.js"),
    asset!("router.js"),
    asset!("embed.html"),
    asset!("embed.js"),
    asset!("host.js"),
];

/// One ETag per file, from its bytes. The hasher's fixed keys make it the same in every
/// process of one build (Lambda instances agree); a new build may change it, as it should.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|file| {
            let mut hasher = DefaultHasher::new();
            file.body.hash(&mut hasher);
            format!("\"{:016x}\"", hasher.finish())
        })
        .collect()
});

/// The file named, or the API's 404.
pub fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some(index) = FILES.iter().position(|f| f.name == name) else {
        return ApiError::not_found("Route").into_response();
    };
    let etag = &ETAGS[index];
    let headers = [
        (header::ETAG, HeaderValue::from_str(etag).expect("hex")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let file = &FILES[index];
    (
        headers,
        [(header::CONTENT_TYPE, HeaderValue::from_static(file.mime()))],
        file.body,
    )
        .into_response()
}
