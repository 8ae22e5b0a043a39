//! Load: 200 clients at once for 60 s against SQLite (the real binary), each taking turns
//! between four accounts and mixing sign-ins, two-factor steps (codes from the app, one in
//! twenty a recovery code), page views and settings changes, with no pause between requests;
//! each client comes from an address of its own, through a trusted reverse proxy.
//! Every answer must be the one its step should give (the exact redirect, or the page). No
//! answer may be a 5xx or an unexpected one, the log may hold no "database is locked", and
//! afterwards the database must hold exactly what the clients saw succeed: each person's 2FA
//! state, their unused recovery codes, their last TOTP step and every audited event.
//! Durations are reported, never asserted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rand::Rng;
use twofold::auth::keys::Keys;
use twofold::domain::RecoveryCode;

use crate::helpers::{PASSWORD, Response};
use crate::server_process::{Browser, Db, Deployment, Device, location, requests_sent};

/// The audited events a person's actions add, by kind.
const EVENTS: [&str; 5] = [
    "sign_in",
    "two_factor_enabled",
    "two_factor_disabled",
    "recovery_code_used",
    "recovery_codes_regenerated",
];

/// One person's view of their account, updated only by answers that say an action succeeded.
struct Person {
    email: String,
    browser: Browser,
    signed_in: bool,
    device: Option<Device>,
    codes: Vec<String>,
    /// The last TOTP step the server accepted from this person, if any during the run.
    last_step: Option<i64>,
    events: BTreeMap<&'static str, i64>,
    figures: Figures,
}

/// What happened, for the report and the assertions.
#[derive(Default, Clone, Copy)]
struct Figures {
    sign_ins: u64,
    totp_steps: u64,
    recovery_steps: u64,
    page_views: u64,
    settings_changes: u64,
    server_errors: u64,
    transport_errors: u64,
    unexpected: u64,
}

impl std::ops::AddAssign for Figures {
    fn add_assign(&mut self, o: Self) {
        self.sign_ins += o.sign_ins;
        self.totp_steps += o.totp_steps;
        self.recovery_steps += o.recovery_steps;
        self.page_views += o.page_views;
        self.settings_changes += o.settings_changes;
        self.server_errors += o.server_errors;
        self.transport_errors += o.transport_errors;
        self.unexpected += o.unexpected;
    }
}

impl Person {
    /// The answer if it is the expected one; counts it as an error otherwise.
    fn expect(
        &mut self,
        outcome: Result<Response, String>,
        ok: impl Fn(&Response) -> bool,
        what: &str,
    ) -> Option<Response> {
        match outcome {
            Err(e) => {
                self.figures.transport_errors += 1;
                eprintln!("{}: {what}: {e}", self.email);
                None
            }
            Ok(res) if res.status.is_server_error() => {
                self.figures.server_errors += 1;
                eprintln!("{}: {what}: {}", self.email, res.status);
                None
            }
            Ok(res) if !ok(&res) => {
                self.figures.unexpected += 1;
                eprintln!(
                    "{}: {what}: unexpected {} {:?}",
                    self.email,
                    res.status,
                    location(&res)
                );
                None
            }
            Ok(res) => Some(res),
        }
    }

    fn count(&mut self, event: &'static str) {
        *self.events.entry(event).or_default() += 1;
    }

    /// Signs in: with the password alone, or with the password and a code from the app (a
    /// recovery code instead when `recovery` says so and two are left). With 2FA and no fresh
    /// code from the app (both steps the server accepts were given out), it does nothing.
    async fn sign_in(&mut self, recovery: bool) -> Option<()> {
        let two_factor = self.device.is_some();
        let code = match self.device.as_mut() {
            None => None,
            Some(device) => match device.code() {
                // The app's code is taken either way, so that recovery codes stand in for a
                // few of the sign-ins the app could do, never for those it could not.
                Some(_) if recovery && self.codes.len() >= 2 => Some((self.codes.pop()?, None)),
                Some((code, step)) => Some((code, Some(step))),
                None => {
                    // The app has no fresh code yet: the person looks at the sign-in page
                    // and comes back later (a request, so that the client yields).
                    let r = self.browser.get("/login").await;
                    self.expect(r, |r| r.status.as_u16() == 200, "sign-in page")?;
                    self.figures.page_views += 1;
                    return Some(());
                }
            },
        };
        let r = self.browser.get("/login").await;
        self.expect(r, |r| r.status.as_u16() == 200, "sign-in page")?;
        let r = self
            .browser
            .submit("/login", &[("email", &self.email), ("password", PASSWORD)])
            .await;
        let want = if two_factor { "/login/two-factor" } else { "/" };
        self.expect(r, |r| location(r).as_deref() == Some(want), "password")?;
        if let Some((code, step)) = code {
            let r = self.browser.get("/login/two-factor").await;
            self.expect(r, |r| r.status.as_u16() == 200, "code page")?;
            let r = self
                .browser
                .submit("/login/two-factor", &[("code", &code)])
                .await;
            self.expect(r, |r| location(r).as_deref() == Some("/"), "code")?;
            match step {
                Some(step) => {
                    self.last_step = Some(step);
                    self.figures.totp_steps += 1;
                }
                None => {
                    self.count("recovery_code_used");
                    self.figures.recovery_steps += 1;
                }
            }
        }
        self.count("sign_in");
        self.figures.sign_ins += 1;
        self.signed_in = true;
        Some(())
    }

    async fn view_pages(&mut self) -> Option<()> {
        for path in ["/", "/settings/security", "/settings/owner"] {
            let r = self.browser.get(path).await;
            self.expect(r, |r| r.status.as_u16() == 200, path)?;
            self.figures.page_views += 1;
        }
        Some(())
    }

    async fn sign_out(&mut self) -> Option<()> {
        let r = self.browser.get("/").await;
        self.expect(r, |r| r.status.as_u16() == 200, "home")?;
        let r = self.browser.submit("/logout", &[]).await;
        self.signed_in = false;
        self.expect(
            r,
            |r| location(r).as_deref() == Some("/login?signed_out=1"),
            "sign-out",
        )?;
        Some(())
    }

    /// The app's code for a form of the security page, when the page asks for one (the
    /// session proved no second factor lately); `None` when it does not.
    fn code_if_asked(&mut self, page: &Response, field: &str) -> Option<Option<(String, i64)>> {
        if !page.body.contains(&format!("id=\"{field}\"")) {
            return Some(None);
        }
        self.device.as_mut()?.code().map(Some)
    }

    async fn regenerate_codes(&mut self) -> Option<()> {
        let r = self.browser.get("/settings/security").await;
        let page = self.expect(r, |r| r.status.as_u16() == 200, "security page")?;
        let code = self.code_if_asked(&page, "regenerate-code")?;
        let mut fields = vec![("password", PASSWORD.to_owned())];
        if let Some((code, _)) = &code {
            fields.push(("code", code.clone()));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = self
            .browser
            .submit("/settings/security/recovery-codes", &fields)
            .await;
        let res = self.expect(
            r,
            |r| r.status.as_u16() == 200 && r.body.contains("id=\"recovery-codes\""),
            "new codes",
        )?;
        self.codes = res.recovery_codes();
        if let Some((_, step)) = code {
            self.last_step = Some(step);
        }
        self.count("recovery_codes_regenerated");
        self.figures.settings_changes += 1;
        Some(())
    }

    async fn turn_on_two_factor(&mut self) -> Option<()> {
        let r = self.browser.get("/settings/security").await;
        self.expect(r, |r| r.status.as_u16() == 200, "security page")?;
        let r = self
            .browser
            .submit("/settings/security/two-factor/setup", &[])
            .await;
        self.expect(
            r,
            |r| location(r).as_deref() == Some("/settings/security/two-factor/setup"),
            "setup",
        )?;
        let r = self
            .browser
            .get("/settings/security/two-factor/setup")
            .await;
        let page = self.expect(r, |r| r.status.as_u16() == 200, "setup page")?;
        let mut device = Device::from_setup_page(&page)?;
        let r = self
            .browser
            .get("/settings/security/two-factor/confirm")
            .await;
        self.expect(r, |r| r.status.as_u16() == 200, "confirm page")?;
        let (code, step) = device.code()?;
        let r = self
            .browser
            .submit(
                "/settings/security/two-factor/confirm",
                &[("password", PASSWORD), ("code", &code)],
            )
            .await;
        // Turning 2FA on signs the person out everywhere, this browser included.
        self.signed_in = false;
        let res = self.expect(
            r,
            |r| r.status.as_u16() == 200 && r.body.contains("id=\"recovery-codes\""),
            "confirmation",
        )?;
        self.codes = res.recovery_codes();
        self.device = Some(device);
        self.last_step = Some(step);
        self.count("two_factor_enabled");
        self.figures.settings_changes += 1;
        Some(())
    }

    async fn turn_off_two_factor(&mut self) -> Option<()> {
        let r = self.browser.get("/settings/security").await;
        let page = self.expect(r, |r| r.status.as_u16() == 200, "security page")?;
        let code = self.code_if_asked(&page, "disable-code")?;
        let mut fields = vec![("password", PASSWORD.to_owned())];
        if let Some((code, _)) = &code {
            fields.push(("code", code.clone()));
        }
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = self
            .browser
            .submit("/settings/security/two-factor/disable", &fields)
            .await;
        self.expect(
            r,
            |r| location(r).as_deref() == Some("/settings/security"),
            "turning off",
        )?;
        self.device = None;
        self.codes.clear();
        if let Some((_, step)) = code {
            self.last_step = Some(step);
        }
        self.count("two_factor_disabled");
        self.figures.settings_changes += 1;
        Some(())
    }

    /// One action, chosen at random among those open to the person now.
    async fn act(&mut self, roll: u32) {
        if !self.signed_in {
            // One sign-in in twenty with a recovery code; the rest with the app.
            let _ = self.sign_in(roll < 5).await;
            return;
        }
        if self.device.is_some() && self.codes.len() < 2 {
            let _ = self.regenerate_codes().await;
            return;
        }
        let _ = match roll {
            0..=49 => self.view_pages().await,
            50..=69 => self.sign_out().await,
            70..=84 if self.device.is_some() => self.regenerate_codes().await,
            70..=84 => self.turn_on_two_factor().await,
            _ if self.device.is_some() => self.turn_off_two_factor().await,
            _ => self.view_pages().await,
        };
    }
}

/// The database's view of one person.
fn stored(db: &Db, keys: &Keys, person: &Person) -> Vec<String> {
    let mut wrong = Vec::new();
    let id = db.count(&format!(
        "SELECT id FROM users WHERE email = '{}'",
        person.email
    ));
    let on = db.count(&format!(
        "SELECT COUNT(*) FROM users WHERE id = {id} AND totp_secret IS NOT NULL"
    ));
    if on != i64::from(person.device.is_some()) {
        wrong.push(format!("{}: 2FA stored as {on}", person.email));
    }
    let unused = db.count(&format!(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = {id} AND used_at IS NULL"
    ));
    if unused != person.codes.len() as i64 {
        wrong.push(format!(
            "{}: {unused} unused codes stored, {} seen",
            person.email,
            person.codes.len()
        ));
    }
    for code in &person.codes {
        let hash = twofold::auth::recovery::hash(
            &keys.recovery_code,
            &RecoveryCode::parse(code).expect("a shown code"),
        );
        let n = db.count(&format!(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = {id} AND code_hash = '{hash}' \
             AND used_at IS NULL"
        ));
        if n != 1 {
            wrong.push(format!("{}: code {code} not stored unused", person.email));
        }
    }
    if let Some(step) = person.last_step {
        let stored = db.count(&format!("SELECT totp_last_step FROM users WHERE id = {id}"));
        if stored != step {
            wrong.push(format!(
                "{}: last step {stored} stored, {step} accepted",
                person.email
            ));
        }
    }
    for event in EVENTS {
        let n = db.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE subject_id = {id} AND event = '{event}'"
        ));
        let seen = person.events.get(event).copied().unwrap_or(0);
        if n != seen {
            wrong.push(format!(
                "{}: {n} {event} events stored, {seen} seen",
                person.email
            ));
        }
    }
    wrong
}

/// The address of client `i` (all its accounts), in the private network 10.0.0.0/8.
fn client_address(i: usize) -> String {
    format!("10.0.{}.{}", i / 250, i % 250 + 1)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[actix_rt::test]
#[ignore = "long (60 s of load, about two minutes in all): run by .ci/reliability"]
async fn two_hundred_people_for_a_minute_get_no_errors_and_lose_no_writes() {
    let clients = env_or("TWOFOLD_LOAD_CLIENTS", 200) as usize;
    let accounts = clients * env_or("TWOFOLD_LOAD_ACCOUNTS_PER_CLIENT", 4) as usize;
    let seconds = env_or("TWOFOLD_LOAD_SECS", 60);
    let deployment = Deployment::new();
    // Each client is a machine of its own behind the reverse proxy (this machine): every
    // limit per client address applies to one client, as it would in production.
    // The 800 accounts are made from this machine's address: the sign-up limit per address is
    // raised for them.
    let server = deployment.start(&[
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
        ("TWOFOLD_SIGNUPS_PER_HOUR", "100000"),
    ]);
    let app = &server.app;
    let keys = Keys::derive(&deployment.config.secret_key);
    let db = Db::open(&deployment);

    // Everyone signs up; every other person turns 2FA on. The events of this set-up are
    // counted from the database, so the run's own are compared exactly.
    let mut people = Vec::new();
    for batch in (0..accounts).collect::<Vec<_>>().chunks(20) {
        let ready = join_all(batch.iter().map(|i| async move {
            let email = format!("person{i}@example.com");
            let client = app.signup("Acme", "Pat", &email).await;
            let (device, codes) = if i % 2 == 0 {
                let (authenticator, codes) = client.enable_two_factor(PASSWORD).await;
                let device = Device {
                    base32: authenticator.base32.clone(),
                    last_step: crate::helpers::Authenticator::current_step() + 1,
                };
                (Some(device), codes)
            } else {
                (None, Vec::new())
            };
            (email, device, codes)
        }))
        .await;
        for (email, device, codes) in ready {
            let mut person = Person {
                browser: Browser::behind_proxy(
                    &app.address,
                    Some(&client_address(people.len() % clients)),
                ),
                signed_in: false,
                device,
                codes,
                last_step: None,
                events: BTreeMap::new(),
                figures: Figures::default(),
                email,
            };
            let id = db.count(&format!(
                "SELECT id FROM users WHERE email = '{}'",
                person.email
            ));
            for event in EVENTS {
                let n = db.count(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE subject_id = {id} AND event = '{event}'"
                ));
                person.events.insert(event, n);
            }
            people.push(person);
        }
    }

    let sent_before = requests_sent();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    // Each client takes turns between its accounts, so that an account signs in seldom
    // enough for its app to have a fresh code (two per 30 s window) most of the time.
    let mut groups: Vec<Vec<Person>> = (0..clients).map(|_| Vec::new()).collect();
    for (i, person) in people.into_iter().enumerate() {
        groups[i % clients].push(person);
    }
    let groups = join_all(groups.into_iter().map(|mut accounts| async move {
        // Bounded in time by the deadline and in count as a safeguard.
        for _ in 0..1_000_000 {
            if Instant::now() >= deadline {
                break;
            }
            let (pick, roll) = {
                let mut rng = rand::rng();
                (
                    rng.random_range(0..accounts.len()),
                    rng.random_range(0..100),
                )
            };
            accounts[pick].act(roll).await;
        }
        accounts
    }))
    .await;
    let mut people: Vec<Person> = groups.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    let sent = requests_sent() - sent_before;

    let mut figures = Figures::default();
    for person in &mut people {
        figures += person.figures;
    }
    let locked = server.log_count("database is locked");
    let logged_5xx = server
        .log()
        .iter()
        .filter(|l| l.contains("status=5"))
        .count();
    let mut lost = Vec::new();
    for person in &people {
        lost.extend(stored(&db, &keys, person));
    }
    println!(
        "load: {clients} clients ({accounts} accounts) for {:.1} s against {}: {sent} requests \
         sent ({:.0}/s); \
         {} sign-ins, {} two-factor steps ({} TOTP, {} recovery codes), {} page views, \
         {} settings changes; 5xx: {}, transport errors: {}, unexpected answers: {}, \
         \"database is locked\": {locked}, lost writes: {}",
        elapsed.as_secs_f64(),
        if deployment.is_sqlite() {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        sent as f64 / elapsed.as_secs_f64(),
        figures.sign_ins,
        figures.totp_steps + figures.recovery_steps,
        figures.totp_steps,
        figures.recovery_steps,
        figures.page_views,
        figures.settings_changes,
        figures.server_errors,
        figures.transport_errors,
        figures.unexpected,
        lost.len(),
    );
    assert_eq!(figures.server_errors, 0, "5xx answers");
    assert_eq!(logged_5xx, 0, "5xx answers in the server's log");
    assert_eq!(figures.transport_errors, 0, "dropped connections");
    assert_eq!(figures.unexpected, 0, "unexpected answers");
    assert_eq!(locked, 0, "\"database is locked\" in the server's log");
    assert!(lost.is_empty(), "lost writes: {lost:#?}");
}
