//! Who may do what to whom in an organization, each rule written once. The people table asks
//! these functions which buttons to show, and the handlers' operations ask them again before
//! acting, so a page and its action cannot disagree.

use crate::db::models::{PersonRow, User};
use crate::domain::Role;
use crate::error::AppError;

/// Why an action is refused: the person may never do it (403), or not to this person as
/// they are now (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Forbidden(String),
    Unprocessable(String),
}

impl From<Refusal> for AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forbidden(message) => Self::Forbidden(message),
            Refusal::Unprocessable(message) => Self::Unprocessable(message),
        }
    }
}

/// Whether a rule allows an action.
pub type Verdict = Result<(), Refusal>;

/// The person acting.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: i64,
    pub role: Role,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            role: user.role,
        }
    }
}

/// The person acted on, with what the rules look at.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub id: i64,
    pub name: &'a str,
    pub role: Role,
    pub active: bool,
    pub two_factor: bool,
    pub signed_in_before: bool,
}

impl<'a> From<&'a User> for Subject<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            id: user.id,
            name: &user.name,
            role: user.role,
            active: user.deactivated_at.is_none(),
            two_factor: user.has_two_factor(),
            signed_in_before: user.last_sign_in_at.is_some(),
        }
    }
}

impl<'a> From<&'a PersonRow> for Subject<'a> {
    /// A row of the people table.
    fn from(row: &'a PersonRow) -> Self {
        Self {
            id: row.id,
            name: &row.name,
            role: row.role,
            active: row.deactivated_at.is_none(),
            two_factor: row.two_factor,
            signed_in_before: row.last_sign_in_at.is_some(),
        }
    }
}

fn forbidden(message: &str) -> Verdict {
    Err(Refusal::Forbidden(message.to_owned()))
}

/// Whether `actor` may give `subject` the role `role`.
pub fn may_set_role(actor: Actor, subject: Subject<'_>, role: Role) -> Verdict {
    if !subject.active {
        return Err(Refusal::Unprocessable(format!(
            "{} is deactivated.",
            subject.name
        )));
    }
    if subject.role == Role::Owner {
        return forbidden("The owner's role can't be changed.");
    }
    if role == Role::Owner {
        return forbidden("An organization has exactly one owner, created with it.");
    }
    if actor.role != Role::Owner && (role == Role::Admin || subject.role == Role::Admin) {
        return forbidden("Only the owner can make someone an admin or take it back.");
    }
    Ok(())
}

/// Whether `actor` may move `subject` to the other role (the people table's role picker):
/// a member to admin, an admin to member.
pub fn may_change_role(actor: Actor, subject: Subject<'_>) -> Verdict {
    let other = if subject.role == Role::Admin {
        Role::Member
    } else {
        Role::Admin
    };
    may_set_role(actor, subject, other)
}

/// Whether `actor` may deactivate `subject`.
pub fn may_deactivate(actor: Actor, subject: Subject<'_>) -> Verdict {
    if subject.role == Role::Owner {
        return forbidden("The owner can't be deactivated.");
    }
    if subject.id == actor.id {
        return forbidden("You can't deactivate yourself.");
    }
    if subject.role == Role::Admin && actor.role != Role::Owner {
        return forbidden("Only the owner can deactivate an admin.");
    }
    Ok(())
}

/// Whether `actor` may generate and email new recovery codes for `subject`.
pub fn may_issue_recovery_codes(actor: Actor, subject: Subject<'_>) -> Verdict {
    if actor.role != Role::Owner {
        return forbidden("Only your organization's owner can do this.");
    }
    if subject.id == actor.id {
        return forbidden(
            "You can't issue recovery codes for your own account: regenerate them in \
             Settings › Security.",
        );
    }
    if !subject.active {
        return Err(Refusal::Unprocessable(format!(
            "{} is deactivated.",
            subject.name
        )));
    }
    if !subject.two_factor {
        return Err(Refusal::Unprocessable(format!(
            "{} has no two-factor authentication, so there are no recovery codes to replace: \
             they sign in with their password.",
            subject.name
        )));
    }
    if !subject.signed_in_before {
        return Err(Refusal::Unprocessable(format!(
            "{} has never signed in.",
            subject.name
        )));
    }
    Ok(())
}

/// Whether `actor` may make the deactivated `subject` active again: the mirror of
/// [`may_deactivate`].
pub fn may_reactivate(actor: Actor, subject: Subject<'_>) -> Verdict {
    if actor.role < Role::Admin {
        return forbidden("Only your organization's admins and owner can do this.");
    }
    if subject.role == Role::Admin && actor.role != Role::Owner {
        return forbidden("Only the owner can reactivate an admin.");
    }
    Ok(())
}

/// Whether `actor` may email `subject` a link to choose a new password (it changes nothing
/// until `subject` uses it).
pub fn may_send_password_reset(actor: Actor, subject: Subject<'_>) -> Verdict {
    if actor.role < Role::Admin {
        return forbidden("Only your organization's admins and owner can do this.");
    }
    if subject.id == actor.id {
        return forbidden("Change your own password in Settings › Password.");
    }
    if !subject.active {
        return Err(Refusal::Unprocessable(format!(
            "{} is deactivated: reactivate them first.",
            subject.name
        )));
    }
    Ok(())
}

/// Whether `actor` may hand the organization's ownership over to `subject`, while the
/// organization does (`enforced`) or does not require 2FA.
pub fn may_transfer_ownership(actor: Actor, subject: Subject<'_>, enforced: bool) -> Verdict {
    if actor.role != Role::Owner {
        return forbidden("Only the owner can hand over the ownership.");
    }
    if subject.id == actor.id {
        return Err(Refusal::Unprocessable("You are the owner already.".into()));
    }
    if !subject.active {
        return Err(Refusal::Unprocessable(format!(
            "{} is deactivated.",
            subject.name
        )));
    }
    if subject.role != Role::Admin {
        return Err(Refusal::Unprocessable(format!(
            "{} is not an admin: only an admin can become the owner. Make them an admin first in Settings › Users.",
            subject.name
        )));
    }
    if enforced && !subject.two_factor {
        return Err(Refusal::Unprocessable(format!(
            "{} has no two-factor authentication, which your organization requires: they turn it on first.",
            subject.name
        )));
    }
    Ok(())
}

/// Whether `actor` may invite someone as `role` (or resend such an invitation).
pub fn may_invite(actor: Actor, role: Role) -> Verdict {
    match role {
        Role::Member if actor.role >= Role::Admin => Ok(()),
        Role::Admin if actor.role == Role::Owner => Ok(()),
        Role::Admin if actor.role == Role::Admin => forbidden("Only the owner can invite admins."),
        Role::Owner => Err(Refusal::Unprocessable(
            "Choose a role: member or admin.".into(),
        )),
        _ => forbidden("Only your organization's admins and owner can invite people."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: i64, role: Role) -> Actor {
        Actor { id, role }
    }

    fn subject(id: i64, role: Role) -> Subject<'static> {
        Subject {
            id,
            name: "Bea",
            role,
            active: true,
            two_factor: true,
            signed_in_before: true,
        }
    }

    #[test]
    fn only_the_owner_moves_people_between_member_and_admin() {
        let owner = actor(1, Role::Owner);
        let admin = actor(2, Role::Admin);
        assert!(may_change_role(owner, subject(3, Role::Member)).is_ok());
        assert!(may_change_role(owner, subject(3, Role::Admin)).is_ok());
        assert!(may_change_role(owner, subject(1, Role::Owner)).is_err());
        assert!(may_change_role(admin, subject(3, Role::Member)).is_err());
        assert!(may_set_role(admin, subject(3, Role::Member), Role::Admin).is_err());
        assert!(may_set_role(owner, subject(3, Role::Member), Role::Owner).is_err());
        assert!(may_set_role(owner, subject(3, Role::Member), Role::Admin).is_ok());
    }

    #[test]
    fn admins_deactivate_members_and_the_owner_deactivates_admins_too() {
        let owner = actor(1, Role::Owner);
        let admin = actor(2, Role::Admin);
        assert!(may_deactivate(admin, subject(3, Role::Member)).is_ok());
        assert!(may_deactivate(admin, subject(4, Role::Admin)).is_err());
        assert!(may_deactivate(owner, subject(4, Role::Admin)).is_ok());
        assert!(may_deactivate(owner, subject(1, Role::Owner)).is_err());
        assert!(may_deactivate(admin, subject(2, Role::Admin)).is_err());
    }

    #[test]
    fn reactivating_mirrors_deactivating() {
        let owner = actor(1, Role::Owner);
        let admin = actor(2, Role::Admin);
        let gone = |role| Subject {
            active: false,
            ..subject(3, role)
        };
        assert!(may_reactivate(admin, gone(Role::Member)).is_ok());
        assert!(may_reactivate(admin, gone(Role::Admin)).is_err());
        assert!(may_reactivate(owner, gone(Role::Admin)).is_ok());
        assert!(may_reactivate(actor(4, Role::Member), gone(Role::Member)).is_err());
    }

    #[test]
    fn admins_send_reset_links_to_active_people_other_than_themselves() {
        let admin = actor(2, Role::Admin);
        assert!(may_send_password_reset(admin, subject(3, Role::Member)).is_ok());
        assert!(may_send_password_reset(admin, subject(1, Role::Owner)).is_ok());
        assert!(may_send_password_reset(admin, subject(2, Role::Admin)).is_err());
        assert!(may_send_password_reset(actor(4, Role::Member), subject(3, Role::Member)).is_err());
        let gone = Subject {
            active: false,
            ..subject(3, Role::Member)
        };
        assert!(may_send_password_reset(admin, gone).is_err());
    }

    #[test]
    fn ownership_goes_only_to_an_active_admin_with_2fa_when_it_is_required() {
        let owner = actor(1, Role::Owner);
        let admin = subject(2, Role::Admin);
        assert!(may_transfer_ownership(owner, admin, true).is_ok());
        assert!(
            may_transfer_ownership(actor(2, Role::Admin), subject(3, Role::Admin), false).is_err()
        );
        assert!(may_transfer_ownership(owner, subject(1, Role::Owner), false).is_err());
        assert!(may_transfer_ownership(owner, subject(3, Role::Member), false).is_err());
        let without = Subject {
            two_factor: false,
            ..admin
        };
        assert!(may_transfer_ownership(owner, without, false).is_ok());
        assert_eq!(
            may_transfer_ownership(owner, without, true),
            Err(Refusal::Unprocessable(
                "Bea has no two-factor authentication, which your organization requires: they \
                 turn it on first."
                    .into()
            ))
        );
        let gone = Subject {
            active: false,
            ..admin
        };
        assert!(may_transfer_ownership(owner, gone, false).is_err());
    }

    #[test]
    fn the_owner_issues_codes_only_to_people_who_can_use_them() {
        let owner = actor(1, Role::Owner);
        assert!(may_issue_recovery_codes(owner, subject(3, Role::Member)).is_ok());
        assert!(may_issue_recovery_codes(actor(2, Role::Admin), subject(3, Role::Member)).is_err());
        assert!(may_issue_recovery_codes(owner, subject(1, Role::Owner)).is_err());
        let without = Subject {
            two_factor: false,
            ..subject(3, Role::Member)
        };
        assert!(may_issue_recovery_codes(owner, without).is_err());
        let never = Subject {
            signed_in_before: false,
            ..subject(3, Role::Member)
        };
        assert!(may_issue_recovery_codes(owner, never).is_err());
    }

    #[test]
    fn admins_invite_members_and_only_the_owner_invites_admins() {
        assert!(may_invite(actor(2, Role::Admin), Role::Member).is_ok());
        assert!(may_invite(actor(2, Role::Admin), Role::Admin).is_err());
        assert!(may_invite(actor(1, Role::Owner), Role::Admin).is_ok());
        assert!(may_invite(actor(1, Role::Owner), Role::Owner).is_err());
        assert!(may_invite(actor(3, Role::Member), Role::Member).is_err());
    }
}
