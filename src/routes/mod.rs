//! The pages, one module per page: `/settings/security` lives in
//! `routes/settings/security.rs` and renders `templates/settings/security.html`. A handler
//! parses its input into domain types, calls one operation of `crate::ops`, and turns the
//! outcome into a page, a redirect or a session change; it never opens a transaction.

mod health;
mod home;
mod invitation;
mod login;
mod not_me;
mod password;
pub mod settings;
mod signup;
mod static_files;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::extractors::SignedIn;
use crate::auth::session::{Flash, TypedSession};
use crate::domain::Role;
use crate::error::AppError;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::get_home))
        .route("/healthz", web::get().to(health::get_health))
        .route("/signup", web::get().to(signup::get_signup))
        .route("/signup", web::post().to(signup::post_signup))
        .route("/login", web::get().to(login::get_login))
        .route("/login", web::post().to(login::post_login))
        .route("/login/two-factor", web::get().to(login::get_two_factor))
        .route("/login/two-factor", web::post().to(login::post_two_factor))
        .route(
            "/login/passkey/options",
            web::post().to(login::post_passkey_options),
        )
        .route("/login/passkey", web::post().to(login::post_passkey))
        .route(
            "/login/two-factor/passkey/options",
            web::post().to(login::post_two_factor_passkey_options),
        )
        .route(
            "/login/two-factor/passkey",
            web::post().to(login::post_two_factor_passkey),
        )
        .route("/logout", web::post().to(login::post_logout))
        .route("/password/forgot", web::get().to(password::get_forgot))
        .route("/password/forgot", web::post().to(password::post_forgot))
        .configure(settings::configure)
        .configure(static_files::configure)
        // Paths with a token last: matching them costs more than a plain comparison.
        .route(
            "/invitations/{token}",
            web::get().to(invitation::get_invitation),
        )
        .route(
            "/invitations/{token}",
            web::post().to(invitation::post_invitation),
        )
        .route(
            "/password/reset/{token}",
            web::get().to(password::get_reset),
        )
        .route(
            "/password/reset/{token}",
            web::post().to(password::post_reset),
        )
        .route("/account/not-me/{token}", web::get().to(not_me::get_not_me))
        .route(
            "/account/not-me/{token}",
            web::post().to(not_me::post_not_me),
        );
}

/// The part of every page that the layout needs: the viewer, a CSRF token for the sign-out
/// form, and a one-time message.
pub struct Chrome {
    pub csrf_token: String,
    pub viewer: Option<Viewer>,
    pub flash: Option<Flash>,
}

/// The signed-in person, as the layout shows them.
pub struct Viewer {
    pub name: String,
    pub organization: String,
    pub is_admin: bool,
    /// Held on the 2FA setup pages by their organization's requirement: the layout offers no
    /// links that would only bring them back there.
    pub held: bool,
}

impl Chrome {
    /// The layout for someone not signed in.
    pub fn anonymous(session: &TypedSession) -> Result<Self, AppError> {
        Ok(Self {
            csrf_token: session.csrf_token()?,
            viewer: None,
            flash: session.take_flash(),
        })
    }

    /// Whether the viewer is held on the 2FA setup pages by their organization.
    pub fn held(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.held)
    }

    /// The layout for a signed-in person.
    pub fn signed_in(signed_in: &SignedIn) -> Result<Self, AppError> {
        Ok(Self {
            csrf_token: signed_in.session.csrf_token()?,
            viewer: Some(Viewer {
                name: signed_in.user.name.clone(),
                organization: signed_in.organization.name.clone(),
                is_admin: signed_in.user.role >= Role::Admin,
                held: signed_in.must_set_up_two_factor(),
            }),
            flash: signed_in.session.take_flash(),
        })
    }
}

/// A form with no fields but its CSRF token.
#[derive(Deserialize)]
pub struct EmptyForm {}

/// Renders a page with a status.
pub fn render<T: Template>(page: &T, status: StatusCode) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// The 404 page for every unknown route.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
