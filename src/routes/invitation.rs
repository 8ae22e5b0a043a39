//! `GET/POST /invitations/{token}`: the invitee chooses a password (and may correct their
//! name), joins the organization, then signs in as usual. The link works once, for 7 days.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{FlashKind, TypedSession};
use crate::domain::{Password, PersonName};
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::invitations::{self, Acceptance};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account/invitation.html")]
struct InvitationPage {
    chrome: Chrome,
    token: String,
    organization: String,
    email: String,
    name: String,
    role: &'static str,
    name_error: Option<String>,
    password_error: Option<String>,
}

/// The page for a link that does not (or no longer) work.
#[derive(Template)]
#[template(path = "account/link_invalid.html")]
pub struct LinkInvalidPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: &'static str,
}

fn invitation_unusable(
    session: &TypedSession,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let page = LinkInvalidPage {
        chrome: Chrome::anonymous(session)?,
        heading: "This invitation link doesn't work",
        message: "It may have expired (links work for 7 days), been used already, or been \
                  replaced by a newer invitation. Ask an admin of your organization to send \
                  you a new one.",
    };
    render(&page, status)
}

pub async fn get_invitation(
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let now = crate::now_unix();
    let Some((invitation, organization)) = invitations::find_by_token(&state, &token).await? else {
        return invitation_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !invitation.is_usable(now) {
        return invitation_unusable(&session, StatusCode::GONE);
    }
    let page = InvitationPage {
        chrome: Chrome::anonymous(&session)?,
        token,
        organization: organization.name,
        email: invitation.email,
        role: invitation.role.label(),
        name: invitation.name,
        name_error: None,
        password_error: None,
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct JoinForm {
    name: String,
    password: String,
}

pub async fn post_invitation(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let now = crate::now_unix();
    let Some((invitation, organization)) = invitations::find_by_token(&state, &token).await? else {
        return invitation_unusable(&session, StatusCode::NOT_FOUND);
    };
    if !invitation.is_usable(now) {
        return invitation_unusable(&session, StatusCode::GONE);
    }
    let name = PersonName::parse(&form.name);
    let password = Password::parse(form.password);
    let (name, password) = match (name, password) {
        (Ok(name), Ok(password)) => (name, password),
        (name, password) => {
            let page = InvitationPage {
                chrome: Chrome::anonymous(&session)?,
                token,
                organization: organization.name,
                email: invitation.email,
                role: invitation.role.label(),
                name: form.name.clone(),
                name_error: name.err(),
                password_error: password.err().map(|e| e.to_string()),
            };
            return render(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let joined = invitations::accept(&state, &invitation, name, password, origin).await?;
    match joined {
        Acceptance::LinkUnusable => invitation_unusable(&session, StatusCode::GONE),
        Acceptance::EmailTaken => Err(AppError::Unprocessable(
            "Someone with this email already has an account: sign in instead.".into(),
        )),
        Acceptance::Joined => {
            // Whoever was signed in in this browser is not the person who just joined.
            session.renew()?;
            session.flash(
                FlashKind::Success,
                format!(
                    "Welcome to {}! Sign in with {} and your new password.",
                    organization.name, invitation.email
                ),
            )?;
            Ok(see_other("/login"))
        }
    }
}
