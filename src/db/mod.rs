//! The database: SQLite (one file, the embedded default) or PostgreSQL (for several instances),
//! chosen at run time by `DATABASE_URL`; embedded migrations for each; and [`run`], which moves
//! blocking diesel work off the request threads.
//!
//! One code path serves both backends without diesel's `MultiConnection`: that derive covers
//! only the SQL both backends share through a generic backend, which excludes the `Bool` and
//! `Binary` types and the `RETURNING` and `ON CONFLICT` clauses this app relies on for its
//! atomic updates. Instead, each query is written once inside [`db_run!`], which compiles it
//! for each backend's own connection type (the approach of vaultwarden's `db_run!`), so every
//! query is type-checked against both and uses each backend's full dialect.

pub mod committed;
pub mod models;
pub mod schema;
pub mod types;

use std::cell::RefCell;
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::web;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
#[cfg(feature = "postgres")]
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;
use committed::{Committed, WalIndex};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
#[cfg(feature = "postgres")]
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A pool of connections to one of the two backends. On SQLite, also the read-only
/// connections that [`read_here`] keeps one per request thread.
#[derive(Clone)]
pub enum DbPool {
    Sqlite {
        pool: SqlitePool,
        readers: Arc<Readers>,
    },
    #[cfg(feature = "postgres")]
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

type SqlitePool = Pool<ConnectionManager<SqliteConnection>>;

/// The request threads' read-only SQLite connections, and the database file they read.
pub struct Readers {
    pool: SqlitePool,
    path: String,
}

/// A pooled connection, as every query function takes it.
pub enum DbConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    #[cfg(feature = "postgres")]
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

/// Runs `$body` with `$conn` bound to the backend's own connection type: the body is compiled
/// once per backend (once, in a build without the `postgres` feature).
#[cfg(feature = "postgres")]
#[macro_export]
macro_rules! db_run {
    ($conn:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($conn) => $body,
            $crate::db::DbConn::Postgres($conn) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the SQLite connection (this build has no PostgreSQL).
#[cfg(not(feature = "postgres"))]
#[macro_export]
macro_rules! db_run {
    ($conn:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($conn) => $body,
        }
    };
}

/// The pragmas each new SQLite connection of a pool runs first.
#[derive(Debug)]
struct SqlitePragmas(&'static str);

/// The pool's connections: many concurrent readers and one writer at a time. busy_timeout
/// comes first, so that even switching to WAL waits for a busy database.
const READ_WRITE: SqlitePragmas = SqlitePragmas(
    "PRAGMA busy_timeout = 5000;
     PRAGMA journal_mode = WAL;
     PRAGMA synchronous = NORMAL;
     PRAGMA foreign_keys = ON;",
);

/// The request threads' readers: they cannot write, and they wait for the database only
/// briefly, since they run on a request thread ([`read_here`] then asks the pool instead).
const READ_ONLY: SqlitePragmas = SqlitePragmas(
    "PRAGMA busy_timeout = 20;
     PRAGMA query_only = ON;",
);

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(self.0)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// At most this many request threads keep a reader (more than any machine's workers).
const MAX_READERS: u32 = 256;

fn pool_builder<C: diesel::r2d2::R2D2Connection + 'static>(
    max_size: u32,
) -> diesel::r2d2::Builder<ConnectionManager<C>> {
    Pool::builder()
        .max_size(max_size)
        // Connections open on demand: start-up need not wait for a full pool.
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
}

/// Whether a `DATABASE_URL` names a PostgreSQL server.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl DbPool {
    /// Builds the pool for `database_url`: `postgres://…` or a SQLite file (`sqlite://path`
    /// or a plain path).
    pub fn build(database_url: &str, max_size: u32) -> anyhow::Result<Self> {
        if is_postgres_url(database_url) {
            #[cfg(feature = "postgres")]
            {
                let manager = ConnectionManager::<PgConnection>::new(database_url);
                return Ok(Self::Postgres(pool_builder(max_size).build(manager)?));
            }
            #[cfg(not(feature = "postgres"))]
            anyhow::bail!(
                "DATABASE_URL names a PostgreSQL server, but this build of Twofold has SQLite \
                 only (rebuild with the default `postgres` feature)"
            );
        }
        let path = database_url
            .strip_prefix("sqlite://")
            .unwrap_or(database_url);
        let manager = ConnectionManager::<SqliteConnection>::new(path);
        let pool = pool_builder(max_size)
            // r2d2 would otherwise run a query on every checkout to see that the connection
            // still works: worth it for a server across a network, not for a file opened
            // in-process.
            .test_on_check_out(false)
            .connection_customizer(Box::new(READ_WRITE))
            .build(manager)?;
        // Opened one by one, by the first read of each request thread, never all at once.
        let readers = Pool::builder()
            .max_size(MAX_READERS)
            .min_idle(Some(0))
            .test_on_check_out(false)
            // Opening a file takes far less; a request thread is not held longer than this.
            .connection_timeout(Duration::from_millis(250))
            .connection_customizer(Box::new(READ_ONLY))
            .build_unchecked(ConnectionManager::<SqliteConnection>::new(path));
        // The database holds sealed secrets and hashes: its files are the server's user's
        // alone, whoever created them.
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{path}{suffix}"));
            if file.exists() {
                crate::config::make_private(&file)?;
            }
        }
        Ok(Self::Sqlite {
            pool,
            readers: Arc::new(Readers {
                pool: readers,
                path: path.to_owned(),
            }),
        })
    }

    /// A connection from the pool (blocking: call it off the request threads).
    pub fn get(&self) -> Result<DbConn, diesel::r2d2::PoolError> {
        Ok(match self {
            Self::Sqlite { pool, .. } => DbConn::Sqlite(pool.get()?),
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => DbConn::Postgres(pool.get()?),
        })
    }
}

/// Applies every pending migration of the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let result = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("running migrations: {e}"))
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

thread_local! {
    /// This thread's SQLite reader.
    static READER: RefCell<Option<Reader>> = const { RefCell::new(None) };
}

/// A request thread's read-only SQLite connection.
struct Reader {
    /// The readers it came from.
    from: Weak<Readers>,
    conn: DbConn,
    /// The database's wal-index, opened after the connection's first read (`None` inside
    /// while there is none to open).
    wal_index: Option<Option<WalIndex>>,
}

impl Reader {
    /// Whether this reader came from `readers` (and so reads their database).
    fn is_from(&self, readers: &Arc<Readers>) -> bool {
        std::ptr::eq(self.from.as_ptr(), Arc::as_ptr(readers))
    }
}

/// Runs a short read (a lookup by key, microseconds on SQLite) on the calling thread, with a
/// read-only SQLite connection that the thread keeps: no trip to the blocking pool and back,
/// which costs more than the read itself. The read sees every transaction committed before
/// it starts, as any other connection would. On PostgreSQL (a network round trip), when the
/// database is busy, or when the read fails, `f` runs as [`run`] runs it.
pub async fn read_here<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: Fn(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    if let DbPool::Sqlite { readers, .. } = pool
        && let Some(Ok(value)) = on_this_threads_reader(readers, &f)
    {
        return Ok(value);
    }
    run(pool, move |c| f(c)).await
}

/// `f` on this thread's reader from `readers`, opened on first use; `None` when none can be
/// had at once (or this thread is already using it).
fn on_this_threads_reader<T>(
    readers: &Arc<Readers>,
    f: impl Fn(&mut DbConn) -> Result<T, AppError>,
) -> Option<Result<T, AppError>> {
    READER.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if !slot.as_ref().is_some_and(|reader| reader.is_from(readers)) {
            let conn = readers.pool.get().ok()?;
            *slot = Some(Reader {
                from: Arc::downgrade(readers),
                conn: DbConn::Sqlite(conn),
                wal_index: None,
            });
        }
        let reader = slot.as_mut()?;
        let answer = f(&mut reader.conn);
        if answer.is_ok() && reader.wal_index.is_none() {
            reader.wal_index = Some(wal_index_of(&mut reader.conn, &readers.path));
        }
        Some(answer)
    })
}

/// The wal-index of the database `conn` has just read from, if it is in WAL mode (it then
/// cannot leave it while this connection is open).
fn wal_index_of(conn: &mut DbConn, path: &str) -> Option<WalIndex> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct JournalMode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        journal_mode: String,
    }
    let mode = match conn {
        DbConn::Sqlite(conn) => diesel::sql_query("PRAGMA journal_mode")
            .get_result::<JournalMode>(&mut **conn)
            .ok()?,
        #[cfg(feature = "postgres")]
        DbConn::Postgres(_) => return None,
    };
    if !mode.journal_mode.eq_ignore_ascii_case("wal") {
        return None;
    }
    WalIndex::open(path)
}

/// What the database has committed now, as this request thread's reader sees it: two equal
/// values mean nothing was committed between the two moments they were read, by any
/// connection of any process (see [`committed`](self::committed)). `None` on PostgreSQL,
/// before this thread's reader has read, and while a commit is being published.
pub fn committed_now(pool: &DbPool) -> Option<Committed> {
    let readers = match pool {
        DbPool::Sqlite { readers, .. } => readers,
        #[cfg(feature = "postgres")]
        DbPool::Postgres(_) => return None,
    };
    READER.with(|cell| {
        let slot = cell.try_borrow().ok()?;
        let reader = slot.as_ref().filter(|reader| reader.is_from(readers))?;
        reader.wal_index.as_ref()?.as_ref()?.committed()
    })
}

/// Whether the database answers a query: reads one row of a real table (not a bare
/// `SELECT 1`, which SQLite answers without opening its file), so a missing or broken
/// database fails.
pub async fn answers(pool: &DbPool) -> Result<(), AppError> {
    use diesel::prelude::*;
    run(pool, |conn| {
        crate::db_run!(conn => schema::organizations::table
            .select(schema::organizations::id)
            .limit(1)
            .load::<i64>(conn)
            .map(|_| ())
            .map_err(AppError::from))
    })
    .await
}

/// A fault point (test builds with the `test-hooks` feature only): when the environment
/// variable `TWOFOLD_FAULT_POINT` names this point, the process aborts here, as a power cut or
/// a `kill -9` would stop it, so that a test can show a write transaction cut between two of
/// its statements leaves nothing half done. Without the feature it is nothing at all.
#[cfg(feature = "test-hooks")]
pub fn fault_point(point: &str) {
    if std::env::var("TWOFOLD_FAULT_POINT").is_ok_and(|named| named == point) {
        eprintln!("fault point {point}: aborting");
        std::process::abort();
    }
}

/// Runs `f` in a [`write_transaction`] on the blocking thread pool: how an operation makes a
/// change that is all or nothing.
pub async fn write<T, F>(pool: &DbPool, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |c| write_transaction(c, f)).await
}

/// Runs `f` in a transaction that holds the write lock from its start. On SQLite that is
/// `BEGIN IMMEDIATE`: a deferred transaction that reads and then writes can fail with
/// "database is locked" however long the busy timeout, while an immediate one waits its turn.
/// PostgreSQL takes row locks as statements run, so a plain `BEGIN` serves there; the atomic
/// steps inside are conditional updates whose row counts decide.
pub fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<T, AppError>,
{
    match conn {
        DbConn::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(&mut **c, "BEGIN IMMEDIATE")?
        }
        #[cfg(feature = "postgres")]
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(&mut **c)?,
    }
    let result = f(conn);
    let end = match (&result, &mut *conn) {
        (Ok(_), DbConn::Sqlite(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
        #[cfg(feature = "postgres")]
        (Ok(_), DbConn::Postgres(c)) => AnsiTransactionManager::commit_transaction(&mut **c),
        (Err(_), DbConn::Sqlite(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
        #[cfg(feature = "postgres")]
        (Err(_), DbConn::Postgres(c)) => AnsiTransactionManager::rollback_transaction(&mut **c),
    };
    match (result, end) {
        (Ok(value), Ok(())) => Ok(value),
        (Ok(_), Err(e)) => Err(e.into()),
        (Err(e), _) => Err(e),
    }
}
