//! The pages, one module per page: `/settings/security` lives in
//! `routes/settings/security.rs` and renders `templates/settings/security.html`.

mod health;
mod home;
mod invitation;
mod login;
mod not_me;
pub mod settings;
mod signup;
mod static_files;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
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
        .route("/logout", web::post().to(login::post_logout))
        .route(
            "/invitations/{token}",
            web::get().to(invitation::get_invitation),
        )
        .route(
            "/invitations/{token}",
            web::post().to(invitation::post_invitation),
        )
        .route("/account/not-me/{token}", web::get().to(not_me::get_not_me))
        .route(
            "/account/not-me/{token}",
            web::post().to(not_me::post_not_me),
        )
        .configure(settings::configure)
        .configure(static_files::configure);
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

    /// The layout for a signed-in person.
    pub fn signed_in(signed_in: &SignedIn) -> Result<Self, AppError> {
        Ok(Self {
            csrf_token: signed_in.session.csrf_token()?,
            viewer: Some(Viewer {
                name: signed_in.user.name.clone(),
                organization: signed_in.organization.name.clone(),
                is_admin: signed_in.user.role() >= Role::Admin,
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

/// A 303 redirect: after a POST, the browser GETs `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// The 404 page for every unknown route.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// "45 seconds", "2 minutes", "1 hour".
pub fn format_wait(secs: i64) -> String {
    let secs = secs.max(1);
    let (n, unit) = if secs < 90 {
        (secs, "second")
    } else if secs < 90 * 60 {
        ((secs + 30) / 60, "minute")
    } else {
        ((secs + 1800) / 3600, "hour")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A Unix time as a date and time in UTC, as the pages show it.
pub fn format_time(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(format_wait(1), "1 second");
        assert_eq!(format_wait(45), "45 seconds");
        assert_eq!(format_wait(120), "2 minutes");
        assert_eq!(format_wait(3600), "60 minutes");
        assert_eq!(format_wait(7200), "2 hours");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
    }
}
