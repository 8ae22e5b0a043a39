//! `GET/POST /signup`: create an organization and its owner.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::audit::Origin;
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{FlashKind, SecondFactorUsed, TypedSession};
use crate::domain::{Email, OrganizationName, Password, PersonName};
use crate::error::AppError;
use crate::http::see_other;
use crate::ops::account::{self, NewOrganizationRequest, SignUp};
use crate::routes::{Chrome, render};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignupForm {
    organization: String,
    name: String,
    email: String,
    password: String,
}

/// A field's error message, shown next to it.
#[derive(Default)]
struct SignupErrors {
    organization: Option<String>,
    name: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

impl SignupErrors {
    fn any(&self) -> bool {
        self.organization.is_some()
            || self.name.is_some()
            || self.email.is_some()
            || self.password.is_some()
    }
}

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignupPage {
    chrome: Chrome,
    organization: String,
    name: String,
    email: String,
    errors: SignupErrors,
}

fn closed() -> AppError {
    AppError::Forbidden(
        "Sign-up is closed on this server. Ask your organization's owner or an admin to invite you."
            .into(),
    )
}

pub async fn get_signup(
    session: TypedSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if !state.config.signup_open {
        return Err(closed());
    }
    let page = SignupPage {
        chrome: Chrome::anonymous(&session)?,
        organization: String::new(),
        name: String::new(),
        email: String::new(),
        errors: SignupErrors::default(),
    };
    render(&page, StatusCode::OK)
}

pub async fn post_signup(
    origin: Origin,
    session: TypedSession,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<SignupForm>,
) -> Result<HttpResponse, AppError> {
    if !state.config.signup_open {
        return Err(closed());
    }
    let mut errors = SignupErrors::default();
    let organization = OrganizationName::parse(&form.organization)
        .map_err(|e| errors.organization = Some(e))
        .ok();
    let name = PersonName::parse(&form.name)
        .map_err(|e| errors.name = Some(e))
        .ok();
    let email = Email::parse(&form.email)
        .map_err(|e| errors.email = Some(e))
        .ok();
    let password = Password::parse(form.password)
        .map_err(|e| errors.password = Some(e.to_string()))
        .ok();
    let rerender = |errors: SignupErrors| -> Result<HttpResponse, AppError> {
        let page = SignupPage {
            chrome: Chrome::anonymous(&session)?,
            organization: form.organization.clone(),
            name: form.name.clone(),
            email: form.email.clone(),
            errors,
        };
        render(&page, StatusCode::UNPROCESSABLE_ENTITY)
    };
    let (Some(organization), Some(name), Some(email), Some(password)) =
        (organization, name, email, password)
    else {
        return rerender(errors);
    };
    debug_assert!(!errors.any());

    let request = NewOrganizationRequest {
        organization,
        owner_name: name,
        email,
        password,
        signs_in: true,
    };
    let (user_id, signed) = match account::sign_up(&state, request, origin).await? {
        SignUp::Created {
            user_id,
            session: Some(session),
            ..
        } => (user_id, session),
        SignUp::Created { session: None, .. } => {
            return Err(AppError::Unexpected(anyhow::anyhow!(
                "sign-up made no session"
            )));
        }
        SignUp::EmailTaken => {
            return rerender(SignupErrors {
                email: Some("An account with this email already exists. Sign in instead.".into()),
                ..SignupErrors::default()
            });
        }
    };
    session.sign_in(user_id, 0, &signed, SecondFactorUsed::None)?;
    session.flash(
        FlashKind::Success,
        "Your organization is ready. Protect your account: turn on two-factor authentication.",
    )?;
    Ok(see_other("/settings/security"))
}
