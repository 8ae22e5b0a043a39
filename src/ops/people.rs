//! An organization's people as its admins and owner manage them: the people table, each
//! viewer's columns, role changes, deactivation, and the owner's emailed recovery codes.

use std::collections::HashMap;

use crate::audit::{Entry, Origin};
use crate::auth::two_factor;
use crate::db::models::{
    Invitation, Organization, People, PersonRow, StoredRecoveryCode, TwoFactorFilter, User,
};
use crate::domain::{Event, Role};
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::ops::account;
use crate::ops::reauth::{self, ReauthRefused, Reauthenticated, SecondFactor};
use crate::policy::{self, Actor, Subject};
use crate::state::AppState;

/// Which people a page of the table shows.
pub struct PeopleQuery {
    pub organization_id: i64,
    /// The deactivated people instead of the active.
    pub deactivated: bool,
    pub filter: TwoFactorFilter,
    /// A `contains_pattern` of the search, if any.
    pub search: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// One page of the people table and what it shows beside the rows.
pub struct PeoplePage {
    pub rows: Vec<PersonRow>,
    /// How many people match the search in all (only when searching: otherwise the
    /// organization's counters say it).
    pub searched_total: Option<i64>,
    /// Unused recovery codes of the page's people (absent: none).
    pub codes_left: HashMap<i64, i64>,
    /// Open invitations, newest first.
    pub invitations: Vec<Invitation>,
}

/// Reads one page of the table, in one trip to the database.
pub async fn people_page(app: &AppState, query: PeopleQuery) -> Result<PeoplePage, AppError> {
    crate::db::run(&app.pool, move |c| {
        let (rows, searched_total) = People::page(
            c,
            query.organization_id,
            query.deactivated,
            query.filter,
            query.search.as_deref(),
            query.offset,
            query.limit,
        )?;
        let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
        let codes_left = StoredRecoveryCode::count_unused_for(c, &ids)?
            .into_iter()
            .collect();
        let invitations = Invitation::open_in_organization(c, query.organization_id, query.limit)?;
        Ok(PeoplePage {
            rows,
            searched_total,
            codes_left,
            invitations,
        })
    })
    .await
}

/// Saves which columns a viewer shows (comma-separated keys, in the table's order).
pub async fn save_fields(app: &AppState, viewer_id: i64, stored: String) -> Result<(), AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(People::set_people_fields(c, viewer_id, &stored)?)
    })
    .await
}

/// The first `limit` active people without 2FA, by name (name, email).
pub async fn without_two_factor(
    app: &AppState,
    organization_id: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(People::without_two_factor(c, organization_id, limit)?)
    })
    .await
}

/// The person with this id in this organization: 404 for anyone else's, exactly like an id
/// that does not exist.
pub async fn find_person(app: &AppState, organization_id: i64, id: i64) -> Result<User, AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(User::find_in_organization(c, organization_id, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

/// The owner of an organization.
pub async fn owner_of(app: &AppState, organization_id: i64) -> Result<User, AppError> {
    crate::db::run(&app.pool, move |c| Ok(User::owner_of(c, organization_id)?))
        .await?
        .ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!(
                "organization {organization_id} has no owner"
            ))
        })
}

/// The owner of the organization of the person with this id, if there is such a person: the
/// two-factor page names them as the one to ask for new recovery codes.
pub async fn owner_for(app: &AppState, user_id: i64) -> Result<Option<User>, AppError> {
    crate::db::run(&app.pool, move |c| {
        let Some(user) = User::find(c, user_id)? else {
            return Ok(None);
        };
        Ok(User::owner_of(c, user.organization_id)?)
    })
    .await
}

/// What a role change did.
#[derive(Debug)]
pub enum RoleChange {
    Changed { name: String, role: Role },
    Unchanged { name: String, role: Role },
}

/// Gives a person of the actor's organization another role, if the rules allow it.
pub async fn change_role(
    app: &AppState,
    actor: &User,
    target_id: i64,
    role: Role,
    origin: Origin,
) -> Result<RoleChange, AppError> {
    let target = find_person(app, actor.organization_id, target_id).await?;
    policy::may_set_role(Actor::from(actor), Subject::from(&target), role)?;
    if target.role == role {
        return Ok(RoleChange::Unchanged {
            name: target.name,
            role,
        });
    }
    let (organization_id, actor_id) = (actor.organization_id, actor.id);
    let detail = format!("{} → {}", target.role.label(), role.label());
    let now = crate::now_unix();
    crate::db::write(&app.pool, move |c| {
        // Conditional on the person not being the owner, whatever happened meanwhile.
        if People::set_role(c, target_id, role)? {
            origin.record(
                c,
                Entry::by(
                    organization_id,
                    actor_id,
                    Some(target_id),
                    Event::RoleChanged,
                )
                .detail(&detail),
                now,
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(RoleChange::Changed {
        name: target.name,
        role,
    })
}

/// What a deactivation did.
#[derive(Debug)]
pub enum Deactivation {
    /// Deactivated and signed out everywhere.
    Done {
        name: String,
    },
    AlreadyDeactivated {
        name: String,
    },
}

/// Deactivates a person, which also ends every session of theirs and revokes the invitations
/// they sent (a deactivated admin's links must not keep bringing people in).
pub async fn deactivate(
    app: &AppState,
    actor: &User,
    target_id: i64,
    origin: Origin,
) -> Result<Deactivation, AppError> {
    let target = find_person(app, actor.organization_id, target_id).await?;
    policy::may_deactivate(Actor::from(actor), Subject::from(&target))?;
    let (organization_id, actor_id) = (actor.organization_id, actor.id);
    let now = crate::now_unix();
    let changed = crate::db::write(&app.pool, move |c| {
        let changed = People::deactivate(c, target_id, now)?;
        if changed {
            let revoked = Invitation::revoke_sent_by(c, target_id, now)?;
            let detail = match revoked {
                0 => String::new(),
                1 => "their 1 open invitation revoked".to_owned(),
                n => format!("their {n} open invitations revoked"),
            };
            origin.record(
                c,
                Entry::by(
                    organization_id,
                    actor_id,
                    Some(target_id),
                    Event::Deactivated,
                )
                .detail(&detail),
                now,
            )?;
        }
        Ok(changed)
    })
    .await?;
    Ok(if changed {
        Deactivation::Done { name: target.name }
    } else {
        Deactivation::AlreadyDeactivated { name: target.name }
    })
}

/// An admin who could become the owner.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub two_factor: bool,
}

/// The organization's active admins by name: who the owner could hand over to.
pub async fn active_admins(
    app: &AppState,
    organization_id: i64,
) -> Result<Vec<Candidate>, AppError> {
    let admins = crate::db::run(&app.pool, move |c| {
        Ok(People::active_admins(c, organization_id)?)
    })
    .await?;
    Ok(admins
        .into_iter()
        .map(|(id, name, email, two_factor)| Candidate {
            id,
            name,
            email,
            two_factor,
        })
        .collect())
}

/// What a reactivation did.
#[derive(Debug)]
pub enum Reactivation {
    /// Active again and emailed; their 2FA and recovery codes are as they were.
    Done {
        name: String,
    },
    AlreadyActive {
        name: String,
    },
}

/// Makes a deactivated person active again: they sign in as before (their password, their
/// 2FA), and are emailed. Sessions from before the deactivation stay ended.
pub async fn reactivate(
    app: &AppState,
    actor: &User,
    target_id: i64,
    origin: Origin,
) -> Result<Reactivation, AppError> {
    let target = find_person(app, actor.organization_id, target_id).await?;
    policy::may_reactivate(Actor::from(actor), Subject::from(&target))?;
    if target.deactivated_at.is_none() {
        return Ok(Reactivation::AlreadyActive { name: target.name });
    }
    let (organization_id, actor_id, actor_name) =
        (actor.organization_id, actor.id, actor.name.clone());
    let public_url = app.config.public_url.clone();
    let now = crate::now_unix();
    let person = target.clone();
    let mail = crate::db::write(&app.pool, move |c| {
        if !People::reactivate(c, person.id)? {
            return Ok(None);
        }
        origin.record(
            c,
            Entry::by(
                organization_id,
                actor_id,
                Some(person.id),
                Event::Reactivated,
            ),
            now,
        )?;
        Ok(Some(notify::security_alert(
            c,
            &public_url,
            &person,
            &Alert::Reactivated { by: actor_name },
            &origin,
            now,
        )?))
    })
    .await?;
    Ok(match mail {
        Some(mail) => {
            app.mailer.send_or_log(vec![mail]).await;
            Reactivation::Done { name: target.name }
        }
        None => Reactivation::AlreadyActive { name: target.name },
    })
}

/// An admin or the owner emails a person of the organization a link to choose a new
/// password (nothing changes until they use it).
pub async fn send_password_reset(
    app: &AppState,
    actor: &User,
    target_id: i64,
    origin: Origin,
) -> Result<account::ResetSent, AppError> {
    let target = find_person(app, actor.organization_id, target_id).await?;
    policy::may_send_password_reset(Actor::from(actor), Subject::from(&target))?;
    account::send_password_reset(app, &target, account::ResetSender::Admin(actor), origin).await
}

/// What handing over the ownership found.
#[derive(Debug)]
pub enum Transfer {
    /// `name` is the owner now; the one who handed over is an admin.
    Done {
        name: String,
        reauthenticated: Reauthenticated,
    },
    WrongPassword,
    Refused(ReauthRefused),
}

/// The owner hands the organization over to an active admin (with 2FA while the
/// organization requires it), confirming with their password and, when due, their second
/// factor. The two role changes and the audit event commit together, each change conditional
/// on the state the rules saw; both people are emailed.
pub async fn transfer_ownership(
    app: &AppState,
    owner: &User,
    organization: &Organization,
    new_owner_id: i64,
    password: String,
    second_factor: SecondFactor,
    origin: Origin,
) -> Result<Transfer, AppError> {
    let target = find_person(app, owner.organization_id, new_owner_id).await?;
    let enforced = organization.enforce_two_factor;
    policy::may_transfer_ownership(Actor::from(owner), Subject::from(&target), enforced)?;
    if !reauth::confirm_password(app, &app.hasher.admit()?, owner, &origin, password).await? {
        return Ok(Transfer::WrongPassword);
    }
    let reauthenticated = match reauth::second_factor(app, owner, second_factor, &origin).await? {
        Ok(done) => done,
        Err(refused) => return Ok(Transfer::Refused(refused)),
    };
    let public_url = app.config.public_url.clone();
    let organization_name = organization.name.clone();
    let now = crate::now_unix();
    let (from, to) = (owner.clone(), target.clone());
    let mails = crate::db::write(&app.pool, move |c| {
        let organization_id = from.organization_id;
        // Read again inside the write: enforcement may have been turned on meanwhile.
        let enforced =
            Organization::find(c, organization_id)?.is_some_and(|o| o.enforce_two_factor);
        match People::hand_over(c, organization_id, from.id, to.id, enforced)? {
            (true, true) => {}
            (false, _) => {
                return Err(AppError::Forbidden(
                    "Only the owner can hand over the ownership.".into(),
                ));
            }
            // The owner's demotion rolls back with this error.
            (true, false) => {
                return Err(AppError::Unprocessable(format!(
                    "{} can no longer become the owner: they are no longer an active admin{}.",
                    to.name,
                    if enforced { " with 2FA" } else { "" }
                )));
            }
        }
        origin.record(
            c,
            Entry::by(
                organization_id,
                from.id,
                Some(to.id),
                Event::OwnershipTransferred,
            )
            .detail(&format!("{} → {}", from.name, to.name)),
            now,
        )?;
        let received = notify::security_alert(
            c,
            &public_url,
            &to,
            &Alert::OwnershipReceived {
                from: from.name.clone(),
                organization: organization_name.clone(),
            },
            &origin,
            now,
        )?;
        let handed = notify::security_alert(
            c,
            &public_url,
            &from,
            &Alert::OwnershipHandedOver {
                to: to.name.clone(),
                organization: organization_name,
            },
            &origin,
            now,
        )?;
        Ok(vec![received, handed])
    })
    .await?;
    app.mailer.send_or_log(mails).await;
    Ok(Transfer::Done {
        name: target.name,
        reauthenticated,
    })
}

/// What issuing recovery codes did: the codes went only into the email to the person.
#[derive(Debug)]
pub struct Issued {
    pub name: String,
    pub email: String,
    /// Why the email could not be sent, if it could not: the codes are made all the same.
    pub email_error: Option<String>,
}

/// The owner generates five new recovery codes for a person and emails them to that person
/// only; their old codes stop working and their sessions end. The owner never sees the codes.
pub async fn issue_recovery_codes(
    app: &AppState,
    owner: &User,
    target_id: i64,
    origin: Origin,
) -> Result<Issued, AppError> {
    let target = find_person(app, owner.organization_id, target_id).await?;
    policy::may_issue_recovery_codes(Actor::from(owner), Subject::from(&target))?;
    let keys = app.keys.clone();
    let public_url = app.config.public_url.clone();
    let owner_name = owner.name.clone();
    let (organization_id, owner_id) = (owner.organization_id, owner.id);
    let now = crate::now_unix();
    let recipient = target.clone();
    let email = crate::db::write(&app.pool, move |c| {
        let codes = two_factor::replace_recovery_codes(c, &keys, recipient.id, now)?;
        User::end_all_sessions(c, recipient.id)?;
        origin.record(
            c,
            Entry::by(
                organization_id,
                owner_id,
                Some(recipient.id),
                Event::RecoveryCodesIssued,
            ),
            now,
        )?;
        notify::security_alert(
            c,
            &public_url,
            &recipient,
            &Alert::CodesIssued {
                by: owner_name,
                codes,
            },
            &origin,
            now,
        )
    })
    .await?;
    let email_error = match app.mailer.send(vec![email]).await {
        Ok(()) => None,
        Err(e) => {
            tracing::error!(error = ?e, "sending issued recovery codes failed");
            Some(format!("{e:#}"))
        }
    };
    Ok(Issued {
        name: target.name,
        email: target.email,
        email_error,
    })
}

/// Every person of an organization, deactivated or not, in the order they joined (for the
/// operator's listing).
pub async fn everyone(app: &AppState, organization_id: i64) -> Result<Vec<User>, AppError> {
    crate::db::run(&app.pool, move |c| {
        Ok(People::all_in_organization(c, organization_id)?)
    })
    .await
}
