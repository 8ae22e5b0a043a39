//! Settings › Users: `GET /settings/users`, the organization's people table (search, 2FA
//! filter, 50 a page, the columns each viewer picked with `POST /settings/users/fields`).
//! The actions on a person are in `actions`, invitations in `invitations`, the table's model
//! (columns, query, pager) in `table`.
//!
//! The page costs the same at 100 people as at 100,000: the counts come from the
//! organization's row (kept by a trigger), a page is read in name order from an index, and
//! the recovery codes left are counted for the page's people in one grouped query.

pub mod actions;
pub mod invitations;
mod table;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::extractors::{Admin, SignedIn};
use crate::auth::session::FlashKind;
use crate::db::models::{PersonRow, TwoFactorFilter, contains_pattern};
use crate::domain::Role;
use crate::error::AppError;
use crate::format;
use crate::http::see_other;
use crate::ops::people::{self, PeopleQuery};
use crate::policy::{self, Actor, Subject};
use crate::routes::{Chrome, render};
use crate::state::AppState;
use table::{Field, FieldChoice, Listing, PAGE_SIZE, PageLink, UsersQuery, pager};

/// One person as the table shows them, with what the viewer may do to them.
pub struct Row {
    id: i64,
    name: String,
    email: String,
    role: Role,
    two_factor: bool,
    last_sign_in: String,
    codes_left: i64,
    /// When they were deactivated (the deactivated listing), empty for the active.
    deactivated_on: String,
    can_change_role: bool,
    can_deactivate: bool,
    can_issue_codes: bool,
    can_send_reset: bool,
    can_reactivate: bool,
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

    fn has_actions(&self) -> bool {
        self.can_change_role
            || self.can_issue_codes
            || self.can_send_reset
            || self.can_deactivate
            || self.can_reactivate
    }
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
    deactivated: bool,
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

/// Renders the people table (with the invitation form in the state given).
pub async fn users_page(
    viewer: &SignedIn,
    state: &AppState,
    listing: Listing,
    invite: InviteForm,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let offset = (listing.page - 1) * PAGE_SIZE;
    let found = people::people_page(
        state,
        PeopleQuery {
            organization_id: viewer.organization.id,
            deactivated: listing.deactivated,
            filter: listing.filter,
            search: (!listing.search.is_empty()).then(|| contains_pattern(&listing.search)),
            offset,
            limit: PAGE_SIZE,
        },
    )
    .await?;

    let organization = &viewer.organization;
    let matching = found.searched_total.unwrap_or(match listing.filter {
        TwoFactorFilter::Any => organization.people_count,
        TwoFactorFilter::Enabled => organization.two_factor_count,
        TwoFactorFilter::Disabled => organization.people_count - organization.two_factor_count,
    });
    let pages = ((matching + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let actor = Actor::from(&viewer.user);
    let rows: Vec<Row> = found
        .rows
        .iter()
        .map(|p: &PersonRow| {
            // The same rules the actions' operations apply.
            let subject = Subject::from(p);
            let active = subject.active;
            Row {
                can_change_role: active && policy::may_change_role(actor, subject).is_ok(),
                can_deactivate: active && policy::may_deactivate(actor, subject).is_ok(),
                can_issue_codes: active && policy::may_issue_recovery_codes(actor, subject).is_ok(),
                can_send_reset: active && policy::may_send_password_reset(actor, subject).is_ok(),
                can_reactivate: !active && policy::may_reactivate(actor, subject).is_ok(),
                deactivated_on: p
                    .deactivated_at
                    .map(format::time_in_utc_column)
                    .unwrap_or_default(),
                codes_left: found.codes_left.get(&p.id).copied().unwrap_or(0),
                last_sign_in: p
                    .last_sign_in_at
                    .map(format::time_in_utc_column)
                    .unwrap_or_default(),
                id: p.id,
                name: p.name.clone(),
                email: p.email.clone(),
                role: p.role,
                two_factor: p.two_factor,
            }
        })
        .collect();
    let now = crate::now_unix();
    let fields = Field::chosen(viewer.user.people_fields.as_deref());
    let page = UsersPage {
        chrome: Chrome::signed_in(viewer)?,
        section: "users",
        viewer_is_owner: viewer.user.role == Role::Owner,
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
        deactivated: listing.deactivated,
        page: listing.page,
        pages,
        matching,
        pager: pager(&listing, pages),
        previous_url: (listing.page > 1).then(|| listing.url(listing.page - 1)),
        next_url: (listing.page < pages).then(|| listing.url(listing.page + 1)),
        people: organization.people_count,
        with_two_factor: organization.two_factor_count,
        invitations: found
            .invitations
            .into_iter()
            .map(|i| OpenInvitation {
                expired: i.expires_at <= now,
                expires: format::time(i.expires_at),
                role: i.role.label(),
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
    people::save_fields(&state, admin.user.id, stored).await?;
    admin
        .session
        .flash(FlashKind::Success, "Your columns are saved.")?;
    Ok(see_other("/settings/users"))
}
