//! Settings › Users: `GET /settings/users`, the organization's people table (search, 2FA
//! filter, 50 a page, the columns each viewer picked with `POST /settings/users/fields`), and
//! the actions on a person: `POST /settings/users/{id}/role`, `…/deactivate` and the owner's
//! `…/recovery-codes`.
//!
//! The page costs the same at 100 people as at 100,000: the counts come from the
//! organization's row (kept by a trigger), a page is read in name order from an index, and
//! the recovery codes left are counted for the page's people in one grouped query.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::audit::{Entry, Origin, event};
use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, Owner, SignedIn};
use crate::auth::session::FlashKind;
use crate::auth::two_factor;
use crate::db::models::{
    Invitation, PersonRow, StoredRecoveryCode, TwoFactorFilter, User, contains_pattern,
};
use crate::domain::Role;
use crate::error::AppError;
use crate::notify::{self, Alert};
use crate::routes::{Chrome, EmptyForm, format_time, render, see_other};
use crate::startup::AppState;

/// Rows on a page of the table.
pub const PAGE_SIZE: i64 = 50;

/// A column of the people table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Email,
    Role,
    TwoFactor,
    LastSignIn,
    RecoveryCodes,
}

impl Field {
    /// Every column, in the order the table shows them.
    pub const ALL: [Self; 6] = [
        Self::Name,
        Self::Email,
        Self::Role,
        Self::TwoFactor,
        Self::LastSignIn,
        Self::RecoveryCodes,
    ];

    /// The columns of a viewer who has not picked any: 2FA is a field one adds.
    pub const DEFAULT: [Self; 4] = [Self::Name, Self::Email, Self::Role, Self::LastSignIn];

    /// The form's and the database's name for the column.
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Email => "email",
            Self::Role => "role",
            Self::TwoFactor => "two_factor",
            Self::LastSignIn => "last_sign_in",
            Self::RecoveryCodes => "recovery_codes",
        }
    }

    /// The column's heading.
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Email => "Email",
            Self::Role => "Role",
            Self::TwoFactor => "2FA",
            Self::LastSignIn => "Last sign-in",
            Self::RecoveryCodes => "Recovery codes left",
        }
    }

    /// The column with this key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    fn is_two_factor(&self) -> bool {
        *self == Self::TwoFactor
    }

    /// The columns a viewer saved (unknown keys, from an older version, are skipped).
    fn chosen(stored: Option<&str>) -> Vec<Self> {
        let chosen: Vec<Self> = stored
            .unwrap_or_default()
            .split(',')
            .filter_map(Self::parse)
            .collect();
        if chosen.is_empty() {
            Self::DEFAULT.to_vec()
        } else {
            chosen
        }
    }
}

/// The query of `GET /settings/users`, as sent.
#[derive(Deserialize, Default)]
pub struct UsersQuery {
    q: Option<String>,
    two_factor: Option<String>,
    page: Option<String>,
}

/// Which part of the table to show.
pub struct Listing {
    search: String,
    filter: TwoFactorFilter,
    page: i64,
}

impl Default for Listing {
    fn default() -> Self {
        Self {
            search: String::new(),
            filter: TwoFactorFilter::Any,
            page: 1,
        }
    }
}

impl TryFrom<UsersQuery> for Listing {
    type Error = AppError;

    fn try_from(query: UsersQuery) -> Result<Self, AppError> {
        let search = query.q.unwrap_or_default().trim().to_owned();
        if search.chars().count() > 254 || search.chars().any(char::is_control) {
            return Err(AppError::BadRequest(
                "Search for at most 254 characters of a name or an email address.".into(),
            ));
        }
        let filter = match query.two_factor.as_deref().unwrap_or_default() {
            "" => TwoFactorFilter::Any,
            "enabled" => TwoFactorFilter::Enabled,
            "disabled" => TwoFactorFilter::Disabled,
            _ => {
                return Err(AppError::BadRequest(
                    "The 2FA filter is either \"enabled\" or \"disabled\".".into(),
                ));
            }
        };
        let page = match query.page.as_deref().map(str::trim).unwrap_or_default() {
            "" => 1,
            text => text
                .parse::<i64>()
                .ok()
                .filter(|p| (1..=1_000_000).contains(p))
                .ok_or_else(|| AppError::BadRequest("The page is a number from 1 on.".into()))?,
        };
        Ok(Self {
            search,
            filter,
            page,
        })
    }
}

impl Listing {
    fn filter_key(&self) -> &'static str {
        match self.filter {
            TwoFactorFilter::Any => "",
            TwoFactorFilter::Enabled => "enabled",
            TwoFactorFilter::Disabled => "disabled",
        }
    }

    /// The address of another page of this listing.
    fn url(&self, page: i64) -> String {
        let mut url = String::from("/settings/users");
        let mut sep = '?';
        if !self.search.is_empty() {
            url.push_str(&format!(
                "{sep}q={}",
                utf8_percent_encode(&self.search, NON_ALPHANUMERIC)
            ));
            sep = '&';
        }
        if self.filter != TwoFactorFilter::Any {
            url.push_str(&format!("{sep}two_factor={}", self.filter_key()));
            sep = '&';
        }
        if page != 1 {
            url.push_str(&format!("{sep}page={page}"));
        }
        url
    }
}

/// One person as the table shows them, with what the viewer may do to them.
pub struct Row {
    id: i64,
    name: String,
    email: String,
    role: Role,
    two_factor: bool,
    last_sign_in: String,
    codes_left: i64,
    can_change_role: bool,
    can_deactivate: bool,
    can_issue_codes: bool,
}

impl Row {
    fn cell(&self, field: &Field) -> String {
        match field {
            Field::Name => self.name.clone(),
            Field::Email => self.email.clone(),
            Field::Role => self.role.label().into(),
            Field::TwoFactor => if self.two_factor {
                "Enabled"
            } else {
                "Disabled"
            }
            .into(),
            Field::LastSignIn if self.last_sign_in.is_empty() => "Never".into(),
            Field::LastSignIn => self.last_sign_in.clone(),
            Field::RecoveryCodes if !self.two_factor => "—".into(),
            Field::RecoveryCodes => self.codes_left.to_string(),
        }
    }

    fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A column in the picker, checked if the viewer shows it.
pub struct FieldChoice {
    field: Field,
    checked: bool,
}

/// A link in the pager; `None` stands for a gap.
pub struct PageLink {
    number: Option<i64>,
    url: String,
    current: bool,
}

/// An invitation not yet accepted or revoked.
pub struct OpenInvitation {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    expires: String,
    expired: bool,
}

/// The invitation form's values and errors.
#[derive(Default)]
pub struct InviteForm {
    pub name: String,
    pub email: String,
    pub role: String,
    pub name_error: Option<String>,
    pub email_error: Option<String>,
    pub role_error: Option<String>,
}

#[derive(Template)]
#[template(path = "settings/users.html")]
struct UsersPage {
    chrome: Chrome,
    section: &'static str,
    viewer_is_owner: bool,
    fields: Vec<Field>,
    field_choices: Vec<FieldChoice>,
    rows: Vec<Row>,
    search: String,
    filter: &'static str,
    page: i64,
    pages: i64,
    matching: i64,
    first_shown: i64,
    last_shown: i64,
    pager: Vec<PageLink>,
    previous_url: Option<String>,
    next_url: Option<String>,
    people: i64,
    with_two_factor: i64,
    invitations: Vec<OpenInvitation>,
    invite: InviteForm,
}

/// The pager: the first and last pages, and two either side of the current one.
fn pager(listing: &Listing, pages: i64) -> Vec<PageLink> {
    let mut links = Vec::new();
    let mut last_shown = 0;
    for number in 1..=pages {
        let near = (number - listing.page).abs() <= 2;
        if number == 1 || number == pages || near {
            if number > last_shown + 1 {
                links.push(PageLink {
                    number: None,
                    url: String::new(),
                    current: false,
                });
            }
            links.push(PageLink {
                number: Some(number),
                url: listing.url(number),
                current: number == listing.page,
            });
            last_shown = number;
        } else if number > listing.page + 2 {
            // Jump straight to the last page: at 100,000 people there are 2,000 pages.
            if pages > number {
                links.push(PageLink {
                    number: None,
                    url: String::new(),
                    current: false,
                });
                links.push(PageLink {
                    number: Some(pages),
                    url: listing.url(pages),
                    current: pages == listing.page,
                });
            }
            break;
        }
    }
    links
}

/// Renders the people table (with the invitation form in the state given).
pub async fn users_page(
    viewer: &SignedIn,
    state: &AppState,
    listing: Listing,
    invite: InviteForm,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let organization_id = viewer.organization.id;
    let offset = (listing.page - 1) * PAGE_SIZE;
    let search = (!listing.search.is_empty()).then(|| contains_pattern(&listing.search));
    let filter = listing.filter;
    let (people, searched_total, codes_left, invitations) = crate::db::run(&state.pool, move |c| {
        let (people, total) = User::people_page(
            c,
            organization_id,
            filter,
            search.as_deref(),
            offset,
            PAGE_SIZE,
        )?;
        let ids: Vec<i64> = people.iter().map(|p| p.id).collect();
        let codes_left: HashMap<i64, i64> = StoredRecoveryCode::count_unused_for(c, &ids)?
            .into_iter()
            .collect();
        let invitations = Invitation::open_in_organization(c, organization_id, PAGE_SIZE)?;
        Ok((people, total, codes_left, invitations))
    })
    .await?;

    let organization = &viewer.organization;
    let matching = searched_total.unwrap_or(match listing.filter {
        TwoFactorFilter::Any => organization.people_count,
        TwoFactorFilter::Enabled => organization.two_factor_count,
        TwoFactorFilter::Disabled => organization.people_count - organization.two_factor_count,
    });
    let pages = ((matching + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let viewer_role = viewer.user.role();
    let rows: Vec<Row> = people
        .into_iter()
        .map(|p: PersonRow| {
            let role = Role::parse(&p.role).unwrap_or(Role::Member);
            let is_viewer = p.id == viewer.user.id;
            Row {
                can_change_role: viewer_role == Role::Owner && role != Role::Owner,
                can_deactivate: !is_viewer
                    && role != Role::Owner
                    && (role == Role::Member || viewer_role == Role::Owner),
                can_issue_codes: viewer_role == Role::Owner
                    && !is_viewer
                    && p.two_factor
                    && p.last_sign_in_at.is_some(),
                codes_left: codes_left.get(&p.id).copied().unwrap_or(0),
                last_sign_in: p.last_sign_in_at.map(format_time).unwrap_or_default(),
                id: p.id,
                name: p.name,
                email: p.email,
                role,
                two_factor: p.two_factor,
            }
        })
        .collect();
    let now = crate::now_unix();
    let fields = Field::chosen(viewer.user.people_fields.as_deref());
    let page = UsersPage {
        chrome: Chrome::signed_in(viewer)?,
        section: "users",
        viewer_is_owner: viewer_role == Role::Owner,
        field_choices: Field::ALL
            .into_iter()
            .map(|field| FieldChoice {
                field,
                checked: fields.contains(&field),
            })
            .collect(),
        fields,
        first_shown: if rows.is_empty() { 0 } else { offset + 1 },
        last_shown: offset + rows.len() as i64,
        rows,
        search: listing.search.clone(),
        filter: listing.filter_key(),
        page: listing.page,
        pages,
        matching,
        pager: pager(&listing, pages),
        previous_url: (listing.page > 1).then(|| listing.url(listing.page - 1)),
        next_url: (listing.page < pages).then(|| listing.url(listing.page + 1)),
        people: organization.people_count,
        with_two_factor: organization.two_factor_count,
        invitations: invitations
            .into_iter()
            .map(|i| OpenInvitation {
                expired: i.expires_at <= now,
                expires: format_time(i.expires_at),
                role: Role::parse(&i.role).unwrap_or(Role::Member).label(),
                id: i.id,
                name: i.name,
                email: i.email,
            })
            .collect(),
        invite,
    };
    render(&page, status)
}

pub async fn get_users(
    admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, AppError> {
    let listing = Listing::try_from(query.into_inner())?;
    users_page(
        &admin,
        &state,
        listing,
        InviteForm::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct FieldsForm {
    /// Repeated: one per checked column.
    #[serde(default)]
    fields: Vec<String>,
}

pub async fn post_fields(
    admin: Admin,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<FieldsForm>,
) -> Result<HttpResponse, AppError> {
    let mut chosen = Vec::new();
    for key in &form.fields {
        let field = Field::parse(key)
            .ok_or_else(|| AppError::BadRequest(format!("There is no column \"{key}\".")))?;
        if !chosen.contains(&field) {
            chosen.push(field);
        }
    }
    if chosen.is_empty() {
        return Err(AppError::Unprocessable(
            "Choose at least one column for the people table.".into(),
        ));
    }
    // Stored in the table's own order, whatever order the form sent.
    let stored = Field::ALL
        .into_iter()
        .filter(|f| chosen.contains(f))
        .map(Field::key)
        .collect::<Vec<_>>()
        .join(",");
    let user_id = admin.user.id;
    crate::db::run(&state.pool, move |c| {
        Ok(User::set_people_fields(c, user_id, &stored)?)
    })
    .await?;
    admin
        .session
        .flash(FlashKind::Success, "Your columns are saved.")?;
    Ok(see_other("/settings/users"))
}

/// The person with this id in the viewer's organization: 404 for anyone else's.
async fn person(state: &AppState, viewer: &SignedIn, id: i64) -> Result<User, AppError> {
    let organization_id = viewer.organization.id;
    crate::db::run(&state.pool, move |c| {
        Ok(User::find_in_organization(c, organization_id, id)?)
    })
    .await?
    .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn post_role(
    req: HttpRequest,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let target = person(&state, &admin, path.into_inner()).await?;
    let role = Role::parse(&form.role).map_err(AppError::Unprocessable)?;
    if target.deactivated_at.is_some() {
        return Err(AppError::Unprocessable(format!(
            "{} is deactivated.",
            target.name
        )));
    }
    if target.role() == Role::Owner {
        return Err(AppError::Forbidden(
            "The owner's role can't be changed.".into(),
        ));
    }
    if role == Role::Owner {
        return Err(AppError::Forbidden(
            "An organization has exactly one owner, created with it.".into(),
        ));
    }
    if admin.user.role() != Role::Owner && (role == Role::Admin || target.role() == Role::Admin) {
        return Err(AppError::Forbidden(
            "Only the owner can make someone an admin or take it back.".into(),
        ));
    }
    if target.role() == role {
        admin.session.flash(
            FlashKind::Info,
            format!("{} is already {}.", target.name, role.label()),
        )?;
        return Ok(see_other("/settings/users"));
    }
    let origin = Origin::of(&req);
    let (organization_id, actor_id) = (admin.organization.id, admin.user.id);
    let detail = format!("{} → {}", target.role().label(), role.label());
    let target_id = target.id;
    crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            if User::set_role(c, target_id, role)? {
                origin.record(
                    c,
                    Entry::by(
                        organization_id,
                        actor_id,
                        Some(target_id),
                        event::ROLE_CHANGED,
                    )
                    .detail(&detail),
                    crate::now_unix(),
                )?;
            }
            Ok(())
        })
    })
    .await?;
    admin.session.flash(
        FlashKind::Success,
        format!("{} is now {}.", target.name, role.label()),
    )?;
    Ok(see_other("/settings/users"))
}

pub async fn post_deactivate(
    req: HttpRequest,
    admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let target = person(&state, &admin, path.into_inner()).await?;
    if target.role() == Role::Owner {
        return Err(AppError::Forbidden(
            "The owner can't be deactivated.".into(),
        ));
    }
    if target.id == admin.user.id {
        return Err(AppError::Forbidden("You can't deactivate yourself.".into()));
    }
    if target.role() == Role::Admin && admin.user.role() != Role::Owner {
        return Err(AppError::Forbidden(
            "Only the owner can deactivate an admin.".into(),
        ));
    }
    let origin = Origin::of(&req);
    let (organization_id, actor_id, target_id) = (admin.organization.id, admin.user.id, target.id);
    let now = crate::now_unix();
    let changed = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            // Deactivating also ends every session of theirs.
            let changed = User::deactivate(c, target_id, now)?;
            if changed {
                origin.record(
                    c,
                    Entry::by(
                        organization_id,
                        actor_id,
                        Some(target_id),
                        event::DEACTIVATED,
                    ),
                    now,
                )?;
            }
            Ok(changed)
        })
    })
    .await?;
    let message = if changed {
        format!(
            "{} is deactivated and was signed out everywhere.",
            target.name
        )
    } else {
        format!("{} was already deactivated.", target.name)
    };
    admin.session.flash(FlashKind::Success, message)?;
    Ok(see_other("/settings/users"))
}

pub async fn post_recovery_codes(
    req: HttpRequest,
    owner: Owner,
    state: web::Data<AppState>,
    path: web::Path<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let target = person(&state, &owner, path.into_inner()).await?;
    if target.id == owner.user.id {
        return Err(AppError::Forbidden(
            "You can't issue recovery codes for your own account: regenerate them in \
             Settings › Security."
                .into(),
        ));
    }
    if target.deactivated_at.is_some() {
        return Err(AppError::Unprocessable(format!(
            "{} is deactivated.",
            target.name
        )));
    }
    if !target.has_two_factor() {
        return Err(AppError::Unprocessable(format!(
            "{} has no two-factor authentication, so there are no recovery codes to replace: \
             they sign in with their password.",
            target.name
        )));
    }
    if target.last_sign_in_at.is_none() {
        return Err(AppError::Unprocessable(format!(
            "{} has never signed in.",
            target.name
        )));
    }
    let origin = Origin::of(&req);
    let app = state.clone();
    let owner_name = owner.user.name.clone();
    let (organization_id, owner_id) = (owner.organization.id, owner.user.id);
    let now = crate::now_unix();
    let recipient = target.clone();
    let email = crate::db::run(&state.pool, move |c| {
        crate::db::write_transaction(c, |c| {
            // The new codes exist only in this email: the owner's page never shows them.
            let codes = two_factor::replace_recovery_codes(c, &app.keys, recipient.id, now)?;
            User::end_all_sessions(c, recipient.id)?;
            origin.record(
                c,
                Entry::by(
                    organization_id,
                    owner_id,
                    Some(recipient.id),
                    event::RECOVERY_CODES_ISSUED,
                ),
                now,
            )?;
            notify::security_alert(
                c,
                &app.config.public_url,
                &recipient,
                &Alert::CodesIssued {
                    by: owner_name,
                    codes,
                },
                &origin,
                now,
            )
        })
    })
    .await?;
    match state.mailer.send(vec![email]).await {
        Ok(()) => owner.session.flash(
            FlashKind::Success,
            format!(
                "Five new recovery codes were emailed to {} ({}). Their old codes no longer \
                 work and they were signed out everywhere.",
                target.name, target.email
            ),
        )?,
        Err(e) => {
            tracing::error!(error = ?e, "sending issued recovery codes failed");
            owner.session.flash(
                FlashKind::Warning,
                format!(
                    "New recovery codes were made for {}, but the email could not be sent. \
                     Try again once email works; their old codes no longer work.",
                    target.name
                ),
            )?
        }
    }
    Ok(see_other("/settings/users"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_columns_leave_2fa_to_be_added() {
        assert_eq!(Field::chosen(None), Field::DEFAULT.to_vec());
        assert!(!Field::DEFAULT.contains(&Field::TwoFactor));
        assert_eq!(
            Field::chosen(Some("two_factor,name,retired")),
            vec![Field::TwoFactor, Field::Name]
        );
        assert_eq!(Field::chosen(Some("")), Field::DEFAULT.to_vec());
        for field in Field::ALL {
            assert_eq!(Field::parse(field.key()), Some(field));
        }
    }

    #[test]
    fn the_query_is_parsed_or_refused() {
        let parse = |q: Option<&str>, f: Option<&str>, p: Option<&str>| {
            Listing::try_from(UsersQuery {
                q: q.map(Into::into),
                two_factor: f.map(Into::into),
                page: p.map(Into::into),
            })
        };
        let listing = parse(Some(" Ada "), Some("disabled"), Some("3")).expect("valid");
        assert_eq!(listing.search, "Ada");
        assert_eq!(listing.filter, TwoFactorFilter::Disabled);
        assert_eq!(listing.page, 3);
        assert_eq!(
            listing.url(4),
            "/settings/users?q=Ada&two_factor=disabled&page=4"
        );
        assert!(parse(None, Some("maybe"), None).is_err());
        for page in ["0", "-1", "x", "99999999999999999999"] {
            assert!(parse(None, None, Some(page)).is_err(), "{page}");
        }
        assert_eq!(parse(None, Some(""), Some("")).expect("valid").page, 1);
    }

    #[test]
    fn the_pager_shows_the_ends_and_the_neighbourhood() {
        let listing = Listing {
            page: 10,
            ..Listing::default()
        };
        let numbers: Vec<Option<i64>> = pager(&listing, 2000).iter().map(|l| l.number).collect();
        assert_eq!(
            numbers,
            vec![
                Some(1),
                None,
                Some(8),
                Some(9),
                Some(10),
                Some(11),
                Some(12),
                None,
                Some(2000)
            ]
        );
        let first: Vec<Option<i64>> = pager(&Listing::default(), 3)
            .iter()
            .map(|l| l.number)
            .collect();
        assert_eq!(first, vec![Some(1), Some(2), Some(3)]);
    }
}
