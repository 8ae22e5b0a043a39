//! Settings › Organization Security: `GET/POST /settings/organization-security`, enforcing
//! 2FA for everyone. Before saving, the page shows who would be signed out; on enforcing,
//! every active person without 2FA is signed out at once (one `UPDATE` bumps their session
//! epochs in the transaction that turns enforcement on) and emailed. From then on the
//! enforcement middleware holds them on the setup page until 2FA is on.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, SignedIn};
use crate::auth::session::FlashKind;
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::organization::{self, Enforcement};
use crate::ops::people;
use crate::routes::{Chrome, render};
use crate::state::AppState;

/// How many of the people who would be signed out the page names.
const PREVIEW: i64 = 50;

#[derive(Template)]
#[template(path = "settings/organization_security.html")]
struct OrganizationSecurityPage {
    chrome: Chrome,
    section: &'static str,
    enforced: bool,
    viewer_has_two_factor: bool,
    people: i64,
    without_two_factor: i64,
    would_sign_out: Vec<(String, String)>,
    error: Option<String>,
}

async fn page(
    viewer: &SignedIn,
    state: &AppState,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let would_sign_out = people::without_two_factor(state, viewer.organization.id, PREVIEW).await?;
    let organization = &viewer.organization;
    let page = OrganizationSecurityPage {
        chrome: Chrome::signed_in(viewer)?,
        section: "organization-security",
        enforced: organization.enforce_two_factor,
        viewer_has_two_factor: viewer.user.has_two_factor(),
        people: organization.people_count,
        without_two_factor: organization.people_count - organization.two_factor_count,
        would_sign_out,
        error,
    };
    render(&page, status)
}

pub async fn get_organization_security(
    admin: Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(&admin, &state, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct EnforcementForm {
    /// A checkbox: `on` when checked, absent when not.
    enforce_two_factor: Option<String>,
}

pub async fn post_organization_security(
    origin: Origin,
    admin: Admin,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<EnforcementForm>,
) -> Result<HttpResponse, AppError> {
    let enforce = match form.enforce_two_factor.as_deref() {
        None => false,
        Some("on") => true,
        Some(_) => {
            return Err(AppError::BadRequest(
                "The enforce_two_factor checkbox sends \"on\" or nothing.".into(),
            ));
        }
    };
    let outcome =
        organization::set_enforcement(&state, &admin.user, &admin.organization, enforce, origin)
            .await?;
    let (kind, message) = match outcome {
        Enforcement::TurnOnYourOwnFirst => {
            return page(
                &admin,
                &state,
                Some(
                    "Turn on two-factor authentication for your own account first, in \
                     Settings › Security."
                        .into(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Enforcement::Unchanged { on: true } => (
            FlashKind::Info,
            "Two-factor authentication was already required.".to_owned(),
        ),
        Enforcement::Unchanged { on: false } => (
            FlashKind::Info,
            "Two-factor authentication was already optional.".to_owned(),
        ),
        Enforcement::Changed {
            on: true,
            signed_out,
        } => (
            FlashKind::Success,
            format!(
                "Two-factor authentication is now required. {signed_out} {} without it {} \
                 signed out and {} being emailed.",
                if signed_out == 1 { "person" } else { "people" },
                if signed_out == 1 { "was" } else { "were" },
                if signed_out == 1 { "is" } else { "are" },
            ),
        ),
        Enforcement::Changed { on: false, .. } => (
            FlashKind::Success,
            "Two-factor authentication is now optional.".to_owned(),
        ),
    };
    admin.session.flash(kind, message)?;
    Ok(see_other("/settings/organization-security"))
}
