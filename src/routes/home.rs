//! `GET /`: who is signed in, and where their settings are.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use crate::auth::extractors::SignedIn;
use crate::error::AppError;
use crate::routes::{Chrome, render};

#[derive(Template)]
#[template(path = "account/home.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    email: String,
    organization: String,
    role: &'static str,
    two_factor_on: bool,
    via_recovery: bool,
    codes_left: i64,
}

/// Someone not signed in is sent to the sign-in page by the [`SignedIn`] guard.
pub async fn get_home(signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let codes_left = signed_in.recovery_codes_left;
    let page = HomePage {
        chrome: Chrome::signed_in(&signed_in)?,
        name: signed_in.user.name.clone(),
        email: signed_in.user.email.clone(),
        organization: signed_in.organization.name.clone(),
        role: signed_in.user.role.label(),
        two_factor_on: signed_in.user.has_two_factor(),
        via_recovery: signed_in.session.signed_in_with_recovery_code(),
        codes_left,
    };
    render(&page, StatusCode::OK)
}
