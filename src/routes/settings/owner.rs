//! `GET /settings/owner`: who owns this organization, for anyone in it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::extractors::SignedIn;
use crate::error::AppError;
use crate::ops::people;
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/owner.html")]
struct OwnerPage {
    chrome: Chrome,
    section: &'static str,
    owner_name: String,
    owner_email: String,
}

pub async fn get_owner(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let owner = people::owner_of(&state, signed_in.organization.id).await?;
    let page = OwnerPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "owner",
        owner_name: owner.name,
        owner_email: owner.email,
    };
    render(&page, StatusCode::OK)
}
