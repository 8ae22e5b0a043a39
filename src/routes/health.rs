//! `GET /healthz`: 200 only when the database answers, for load balancers.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;
use diesel::sql_types::Integer;

use crate::error::AppError;
use crate::startup::AppState;

pub async fn get_health(state: web::Data<AppState>) -> HttpResponse {
    let result = crate::db::run(&state.pool, |conn| {
        crate::db_run!(conn => diesel::select(diesel::dsl::sql::<Integer>("1"))
            .get_result::<i32>(conn)
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
