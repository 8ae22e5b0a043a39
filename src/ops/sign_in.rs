//! Signing in and out: the password step, the two-factor step, and signing out.

use crate::audit::{Entry, Origin};
use crate::auth::session::PendingTwoFactor;
use crate::auth::two_factor::{self, CodeCheck};
use crate::auth::{sealed, throttle, totp};
use crate::db::models::{EndedSession, Organization, StoredRecoveryCode, User};
use crate::domain::{Email, Event, OneTimeCode};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::state::AppState;

/// What a password step found.
#[derive(Debug)]
pub enum PasswordStep {
    /// The same answer for an unknown email, a wrong password and a deactivated account.
    WrongCredentials,
    /// Right, and the person has 2FA: they go on to the code, not yet signed in.
    SecondFactor(PendingTwoFactor),
    /// Right, and the person has no 2FA: signed in. `must_set_up` says their organization
    /// requires 2FA, whose setup was started for them.
    SignedIn {
        user_id: i64,
        epoch: i64,
        must_set_up: bool,
    },
}

/// Checks an email and password. The limits are checked first (a 429 answers without
/// checking the password); an unknown email costs the same bcrypt work as a known one.
pub async fn password_step(
    app: &AppState,
    email: Email,
    password: String,
    origin: Origin,
) -> Result<PasswordStep, AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let address = origin.address.clone();
    let user = crate::db::run(&app.pool, move |c| {
        let user = User::find_by_email(c, email.as_str())?;
        throttle::check(c, &address, user.as_ref(), now, &limits)?;
        Ok(user)
    })
    .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let right = app.hasher.verify(password, hash).await?;
    let user = match user {
        Some(user) if right && user.deactivated_at.is_none() => user,
        other => {
            let failed = other.as_ref().map(|u| (u.id, u.organization_id));
            // One transaction: the counted failure and its audit event commit together, so a
            // crash between them cannot leave a failure counted against an account with no
            // record of it in the audit log (or the other way round).
            crate::db::write(&app.pool, move |c| {
                throttle::record_failure(c, &origin.address, failed.map(|f| f.0), now, &limits)?;
                if let Some((user_id, organization_id)) = failed {
                    origin.record(
                        c,
                        Entry::about(organization_id, user_id, Event::SignInFailed)
                            .detail("wrong password"),
                        now,
                    )?;
                }
                Ok(())
            })
            .await?;
            return Ok(PasswordStep::WrongCredentials);
        }
    };

    if user.has_two_factor() {
        // The failure count is not reset here: only a complete sign-in resets it, or a known
        // password would buy unlimited guesses at the code.
        return Ok(PasswordStep::SecondFactor(PendingTwoFactor {
            user_id: user.id,
            epoch: user.session_epoch,
            expires_at: now + app.config.two_factor_step_secs,
        }));
    }

    let (user_id, organization_id, epoch) = (user.id, user.organization_id, user.session_epoch);
    let totp_key = app.keys.totp_secret;
    // One transaction, like a failure's: the sign-in and its audit event commit together.
    let must_set_up = crate::db::write(&app.pool, move |c| {
        User::record_sign_in(c, user_id, now)?;
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
        Ok(enforced)
    })
    .await?;
    Ok(PasswordStep::SignedIn {
        user_id,
        epoch,
        must_set_up,
    })
}

/// What a two-factor step found.
#[derive(Debug)]
pub enum TwoFactorStep {
    SignedIn {
        user_id: i64,
        epoch: i64,
        via_recovery: bool,
        codes_left: i64,
    },
    Refused(CodeCheck),
    /// The pending state no longer holds (the person's sessions ended, they were deactivated
    /// or turned 2FA off meanwhile): sign in again.
    Expired,
}

/// Checks a code (or a recovery code) after a right password. The spent code (or time
/// step), the sign-in and its audit events commit in one transaction, so a crash between
/// them cannot leave a code used unrecorded; the security email about a recovery code goes
/// out after the commit.
pub async fn two_factor_step(
    app: &AppState,
    pending: PendingTwoFactor,
    code: OneTimeCode,
    origin: Origin,
) -> Result<TwoFactorStep, AppError> {
    let now = crate::now_unix();
    let limits = app.config.limits;
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let (outcome, alert) = crate::db::write(&app.pool, move |c| {
        let user = match User::find(c, pending.user_id)? {
            Some(u)
                if u.session_epoch == pending.epoch
                    && u.deactivated_at.is_none()
                    && u.has_two_factor() =>
            {
                u
            }
            _ => return Ok((TwoFactorStep::Expired, None)),
        };
        throttle::check(c, &origin.address, Some(&user), now, &limits)?;
        let (check, via_recovery) = match &code {
            OneTimeCode::Totp(code) => (two_factor::check_totp(c, &keys, &user, code, now)?, false),
            OneTimeCode::Recovery(code) => (
                two_factor::check_recovery_code(c, &keys, user.id, code, now)?,
                true,
            ),
        };
        if check != CodeCheck::Accepted {
            throttle::record_failure(c, &origin.address, Some(user.id), now, &limits)?;
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
            return Ok((TwoFactorStep::Refused(check), None));
        }
        User::record_sign_in(c, user.id, now)?;
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
        let alert = if via_recovery {
            Some(notify::security_alert(
                c,
                &public_url,
                &user,
                &Alert::RecoveryCodeUsed { left: codes_left },
                &origin,
                now,
            )?)
        } else {
            None
        };
        Ok((
            TwoFactorStep::SignedIn {
                user_id: user.id,
                epoch: user.session_epoch,
                via_recovery,
                codes_left,
            },
            alert,
        ))
    })
    .await?;
    if let Some(email) = alert {
        app.mailer.send_or_log(vec![email]).await;
    }
    Ok(outcome)
}

/// Records a signed-out session as ended, so that a copy of its cookie is refused until it
/// would have expired anyway.
pub async fn sign_out(app: &AppState, session_id: String, expires_at: i64) -> Result<(), AppError> {
    let now = crate::now_unix();
    crate::db::run(&app.pool, move |c| {
        Ok(EndedSession {
            session_id,
            expires_at,
        }
        .record(c, now)?)
    })
    .await
}
