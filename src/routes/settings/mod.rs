//! Settings pages.

mod owner;
mod security;
mod two_factor;

use actix_web::web;

/// Registers the settings routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(security::redirect_to_security))
        .route("/settings/security", web::get().to(security::get_security))
        .route(
            "/settings/security/recovery-codes",
            web::post().to(security::post_recovery_codes),
        )
        .route(
            "/settings/security/two-factor/disable",
            web::post().to(security::post_disable),
        )
        .route(
            "/settings/security/two-factor/setup",
            web::post().to(two_factor::post_setup),
        )
        .route(
            "/settings/security/two-factor/setup",
            web::get().to(two_factor::get_setup),
        )
        .route(
            "/settings/security/two-factor/confirm",
            web::get().to(two_factor::get_confirm),
        )
        .route(
            "/settings/security/two-factor/confirm",
            web::post().to(two_factor::post_confirm),
        )
        .route("/settings/owner", web::get().to(owner::get_owner));
}
