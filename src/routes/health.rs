//! `GET /healthz`: 200 only when the database answers, for load balancers.

use actix_web::{HttpResponse, web};
use diesel::prelude::*;

use crate::db::schema::organizations;
use crate::error::AppError;
use crate::startup::AppState;

/// Reads one row of a real table (not a bare `SELECT 1`, which SQLite answers without
/// opening its file), so a missing or broken database fails the check.
pub async fn get_health(state: web::Data<AppState>) -> HttpResponse {
    let result = crate::db::run(&state.pool, |conn| {
        crate::db_run!(conn => organizations::table
            .select(organizations::id)
            .limit(1)
            .load::<i64>(conn)
            .map_err(AppError::from))
    })
    .await;
    match result {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}
