//! Settings › Audit log: `GET /settings/audit-log`, the organization's security events,
//! newest first, 50 a page (`page`), optionally about one person (`person`, an id, or
//! `email`). A person of another organization is not found, like one who does not exist.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::extractors::Admin;
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
    page: Option<String>,
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
    page: i64,
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
    let page = parse_number(query.page.as_deref(), "page")?.unwrap_or(1);
    if page > 1_000_000 {
        return Err(AppError::BadRequest("The page is too far.".into()));
    }
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
    let found = audit_log::page(
        &state,
        admin.organization.id,
        filter,
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
    )
    .await?;
    let Some(AuditPage {
        person,
        events,
        names,
        has_older,
    }) = found
    else {
        return Err(AppError::NotFound);
    };
    let name_of = |id: Option<i64>| id.and_then(|id| names.get(&id).map(|name| (id, name.clone())));
    let filter = match &person {
        Some(p) => format!("person={}&", p.id),
        None => String::new(),
    };
    let page_url = |n: i64| format!("/settings/audit-log?{filter}page={n}");
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
        page,
        newer_url: (page > 1).then(|| page_url(page - 1)),
        older_url: has_older.then(|| page_url(page + 1)),
    };
    render(&view, StatusCode::OK)
}
