//! Settings › Owner: `GET /settings/owner`, who owns this organization, for anyone in it; for
//! the owner, the form that hands the ownership over to an admin (`POST
//! /settings/owner/transfer`, confirmed with the password and, when due, the second factor).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Owner, SignedIn};
use crate::auth::session::FlashKind;
use crate::domain::Role;
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::people::{self, Candidate, Transfer};
use crate::routes::settings::security::{self, reauth_due, refused_status, second_factor};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/owner.html")]
struct OwnerPage {
    chrome: Chrome,
    section: &'static str,
    owner_name: String,
    owner_email: String,
    /// The hand-over form, for the owner.
    transfer: Option<TransferForm>,
}

/// The hand-over form's choices and errors.
struct TransferForm {
    candidates: Vec<Candidate>,
    /// The organization requires 2FA: admins without it cannot be chosen.
    enforced: bool,
    reauth_due: bool,
    /// Re-authentication is due and the owner has a passkey to do it with.
    reauth_passkey: bool,
    chosen: Option<i64>,
    password_error: Option<String>,
    code_error: Option<String>,
}

impl TransferForm {
    fn selectable(&self, candidate: &Candidate) -> bool {
        candidate.two_factor || !self.enforced
    }

    fn any_selectable(&self) -> bool {
        self.candidates.iter().any(|c| self.selectable(c))
    }

    fn is_chosen(&self, candidate: &Candidate) -> bool {
        self.chosen == Some(candidate.id)
    }
}

/// The form's state after a post.
#[derive(Default)]
struct Posted {
    chosen: Option<i64>,
    password_error: Option<String>,
    code_error: Option<String>,
}

async fn page(
    signed_in: &SignedIn,
    state: &AppState,
    posted: Posted,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let organization_id = signed_in.organization.id;
    let transfer = if signed_in.user.role == Role::Owner {
        Some(TransferForm {
            candidates: people::active_admins(state, organization_id).await?,
            enforced: signed_in.organization.enforce_two_factor,
            reauth_due: reauth_due(signed_in, state),
            reauth_passkey: reauth_due(signed_in, state)
                && signed_in.user.passkey_count > 0
                && state.webauthn.is_some(),
            chosen: posted.chosen,
            password_error: posted.password_error,
            code_error: posted.code_error,
        })
    } else {
        None
    };
    let owner = people::owner_of(state, organization_id).await?;
    let page = OwnerPage {
        chrome: Chrome::signed_in(signed_in)?,
        section: "owner",
        owner_name: owner.name,
        owner_email: owner.email,
        transfer,
    };
    render(&page, status)
}

pub async fn get_owner(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(&signed_in, &state, Posted::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct TransferFields {
    /// The chosen admin's id, as the select sends it.
    new_owner: String,
    password: String,
    /// Asked while no second factor was proved lately.
    #[serde(default)]
    code: Option<String>,
}

pub async fn post_transfer(
    origin: Origin,
    owner: Owner,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<TransferFields>,
) -> Result<HttpResponse, AppError> {
    let new_owner: i64 =
        form.new_owner.trim().parse().map_err(|_| {
            AppError::Unprocessable("Choose the admin who becomes the owner.".into())
        })?;
    let asked = second_factor(&owner, &state, form.code);
    let outcome = people::transfer_ownership(
        &state,
        &owner.user,
        &owner.organization,
        new_owner,
        form.password,
        asked,
        origin,
    )
    .await?;
    let posted = |password_error, code_error| Posted {
        chosen: Some(new_owner),
        password_error,
        code_error,
    };
    match outcome {
        Transfer::Done {
            name,
            reauthenticated,
        } => {
            security::note(&owner, reauthenticated)?;
            owner.session.flash(
                FlashKind::Success,
                format!("{name} is the owner now; you are an admin. You were both emailed."),
            )?;
            Ok(see_other("/settings/owner"))
        }
        Transfer::WrongPassword => {
            page(
                &owner,
                &state,
                posted(Some("Incorrect password.".into()), None),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
        Transfer::Refused(refused) => {
            page(
                &owner,
                &state,
                posted(None, Some(refused.message())),
                refused_status(&refused),
            )
            .await
        }
    }
}
