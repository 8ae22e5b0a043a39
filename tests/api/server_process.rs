//! The real `twofold` binary as a child process on a data directory that outlives it, for the
//! tests that kill, stop and restart the server; and a browser that reports a dropped
//! connection as an outcome instead of failing the test.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use twofold::auth::totp;
use twofold::config::Config;

use crate::helpers::{Response, TestApp, fresh_postgres_database};

/// A data directory and database that server processes are started on, one after another.
pub struct Deployment {
    pub dir: Arc<tempfile::TempDir>,
    pub config: Config,
}

impl Deployment {
    /// A new temp data directory (with its secret key) and an empty database: a SQLite file in
    /// the directory, or a new PostgreSQL database when the suite runs on PostgreSQL.
    pub fn new() -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut config = Config::with_data_dir(dir.path()).expect("config");
        if let Ok(server) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
            config.database_url = fresh_postgres_database(&server);
        }
        Self { dir, config }
    }

    /// Whether the database is a SQLite file.
    pub fn is_sqlite(&self) -> bool {
        !twofold::db::is_postgres_url(&self.config.database_url)
    }

    /// Starts `twofold` on this deployment (bcrypt cost 4 unless `env` says otherwise) and
    /// waits, at most 60 s, for it to report its address.
    pub fn start(&self, env: &[(&str, &str)]) -> Server {
        // A clean environment and the data directory as working directory: nothing from the
        // developer's environment or a `.env` file reaches the server.
        let mut command = Command::new(env!("CARGO_BIN_EXE_twofold"));
        command
            .env_clear()
            .current_dir(self.dir.path())
            .env("TWOFOLD_DATA_DIR", self.dir.path())
            .env("DATABASE_URL", &self.config.database_url)
            .env("TWOFOLD_BIND", "127.0.0.1:0")
            .env("TWOFOLD_BCRYPT_COST", "4")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start twofold");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for (stream, tx) in [
            (
                Box::new(stdout) as Box<dyn std::io::Read + Send>,
                tx.clone(),
            ),
            (Box::new(stderr), tx),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Some(address) = serving_address(&line) {
                        let _ = tx.send(address);
                    }
                    log.lock().expect("log").push(line);
                }
            });
        }
        let address = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!(
                    "twofold did not report its address:\n{}",
                    log.lock().expect("log").join("\n")
                )
            });
        let port = address.rsplit(':').next().unwrap_or_default().to_owned();
        let app = TestApp {
            address: format!("http://{address}"),
            public_url: env
                .iter()
                .find(|(name, _)| *name == "TWOFOLD_PUBLIC_URL")
                .map_or_else(
                    || format!("http://localhost:{port}"),
                    |(_, url)| (*url).to_owned(),
                ),
            config: self.config.clone(),
            dir: self.dir.clone(),
            state: None,
        };
        Server {
            child: Some(child),
            app,
            log,
        }
    }
}

/// One connection to a deployment's database for many queries. `TestApp::count` builds a
/// pool per query, whose worker threads outlive it for up to half a minute: fine for a few
/// queries, but the thousands these tests make would pile up tens of thousands of threads.
pub struct Db(RefCell<twofold::db::DbConn>);

impl Db {
    /// Connects to the deployment's database.
    pub fn open(deployment: &Deployment) -> Self {
        let conn = twofold::db::DbPool::build(&deployment.config.database_url, 1)
            .and_then(|pool| Ok(pool.get()?))
            .expect("database");
        Self(RefCell::new(conn))
    }

    /// Runs one SQL query returning one integer (written to suit both backends).
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        use diesel::sql_types::BigInt;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let query = format!("SELECT CAST(({sql}) AS BIGINT) AS n");
        let conn = &mut *self.0.borrow_mut();
        let rows: Vec<Row> =
            twofold::db_run!(conn => diesel::sql_query(&query).load(conn)).expect("query");
        rows[0].n
    }

    /// Runs one SQL query returning one text value.
    pub fn text(&self, sql: &str) -> String {
        use diesel::RunQueryDsl;
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            t: String,
        }
        let query = format!("SELECT ({sql}) AS t");
        let conn = &mut *self.0.borrow_mut();
        let rows: Vec<Row> =
            twofold::db_run!(conn => diesel::sql_query(&query).load(conn)).expect("query");
        rows.into_iter().next().expect("a row").t
    }

    /// Runs one SQL statement.
    pub fn execute(&self, sql: &str) {
        use diesel::RunQueryDsl;
        let conn = &mut *self.0.borrow_mut();
        twofold::db_run!(conn => diesel::sql_query(sql).execute(conn)).expect("statement");
    }
}

/// The address in the line "Twofold is serving on http://ADDR".
fn serving_address(line: &str) -> Option<String> {
    let rest = line.split("Twofold is serving on http://").nth(1)?;
    let address: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    (!address.is_empty()).then_some(address)
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// The app as the helpers know it: its address, configuration and database.
    pub app: TestApp,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// SIGKILL: the process ends at once, wherever it is.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: the server is asked to stop gracefully.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success(), "kill -TERM {pid}");
    }

    /// Waits, at most `limit`, for the process to exit by itself.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The lines the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// How many logged lines contain `text`.
    pub fn log_count(&self, text: &str) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.contains(text))
            .count()
    }

    /// Waits, at most `limit`, for a logged line containing `text`.
    pub async fn wait_for_log(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.log_count(text) > 0 {
                return true;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What became of a request: an answer, or a connection that failed (the server was killed).
pub type Outcome = Result<Response, String>;

/// A browser like the helpers' `Client`, whose requests may fail without failing the test.
pub struct Browser {
    base: String,
    http: awc::Client,
    cookies: RefCell<BTreeMap<String, String>>,
    csrf: RefCell<Option<String>>,
}

thread_local! {
    /// Requests sent by this test's browsers, answered or not (each test has its thread).
    static SENT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many requests this test's [`Browser`]s have sent.
pub fn requests_sent() -> u64 {
    SENT.with(|n| n.get())
}

impl Browser {
    /// A browser for the app at `address` (`http://…`).
    pub fn new(address: &str) -> Self {
        Self::behind_proxy(address, None)
    }

    /// A browser whose requests reach the app through a reverse proxy on this machine that
    /// names `client` as the client's address (`X-Forwarded-For`), when given: the app counts
    /// it as that address if started with `TWOFOLD_TRUSTED_PROXIES=127.0.0.1`.
    pub fn behind_proxy(address: &str, client: Option<&str>) -> Self {
        let mut http = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(60))
            // The server closes a connection idle for 5 s (answering 408 to a request that
            // races the close): a browser idle longer opens a new one, as browsers do.
            .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(3)));
        if let Some(client) = client {
            http = http.add_default_header(("X-Forwarded-For", client.to_owned()));
        }
        Self {
            base: address.to_owned(),
            http: http.finish(),
            cookies: RefCell::new(BTreeMap::new()),
            csrf: RefCell::new(None),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish<S>(
        &self,
        res: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
    ) -> Outcome
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        SENT.with(|n| n.set(n.get() + 1));
        let mut res = res.map_err(|e| e.to_string())?;
        let body = res
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .map_err(|e| e.to_string())?;
        for value in res.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let Some((name, value)) = text.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            if text.to_ascii_lowercase().contains("max-age=0") || value.is_empty() {
                self.cookies.borrow_mut().remove(name);
            } else {
                self.cookies
                    .borrow_mut()
                    .insert(name.to_owned(), value.to_owned());
            }
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        if let Some(token) = find_csrf(&body) {
            *self.csrf.borrow_mut() = Some(token);
        }
        Ok(Response {
            status: res.status(),
            headers: res.headers().clone(),
            body,
        })
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Outcome {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send()
            .await;
        self.finish(res).await
    }

    /// POST a form with the CSRF token of the last page seen.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Outcome {
        let token = self.csrf.borrow().clone().unwrap_or_default();
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send_form(&all)
            .await;
        self.finish(res).await
    }
}

/// The value of the first `csrf_token` field in a page.
fn find_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let rest = &body[body.find(marker)? + marker.len()..];
    let token = &rest[..rest.find('"')?];
    (!token.is_empty()).then(|| token.to_owned())
}

/// Where a redirect goes, if the answer is one.
pub fn location(res: &Response) -> Option<String> {
    (res.status.as_u16() == 303)
        .then(|| res.header("location"))
        .flatten()
}

/// An authenticator app that never waits: it gives a code for a step the server has not seen
/// and still accepts (the current or the next), or none.
pub struct Device {
    /// The setup key (base32), from which oathtool computes the codes.
    pub base32: String,
    /// The last step this device gave a code for.
    pub last_step: i64,
}

impl Device {
    /// Reads the setup key from a setup page.
    pub fn from_setup_page(page: &Response) -> Option<Self> {
        let key = page.element_text("setup-key")?;
        let base32: String = key.chars().filter(|c| !c.is_whitespace()).collect();
        data_encoding::BASE32_NOPAD.decode(base32.as_bytes()).ok()?;
        Some(Self {
            base32,
            last_step: -1,
        })
    }

    /// A fresh code and its step, if one is available without waiting.
    pub fn code(&mut self) -> Option<(String, i64)> {
        let current = totp::step_at(twofold::now_unix());
        let step = (self.last_step + 1).max(current);
        (step <= current + 1).then(|| {
            self.last_step = step;
            (crate::helpers::oathtool(&self.base32, step), step)
        })
    }
}
