//! Re-authentication: the password again, and the second factor again when this session has
//! not proved one lately ("sudo mode", as GitHub has it), before a sensitive change. Both are
//! counted against the same limits as at sign-in, before they are checked.

use crate::audit::{Entry, Origin};
use crate::auth::password::Admission;
use crate::auth::throttle::{CodeAttempt, PasswordAttempt};
use crate::auth::two_factor::{self, CodeCheck};
use crate::db::models::{StoredRecoveryCode, User};
use crate::domain::{Event, OneTimeCode};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::state::AppState;

/// Whether `password` is the person's. The attempt is counted first; 429 while limited. The
/// caller took its place in the bcrypt line (`admission`) before changing anything.
pub async fn confirm_password(
    app: &AppState,
    admission: &Admission,
    user: &User,
    origin: &Origin,
    password: String,
) -> Result<bool, AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let attempt = PasswordAttempt::new(&user.email, &origin.address);
    let counting = attempt.clone();
    let counted = crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    let right = app
        .hasher
        .verify(admission, password, Some(user.password_hash.clone()))
        .await?;
    if right {
        crate::db::write(&app.pool, move |c| attempt.succeeded(c)).await?;
    } else if counted.reached_account_ceiling {
        crate::ops::sign_in::ceiling_reached(app, user, origin, now).await?;
    }
    Ok(right)
}

/// What a sensitive action's form brought for the second factor.
#[derive(Debug, Clone)]
pub enum SecondFactor {
    /// This session proved one within `TWOFOLD_REAUTH_MINUTES`: not asked.
    Recent,
    /// Asked: the form's `code` field, if it had one.
    Due(Option<String>),
}

/// The second factor was not needed, or was just proved (the session should note it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reauthenticated {
    NotAsked,
    JustProved,
}

/// Why the second factor was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReauthRefused {
    /// It was due and the form had no code.
    CodeNeeded,
    /// The code is not one a person could have typed.
    Malformed(String),
    Wrong(CodeCheck),
}

impl ReauthRefused {
    /// What to tell the person.
    pub fn message(&self) -> String {
        match self {
            Self::CodeNeeded => "Enter a code from your authenticator app (or one of your \
                                 recovery codes) to confirm it's you."
                .into(),
            Self::Malformed(message) => message.clone(),
            Self::Wrong(check) => check.message(),
        }
    }
}

/// Asks for the person's second factor if it is due: a code from their current app or an
/// unused recovery code (which it spends). Counted first, as at sign-in.
pub async fn second_factor(
    app: &AppState,
    user: &User,
    asked: SecondFactor,
    origin: &Origin,
) -> Result<Result<Reauthenticated, ReauthRefused>, AppError> {
    let text = match asked {
        _ if !user.has_two_factor() => return Ok(Ok(Reauthenticated::NotAsked)),
        SecondFactor::Recent => return Ok(Ok(Reauthenticated::NotAsked)),
        SecondFactor::Due(text) => text.unwrap_or_default(),
    };
    if text.trim().is_empty() {
        return Ok(Err(ReauthRefused::CodeNeeded));
    }
    let code = match OneTimeCode::parse(&text) {
        Ok(code) => code,
        Err(message) => return Ok(Err(ReauthRefused::Malformed(message))),
    };
    let now = crate::now_unix();
    let limits = app.config.limits;
    let attempt = CodeAttempt::new(user.id, &origin.address);
    let counted = attempt.clone();
    crate::db::write(&app.pool, move |c| counted.take(c, &limits, now)).await?;
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let checked = user.clone();
    let origin = origin.clone();
    let (check, alert) = crate::db::write(&app.pool, move |c| {
        let check = match &code {
            OneTimeCode::Totp(code) => two_factor::check_totp(c, &keys, &checked, code, now)?,
            OneTimeCode::Recovery(code) => {
                two_factor::check_recovery_code(c, &keys, checked.id, code, now)?
            }
        };
        if check != CodeCheck::Accepted {
            return Ok((check, None));
        }
        attempt.succeeded(c)?;
        // A recovery code spent here is gone like one spent at sign-in: recorded, and the
        // person told how many are left.
        let alert = if matches!(code, OneTimeCode::Recovery(_)) {
            origin.record(
                c,
                Entry::own(checked.organization_id, checked.id, Event::RecoveryCodeUsed)
                    .detail("to confirm a change"),
                now,
            )?;
            let left = StoredRecoveryCode::count_unused(c, checked.id)?;
            Some(notify::security_alert(
                c,
                &public_url,
                &checked,
                &Alert::RecoveryCodeUsed { left },
                &origin,
                now,
            )?)
        } else {
            None
        };
        Ok((check, alert))
    })
    .await?;
    if let Some(mail) = alert {
        app.mailer.send_or_log(vec![mail]).await;
    }
    Ok(if check == CodeCheck::Accepted {
        Ok(Reauthenticated::JustProved)
    } else {
        Err(ReauthRefused::Wrong(check))
    })
}
