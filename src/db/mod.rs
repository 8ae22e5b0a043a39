//! The database: a connection pool with SQLite tuned for concurrent use, embedded migrations,
//! and [`run`], which moves blocking diesel work off the request threads.

pub mod models;
pub mod schema;

use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

/// The connection type every query function takes.
pub type DbConn = SqliteConnection;
/// The shared pool.
pub type DbPool = Pool<ConnectionManager<DbConn>>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Sets each new SQLite connection up for many concurrent readers and one writer at a time.
#[derive(Debug)]
struct SqliteTuning;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqliteTuning {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        // busy_timeout comes first, so that even switching to WAL waits for a busy database.
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool for `database_url` (a file path, or `sqlite://path`).
pub fn build_pool(database_url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    let path = database_url
        .strip_prefix("sqlite://")
        .unwrap_or(database_url);
    let manager = ConnectionManager::<SqliteConnection>::new(path);
    let pool = Pool::builder()
        .max_size(max_size)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqliteTuning))
        .build(manager)?;
    Ok(pool)
}

/// Applies every pending migration.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    Ok(())
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await?
}

/// Runs `f` in a transaction that takes the write lock at its start. A deferred SQLite
/// transaction that reads and then writes can fail with "database is locked" however long the
/// busy timeout; an immediate one waits its turn instead.
pub fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    conn.immediate_transaction(f)
}
