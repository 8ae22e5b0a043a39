//! Settings › Password: `GET/POST /settings/security/password`, changing the password with
//! the current one (and the second factor when re-authentication is due). Every other session
//! ends; this one goes on under a new identity.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::SignedIn;
use crate::auth::session::FlashKind;
use crate::domain::Password;
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::account::{self, PasswordChange};
use crate::routes::settings::security::{self, reauth_due, refused_status, second_factor};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "settings/password.html")]
struct PasswordPage {
    chrome: Chrome,
    section: &'static str,
    reauth_due: bool,
    /// Re-authentication is due and the person has a passkey to do it with.
    reauth_passkey: bool,
    current_error: Option<String>,
    new_error: Option<String>,
    code_error: Option<String>,
}

fn page(
    signed_in: &SignedIn,
    state: &AppState,
    errors: (Option<String>, Option<String>, Option<String>),
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (current_error, new_error, code_error) = errors;
    let page = PasswordPage {
        chrome: Chrome::signed_in(signed_in)?,
        section: "password",
        reauth_due: reauth_due(signed_in, state),
        reauth_passkey: reauth_due(signed_in, state)
            && signed_in.user.passkey_count > 0
            && state.webauthn.is_some(),
        current_error,
        new_error,
        code_error,
    };
    render(&page, status)
}

pub async fn get_password(
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    page(&signed_in, &state, (None, None, None), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    /// Asked while no second factor was proved lately.
    #[serde(default)]
    code: Option<String>,
}

pub async fn post_password(
    origin: Origin,
    signed_in: SignedIn,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let new_password = match Password::parse(form.new_password) {
        Ok(password) => password,
        Err(e) => {
            return page(
                &signed_in,
                &state,
                (None, Some(e.to_string()), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let asked = second_factor(&signed_in, &state, form.code);
    let outcome = account::change_password(
        &state,
        &signed_in.user,
        signed_in.session.signed_in_id(),
        form.current_password,
        new_password,
        asked,
        origin,
    )
    .await?;
    match outcome {
        PasswordChange::Done {
            epoch,
            session,
            reauthenticated,
        } => {
            signed_in.session.continue_as(epoch, &session)?;
            security::note(&signed_in, reauthenticated)?;
            signed_in.session.flash(
                FlashKind::Success,
                "Your password is changed. Every other session of yours was signed out.",
            )?;
            Ok(see_other("/settings/security/password"))
        }
        PasswordChange::WrongPassword => page(
            &signed_in,
            &state,
            (Some("Incorrect password.".into()), None, None),
            StatusCode::UNAUTHORIZED,
        ),
        PasswordChange::Unchanged => page(
            &signed_in,
            &state,
            (
                None,
                Some("The new password is the current one you entered: choose another.".into()),
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        PasswordChange::Refused(refused) => page(
            &signed_in,
            &state,
            (None, None, Some(refused.message())),
            refused_status(&refused),
        ),
    }
}
