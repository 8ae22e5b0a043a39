//! `GET /healthz`: 200 only when the database answers, for load balancers.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

pub async fn get_health(state: web::Data<AppState>) -> HttpResponse {
    match crate::db::answers(&state.pool).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}
