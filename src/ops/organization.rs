//! The organization as a whole: requiring 2FA of everyone, and the operator's view of the
//! organizations on a server.

use crate::audit::{Entry, Origin};
use crate::db::models::{Organization, People, User};
use crate::domain::Event;
use crate::error::AppError;
use crate::notify;
use crate::state::AppState;

/// What changing enforcement did.
#[derive(Debug)]
pub enum Enforcement {
    /// Changed; when turned on, `signed_out` is everyone without 2FA, signed out at once and
    /// being emailed.
    Changed { on: bool, signed_out: usize },
    /// It already was so (possibly switched by another admin meanwhile).
    Unchanged { on: bool },
    /// The admin must turn 2FA on for their own account first: enforcing would sign them out
    /// and hold them on the setup page (GitHub asks the same of an organization's owners).
    TurnOnYourOwnFirst,
}

/// Turns the requirement of 2FA on or off. Turning it on signs out every active person
/// without 2FA in one `UPDATE` in the same transaction, and emails them after the answer.
pub async fn set_enforcement(
    app: &AppState,
    admin: &User,
    organization: &Organization,
    on: bool,
    origin: Origin,
) -> Result<Enforcement, AppError> {
    if on == organization.enforce_two_factor {
        return Ok(Enforcement::Unchanged { on });
    }
    if on && !admin.has_two_factor() {
        return Ok(Enforcement::TurnOnYourOwnFirst);
    }
    let (organization_id, actor_id) = (organization.id, admin.id);
    let now = crate::now_unix();
    let changed = crate::db::write(&app.pool, move |c| {
        if !Organization::set_enforcement(c, organization_id, on)? {
            // Another admin switched it first; their change is the one recorded.
            return Ok(None);
        }
        let signed_out = if on {
            People::end_sessions_without_two_factor(c, organization_id)?
        } else {
            Vec::new()
        };
        let detail = if on {
            format!("required; {} signed out", signed_out.len())
        } else {
            "optional".to_owned()
        };
        origin.record(
            c,
            Entry::by(organization_id, actor_id, None, Event::EnforcementChanged).detail(&detail),
            now,
        )?;
        Ok(Some(signed_out))
    })
    .await?;
    let Some(signed_out) = changed else {
        return Ok(Enforcement::Unchanged { on });
    };
    let emails = signed_out
        .iter()
        .map(|(_, name, email)| {
            notify::two_factor_required(&app.config.public_url, name, email, &organization.name)
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Thousands of people may have been signed out: their notices go out after the answer,
    // so the admin does not wait for them (nor a proxy time the request out).
    let mailer = app.mailer.clone();
    actix_web::rt::spawn(async move { mailer.send_or_log(emails).await });
    Ok(Enforcement::Changed {
        on,
        signed_out: signed_out.len(),
    })
}

/// Every organization on the server, oldest first.
pub async fn all(app: &AppState) -> Result<Vec<Organization>, AppError> {
    crate::db::run(&app.pool, |c| Ok(Organization::all(c)?)).await
}

/// The organization an operator named by id or by exact name: one, or every one with that
/// name when several share it.
pub async fn named(app: &AppState, named: String) -> Result<Vec<Organization>, AppError> {
    crate::db::run(&app.pool, move |c| {
        if let Ok(id) = named.parse::<i64>()
            && let Some(organization) = Organization::find(c, id)?
        {
            return Ok(vec![organization]);
        }
        Ok(Organization::find_by_name(c, &named)?)
    })
    .await
}
