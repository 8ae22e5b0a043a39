//! Signing in and out: the password step, the two-factor step, and signing out.

use crate::audit::{Entry, Origin};
use crate::auth::session::PendingTwoFactor;
use crate::auth::session::SessionId;
use crate::auth::throttle::{CodeAttempt, Counted, PasswordAttempt};
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{sealed, totp};
use crate::db::models::{Organization, PendingSignIn, StoredRecoveryCode, User};
use crate::domain::{Email, Event, OneTimeCode};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::ops::sessions;
use crate::state::AppState;

/// What a password step found.
#[derive(Debug)]
pub enum PasswordStep {
    /// The same answer for an unknown email, a wrong password and a deactivated account.
    WrongCredentials,
    /// Right, but the person reported "this wasn't me": a new password first (the emailed
    /// link), then a sign-in.
    MustResetPassword,
    /// Right, and the person has 2FA: they go on to the code, not yet signed in.
    SecondFactor(PendingTwoFactor),
    /// Right, and the person has no 2FA: signed in. `setup_started_at` says their
    /// organization requires 2FA, whose setup was started for them at that time.
    SignedIn {
        user_id: i64,
        epoch: i64,
        session: SessionId,
        setup_started_at: Option<i64>,
    },
}

/// Checks an email and password. The attempt is counted first, in a transaction of its own
/// that commits before bcrypt runs (a 429 answers without checking anything); an unknown
/// email is counted and costs the same bcrypt work as a known one.
///
/// `replacing` is the pending step this browser held, if any: a new password step abandons it,
/// so that a copy of the older cookie cannot take a code either.
pub async fn password_step(
    app: &AppState,
    email: Email,
    password: String,
    replacing: Option<PendingTwoFactor>,
    origin: Origin,
) -> Result<PasswordStep, AppError> {
    // A place in the bcrypt line first: refused there, nothing is counted or changed.
    let admission = app.hasher.admit()?;
    let now = crate::now_unix();
    let limits = app.config.limits;
    let attempt = PasswordAttempt::new(email.as_str(), &origin.address);
    let counting = attempt.clone();
    let (user, counted) = crate::db::write(&app.pool, move |c| {
        let counted = counting.take(c, &limits, now)?;
        Ok((User::find_by_email(c, email.as_str())?, counted))
    })
    .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let right = app
        .hasher
        .verify(&admission, password.clone(), hash)
        .await?;
    let user = match user {
        Some(user) if right && user.deactivated_at.is_none() => user,
        other => {
            wrong_password(app, other, counted, origin, now).await?;
            return Ok(PasswordStep::WrongCredentials);
        }
    };
    if app.hasher.needs_rehash(&user.password_hash) {
        let rehashed = app.hasher.rehash(&admission, password).await?;
        let user_id = user.id;
        crate::db::run(&app.pool, move |c| {
            Ok(User::set_password_hash(c, user_id, &rehashed)?)
        })
        .await?;
    }

    if user.must_reset_password {
        crate::db::write(&app.pool, move |c| attempt.succeeded(c)).await?;
        return Ok(PasswordStep::MustResetPassword);
    }

    if user.has_two_factor() {
        // The pending step is a server-side record the cookie names by a random id. The
        // password's counters start again; the code step has its own, which only a right code
        // resets.
        let pending = PendingTwoFactor::generate();
        let record = PendingSignIn {
            id_hash: pending.id_hash(),
            user_id: user.id,
            epoch: user.session_epoch,
            created_at: now,
            expires_at: now + app.config.two_factor_step_secs,
        };
        crate::db::write(&app.pool, move |c| {
            if let Some(older) = replacing {
                PendingSignIn::delete(c, &older.id_hash())?;
            }
            record.insert(c)?;
            attempt.succeeded(c)
        })
        .await?;
        return Ok(PasswordStep::SecondFactor(pending));
    }

    let (user_id, organization_id, epoch) = (user.id, user.organization_id, user.session_epoch);
    let totp_key = app.keys.totp_secret;
    let lifetime = app.config.sessions;
    let public_url = app.config.public_url.clone();
    // One transaction: the counters, the sign-in, its session and its audit event commit
    // together.
    let (session, setup_started_at, new_browser) = crate::db::write(&app.pool, move |c| {
        // The person's row before the counters', as every transaction that takes both does.
        User::record_sign_in(c, user_id, now)?;
        let session = sessions::begin(c, user_id, epoch, &origin, &lifetime, now)?;
        let new_browser = sessions::note_browser(c, &public_url, &user, &origin, now)?;
        attempt.succeeded(c)?;
        origin.record(
            c,
            Entry::own(organization_id, user_id, Event::SignIn).detail("password"),
            now,
        )?;
        let enforced =
            Organization::find(c, organization_id)?.is_some_and(|o| o.enforce_two_factor);
        if enforced {
            // Straight to the QR code: the setup is started here, as "Turn on 2FA" would.
            let secret = totp::Secret::generate();
            let sealed_secret = sealed::seal(&totp_key, user_id, secret.as_bytes());
            User::start_totp_setup(c, user_id, &sealed_secret, now)?;
        }
        Ok((session, enforced.then_some(now), new_browser))
    })
    .await?;
    if let Some(mail) = new_browser {
        app.mailer.send_or_log(vec![mail]).await;
    }
    Ok(PasswordStep::SignedIn {
        user_id,
        epoch,
        session,
        setup_started_at,
    })
}

/// A wrong password (or any password of a deactivated account): the attempt is counted
/// already; an existing account's failure is recorded, and if this attempt reached the
/// account's ceiling the person is told that someone is guessing.
async fn wrong_password(
    app: &AppState,
    user: Option<User>,
    counted: Counted,
    origin: Origin,
    now: i64,
) -> Result<(), AppError> {
    let Some(user) = user else {
        return Ok(());
    };
    let failed = user.clone();
    let recorded = origin.clone();
    crate::db::write(&app.pool, move |c| {
        recorded.record(
            c,
            Entry::about(failed.organization_id, failed.id, Event::SignInFailed)
                .detail("wrong password"),
            now,
        )?;
        Ok(())
    })
    .await?;
    if counted.reached_account_ceiling {
        ceiling_reached(app, &user, &origin, now).await?;
    }
    Ok(())
}

/// The account's ceiling of wrong passwords was just reached (at sign-in or in
/// re-authentication): recorded, and the person emailed. The email goes out after the answer,
/// so that this attempt takes no longer than any other wrong password.
pub(super) async fn ceiling_reached(
    app: &AppState,
    user: &User,
    origin: &Origin,
    now: i64,
) -> Result<(), AppError> {
    let public_url = app.config.public_url.clone();
    let lock_secs = app.config.limits.account_lock_secs;
    let (user, origin) = (user.clone(), origin.clone());
    let mail = crate::db::write(&app.pool, move |c| {
        origin.record(
            c,
            Entry::about(user.organization_id, user.id, Event::PasswordSignInsPaused),
            now,
        )?;
        notify::security_alert(
            c,
            &public_url,
            &user,
            &Alert::PasswordGuessing {
                paused_secs: lock_secs,
            },
            &origin,
            now,
        )
    })
    .await?;
    let mailer = app.mailer.clone();
    actix_web::rt::spawn(async move { mailer.send_or_log(vec![mail]).await });
    Ok(())
}

/// What a two-factor step found.
#[derive(Debug)]
pub enum TwoFactorStep {
    SignedIn {
        user_id: i64,
        epoch: i64,
        session: SessionId,
        via_recovery: bool,
        codes_left: i64,
    },
    Refused(CodeCheck),
    /// A passkey instead of a code, refused.
    PasskeyRefused(crate::ops::passkeys::Refusal),
    /// The pending state no longer holds (the person's sessions ended, they were deactivated
    /// or turned 2FA off meanwhile): sign in again.
    Expired,
}

/// Checks a code (or a recovery code) after a right password. The spent code (or time
/// step), the sign-in and its audit events commit in one transaction, so a crash between
/// them cannot leave a code used unrecorded; the security email about a recovery code goes
/// out after the commit.
///
/// `pending` is the browser's step and `record` its server-side record as
/// [`find_pending`] found it.
pub async fn two_factor_step(
    app: &AppState,
    pending: PendingTwoFactor,
    record: PendingSignIn,
    code: OneTimeCode,
    origin: Origin,
) -> Result<TwoFactorStep, AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let id_hash = pending.id_hash();
    let pending = record;
    let lifetime = app.config.sessions;
    // Counted first, committed before the code is checked: at most the limit of codes are
    // ever checked for a person, however many arrive at once.
    let attempt = CodeAttempt::new(pending.user_id, &origin.address);
    let counting = attempt.clone();
    crate::db::write(&app.pool, move |c| counting.take(c, &limits, now)).await?;
    let written = crate::db::write(&app.pool, move |c| {
        let user = match User::find(c, pending.user_id)? {
            Some(u)
                if u.session_epoch == pending.epoch
                    && u.deactivated_at.is_none()
                    && u.has_two_factor() =>
            {
                u
            }
            _ => return Ok((TwoFactorStep::Expired, Vec::new())),
        };
        let (check, via_recovery) = match &code {
            OneTimeCode::Totp(code) => (two_factor::check_totp(c, &keys, &user, code, now)?, false),
            OneTimeCode::Recovery(code) => (
                two_factor::check_recovery_code(c, &keys, user.id, code, now)?,
                true,
            ),
        };
        if check != CodeCheck::Accepted {
            origin.record(
                c,
                Entry::about(user.organization_id, user.id, Event::SignInFailed).detail(
                    if via_recovery {
                        "wrong recovery code"
                    } else {
                        "wrong code"
                    },
                ),
                now,
            )?;
            return Ok((TwoFactorStep::Refused(check), Vec::new()));
        }
        // The step is consumed with the code: of two requests with copies of one cookie, one
        // signs in; a request whose step was consumed meanwhile undoes its code's spending
        // (the transaction rolls back) and answers "sign in again".
        if !PendingSignIn::consume(c, &id_hash, now)? {
            return Err(AppError::SignInRequired);
        }
        User::record_sign_in(c, user.id, now)?;
        attempt.succeeded(c)?;
        let session = sessions::begin(c, user.id, user.session_epoch, &origin, &lifetime, now)?;
        let mut mails: Vec<_> = sessions::note_browser(c, &public_url, &user, &origin, now)?
            .into_iter()
            .collect();
        if via_recovery {
            origin.record(
                c,
                Entry::own(user.organization_id, user.id, Event::RecoveryCodeUsed),
                now,
            )?;
        }
        origin.record(
            c,
            Entry::own(user.organization_id, user.id, Event::SignIn).detail(if via_recovery {
                "recovery code"
            } else {
                "authenticator app"
            }),
            now,
        )?;
        let codes_left = StoredRecoveryCode::count_unused(c, user.id)?;
        if via_recovery {
            mails.push(notify::security_alert(
                c,
                &public_url,
                &user,
                &Alert::RecoveryCodeUsed { left: codes_left },
                &origin,
                now,
            )?);
        }
        Ok((
            TwoFactorStep::SignedIn {
                user_id: user.id,
                epoch: user.session_epoch,
                session,
                via_recovery,
                codes_left,
            },
            mails,
        ))
    })
    .await;
    let (outcome, mails) = match written {
        Err(AppError::SignInRequired) => return Ok(TwoFactorStep::Expired),
        other => other?,
    };
    if !mails.is_empty() {
        app.mailer.send_or_log(mails).await;
    }
    Ok(outcome)
}

/// The live server-side record of a pending step, if it still holds.
pub async fn find_pending(
    app: &AppState,
    pending: &PendingTwoFactor,
) -> Result<Option<PendingSignIn>, AppError> {
    let id_hash = pending.id_hash();
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(PendingSignIn::find_live(c, &id_hash, now)?)
    })
    .await
}
