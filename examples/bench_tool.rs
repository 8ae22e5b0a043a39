//! The helpers behind `bench/run`, the benchmark harness (see `BENCHMARKS.md`): measuring one
//! bcrypt verify and the QR code in-process, timing a start-up, and preparing accounts through
//! the real HTTP endpoints (sign-up, 2FA setup, sign-in) for the load generator, `wrk`.
//!
//! Every loop here is bounded in count and in time, and every address is the one it is given
//! (the harness gives only 127.0.0.1).
//!
//! ```text
//! bench_tool bcrypt COST RUNS [THREADS]          seconds of one verify (median of RUNS); with
//!                                                THREADS, that many verify at once, each RUNS
//!                                                times, and the figure is wall time ÷ RUNS
//! bench_tool qr RUNS                             QR SVG size and render time for a typical URI
//! bench_tool passkey RUNS                        microseconds of one passkey assertion's check
//!                                                (the server's work at a passkey sign-in,
//!                                                webauthn-rs, ES256), median of RUNS
//! bench_tool startup BINARY DATA_DIR ADDR        ms from spawn to the first answered request
//! bench_tool free-port                            a free port on 127.0.0.1
//! bench_tool wait BASE                           waits until BASE answers HTTP at all
//! bench_tool signup BASE EMAIL                   a new owner (no 2FA): prints the signed-in cookie
//! bench_tool login-form BASE                     an anonymous /login session: prints cookie, token
//! bench_tool start-setup BASE COOKIE             starts 2FA setup for a signed-in cookie;
//!                                                prints the size of the page's inline SVG
//! bench_tool flood BASE COOKIE TOKEN ACCOUNTS CLIENTS SECONDS
//!     CLIENTS people press "Sign in" at the same moment (bench-login-0..ACCOUNTS-1, the
//!     cookie and token of `login-form`), then keep signing in for SECONDS: each posts again
//!     as soon as it is answered, or, answered 503, after the Retry-After it was given.
//!     Prints how the first CLIENTS posts were answered: FLOOD first=… busy_within_100ms=…
//!     busy=… signed_in=… other=… busy_p50_ms=… busy_max_ms=… posts=…
//! bench_tool two-factor-accounts BASE N OUT      N owners with 2FA on: email, key, last step
//! bench_tool two-factor-round BASE ACCOUNTS PREFIX THREADS AFTER_STEP
//!     signs every account in with its password twice (to two two-factor steps: a pending
//!     step takes one code), waits for a time step past AFTER_STEP, and writes PREFIX.<thread>
//!     files of two-factor form posts with codes for that step and the next, each on its own
//!     pending step; prints the step
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use twofold::auth::{qr, totp};

/// The password of every benchmark account.
const PASSWORD: &str = "correct horse battery staple";
/// How many accounts are prepared at once.
const CONCURRENCY: usize = 32;

/// The command line after the program's name.
#[derive(Clone)]
struct Args(Vec<String>);

impl Args {
    fn arg(&self, i: usize) -> anyhow::Result<&str> {
        self.0
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("missing argument {i}; see the module doc for usage"))
    }

    fn num(&self, i: usize) -> anyhow::Result<u64> {
        self.arg(i)?
            .parse()
            .with_context(|| format!("argument {i} is not a number"))
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args(std::env::args().skip(1).collect());
    let arg = |i| args.arg(i);
    let num = |i| args.num(i);
    match arg(0)? {
        "bcrypt" => match args.0.get(3) {
            None => bcrypt_verify(num(1)? as u32, num(2)? as usize),
            Some(_) => bcrypt_parallel(num(1)? as u32, num(2)? as usize, num(3)? as usize),
        },
        "qr" => qr_code(num(1)? as usize),
        "passkey" => passkey_verify(num(1)? as usize),
        "startup" => startup(arg(1)?, arg(2)?, arg(3)?),
        "free-port" => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
        other => {
            // The HTTP helpers share one single-threaded actix runtime.
            let other = other.to_owned();
            let args = args.clone();
            actix_rt::System::new().block_on(async move { http_command(&other, &args).await })
        }
    }
}

async fn http_command(command: &str, args: &Args) -> anyhow::Result<()> {
    let arg = |i| args.arg(i);
    let num = |i| args.num(i);
    let http = http_client();
    match command {
        "wait" => wait_until_up(&http, arg(1)?).await,
        "signup" => {
            let browser = Browser::new(&http, arg(1)?);
            signup(&browser, arg(2)?).await?;
            // The page after sign-up shows (and so removes) a welcome message: the cookie it
            // leaves is the one a browser keeps sending.
            browser.get("/settings/security").await?.expect(200)?;
            println!("{}", browser.session_cookie()?);
            Ok(())
        }
        "login-form" => {
            let browser = Browser::new(&http, arg(1)?);
            browser.get("/login").await?.expect(200)?;
            println!("{}\t{}", browser.session_cookie()?, browser.csrf()?);
            Ok(())
        }
        "start-setup" => {
            let browser = Browser::new(&http, arg(1)?);
            browser.set_session_cookie(arg(2)?);
            browser.get("/settings/security").await?.expect(200)?;
            browser
                .submit("/settings/security/two-factor/setup", &[])
                .await?
                .expect(303)?;
            let page = browser
                .get("/settings/security/two-factor/setup")
                .await?
                .expect(200)?;
            let start = page.body.find("<svg");
            let end = page.body.find("</svg>");
            let (Some(start), Some(end)) = (start, end) else {
                bail!("no <svg> on the setup page");
            };
            println!("{}", end + "</svg>".len() - start);
            Ok(())
        }
        "flood" => {
            flood(
                arg(1)?,
                arg(2)?,
                arg(3)?,
                num(4)? as usize,
                num(5)? as usize,
                num(6)?,
            )
            .await
        }
        "two-factor-accounts" => {
            two_factor_accounts(&http, arg(1)?, num(2)? as usize, arg(3)?).await
        }
        "two-factor-round" => {
            two_factor_round(
                &http,
                arg(1)?,
                arg(2)?,
                arg(3)?,
                num(4)? as usize,
                num(5)? as i64,
            )
            .await
        }
        other => bail!("unknown command {other:?}; see the module doc for usage"),
    }
}

/// How one sign-in post was answered, and after how long.
struct Answer {
    status: u16,
    took: Duration,
    retry_after: Option<u64>,
}

/// One client's post of the sign-in form.
async fn post_sign_in(http: &awc::Client, url: &str, cookie: &str, body: &str) -> Answer {
    let started = Instant::now();
    let answer = http
        .post(url)
        .insert_header(("Cookie", format!("twofold_session={cookie}")))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .send_body(body.to_owned())
        .await;
    match answer {
        Ok(mut res) => {
            let retry_after = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let status = res.status().as_u16();
            // Read to the end, so that the connection serves the client's next post.
            let _ = res.body().limit(1024 * 1024).await;
            Answer {
                status,
                took: started.elapsed(),
                retry_after,
            }
        }
        // Never answered (refused, reset, timed out): counted as "other".
        Err(_) => Answer {
            status: 0,
            took: started.elapsed(),
            retry_after: None,
        },
    }
}

/// A flood of sign-ins: see the module doc.
async fn flood(
    base: &str,
    cookie: &str,
    token: &str,
    accounts: usize,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    // One connection per client, as many people's browsers would open.
    let http = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(60))
        .connector(awc::Connector::new().limit(0))
        .finish();
    let url = format!("{base}/login");
    let start = Instant::now() + Duration::from_millis(200);
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (http, url, cookie) = (http.clone(), url.clone(), cookie.to_owned());
        let body = format!(
            "csrf_token={token}&email=bench-login-{}%40example.com&password={}",
            client % accounts.max(1),
            PASSWORD.replace(' ', "+")
        );
        tasks.push(actix_rt::spawn(async move {
            actix_rt::time::sleep_until(start.into()).await;
            let first = post_sign_in(&http, &url, &cookie, &body).await;
            let mut posts = 1u64;
            let mut wait = first.retry_after;
            while Instant::now() < deadline {
                if let Some(seconds) = wait {
                    actix_rt::time::sleep(Duration::from_secs(seconds.min(10))).await;
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                wait = post_sign_in(&http, &url, &cookie, &body).await.retry_after;
                posts += 1;
            }
            (first, posts)
        }));
    }
    let mut firsts = Vec::new();
    let mut posts = 0;
    for task in tasks {
        let (first, n) = task.await?;
        firsts.push(first);
        posts += n;
    }
    let busy: Vec<f64> = firsts
        .iter()
        .filter(|a| a.status == 503)
        .map(|a| a.took.as_secs_f64() * 1000.0)
        .collect();
    let within = busy.iter().filter(|&&ms| ms <= 100.0).count();
    let signed_in = firsts.iter().filter(|a| a.status == 303).count();
    let busy_max = busy.iter().copied().fold(0.0, f64::max);
    println!(
        "FLOOD first={} busy_within_100ms={within} busy={} signed_in={signed_in} other={} \
         busy_p50_ms={:.1} busy_max_ms={busy_max:.1} posts={posts}",
        firsts.len(),
        busy.len(),
        firsts.len() - busy.len() - signed_in,
        if busy.is_empty() {
            0.0
        } else {
            median(busy.clone())
        },
    );
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One bcrypt verify of the right password at `cost`, as a sign-in does it.
fn bcrypt_verify(cost: u32, runs: usize) -> anyhow::Result<()> {
    let hash = bcrypt::non_truncating_hash(PASSWORD, cost)?;
    let mut seconds = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let ok = bcrypt::non_truncating_verify(PASSWORD, &hash)?;
        seconds.push(started.elapsed().as_secs_f64());
        if !ok {
            bail!("bcrypt refused its own hash");
        }
    }
    println!("{:.6}", median(seconds));
    Ok(())
}

/// `threads` threads verifying `runs` times each, all at once: the seconds one verify takes
/// when every core hashes, which is what the machine allows a server's bcrypt threads.
fn bcrypt_parallel(cost: u32, runs: usize, threads: usize) -> anyhow::Result<()> {
    let hash = bcrypt::non_truncating_hash(PASSWORD, cost)?;
    let started = Instant::now();
    let all_right = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| {
                    (0..runs.max(1))
                        .all(|_| bcrypt::non_truncating_verify(PASSWORD, &hash).unwrap_or(false))
                })
            })
            .collect();
        workers.into_iter().all(|w| w.join().unwrap_or(false))
    });
    if !all_right {
        bail!("bcrypt refused its own hash");
    }
    println!(
        "{:.6}",
        started.elapsed().as_secs_f64() / runs.max(1) as f64
    );
    Ok(())
}

/// The QR code of a typical setup: its SVG's size and `<path>` count, and the median time to
/// encode and draw it.
fn qr_code(runs: usize) -> anyhow::Result<()> {
    let secret = totp::Secret::generate();
    let uri = totp::otpauth_uri("Twofold", "ada.lovelace@example.com", &secret);
    let label = "QR code to scan with your authenticator app";
    let svg = qr::svg(&uri, label).map_err(|e| anyhow!("{e}"))?;
    let mut micros = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let again = qr::svg(&uri, label).map_err(|e| anyhow!("{e}"))?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(again);
    }
    println!(
        "{}\t{}\t{:.1}",
        svg.len(),
        svg.matches("<path").count(),
        median(micros)
    );
    Ok(())
}

/// The median time webauthn-rs takes to check one passkey assertion (challenge, origin,
/// signature, counter), as the server does at each passkey sign-in: a software passkey signs a
/// fresh challenge each run, outside the timed part.
fn passkey_verify(runs: usize) -> anyhow::Result<()> {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_rs::prelude::{Url, Uuid, WebauthnBuilder};

    let origin = Url::parse("http://localhost:8080")?;
    let rp = WebauthnBuilder::new("localhost", &origin)?.build()?;
    let mut device = SoftPasskey::new(true);
    let (ccr, registration) =
        rp.start_passkey_registration(Uuid::new_v4(), "ada@example.com", "Ada", None)?;
    let answer = device
        .do_registration(origin.clone(), ccr)
        .map_err(|e| anyhow!("{e:?}"))?;
    let mut passkey = rp.finish_passkey_registration(&answer, &registration)?;
    let mut micros = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let (rcr, state) = rp.start_passkey_authentication(std::slice::from_ref(&passkey))?;
        let assertion = device
            .do_authentication(origin.clone(), rcr)
            .map_err(|e| anyhow!("{e:?}"))?;
        let started = Instant::now();
        let result = rp.finish_passkey_authentication(&assertion, &state)?;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        passkey.update_credential(&result);
    }
    println!("{:.1}", median(micros));
    Ok(())
}

/// Starts `binary` on an existing data directory and times the first answered request to
/// `/healthz`, polling every millisecond for at most ten seconds; then stops that process.
fn startup(binary: &str, data_dir: &str, addr: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut child = std::process::Command::new(binary)
        .env("TWOFOLD_DATA_DIR", data_dir)
        .env("TWOFOLD_BIND", addr)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {binary}"))?;
    let deadline = started + Duration::from_secs(10);
    let answered = loop {
        if healthz(addr).unwrap_or(false) {
            break Some(started.elapsed());
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    child.kill().ok();
    child.wait().ok();
    match answered {
        Some(elapsed) => {
            println!("{:.1}", elapsed.as_secs_f64() * 1000.0);
            Ok(())
        }
        None => bail!("{binary} did not answer within 10 s"),
    }
}

/// Whether `GET /healthz` answers 200.
fn healthz(addr: &str) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    Ok(head.starts_with(b"HTTP/1.1 200"))
}

fn http_client() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(60))
        .finish()
}

async fn wait_until_up(http: &awc::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Any answer will do: the app binds its port only once its database is ready.
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{base} did not answer within 30 s");
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A page as read.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Page {
    fn expect(self, status: u16) -> anyhow::Result<Self> {
        if self.status != status {
            bail!(
                "expected {status}, got {} (location {:?}): {}",
                self.status,
                self.location,
                self.body.chars().take(500).collect::<String>()
            );
        }
        Ok(self)
    }

    /// The text of the element with this id, tags stripped, whitespace removed.
    fn element_text(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let open_end = at + self.body[at..].find('>')? + 1;
        let end = open_end + self.body[open_end..].find("</")?;
        Some(
            self.body[open_end..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        )
    }
}

/// A browser: one cookie jar and the last CSRF token seen in a page.
struct Browser {
    http: awc::Client,
    base: String,
    cookies: RefCell<BTreeMap<String, String>>,
    csrf: RefCell<Option<String>>,
}

impl Browser {
    fn new(http: &awc::Client, base: &str) -> Self {
        Self {
            http: http.clone(),
            base: base.to_owned(),
            cookies: RefCell::new(BTreeMap::new()),
            csrf: RefCell::new(None),
        }
    }

    fn session_cookie(&self) -> anyhow::Result<String> {
        self.cookies
            .borrow()
            .get(twofold::startup::SESSION_COOKIE)
            .cloned()
            .ok_or_else(|| anyhow!("no session cookie"))
    }

    fn set_session_cookie(&self, value: &str) {
        self.cookies.borrow_mut().insert(
            twofold::startup::SESSION_COOKIE.to_owned(),
            value.to_owned(),
        );
    }

    fn csrf(&self) -> anyhow::Result<String> {
        self.csrf
            .borrow()
            .clone()
            .ok_or_else(|| anyhow!("no CSRF token seen yet"))
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read<S>(&self, mut res: awc::ClientResponse<S>) -> anyhow::Result<Page>
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str()?;
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || text.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.borrow_mut().remove(name);
            } else {
                self.cookies
                    .borrow_mut()
                    .insert(name.to_owned(), value.to_owned());
            }
        }
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = res.body().limit(1024 * 1024).await?;
        let body = String::from_utf8_lossy(&body).into_owned();
        const FIELD: &str = "name=\"csrf_token\" value=\"";
        if let Some(at) = body.find(FIELD) {
            let rest = &body[at + FIELD.len()..];
            if let Some(end) = rest.find('"')
                && end > 0
            {
                *self.csrf.borrow_mut() = Some(rest[..end].to_owned());
            }
        }
        Ok(Page {
            status: res.status().as_u16(),
            location,
            body,
        })
    }

    async fn get(&self, path: &str) -> anyhow::Result<Page> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send()
            .await
            .map_err(|e| anyhow!("GET {path}: {e}"))?;
        self.read(res).await
    }

    /// Posts a form with the CSRF token of the last page seen.
    async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let token = self.csrf()?;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .insert_header(("Cookie", self.cookie_header()))
            .send_form(&all)
            .await
            .map_err(|e| anyhow!("POST {path}: {e}"))?;
        self.read(res).await
    }
}

/// Creates an organization and its owner; the browser is left signed in.
async fn signup(browser: &Browser, email: &str) -> anyhow::Result<()> {
    browser.get("/signup").await?.expect(200)?;
    browser
        .submit(
            "/signup",
            &[
                ("organization", "Benchmark"),
                ("name", "Bench Owner"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await?
        .expect(303)?;
    Ok(())
}

/// An account with 2FA on, as the two-factor benchmark needs it.
struct TwoFactorAccount {
    email: String,
    secret: totp::Secret,
}

/// Signs up an owner and turns 2FA on; returns the base32 key and the step of the code used.
async fn two_factor_account(
    http: &awc::Client,
    base: &str,
    email: &str,
) -> anyhow::Result<(String, i64)> {
    let browser = Browser::new(http, base);
    signup(&browser, email).await?;
    browser.get("/settings/security").await?.expect(200)?;
    browser
        .submit("/settings/security/two-factor/setup", &[])
        .await?
        .expect(303)?;
    let page = browser
        .get("/settings/security/two-factor/setup")
        .await?
        .expect(200)?;
    let key = page
        .element_text("setup-key")
        .ok_or_else(|| anyhow!("no #setup-key on the setup page"))?;
    let secret = secret_from_base32(&key)?;
    let step = totp::step_at(twofold::now_unix());
    let code = secret.code_at_step(step as u64, totp::DIGITS);
    browser
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await?
        .expect(200)?;
    Ok((key, step))
}

fn secret_from_base32(key: &str) -> anyhow::Result<totp::Secret> {
    let bytes = data_encoding::BASE32_NOPAD
        .decode(key.as_bytes())
        .context("the setup key is not base32")?;
    Ok(totp::Secret::from_bytes(bytes))
}

/// Runs `job(i)` for every `i < n`, at most [`CONCURRENCY`] at a time, on this thread.
async fn for_each<T, F, Fut>(n: usize, job: F) -> anyhow::Result<Vec<T>>
where
    T: 'static,
    F: Fn(usize) -> Fut + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + 'static,
{
    let job = Rc::new(job);
    let results: Rc<RefCell<Vec<Option<T>>>> =
        Rc::new(RefCell::new((0..n).map(|_| None).collect()));
    let mut lanes = Vec::new();
    for lane in 0..CONCURRENCY.min(n.max(1)) {
        let (job, results) = (job.clone(), results.clone());
        lanes.push(actix_rt::spawn(async move {
            let mut i = lane;
            while i < n {
                let value = job(i).await.with_context(|| format!("account {i}"))?;
                results.borrow_mut()[i] = Some(value);
                i += CONCURRENCY;
            }
            anyhow::Ok(())
        }));
    }
    for lane in lanes {
        lane.await??;
    }
    let results = results.take();
    results
        .into_iter()
        .map(|v| v.ok_or_else(|| anyhow!("a job did not finish")))
        .collect()
}

/// Creates `n` owners with 2FA on; writes `email<TAB>key<TAB>step` lines to `out`.
async fn two_factor_accounts(
    http: &awc::Client,
    base: &str,
    n: usize,
    out: &str,
) -> anyhow::Result<()> {
    let (http, base_owned) = (http.clone(), base.to_owned());
    let rows = for_each(n, move |i| {
        let (http, base) = (http.clone(), base_owned.clone());
        async move {
            let email = format!("bench-2fa-{i}@example.com");
            let (key, step) = two_factor_account(&http, &base, &email).await?;
            Ok(format!("{email}\t{key}\t{step}\n"))
        }
    })
    .await?;
    std::fs::write(out, rows.concat()).with_context(|| format!("writing {out}"))?;
    Ok(())
}

fn read_accounts(path: &str) -> anyhow::Result<(Vec<TwoFactorAccount>, i64)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut accounts = Vec::new();
    let mut last_step = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = line.split('\t');
        let (Some(email), Some(key), Some(step)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!("malformed account line: {line}");
        };
        last_step = last_step.max(step.parse::<i64>()?);
        accounts.push(TwoFactorAccount {
            email: email.to_owned(),
            secret: secret_from_base32(key)?,
        });
    }
    Ok((accounts, last_step))
}

/// Signs one account in with its password: returns the session cookie and CSRF token of the
/// two-factor step.
async fn to_two_factor_step(
    http: &awc::Client,
    base: &str,
    email: &str,
) -> anyhow::Result<(String, String)> {
    let browser = Browser::new(http, base);
    browser.get("/login").await?.expect(200)?;
    let page = browser
        .submit("/login", &[("email", email), ("password", PASSWORD)])
        .await?
        .expect(303)?;
    if page.location.as_deref() != Some("/login/two-factor") {
        bail!("sign-in went to {:?}", page.location);
    }
    browser.get("/login/two-factor").await?.expect(200)?;
    Ok((browser.session_cookie()?, browser.csrf()?))
}

/// Prepares one round of the two-factor benchmark: see the module doc.
async fn two_factor_round(
    http: &awc::Client,
    base: &str,
    accounts_path: &str,
    prefix: &str,
    threads: usize,
    after_step: i64,
) -> anyhow::Result<()> {
    let (accounts, setup_step) = read_accounts(accounts_path)?;
    let emails: Rc<Vec<String>> = Rc::new(accounts.iter().map(|a| a.email.clone()).collect());
    let (http, base_owned) = (http.clone(), base.to_owned());
    // A pending step takes one code (the sign-in consumes it): one password step per code,
    // two per account.
    let n = accounts.len();
    let sessions = for_each(2 * n, move |i| {
        let (http, base, emails) = (http.clone(), base_owned.clone(), emails.clone());
        async move { to_two_factor_step(&http, &base, &emails[i % n]).await }
    })
    .await?;

    // Every code must be from a step after the last one accepted for its account, and both
    // steps used must stay inside the server's ±1 window for the whole run: a run that starts
    // in step `s` with codes for `s` and `s + 1` has at least 30 s.
    let first_allowed = after_step.max(setup_step) + 1;
    let deadline = Instant::now() + Duration::from_secs(120);
    let step = loop {
        let now = totp::step_at(twofold::now_unix());
        if now >= first_allowed {
            break now;
        }
        if Instant::now() > deadline {
            bail!("the clock did not reach step {first_allowed}");
        }
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    };

    let threads = threads.max(1);
    let mut files: Vec<String> = vec![String::new(); threads];
    // Within one thread's file all codes of step `s` come first, so an account's two posts
    // are far apart and are answered in order.
    for offset in 0..2 {
        let round = &sessions[offset as usize * n..(offset as usize + 1) * n];
        for (i, (account, (cookie, csrf))) in accounts.iter().zip(round).enumerate() {
            let code = account
                .secret
                .code_at_step((step + offset) as u64, totp::DIGITS);
            files[i % threads].push_str(&format!(
                "{cookie}\tcsrf_token={csrf}&code={code}\n",
                cookie = cookie,
            ));
        }
    }
    for (t, contents) in files.iter().enumerate() {
        let path = format!("{prefix}.{}", t + 1);
        std::fs::write(&path, contents).with_context(|| format!("writing {path}"))?;
    }
    println!("{step}");
    Ok(())
}
