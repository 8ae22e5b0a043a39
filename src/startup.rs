//! Building the application: the pool and migrations, the derived keys, the middleware and
//! the routes, on a listener it binds itself (port 0 in tests) and reports.

use std::net::{SocketAddr, TcpListener};

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::SameSite;
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};

use crate::auth::csrf::MAX_FORM_BYTES;
use crate::config::Config;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::routes;
use crate::state::AppState;

/// The session cookie's name on a plain-HTTP deployment (development, tests).
pub const SESSION_COOKIE: &str = "twofold_session";

/// The session cookie's name behind an `https://` public URL: the `__Host-` prefix makes
/// browsers refuse it unless it is Secure, for the whole host (`Path=/`) and without a
/// `Domain`, so no sibling subdomain can plant or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-twofold_session";

/// Headers on every response. The CSP allows no inline script; the one small script and the
/// stylesheet come from our own origin. Pages default to `no-store`: they carry personal data,
/// secrets (the setup key) and recovery codes; static files set their own caching. Behind an
/// `https://` public URL, browsers are also told to use HTTPS only (HSTS, for a year).
fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https {
        DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}

/// A query string that does not fit its page (a repeated or malformed parameter) gets the
/// app's own 400 page, like a malformed form, rather than actix's plain-text answer.
fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_, _| {
        AppError::BadRequest("The address's query string could not be read.".into()).into()
    })
}

/// A path segment that does not parse (an id that is not a number) names nothing: 404.
fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into())
}

/// A built, bound, not yet running application.
pub struct Application {
    address: SocketAddr,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Opens the database (applying migrations), derives the keys and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Sized to the cores: the database work is short and mostly CPU (SQLite in-process, or a
        // PostgreSQL round trip), so more than two connections a core only contend. Each
        // worker's blocking pool runs the diesel calls and nothing slower (bcrypt has threads of
        // its own); it may grow to as many threads as there are connections, not just its share,
        // so that a write waiting for SQLite's lock or the disk does not hold up that worker's
        // reads while connections are free.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool_size = 2 * cores;
        let pool = DbPool::build(&config.database_url, pool_size as u32)?;
        let migrate_pool = pool.clone();
        web::block(move || -> anyhow::Result<()> {
            let mut conn = migrate_pool.get()?;
            db::run_migrations(&mut conn)
        })
        .await??;

        let mut config = config;
        let listener = TcpListener::bind(&config.bind)?;
        let address = listener.local_addr()?;
        // Port 0 lets the system choose; the default public URL follows its choice.
        if config.public_url == "http://localhost:0" {
            config.public_url = format!("http://localhost:{}", address.port());
        }
        let secure = config.secure_cookies();
        let state = web::Data::new(AppState::new(config, pool)?);
        crate::ops::maintenance::prune_in_the_background(state.clone().into_inner());
        crate::ops::maintenance::write_activity_in_the_background(state.clone().into_inner());
        let app_state = state.clone();

        let server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(
                CookieSessionStore::default(),
                state.keys.cookie.clone(),
            )
            .cookie_name(
                if secure {
                    SECURE_SESSION_COOKIE
                } else {
                    SESSION_COOKIE
                }
                .to_owned(),
            )
            .cookie_content_security(CookieContentSecurity::Private)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(secure)
            .session_lifecycle(BrowserSession::default())
            .build();
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
                .app_data(query_config())
                .app_data(path_config())
                // Inside the session middleware, which it reads.
                .wrap(from_fn(crate::auth::enforcement::require_two_factor))
                .wrap(sessions)
                .wrap(from_fn(crate::auth::browser::remember_browser))
                .wrap(security_headers(secure))
                .wrap(from_fn(crate::telemetry::log_request))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        .workers(cores)
        .worker_max_blocking_threads(pool_size)
        .listen(listener)?
        .run();
        Ok(Self {
            address,
            server,
            state: app_state,
        })
    }

    /// The address the app listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The application's state, as every handler sees it.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The port the app listens on.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Serves until the process is told to stop.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
