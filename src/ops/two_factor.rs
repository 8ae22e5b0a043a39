//! A person's own two-factor authentication: turning it on or moving it to a new app,
//! turning it off, regenerating recovery codes; and the operator's break-glass reset.

use crate::audit::{Entry, Origin};
use crate::auth::session::SessionId;
use crate::auth::throttle::CodeAttempt;
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{sealed, totp};
use crate::db::models::{Organization, Session, StoredPasskey, StoredRecoveryCode, User};
use crate::domain::{Email, Event, TotpCode};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::ops::reauth::{self, ReauthRefused, Reauthenticated, SecondFactor};
use crate::state::AppState;

/// How long a started setup may wait for its confirmation.
pub const SETUP_TTL_SECS: i64 = 60 * 60;

/// What starting a setup did.
#[derive(Debug)]
pub enum SetupStart {
    /// Started at `started_at`; `reauthenticated` says the second factor was just proved. The
    /// session notes both: only the session that started a setup may finish it.
    Started {
        started_at: i64,
        reauthenticated: Reauthenticated,
    },
    /// Moving 2FA to a new app needs the current second factor, and it was refused.
    Refused(ReauthRefused),
}

/// Starts (or restarts) setting up an authenticator app with a new secret. Moving 2FA that is
/// on to a new app is a sensitive change: the current second factor is asked first when this
/// session has not proved it lately. Only the sealed secret is stored; the plain one lives in
/// this call alone.
pub async fn start_totp_setup(
    app: &AppState,
    user: &User,
    second_factor: SecondFactor,
    origin: Origin,
) -> Result<SetupStart, AppError> {
    let reauthenticated = match reauth::second_factor(app, user, second_factor, &origin).await? {
        Ok(done) => done,
        Err(refused) => return Ok(SetupStart::Refused(refused)),
    };
    let user_id = user.id;
    let secret = totp::Secret::generate();
    let sealed_secret = sealed::seal(&app.keys.totp_secret, user_id, secret.as_bytes());
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(User::start_totp_setup(c, user_id, &sealed_secret, now)?)
    })
    .await?;
    Ok(SetupStart::Started {
        started_at: now,
        reauthenticated,
    })
}

/// The secret of the person's setup in progress and when it started, if it is still fresh and
/// was started by the session that asks (`started_here`, the start it noted). Another session
/// of the person (a stolen cookie) cannot see the QR code of a move someone else started
/// after proving their second factor, nor confirm it.
pub fn pending_setup(
    app: &AppState,
    user: &User,
    started_here: Option<i64>,
    now: i64,
) -> Result<Option<(totp::Secret, i64)>, AppError> {
    match (&user.pending_totp_secret, user.pending_totp_created_at) {
        (Some(sealed_secret), Some(created))
            if created + SETUP_TTL_SECS > now && started_here == Some(created) =>
        {
            Ok(Some((
                two_factor::open_secret(&app.keys, user.id, sealed_secret)?,
                created,
            )))
        }
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
    started_here: Option<i64>,
    password: String,
    code: TotpCode,
    origin: Origin,
) -> Result<Confirmation, AppError> {
    let now = crate::now_unix();
    let Some((secret, pending_created_at)) = pending_setup(app, user, started_here, now)? else {
        return Ok(Confirmation::NotStarted);
    };
    if !reauth::confirm_password(app, &app.hasher.admit()?, user, &origin, password).await? {
        return Ok(Confirmation::WrongPassword);
    }
    // The code is counted like any other, before it is checked.
    let limits = app.config.limits;
    let attempt = CodeAttempt::new(user.id, &origin.address);
    let counting = attempt.clone();
    crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    // The code proves the app holds the new secret. Its step is not checked against the old
    // secret's last step: they are different secrets. It becomes the new last step.
    let step = match totp::verify(&secret, &code, now, -1) {
        totp::Verification::Accepted { step } => step,
        _ => {
            // Here, and only here, a code right some minutes away is explained: the person is
            // looking at the new secret, and a phone with a wrong clock is the usual cause.
            return Ok(Confirmation::WrongCode(
                match totp::clock_skew_minutes(&secret, &code, now) {
                    Some(minutes) => CodeCheck::ClockSkew(minutes),
                    None => CodeCheck::Wrong,
                },
            ));
        }
    };
    let moved = user.has_app();
    let user = user.clone();
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let outcome = crate::db::write(&app.pool, move |c| {
        // Conditional on the setup being the one checked above: of two racing confirmations,
        // one wins and the other finds nothing to confirm.
        if !User::confirm_totp(c, &user, pending_created_at, step, now)? {
            return Ok(None);
        }
        attempt.succeeded(c)?;
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
    Refused(ReauthRefused),
}

/// Turns 2FA off with the password, and the second factor when this session has not proved
/// it lately: the secret and the recovery codes are deleted, every other session ends, and
/// the person is emailed.
///
/// `current` is the session asking, which carries on into the person's new epoch.
pub async fn disable_two_factor(
    app: &AppState,
    user: &User,
    organization: &Organization,
    current: Option<SessionId>,
    password: String,
    second_factor: SecondFactor,
    origin: Origin,
) -> Result<Disable, AppError> {
    if !user.has_two_factor() {
        return Ok(Disable::AlreadyOff);
    }
    if organization.enforce_two_factor {
        return Ok(Disable::Enforced);
    }
    if !reauth::confirm_password(app, &app.hasher.admit()?, user, &origin, password).await? {
        return Ok(Disable::WrongPassword);
    }
    if let Err(refused) = reauth::second_factor(app, user, second_factor, &origin).await? {
        return Ok(Disable::Refused(refused));
    }
    let now = crate::now_unix();
    let checked = user.clone();
    let public_url = app.config.public_url.clone();
    let (epoch, email) = crate::db::write(&app.pool, move |c| {
        let epoch = User::disable_totp(c, checked.id)?;
        StoredPasskey::remove_all(c, checked.id)?;
        if let Some(current) = &current {
            Session::move_to_epoch(c, &current.hash(), epoch)?;
        }
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
        Ok((epoch, email))
    })
    .await?;
    app.mailer.send_or_log(vec![email]).await;
    Ok(Disable::Done { epoch })
}

/// What regenerating recovery codes found.
#[derive(Debug)]
pub enum Regeneration {
    /// The five new codes, to be shown once; the old ones no longer work. `reauthenticated`
    /// says the second factor was just proved.
    Done {
        codes: Vec<String>,
        reauthenticated: Reauthenticated,
    },
    NoTwoFactor,
    WrongPassword,
    Refused(ReauthRefused),
}

/// Replaces a person's recovery codes with five new ones, after their password and, when this
/// session has not proved it lately, their second factor; the person is emailed (a thief with
/// a session and the password must not mint fresh codes silently).
pub async fn regenerate_recovery_codes(
    app: &AppState,
    user: &User,
    password: String,
    second_factor: SecondFactor,
    origin: Origin,
) -> Result<Regeneration, AppError> {
    if !user.has_two_factor() {
        return Ok(Regeneration::NoTwoFactor);
    }
    if !reauth::confirm_password(app, &app.hasher.admit()?, user, &origin, password).await? {
        return Ok(Regeneration::WrongPassword);
    }
    let reauthenticated = match reauth::second_factor(app, user, second_factor, &origin).await? {
        Ok(done) => done,
        Err(refused) => return Ok(Regeneration::Refused(refused)),
    };
    let recipient = user.clone();
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let now = crate::now_unix();
    let (codes, email) = crate::db::write(&app.pool, move |c| {
        let codes = two_factor::replace_recovery_codes(c, &keys, recipient.id, now)?;
        origin.record(
            c,
            Entry::own(
                recipient.organization_id,
                recipient.id,
                Event::RecoveryCodesRegenerated,
            ),
            now,
        )?;
        let email = notify::security_alert(
            c,
            &public_url,
            &recipient,
            &Alert::CodesRegenerated,
            &origin,
            now,
        )?;
        Ok((codes, email))
    })
    .await?;
    app.mailer.send_or_log(vec![email]).await;
    Ok(Regeneration::Done {
        codes,
        reauthenticated,
    })
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
        StoredPasskey::remove_all(c, user.id)?;
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
