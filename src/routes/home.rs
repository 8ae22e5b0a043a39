//! `GET /`: who is signed in, and where their settings are.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use crate::auth::extractors::SignedIn;
use crate::db::models::StoredRecoveryCode;
use crate::error::AppError;
use crate::routes::{Chrome, render};
use crate::startup::AppState;

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
pub async fn get_home(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user_id = signed_in.user.id;
    let codes_left = crate::db::run(&state.pool, move |c| {
        Ok(StoredRecoveryCode::count_unused(c, user_id)?)
    })
    .await?;
    let page = HomePage {
        chrome: Chrome::signed_in(&signed_in)?,
        name: signed_in.user.name.clone(),
        email: signed_in.user.email.clone(),
        organization: signed_in.organization.name.clone(),
        role: signed_in.user.role().label(),
        two_factor_on: signed_in.user.has_two_factor(),
        via_recovery: signed_in.session.signed_in_with_recovery_code(),
        codes_left,
    };
    render(&page, StatusCode::OK)
}
