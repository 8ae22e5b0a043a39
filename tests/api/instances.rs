//! Several `twofold` processes sharing one database and one secret key, as behind a load
//! balancer: sessions, sign-outs, limits and codes hold across them. On the PostgreSQL run
//! of the suite they share the PostgreSQL database; on the SQLite run, one database file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::{PASSWORD, TestApp, race_code};

/// A `twofold` server process.
struct Instance {
    child: Child,
    address: String,
    _data_dir: tempfile::TempDir,
}

impl Instance {
    /// Starts the real binary on a free port with the test app's database and secret key.
    fn start(app: &TestApp) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TWOFOLD_BIND", "127.0.0.1:0")
            .env("TWOFOLD_DATA_DIR", data_dir.path())
            .env("DATABASE_URL", &app.config.database_url)
            .env("TWOFOLD_SECRET_KEY", hex::encode(app.config.secret_key.0))
            .env("TWOFOLD_BCRYPT_COST", "4")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the twofold binary starts");
        let stdout = child.stdout.take().expect("stdout");
        // The log is read on a thread of its own, which keeps draining it (so the process
        // never blocks on a full pipe); the address comes back within a minute or not at all.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("Twofold is serving on ").nth(1) {
                    let _ = tx.send(rest.trim().to_owned());
                }
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not report its address within 60 s");
            }
        };
        Self {
            child,
            address,
            _data_dir: data_dir,
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_rt::test]
async fn a_session_made_on_one_instance_works_on_the_other() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let (a, b) = (Instance::start(&app), Instance::start(&app));
    let browser = app.client();
    browser.use_instance(&a.address);
    browser
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    browser.use_instance(&b.address);
    browser.get("/settings/security").await.assert_status(200);
    // A form rendered by B is accepted by A: the CSRF token lives in the shared cookie.
    browser.use_instance(&a.address);
    browser
        .submit("/settings/security/two-factor/setup", &[])
        .await
        .assert_redirect("/settings/security/two-factor/setup");
}

#[actix_rt::test]
async fn turning_on_two_factor_through_one_instance_signs_the_person_out_on_the_other() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let (a, b) = (Instance::start(&app), Instance::start(&app));
    let on_b = app.client();
    on_b.use_instance(&b.address);
    on_b.sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    on_b.get("/").await.assert_status(200);

    owner.use_instance(&a.address);
    owner.enable_two_factor(PASSWORD).await;
    on_b.get("/").await.assert_redirect("/login");
}

#[actix_rt::test]
async fn failures_on_two_instances_add_up_to_one_lockout() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let (a, b) = (Instance::start(&app), Instance::start(&app));
    for i in 0..10 {
        let client = app.client();
        client.use_instance(if i % 2 == 0 { &a.address } else { &b.address });
        client
            .sign_in("ada@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    for instance in [&a, &b] {
        let client = app.client();
        client.use_instance(&instance.address);
        client
            .sign_in("ada@example.com", PASSWORD)
            .await
            .assert_status(429);
    }
}

#[actix_rt::test]
async fn one_recovery_code_raced_across_two_instances_lets_exactly_one_in() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let (a, b) = (Instance::start(&app), Instance::start(&app));
    let clients: Vec<_> = (0..10).map(|_| app.client()).collect();
    for (i, client) in clients.iter().enumerate() {
        client.use_instance(if i % 2 == 0 { &a.address } else { &b.address });
        client.password_step("ada@example.com").await;
    }
    assert_eq!(race_code(&clients, &codes[0]).await, (1, 9));
}

#[actix_rt::test]
async fn a_copy_of_the_pending_steps_cookie_cannot_sign_in_on_the_other_instance() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let (a, b) = (Instance::start(&app), Instance::start(&app));
    let person = app.client();
    person.use_instance(&a.address);
    person.password_step("ada@example.com").await;
    let copied = person.session_cookie().expect("the pending step's cookie");
    let code = device.code().await;
    person.two_factor(&code).await.assert_redirect("/");
    // The step was consumed in the shared database: instance B refuses the copy too.
    let thief = app.client();
    thief.use_instance(&b.address);
    thief.set_session_cookie(&copied);
    thief
        .get("/login/two-factor")
        .await
        .assert_status(401)
        .assert_contains("Your sign-in expired");
}
