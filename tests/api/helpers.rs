//! The test harness: the real app on its own port with a fresh temp-file SQLite database, and
//! a small HTTP client with a cookie jar that reads pages as a browser would.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use awc::http::StatusCode;
use twofold::auth::totp::{self, Secret};
use twofold::config::Config;
use twofold::startup::{Application, SESSION_COOKIE};

/// A password that meets the rules, used for every test person.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running app.
pub struct TestApp {
    pub address: String,
    /// The app's public URL (`http://localhost:PORT`): where passkeys work.
    pub public_url: String,
    pub config: Config,
    /// Keeps the temp directory (database, secret key) alive as long as any app uses it.
    pub dir: Arc<tempfile::TempDir>,
    /// The app's state when it runs in this process (not for a server process).
    pub state: Option<actix_web::web::Data<twofold::state::AppState>>,
}

impl TestApp {
    /// An app on a new temp database, with a cheap bcrypt cost.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app on a new temp database, with the configuration adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
        Self::spawn_in(dir, adjust).await
    }

    /// A second app process on the same data directory: a restart, or another instance.
    pub async fn spawn_again(&self) -> Self {
        self.spawn_again_with(|_| {}).await
    }

    /// A second app on the same data directory and database, its configuration adjusted.
    pub async fn spawn_again_with(&self, adjust: impl FnOnce(&mut Config)) -> Self {
        let config = self.config.clone();
        Self::spawn_in(self.dir.clone(), move |c| {
            *c = config;
            adjust(c);
        })
        .await
    }

    async fn spawn_in(dir: Arc<tempfile::TempDir>, adjust: impl FnOnce(&mut Config)) -> Self {
        twofold::telemetry::init();
        let mut config = Config::with_data_dir(dir.path()).expect("config");
        config.bind = "127.0.0.1:0".into();
        if let Ok(server) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
            config.database_url = fresh_postgres_database(&server);
        }
        config.bcrypt_cost = 4;
        // The app's own port, under a host name (passkeys need one).
        config.public_url = "http://localhost:0".into();
        adjust(&mut config);
        let config_for_app = config.clone();
        let app = Application::build(config_for_app)
            .await
            .expect("app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let public_url = app.state().config.public_url.clone();
        let state = Some(app.state());
        actix_rt::spawn(app.run_until_stopped());
        Self {
            address,
            public_url,
            config,
            dir,
            state,
        }
    }

    /// Runs statements on the PostgreSQL server's maintenance database.
    #[cfg(feature = "postgres")]
    pub fn postgres_admin(server: &str) -> impl Fn(&str) {
        use diesel::{Connection, RunQueryDsl};
        let url = format!("{server}/postgres");
        move |sql: &str| {
            let mut admin = diesel::PgConnection::establish(&url).expect("PostgreSQL server");
            diesel::sql_query(sql)
                .execute(&mut admin)
                .expect("statement");
        }
    }

    /// Asserts that at least two `method` requests to `route` were in the server at the same
    /// moment, as the server itself recorded them (in builds with the `test-hooks` feature; a
    /// race test that cannot show its requests overlapped shows nothing about the race).
    #[track_caller]
    pub fn assert_overlapped(&self, method: &str, route: &str) {
        #[cfg(feature = "test-hooks")]
        {
            let state = self.state.as_ref().expect("an app in this process");
            let spans = state.requests.lock().expect("requests").clone();
            let most = twofold::telemetry::most_at_once(&spans, method, route);
            assert!(
                most >= 2,
                "the {method} {route} requests never overlapped in the server (at most {most} at once)"
            );
        }
        #[cfg(not(feature = "test-hooks"))]
        let _ = (method, route);
    }

    /// A new browser: its own cookie jar.
    pub fn client(&self) -> Client {
        Client::new(&self.address)
    }

    /// The SQLite database file, when the suite runs on SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (!twofold::db::is_postgres_url(&self.config.database_url))
            .then(|| PathBuf::from(&self.config.database_url))
    }

    /// A direct connection to the app's database, for asserting what it stores.
    pub fn db(&self) -> twofold::db::DbConn {
        twofold::db::DbPool::build(&self.config.database_url, 1)
            .and_then(|pool| Ok(pool.get()?))
            .expect("database")
    }

    /// Runs one SQL statement (written to suit both SQLite and PostgreSQL).
    pub fn execute(&self, sql: &str) {
        use diesel::RunQueryDsl;
        let conn = &mut self.db();
        twofold::db_run!(conn => diesel::sql_query(sql).execute(conn)).expect("statement");
    }

    /// Runs one SQL query returning one integer.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        use diesel::sql_types::BigInt;
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let query = format!("SELECT CAST(({sql}) AS BIGINT) AS n");
        let conn = &mut self.db();
        let rows: Vec<Row> =
            twofold::db_run!(conn => diesel::sql_query(&query).load(conn)).expect("query");
        rows[0].n
    }

    /// Creates an organization with its owner through `/signup` and returns the owner's
    /// browser, signed in.
    pub async fn signup(&self, organization: &str, name: &str, email: &str) -> Client {
        let client = self.client();
        client.get("/signup").await.assert_status(200);
        let res = client
            .submit(
                "/signup",
                &[
                    ("organization", organization),
                    ("name", name),
                    ("email", email),
                    ("password", PASSWORD),
                ],
            )
            .await;
        res.assert_redirect("/settings/security");
        client
    }

    /// Signs up an owner who turns 2FA on; returns their authenticator and recovery codes.
    /// The browser is signed out, as 2FA confirmation ends every session.
    pub async fn owner_with_two_factor(&self, email: &str) -> (Client, Authenticator, Vec<String>) {
        let client = self.signup("Acme", "Ada Lovelace", email).await;
        let (device, codes) = client.enable_two_factor(PASSWORD).await;
        (client, device, codes)
    }
}

/// Creates an empty database on the PostgreSQL server at `server` (a URL without a database
/// name) and returns its URL: every test app gets its own, as on SQLite it gets its own file.
#[cfg(feature = "postgres")]
pub fn fresh_postgres_database(server: &str) -> String {
    let server = server.trim_end_matches('/');
    let name = format!("twofold_test_{}", hex::encode(rand_bytes()));
    TestApp::postgres_admin(server)(&format!("CREATE DATABASE {name}"));
    format!("{server}/{name}")
}

/// Without the `postgres` feature there is no PostgreSQL run of the suite.
#[cfg(not(feature = "postgres"))]
pub fn fresh_postgres_database(_server: &str) -> String {
    panic!("TWOFOLD_TEST_POSTGRES_URL is set, but this build has no PostgreSQL support")
}

#[cfg(feature = "postgres")]
fn rand_bytes() -> [u8; 8] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish().to_le_bytes()
}

/// A response, read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: String,
}

impl Response {
    /// Asserts the status code, showing the page on failure.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    /// Asserts a 303 redirect to `location`.
    #[track_caller]
    pub fn assert_redirect(&self, location: &str) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            303,
            "expected a redirect; body:\n{}",
            self.body
        );
        assert_eq!(self.header("location").as_deref(), Some(location));
        self
    }

    /// Asserts the page contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page:\n{}",
            self.body
        );
        self
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The target of the first link whose address starts with `prefix` (entities decoded).
    #[track_caller]
    pub fn link_to(&self, prefix: &str) -> String {
        let at = self
            .body
            .find(&format!("href=\"{prefix}"))
            .unwrap_or_else(|| panic!("no link to {prefix:?} in:\n{}", self.body));
        let start = at + "href=\"".len();
        let end = start + self.body[start..].find('"').expect("a closing quote");
        self.body[start..end].replace("&amp;", "&")
    }

    /// The text content of the element with this id (tags stripped, whitespace trimmed).
    pub fn element_text(&self, id: &str) -> Option<String> {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker)?;
        let open_end = at + self.body[at..].find('>')? + 1;
        let tag_start = self.body[..at].rfind('<')?;
        let tag: String = self.body[tag_start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let close = format!("</{tag}>");
        let end = open_end + self.body[open_end..].find(&close)?;
        Some(strip_tags(&self.body[open_end..end]).trim().to_owned())
    }

    /// The recovery codes listed in `#recovery-codes`, each from its `<code>` element.
    pub fn recovery_codes(&self) -> Vec<String> {
        let start = self
            .body
            .find("id=\"recovery-codes\"")
            .unwrap_or_else(|| panic!("no #recovery-codes in:\n{}", self.body));
        let end = start + self.body[start..].find("</ul>").expect("list end");
        self.body[start..end]
            .split("<code>")
            .skip(1)
            .map(|s| s.split("</code>").next().expect("code end").to_owned())
            .collect()
    }
}

/// Removes tags from an HTML fragment.
pub fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A browser: keeps cookies and the latest CSRF token it has seen in a page.
pub struct Client {
    base: RefCell<String>,
    http: awc::Client,
    pub cookies: RefCell<BTreeMap<String, String>>,
    csrf: RefCell<Option<String>>,
    /// The browser's User-Agent header.
    pub user_agent: String,
    /// An `X-Forwarded-For` header to send, as a reverse proxy would.
    pub forwarded_for: RefCell<Option<String>>,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            base: RefCell::new(base.to_owned()),
            http: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(60))
                .finish(),
            cookies: RefCell::new(BTreeMap::new()),
            csrf: RefCell::new(None),
            user_agent: "twofold-tests".into(),
            forwarded_for: RefCell::new(None),
        }
    }

    /// Sends this browser's next requests to another instance (same cookies).
    pub fn use_instance(&self, address: &str) {
        *self.base.borrow_mut() = address.to_owned();
    }

    fn forwarded(&self) -> String {
        self.forwarded_for.borrow().clone().unwrap_or_default()
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The session cookie's value, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.borrow().get(SESSION_COOKIE).cloned()
    }

    /// Replaces the session cookie (to replay an old one).
    pub fn set_session_cookie(&self, value: &str) {
        self.cookies
            .borrow_mut()
            .insert(SESSION_COOKIE.to_owned(), value.to_owned());
    }

    /// The CSRF token last seen in a page.
    pub fn csrf_token(&self) -> String {
        self.csrf
            .borrow()
            .clone()
            .expect("no CSRF token seen yet: GET a page with a form first")
    }

    async fn finish<S>(
        &self,
        res: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
    ) -> Response
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        let mut res = res.expect("request sent");
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ascii cookie");
            let first = text.split(';').next().expect("cookie pair");
            let (name, value) = first.split_once('=').expect("name=value");
            let removed = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if removed {
                self.cookies.borrow_mut().remove(name);
            } else {
                self.cookies
                    .borrow_mut()
                    .insert(name.to_owned(), value.to_owned());
            }
        }
        let body = res.body().limit(16 * 1024 * 1024).await.expect("body");
        let body = String::from_utf8_lossy(&body).into_owned();
        if let Some(token) = find_csrf(&body) {
            *self.csrf.borrow_mut() = Some(token);
        }
        Response {
            status: res.status(),
            headers: res.headers().clone(),
            body,
        }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Response {
        let res = self
            .http
            .get(format!("{}{}", self.base.borrow(), path))
            .insert_header(("Cookie", self.cookie_header()))
            .insert_header(("User-Agent", self.user_agent.clone()))
            .insert_header(("X-Forwarded-For", self.forwarded()))
            .send()
            .await;
        self.finish(res).await
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let res = self
            .http
            .post(format!("{}{}", self.base.borrow(), path))
            .insert_header(("Cookie", self.cookie_header()))
            .insert_header(("User-Agent", self.user_agent.clone()))
            .insert_header(("X-Forwarded-For", self.forwarded()))
            .send_form(&fields)
            .await;
        self.finish(res).await
    }

    /// POST a raw body with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        let res = self
            .http
            .post(format!("{}{}", self.base.borrow(), path))
            .insert_header(("Cookie", self.cookie_header()))
            .content_type(content_type)
            .send_body(body)
            .await;
        self.finish(res).await
    }

    /// POST a form with the CSRF token of the last page seen, whose answer may never come
    /// (the server dies on the way): the error instead of a panic.
    pub async fn try_submit(&self, path: &str, fields: &[(&str, &str)]) -> Result<u16, String> {
        let token = self.csrf_token();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{}", self.base.borrow(), path))
            .insert_header(("Cookie", self.cookie_header()))
            .insert_header(("User-Agent", self.user_agent.clone()))
            .send_form(&all)
            .await;
        match res {
            Ok(mut res) => {
                let _ = res.body().await;
                Ok(res.status().as_u16())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// POST a form with the CSRF token of the last page seen, as a browser submits a form.
    pub async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Signs in with a password: the answer is the redirect to `/` or to the two-factor page.
    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.get("/login").await;
        self.submit("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Enters the right password of a person with 2FA and opens the two-factor page.
    pub async fn password_step(&self, email: &str) {
        self.sign_in(email, PASSWORD)
            .await
            .assert_redirect("/login/two-factor");
        self.get("/login/two-factor").await.assert_status(200);
    }

    /// Enters a code at the two-factor step.
    pub async fn two_factor(&self, code: &str) -> Response {
        self.get("/login/two-factor").await;
        self.submit("/login/two-factor", &[("code", code)]).await
    }

    /// Signs in with password and a fresh code from `device`; asserts it lands on `/`.
    pub async fn sign_in_with_code(&self, email: &str, device: &Authenticator) {
        self.sign_in(email, PASSWORD)
            .await
            .assert_redirect("/login/two-factor");
        let code = device.code().await;
        self.two_factor(&code).await.assert_redirect("/");
    }

    /// Starts 2FA setup and returns the setup page.
    pub async fn start_setup(&self) -> Response {
        self.get("/settings/security").await.assert_status(200);
        self.submit("/settings/security/two-factor/setup", &[])
            .await
            .assert_redirect("/settings/security/two-factor/setup");
        let page = self.get("/settings/security/two-factor/setup").await;
        page.assert_status(200);
        page
    }

    /// Starts moving 2FA to a new app, confirming the current one with a code from `device`
    /// (asked when this session proved no second factor lately); returns the setup page.
    pub async fn start_new_app_setup(&self, device: &Authenticator) -> Response {
        self.get("/settings/security").await.assert_status(200);
        let code = device.code().await;
        self.submit("/settings/security/two-factor/setup", &[("code", &code)])
            .await
            .assert_redirect("/settings/security/two-factor/setup");
        let page = self.get("/settings/security/two-factor/setup").await;
        page.assert_status(200);
        page
    }

    /// Turns 2FA on (or moves it to a new app): returns the new authenticator and the
    /// recovery codes shown once. Afterwards this browser is signed out.
    pub async fn enable_two_factor(&self, password: &str) -> (Authenticator, Vec<String>) {
        let page = self.start_setup().await;
        let device = Authenticator::from_setup_page(&page);
        self.get("/settings/security/two-factor/confirm")
            .await
            .assert_status(200);
        let code = device.code().await;
        let res = self
            .submit(
                "/settings/security/two-factor/confirm",
                &[("password", password), ("code", &code)],
            )
            .await;
        res.assert_status(200);
        let codes = res.recovery_codes();
        assert_eq!(codes.len(), 5);
        (device, codes)
    }
}

/// Sends one code from every browser at once, each at its own two-factor step; returns how
/// many were let in and how many refused.
pub async fn race_code(clients: &[Client], code: &str) -> (usize, usize) {
    let fields = [("code", code)];
    let results = futures_util::future::join_all(
        clients
            .iter()
            .map(|c| c.submit("/login/two-factor", &fields)),
    )
    .await;
    let admitted = results
        .iter()
        .filter(|r| r.status.as_u16() == 303 && r.header("location").as_deref() == Some("/"))
        .count();
    let refused = results.iter().filter(|r| r.status.as_u16() == 401).count();
    (admitted, refused)
}

/// The value of the first `csrf_token` field in a page.
fn find_csrf(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf_token\" value=\"")?;
    let rest = &body[at + "name=\"csrf_token\" value=\"".len()..];
    let token = &rest[..rest.find('"')?];
    (!token.is_empty()).then(|| token.to_owned())
}

/// The six-digit TOTP code of a base32 secret for a time step, computed by Debian's oathtool
/// (oath-toolkit), which shares no code with Twofold's TOTP module or totp-lite.
pub fn oathtool(base32: &str, step: i64) -> String {
    let output = std::process::Command::new("oathtool")
        .args([
            "--totp",
            "--base32",
            &format!("--now=@{}", step.max(0) * 30),
            base32,
        ])
        .output()
        .expect("oathtool is installed by the test set-up (.ci/test-deps)");
    assert!(output.status.success(), "oathtool failed: {output:?}");
    let code = String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "six digits from oathtool: {code:?}"
    );
    code
}

/// An authenticator app: the secret read from the setup page, and the last step it gave out,
/// so that each code it gives is one the server has not seen.
pub struct Authenticator {
    pub secret: Secret,
    pub base32: String,
    last_step: RefCell<i64>,
}

impl Authenticator {
    /// Reads the setup key shown in `#setup-key`.
    pub fn from_setup_page(page: &Response) -> Self {
        let key = page.element_text("setup-key").expect("#setup-key");
        let base32: String = key.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(base32.as_bytes())
            .expect("base32 key");
        Self {
            secret: Secret::from_bytes(bytes),
            base32,
            last_step: RefCell::new(-1),
        }
    }

    /// The code for a step, as an independent implementation computes it (oathtool: the
    /// tests play the phone without Twofold's own TOTP code).
    pub fn code_at(&self, step: i64) -> String {
        oathtool(&self.base32, step)
    }

    /// The current time step.
    pub fn current_step() -> i64 {
        totp::step_at(twofold::now_unix())
    }

    /// A code the server will accept: the current step, or the next one (inside the server's
    /// window of ±1 step) when the current one was given out; waits for the clock when both
    /// were.
    pub async fn code(&self) -> String {
        loop {
            let current = Self::current_step();
            let step = (*self.last_step.borrow() + 1).max(current);
            if step <= current + 1 {
                *self.last_step.borrow_mut() = step;
                return self.code_at(step);
            }
            actix_rt::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Marks a step as given out elsewhere (for example by another implementation).
    pub fn mark_used(&self, step: i64) {
        let mut last = self.last_step.borrow_mut();
        *last = (*last).max(step);
    }
}

/// An email the app wrote to its outbox (`<data dir>/outbox/*.eml`).
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl SentEmail {
    /// The path (without scheme and host) of the first link in the body that contains
    /// `part`, such as `/invitations/`.
    pub fn link(&self, part: &str) -> String {
        let url = self
            .body
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(part))
            .unwrap_or_else(|| panic!("no link with {part:?} in:\n{}", self.body));
        let after_scheme = &url[url.find("://").expect("scheme") + 3..];
        after_scheme[after_scheme.find('/').expect("path")..].to_owned()
    }

    /// The recovery codes listed in the body (lines like `abcde-12345`).
    pub fn recovery_codes(&self) -> Vec<String> {
        self.body
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.len() == 11
                    && l.as_bytes()[5] == b'-'
                    && l.chars()
                        .filter(|c| *c != '-')
                        .all(|c| c.is_ascii_alphanumeric())
            })
            .map(str::to_owned)
            .collect()
    }
}

impl TestApp {
    /// Every email in the outbox, oldest first.
    pub fn outbox(&self) -> Vec<SentEmail> {
        let dir = self.config.data_dir.join("outbox");
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .map(|e| e.expect("outbox entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let text = std::fs::read_to_string(path)
                    .expect("email file")
                    .replace("\r\n", "\n");
                let (head, body) = text.split_once("\n\n").expect("headers and body");
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                        .unwrap_or_default()
                        .to_owned()
                };
                SentEmail {
                    to: header("To"),
                    subject: header("Subject"),
                    body: body.to_owned(),
                }
            })
            .collect()
    }

    /// The emails sent to one address, oldest first.
    pub fn emails_to(&self, address: &str) -> Vec<SentEmail> {
        self.outbox()
            .into_iter()
            .filter(|e| e.to.contains(&format!("<{address}>")) || e.to == address)
            .collect()
    }

    /// The latest email sent to one address.
    #[track_caller]
    pub fn last_email_to(&self, address: &str) -> SentEmail {
        self.emails_to(address)
            .pop()
            .unwrap_or_else(|| panic!("no email to {address}"))
    }

    /// The latest email to one address whose subject contains `subject`, waiting (up to
    /// 10 s) for it: for emails the app sends after answering.
    pub async fn wait_for_email(&self, address: &str, subject: &str) -> SentEmail {
        for _ in 0..200 {
            if let Some(email) = self
                .emails_to(address)
                .into_iter()
                .rev()
                .find(|e| e.subject.contains(subject))
            {
                return email;
            }
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no email about {subject:?} to {address}");
    }

    /// A person's id.
    pub fn user_id(&self, email: &str) -> i64 {
        self.count(&format!("SELECT id FROM users WHERE email = '{email}'"))
    }

    /// Has `inviter` (an admin's browser) invite someone; returns the link's path.
    pub async fn invite(&self, inviter: &Client, name: &str, email: &str, role: &str) -> String {
        inviter.get("/settings/users").await.assert_status(200);
        inviter
            .submit(
                "/settings/users/invite",
                &[("name", name), ("email", email), ("role", role)],
            )
            .await
            .assert_redirect("/settings/users");
        self.last_email_to(&email.to_lowercase())
            .link("/invitations/")
    }

    /// Invites someone, has them join with [`PASSWORD`] and sign in; returns their browser.
    pub async fn join(&self, inviter: &Client, name: &str, email: &str, role: &str) -> Client {
        let link = self.invite(inviter, name, email, role).await;
        let client = self.client();
        client.get(&link).await.assert_status(200);
        client
            .submit(&link, &[("name", name), ("password", PASSWORD)])
            .await
            .assert_redirect("/login");
        client.sign_in(email, PASSWORD).await.assert_status(303);
        client
    }

    /// Adds `n` people without 2FA to an organization straight in the database, named
    /// `Person 0001`… with emails `person0001@example.com`….
    pub fn add_people(&self, organization_id: i64, n: usize) {
        let rows: Vec<String> = (1..=n)
            .map(|i| {
                format!(
                    "({organization_id}, 'person{i:04}@example.com', 'Person {i:04}', 'x', 'member', 0)"
                )
            })
            .collect();
        for chunk in rows.chunks(200) {
            self.execute(&format!(
                "INSERT INTO users (organization_id, email, name, password_hash, role, created_at) VALUES {}",
                chunk.join(", ")
            ));
        }
    }
}

/// Everything the database holds, in a stable order: a refused request must leave it equal.
/// `with_counters` includes the attempt counters and pending sign-in steps, which a flow's
/// earlier, committed steps change.
pub fn snapshot(app: &TestApp, with_counters: bool) -> String {
    use diesel::prelude::*;
    use twofold::db::models::{AlertToken, AuditEvent};
    use twofold::db::models::{Invitation, Organization, StoredRecoveryCode, User};
    use twofold::db::schema::*;
    let conn = &mut app.db();
    twofold::db_run!(conn => {
        let organizations = organizations::table
            .order(organizations::id)
            .select(Organization::as_select())
            .load(conn)
            .expect("organizations");
        let users = users::table
            .order(users::id)
            .select(User::as_select())
            .load(conn)
            .expect("users");
        let codes = recovery_codes::table
            .order(recovery_codes::id)
            .select(StoredRecoveryCode::as_select())
            .load(conn)
            .expect("recovery codes");
        let events = audit_events::table
            .order(audit_events::id)
            .select(AuditEvent::as_select())
            .load(conn)
            .expect("audit events");
        let failures = if !with_counters {
            Vec::new()
        } else {
            attempt_counters::table
            .order(attempt_counters::key)
            .select((
                attempt_counters::key,
                attempt_counters::attempts,
                attempt_counters::locked_until,
            ))
            .load::<(String, i32, i64)>(conn)
            .expect("attempt counters")
        };
        let pending = if !with_counters {
            Vec::new()
        } else {
            pending_sign_ins::table
                .order(pending_sign_ins::id_hash)
                .select((pending_sign_ins::id_hash, pending_sign_ins::user_id))
                .load::<(String, i64)>(conn)
                .expect("pending sign-ins")
        };
        // Sessions without their last use, which a background task writes when it likes.
        let ended = sessions::table
            .order(sessions::id)
            .select((
                sessions::id,
                sessions::user_id,
                sessions::epoch,
                sessions::ended_at,
            ))
            .load::<(i64, i64, i64, Option<i64>)>(conn)
            .expect("sessions");
        let resets = password_resets::table
            .order(password_resets::id)
            .select((password_resets::id, password_resets::user_id, password_resets::used_at))
            .load::<(i64, i64, Option<i64>)>(conn)
            .expect("password resets");
        let browsers = known_browsers::table
            .order((known_browsers::user_id, known_browsers::browser_hash))
            .select((known_browsers::user_id, known_browsers::browser_hash))
            .load::<(i64, String)>(conn)
            .expect("known browsers");
        let invitations = invitations::table
            .order(invitations::id)
            .select(Invitation::as_select())
            .load(conn)
            .expect("invitations");
        let alerts = alert_tokens::table
            .order(alert_tokens::id)
            .select(AlertToken::as_select())
            .load(conn)
            .expect("alert tokens");
        format!(
            "{organizations:?}\n{users:?}\n{codes:?}\n{events:?}\n{failures:?}\n{pending:?}\n\
             {ended:?}\n{resets:?}\n{browsers:?}\n{invitations:?}\n{alerts:?}"
        )
    })
}
