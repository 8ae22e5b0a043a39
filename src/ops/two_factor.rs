//! A person's own two-factor authentication: turning it on or moving it to a new app,
//! turning it off, regenerating recovery codes; and the operator's break-glass reset.

use crate::audit::{Entry, Origin};
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{sealed, totp};
use crate::db::models::{Organization, StoredRecoveryCode, User};
use crate::domain::{Email, Event, TotpCode};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::ops::reauth;
use crate::state::AppState;

/// How long a started setup may wait for its confirmation.
pub const SETUP_TTL_SECS: i64 = 60 * 60;

/// Starts (or restarts) setting up an authenticator app with a new secret. Only the sealed
/// secret is stored; the plain one lives in this call alone.
pub async fn start_totp_setup(app: &AppState, user_id: i64) -> Result<(), AppError> {
    let secret = totp::Secret::generate();
    let sealed_secret = sealed::seal(&app.keys.totp_secret, user_id, secret.as_bytes());
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(User::start_totp_setup(c, user_id, &sealed_secret, now)?)
    })
    .await
}

/// The secret of the person's setup in progress and when it started, if it is still fresh.
pub fn pending_setup(
    app: &AppState,
    user: &User,
    now: i64,
) -> Result<Option<(totp::Secret, i64)>, AppError> {
    match (&user.pending_totp_secret, user.pending_totp_created_at) {
        (Some(sealed_secret), Some(created)) if created + SETUP_TTL_SECS > now => Ok(Some((
            two_factor::open_secret(&app.keys, user.id, sealed_secret)?,
            created,
        ))),
        _ => Ok(None),
    }
}

/// What confirming a setup found.
#[derive(Debug)]
pub enum Confirmation {
    /// 2FA is on (or moved): the new recovery codes, to be shown once. Every session of the
    /// person has ended, this one included.
    Done {
        codes: Vec<String>,
        moved: bool,
    },
    /// No setup in progress (never started, expired, or confirmed by a racing request).
    NotStarted,
    WrongPassword,
    WrongCode(CodeCheck),
}

/// Finishes a setup with the password and a code from the new app: the pending secret
/// becomes the active one, five new recovery codes replace the old, every session ends, and
/// the person is emailed.
pub async fn confirm_totp(
    app: &AppState,
    user: &User,
    password: String,
    code: TotpCode,
    origin: Origin,
) -> Result<Confirmation, AppError> {
    let now = crate::now_unix();
    let Some((secret, pending_created_at)) = pending_setup(app, user, now)? else {
        return Ok(Confirmation::NotStarted);
    };
    if !reauth::confirm_password(app, user, &origin, password).await? {
        return Ok(Confirmation::WrongPassword);
    }
    // The code proves the app holds the new secret. Its step is not checked against the old
    // secret's last step: they are different secrets. It becomes the new last step.
    let step = match totp::verify(&secret, &code, now, -1) {
        totp::Verification::Accepted { step } => step,
        other => {
            reauth::record_failure(app, user.id, &origin).await?;
            return Ok(Confirmation::WrongCode(match other {
                totp::Verification::ClockSkew { minutes } => CodeCheck::ClockSkew(minutes),
                _ => CodeCheck::Wrong,
            }));
        }
    };
    let moved = user.has_two_factor();
    let user = user.clone();
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let outcome = crate::db::write(&app.pool, move |c| {
        // Conditional on the setup being the one checked above: of two racing confirmations,
        // one wins and the other finds nothing to confirm.
        if !User::confirm_totp(c, &user, pending_created_at, step, now)? {
            return Ok(None);
        }
        let codes = two_factor::replace_recovery_codes(c, &keys, user.id, now)?;
        let (event, alert) = if moved {
            (Event::TwoFactorMoved, Alert::TwoFactorMoved)
        } else {
            (Event::TwoFactorEnabled, Alert::TwoFactorEnabled)
        };
        origin.record(c, Entry::own(user.organization_id, user.id, event), now)?;
        let email = notify::security_alert(c, &public_url, &user, &alert, &origin, now)?;
        Ok(Some((codes, email)))
    })
    .await?;
    let Some((codes, email)) = outcome else {
        return Ok(Confirmation::NotStarted);
    };
    app.mailer.send_or_log(vec![email]).await;
    Ok(Confirmation::Done { codes, moved })
}

/// What turning 2FA off found.
#[derive(Debug)]
pub enum Disable {
    /// Off; every other session ended. The caller's session carries on with this epoch.
    Done {
        epoch: i64,
    },
    AlreadyOff,
    /// The organization requires 2FA.
    Enforced,
    WrongPassword,
    WrongCode(CodeCheck),
}

/// Turns 2FA off with the password and a current code: the secret and the recovery codes are
/// deleted, every other session ends, and the person is emailed.
pub async fn disable_two_factor(
    app: &AppState,
    user: &User,
    organization: &Organization,
    password: String,
    code: TotpCode,
    origin: Origin,
) -> Result<Disable, AppError> {
    if !user.has_two_factor() {
        return Ok(Disable::AlreadyOff);
    }
    if organization.enforce_two_factor {
        return Ok(Disable::Enforced);
    }
    if !reauth::confirm_password(app, user, &origin, password).await? {
        return Ok(Disable::WrongPassword);
    }
    let now = crate::now_unix();
    let checked = user.clone();
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let failed_origin = origin.clone();
    let outcome = crate::db::write(&app.pool, move |c| {
        let check = two_factor::check_totp(c, &keys, &checked, &code, now)?;
        if check != CodeCheck::Accepted {
            return Ok(Err(check));
        }
        let epoch = User::disable_totp(c, checked.id)?;
        StoredRecoveryCode::delete_all(c, checked.id)?;
        origin.record(
            c,
            Entry::own(
                checked.organization_id,
                checked.id,
                Event::TwoFactorDisabled,
            ),
            now,
        )?;
        let email = notify::security_alert(
            c,
            &public_url,
            &checked,
            &Alert::TwoFactorDisabled,
            &origin,
            now,
        )?;
        Ok(Ok((epoch, email)))
    })
    .await?;
    match outcome {
        Ok((epoch, email)) => {
            app.mailer.send_or_log(vec![email]).await;
            Ok(Disable::Done { epoch })
        }
        Err(check) => {
            reauth::record_failure(app, user.id, &failed_origin).await?;
            Ok(Disable::WrongCode(check))
        }
    }
}

/// What regenerating recovery codes found.
#[derive(Debug)]
pub enum Regeneration {
    /// The five new codes, to be shown once; the old ones no longer work.
    Done(Vec<String>),
    NoTwoFactor,
    WrongPassword,
}

/// Replaces a person's recovery codes with five new ones, after their password.
pub async fn regenerate_recovery_codes(
    app: &AppState,
    user: &User,
    password: String,
    origin: Origin,
) -> Result<Regeneration, AppError> {
    if !user.has_two_factor() {
        return Ok(Regeneration::NoTwoFactor);
    }
    if !reauth::confirm_password(app, user, &origin, password).await? {
        return Ok(Regeneration::WrongPassword);
    }
    let (user_id, organization_id) = (user.id, user.organization_id);
    let keys = app.keys.clone();
    let now = crate::now_unix();
    let codes = crate::db::write(&app.pool, move |c| {
        let codes = two_factor::replace_recovery_codes(c, &keys, user_id, now)?;
        origin.record(
            c,
            Entry::own(organization_id, user_id, Event::RecoveryCodesRegenerated),
            now,
        )?;
        Ok(codes)
    })
    .await?;
    Ok(Regeneration::Done(codes))
}

/// What an operator's reset found.
#[derive(Debug)]
pub enum Reset {
    NoSuchPerson,
    NoTwoFactor,
    /// 2FA is off, the codes deleted, every session ended. `enforced` says their organization
    /// will have them set it up again right after their password; `email_error` why the
    /// email telling them could not be sent, if it could not.
    Done {
        name: String,
        enforced: bool,
        email_error: Option<String>,
    },
}

/// Break-glass for someone locked out with no phone and no codes: turns their 2FA off,
/// deletes their recovery codes, ends their sessions, records it and emails them.
pub async fn reset_two_factor(
    app: &AppState,
    email: Email,
    origin: Origin,
) -> Result<Reset, AppError> {
    let now = crate::now_unix();
    let public_url = app.config.public_url.clone();
    let outcome = crate::db::write(&app.pool, move |c| {
        let Some(user) = User::find_by_email(c, email.as_str())? else {
            return Ok(Err(Reset::NoSuchPerson));
        };
        if !user.has_two_factor() {
            return Ok(Err(Reset::NoTwoFactor));
        }
        // Turning 2FA off also bumps the session epoch: every session of theirs ends.
        User::disable_totp(c, user.id)?;
        StoredRecoveryCode::delete_all(c, user.id)?;
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::TwoFactorReset)
                .detail("by an operator on the command line"),
            now,
        )?;
        let email =
            notify::security_alert(c, &public_url, &user, &Alert::TwoFactorReset, &origin, now)?;
        let enforced =
            Organization::find(c, user.organization_id)?.is_some_and(|o| o.enforce_two_factor);
        Ok(Ok((user.name, enforced, email)))
    })
    .await?;
    match outcome {
        Err(refusal) => Ok(refusal),
        Ok((name, enforced, email)) => {
            let email_error = app.mailer.send(vec![email]).await.err();
            Ok(Reset::Done {
                name,
                enforced,
                email_error: email_error.map(|e| format!("{e:#}")),
            })
        }
    }
}
