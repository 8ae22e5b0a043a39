//! Settings › Organization Security: `GET/POST /settings/organization-security`, enforcing
//! 2FA for everyone. Before saving, the page shows who would be signed out; on enforcing,
//! every active person without 2FA is signed out at once (one `UPDATE` bumps their session
//! epochs in the transaction that turns enforcement on) and emailed. From then on the
//! enforcement middleware holds them on the setup page until 2FA is on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, SignedIn};
use crate::auth::session::FlashKind;
use crate::db::models::{Organization, User};
use crate::error::AppError;
use crate::notify;
use crate::routes::{Chrome, render, see_other};
use crate::startup::AppState;

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
    let organization_id = viewer.organization.id;
    let would_sign_out = crate::db::run(&state.pool, move |c| {
        Ok(User::without_two_factor(c, organization_id, PREVIEW)?)
    })
    .await?;
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
    req: HttpRequest,
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
    if enforce == admin.organization.enforce_two_factor {
        admin.session.flash(
            FlashKind::Info,
            if enforce {
                "Two-factor authentication was already required."
            } else {
                "Two-factor authentication was already optional."
            },
        )?;
        return Ok(see_other("/settings/organization-security"));
    }
    if enforce && !admin.user.has_two_factor() {
        // Enforcing would sign the admin out and hold them on the setup page: they set it up
        // first, as GitHub asks of an organization's owners.
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
    let origin = Origin::of(&req);
    let (organization_id, actor_id) = (admin.organization.id, admin.user.id);
    let now = crate::now_unix();
    let signed_out = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            if !Organization::set_enforcement(c, organization_id, enforce)? {
                // Another admin switched it first; their change is the one recorded.
                return Ok(Vec::new());
            }
            let signed_out = if enforce {
                User::end_sessions_without_two_factor(c, organization_id)?
            } else {
                Vec::new()
            };
            let detail = if enforce {
                format!("required; {} signed out", signed_out.len())
            } else {
                "optional".to_owned()
            };
            origin.record(
                c,
                Entry::by(organization_id, actor_id, None, event::ENFORCEMENT_CHANGED)
                    .detail(&detail),
                now,
            )?;
            Ok(signed_out)
        })
    })
    .await?;
    let emails = signed_out
        .iter()
        .map(|(_, name, email)| {
            notify::two_factor_required(
                &state.config.public_url,
                name,
                email,
                &admin.organization.name,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Thousands of people may have been signed out: their notices go out after the answer,
    // so the admin does not wait for them (nor a proxy time the request out).
    let mailer = state.mailer.clone();
    actix_web::rt::spawn(async move { mailer.send_or_log(emails).await });
    let message = if enforce {
        format!(
            "Two-factor authentication is now required. {} {} without it {} signed out and \
             {} being emailed.",
            signed_out.len(),
            if signed_out.len() == 1 {
                "person"
            } else {
                "people"
            },
            if signed_out.len() == 1 { "was" } else { "were" },
            if signed_out.len() == 1 { "is" } else { "are" },
        )
    } else {
        "Two-factor authentication is now optional.".to_owned()
    };
    admin.session.flash(FlashKind::Success, message)?;
    Ok(see_other("/settings/organization-security"))
}
