//! `GET/POST /invitations/{token}`: the invitee chooses a password (and may correct their
//! name), joins the organization, then signs in as usual. The link works once, for 7 days.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{FlashKind, TypedSession};
use crate::auth::tokens;
use crate::db::models::{Invitation, NewUser, Organization, User};
use crate::domain::{Password, PersonName, Role};
use crate::error::AppError;
use crate::routes::{Chrome, render, see_other};
use crate::startup::AppState;

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

/// The invitation of a token, with its organization, whatever its state.
async fn find(
    state: &AppState,
    token: &str,
) -> Result<Option<(Invitation, Organization)>, AppError> {
    let Some(token_hash) = tokens::lookup_hash(token) else {
        return Ok(None);
    };
    crate::db::run(&state.pool, move |c| {
        let Some(invitation) = Invitation::find_by_token_hash(c, &token_hash)? else {
            return Ok(None);
        };
        Ok(Organization::find(c, invitation.organization_id)?.map(|o| (invitation, o)))
    })
    .await
}

pub async fn get_invitation(
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let now = crate::now_unix();
    let Some((invitation, organization)) = find(&state, &token).await? else {
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
        role: Role::parse(&invitation.role)
            .unwrap_or(Role::Member)
            .label(),
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

/// What accepting found.
enum Joined {
    Yes,
    LinkUnusable,
    EmailTaken,
}

pub async fn post_invitation(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    let now = crate::now_unix();
    let Some((invitation, organization)) = find(&state, &token).await? else {
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
                role: Role::parse(&invitation.role)
                    .unwrap_or(Role::Member)
                    .label(),
                name: form.name.clone(),
                name_error: name.err(),
                password_error: password.err().map(|e| e.to_string()),
            };
            return render(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let password_hash = state.hasher.hash(password).await?;
    let origin = Origin::of(&req);
    let now = crate::now_unix();
    let role = Role::parse(&invitation.role).unwrap_or(Role::Member);
    let accepted = invitation.clone();
    let joined = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            // Checked first, so that the link stays usable if the person's email is taken.
            if User::email_taken(c, &accepted.email)? {
                return Ok(Joined::EmailTaken);
            }
            // The conditional update decides: of two uses of one link, one joins.
            if !Invitation::accept(c, accepted.id, now)? {
                return Ok(Joined::LinkUnusable);
            }
            let user_id = NewUser {
                organization_id: accepted.organization_id,
                email: &accepted.email,
                name: name.as_str(),
                password_hash: &password_hash,
                role: role.as_str(),
                created_at: now,
            }
            .insert(c)?;
            origin.record(
                c,
                Entry::by(
                    accepted.organization_id,
                    user_id,
                    Some(user_id),
                    event::INVITATION_ACCEPTED,
                )
                .detail(&format!("as {} (#{})", role.as_str(), accepted.id)),
                now,
            )?;
            Ok(Joined::Yes)
        })
    })
    .await?;
    match joined {
        Joined::LinkUnusable => invitation_unusable(&session, StatusCode::GONE),
        Joined::EmailTaken => Err(AppError::Unprocessable(
            "Someone with this email already has an account: sign in instead.".into(),
        )),
        Joined::Yes => {
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
