//! `GET /settings/owner`: who owns this organization, for anyone in it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::auth::extractors::SignedIn;
use crate::db::schema::users;
use crate::domain::Role;
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
    let owner: Option<(String, String)> = crate::db::run(&state.pool, move |c| {
        Ok(users::table
            .filter(users::organization_id.eq(organization_id))
            .filter(users::role.eq(Role::Owner.as_str()))
            .select((users::name, users::email))
            .first(c)
            .optional()?)
    })
    .await?;
    let (owner_name, owner_email) = owner.ok_or_else(|| {
        AppError::Unexpected(anyhow::anyhow!(
            "organization {organization_id} has no owner"
        ))
    })?;
    let page = OwnerPage {
        chrome: Chrome::signed_in(&signed_in)?,
        section: "owner",
        owner_name,
        owner_email,
    };
    render(&page, StatusCode::OK)
}
