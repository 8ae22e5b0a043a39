//! The stylesheet, the small scripts (the page helpers, and passkeys' ceremonies) and the icon, compiled into the binary so the app
//! needs no files beside it.

use actix_web::{HttpResponse, web};

const STYLE: &str = include_str!("../../static/style.css");
const SCRIPT: &str = include_str!("../../static/app.js");
const PASSKEYS: &str = include_str!("../../static/passkeys.js");
const FAVICON: &str = include_str!("../../static/favicon.svg");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/static/style.css",
        web::get().to(|| asset(STYLE, "text/css; charset=utf-8")),
    )
    .route(
        "/static/app.js",
        web::get().to(|| asset(SCRIPT, "text/javascript; charset=utf-8")),
    )
    .route(
        "/static/passkeys.js",
        web::get().to(|| asset(PASSKEYS, "text/javascript; charset=utf-8")),
    )
    .route(
        "/static/favicon.svg",
        web::get().to(|| asset(FAVICON, "image/svg+xml")),
    )
    .route(
        "/favicon.ico",
        web::get().to(|| asset(FAVICON, "image/svg+xml")),
    );
}

async fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}
