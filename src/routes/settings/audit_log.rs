//! Settings › Audit log: `GET /settings/audit-log`, the organization's security events,
//! newest first, 50 a page, optionally about one person (`person`, an id, or `email`). Pages
//! go by event id (`before`: older than it, `after`: newer than it), so a page deep in ten
//! million events costs what the first does. A person of another organization is not found,
//! like one who does not exist.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::extractors::Admin;
use crate::db::models::Cursor;
use crate::domain::Email;
use crate::error::AppError;
use crate::format;
use crate::ops::audit_log::{self, AuditPage, PersonFilter};
use crate::routes::{Chrome, render};
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    person: Option<String>,
    email: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

/// One event as the log shows it.
pub struct EventRow {
    when: String,
    what: String,
    actor: Option<(i64, String)>,
    subject: Option<(i64, String)>,
    detail: String,
    address: String,
    browser: String,
}

#[derive(Template)]
#[template(path = "settings/audit_log.html")]
struct AuditLogPage {
    chrome: Chrome,
    section: &'static str,
    person: Option<(i64, String)>,
    email: String,
    events: Vec<EventRow>,
    /// Whether this is a page after the newest one.
    paged: bool,
    newer_url: Option<String>,
    older_url: Option<String>,
}

fn parse_number(text: Option<&str>, what: &str) -> Result<Option<i64>, AppError> {
    match text.map(str::trim).unwrap_or_default() {
        "" => Ok(None),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest(format!("The {what} is a number from 1 on."))),
    }
}

pub async fn get_audit_log(
    admin: Admin,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let cursor = match (
        parse_number(query.before.as_deref(), "before")?,
        parse_number(query.after.as_deref(), "after")?,
    ) {
        (None, None) => Cursor::Newest,
        (Some(id), None) => Cursor::Before(id),
        (None, Some(id)) => Cursor::After(id),
        (Some(_), Some(_)) => {
            return Err(AppError::BadRequest(
                "Ask for events before or after one, not both.".into(),
            ));
        }
    };
    let person_id = parse_number(query.person.as_deref(), "person")?;
    let email = match query.email.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Email::parse(text).map_err(AppError::BadRequest)?),
    };
    let filter = match (person_id, &email) {
        (Some(id), _) => PersonFilter::Id(id),
        (None, Some(email)) => PersonFilter::Email(email.clone()),
        (None, None) => PersonFilter::Everyone,
    };
    let found = audit_log::page(&state, admin.organization.id, filter, cursor, PAGE_SIZE).await?;
    let Some(AuditPage {
        person,
        events,
        names,
        has_older,
        has_newer,
    }) = found
    else {
        return Err(AppError::NotFound);
    };
    let name_of = |id: Option<i64>| id.and_then(|id| names.get(&id).map(|name| (id, name.clone())));
    let filter = match &person {
        Some(p) => format!("person={}&", p.id),
        None => String::new(),
    };
    let (newest, oldest) = (events.first().map(|e| e.id), events.last().map(|e| e.id));
    let url = |side: &str, id: i64| format!("/settings/audit-log?{filter}{side}={id}");
    // An empty page (past either end) still links back the way it came.
    let newer_url = match (has_newer, newest, cursor) {
        (true, Some(id), _) => Some(url("after", id)),
        (true, None, Cursor::Before(id)) if id > 1 => Some(url("after", id - 1)),
        (true, None, Cursor::Before(_)) => Some(format!("/settings/audit-log?{filter}")),
        _ => None,
    };
    let older_url = match (has_older, oldest, cursor) {
        (true, Some(id), _) => Some(url("before", id)),
        (true, None, Cursor::After(id)) => Some(url("before", id.saturating_add(1))),
        _ => None,
    };
    let view = AuditLogPage {
        chrome: Chrome::signed_in(&admin)?,
        section: "audit-log",
        person: person.map(|p| (p.id, p.name)),
        email: email.map(|e| e.as_str().to_owned()).unwrap_or_default(),
        events: events
            .into_iter()
            .map(|e| EventRow {
                when: format::time_in_utc_column(e.created_at),
                what: e.event.describe().to_owned(),
                actor: name_of(e.actor_id),
                subject: name_of(e.subject_id),
                detail: e.detail,
                address: e.client_address,
                browser: format::browser(&e.user_agent),
            })
            .collect(),
        paged: cursor != Cursor::Newest,
        newer_url,
        older_url,
    };
    render(&view, StatusCode::OK)
}
