//! Logging: one line per request, never a password, code, token or secret.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Installs the `tracing` subscriber; `RUST_LOG` picks the level (default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal: in a file or a pipe the escape codes are noise,
    // and formatting them is work on every request.
    let ansi = std::io::stdout().is_terminal();
    // A second call (tests start many apps in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .try_init();
}

/// Logs method, route pattern, status and duration of each request. The pattern
/// (`/invitations/{token}`) is logged rather than the path, so that secrets carried in a
/// path never reach the log; query strings and bodies are never logged.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await;
    // Routing happens inside the app, so the matched pattern is known only afterwards.
    let (route, status) = match &res {
        Ok(r) => (r.request().match_pattern(), r.status().as_u16()),
        Err(e) => (None, e.as_response_error().status_code().as_u16()),
    };
    let route = route.unwrap_or_else(|| "(unmatched)".to_owned());
    #[cfg(feature = "test-hooks")]
    if let Ok(r) = &res
        && let Some(state) = r
            .request()
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
    {
        let span = RequestSpan {
            method: method.to_string(),
            route: route.clone(),
            started,
            finished: Instant::now(),
        };
        if let Ok(mut spans) = state.requests.lock() {
            spans.push(span);
        }
    }
    tracing::info!(
        %method,
        route,
        status,
        // Whole microseconds: formatting a float costs more than the rest of the line.
        us = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}

/// A request as the server saw it, from arrival to answer (test builds only: race tests show
/// with it that their requests were in the server at the same time).
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone)]
pub struct RequestSpan {
    pub method: String,
    pub route: String,
    pub started: Instant,
    pub finished: Instant,
}

/// The most requests of `method` to `route` that were in the server at the same moment.
#[cfg(feature = "test-hooks")]
pub fn most_at_once(spans: &[RequestSpan], method: &str, route: &str) -> usize {
    let mut edges: Vec<(Instant, i32)> = spans
        .iter()
        .filter(|s| s.method == method && s.route == route)
        .flat_map(|s| [(s.started, 1), (s.finished, -1)])
        .collect();
    // At one instant, an arrival counts before a completion.
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in edges {
        now += delta;
        most = most.max(now);
    }
    most as usize
}
