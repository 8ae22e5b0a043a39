//! `GET /settings/owner`: who owns this organization, for anyone in it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::extractors::SignedIn;
use crate::db::models::User;
use crate::error::AppError;
use crate::routes::{Chrome, render};
use crate::startup::AppState;

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
    let organization_id = signed_in.organization.id;
    let owner = crate::db::run(&state.pool, move |c| {
        Ok(User::owner_of(c, organization_id)?)
    })
    .await?;
    let owner = owner.ok_or_else(|| {
        AppError::Unexpected(anyhow::anyhow!(
            "organization {organization_id} has no owner"
        ))
    })?;
    let page = OwnerPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "owner",
        owner_name: owner.name,
        owner_email: owner.email,
    };
    render(&page, StatusCode::OK)
}
