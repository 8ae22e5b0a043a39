//! The operator's command line, run as the built binary on the test app's data directory.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::helpers::{PASSWORD, TestApp};

/// Runs `twofold ARGS` on the app's data directory and database, with `stdin` as input.
fn twofold(app: &TestApp, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(args)
        .current_dir(app.dir.path())
        .env_clear()
        .env("TWOFOLD_DATA_DIR", &app.config.data_dir)
        .env("DATABASE_URL", &app.config.database_url)
        .env("TWOFOLD_BCRYPT_COST", "4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the twofold binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("it finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[actix_rt::test]
async fn an_operator_creates_an_organization_whose_owner_can_sign_in() {
    let app = TestApp::spawn().await;
    let output = twofold(
        &app,
        &[
            "org",
            "create",
            "--name",
            "Initech",
            "--owner-name",
            "Bill Lumbergh",
            "--owner-email",
            "bill@initech.example",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).contains("Created organization"),
        "{output:?}"
    );
    let bill = app.client();
    bill.sign_in("bill@initech.example", PASSWORD)
        .await
        .assert_redirect("/");
    bill.get("/settings/owner")
        .await
        .assert_contains("bill@initech.example");
    bill.get("/settings/users").await.assert_status(200);

    let again = twofold(
        &app,
        &[
            "org",
            "create",
            "--name",
            "Initech 2",
            "--owner-name",
            "Bill",
            "--owner-email",
            "bill@initech.example",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has an account"));
}

#[actix_rt::test]
async fn user_list_shows_an_organizations_people_by_id_or_by_name() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    app.join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    app.signup("Globex", "Hank Scorpio", "hank@example.com")
        .await;
    for org in ["Acme", "1"] {
        let output = twofold(&app, &["user", "list", "--org", org], "");
        assert!(output.status.success(), "{output:?}");
        let text = stdout(&output);
        assert!(text.contains("0 of 2 people have 2FA on"), "{text}");
        assert!(text.contains("ada@example.com") && text.contains("bob@example.com"));
        assert!(!text.contains("hank@example.com"), "{text}");
    }
    let missing = twofold(&app, &["user", "list", "--org", "Nope"], "");
    assert!(!missing.status.success());
    let orgs = stdout(&twofold(&app, &["org", "list"], ""));
    assert!(orgs.contains("Acme") && orgs.contains("Globex"), "{orgs}");
}

#[actix_rt::test]
async fn a_session_ended_from_the_command_line_is_refused_at_its_very_next_request() {
    let app = TestApp::spawn().await;
    let (owner, device, _codes) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    // Served again and again with nothing changing, so that every request thread has had
    // the session's row to remember.
    for _ in 0..20 {
        owner.get("/settings/security").await.assert_status(200);
    }

    // Another process ends the session: nothing in this one was told.
    let output = twofold(
        &app,
        &["user", "reset-2fa", "--email", "ada@example.com"],
        "",
    );
    assert!(output.status.success(), "{output:?}");

    owner
        .get("/settings/security")
        .await
        .assert_redirect("/login");
}

#[actix_rt::test]
async fn reset_2fa_lets_a_locked_out_owner_in_with_their_password_and_is_audited() {
    let app = TestApp::spawn().await;
    let (owner, _device, _codes) = app.owner_with_two_factor("ada@example.com").await;
    let elsewhere = app.client();
    elsewhere
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");

    let output = twofold(
        &app,
        &["user", "reset-2fa", "--email", "ada@example.com"],
        "",
    );
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("Two-factor authentication is off"));
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes"), 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'two_factor_reset' AND actor_id IS NULL"
        ),
        1
    );
    let email = app.last_email_to("ada@example.com");
    assert_eq!(email.subject, "Two-factor authentication is off");
    email.link("/account/not-me/");

    // The half-finished sign-in from before the reset is over; a new one needs no code.
    elsewhere.two_factor("123456").await.assert_status(401);
    owner
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    let log = owner.get("/settings/audit-log").await;
    log.assert_contains("2FA reset by an operator")
        .assert_contains("command line");
}

#[actix_rt::test]
async fn an_operator_emails_a_reset_link_and_nothing_secret_is_printed() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let output = twofold(
        &app,
        &["user", "reset-password", "--email", "ada@example.com"],
        "",
    );
    assert!(output.status.success(), "{output:?}");
    let email = app.last_email_to("ada@example.com");
    assert_eq!(email.subject, "Choose a new password");
    assert!(email.body.contains("operator"), "{}", email.body);
    let link = email.link("/password/reset/");
    let token = link.rsplit('/').next().expect("token");
    let printed = format!(
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("was emailed a link"), "{printed}");
    assert!(!printed.contains(token), "the token was printed: {printed}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'password_reset_requested' \
             AND actor_id IS NULL"
        ),
        1
    );
    // The link works, and 2FA still guards the account.
    owner.get(&link).await.assert_status(200);
    owner
        .submit(&link, &[("new_password", "a passphrase chosen anew")])
        .await
        .assert_redirect("/login");
    owner
        .sign_in("ada@example.com", "a passphrase chosen anew")
        .await
        .assert_redirect("/login/two-factor");
    drop(device);
}

#[actix_rt::test]
async fn mistakes_exit_with_a_message_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    for (args, stdin) in [
        (
            &["user", "reset-2fa", "--email", "nobody@example.com"][..],
            "",
        ),
        (&["user", "reset-2fa"][..], ""),
        (
            &["user", "reset-password", "--email", "nobody@example.com"][..],
            "",
        ),
        (&["user", "reset-password", "--email"][..], ""),
        (&["frobnicate"][..], ""),
        (
            &[
                "org",
                "create",
                "--name",
                "X",
                "--owner-name",
                "Y",
                "--owner-email",
                "y@example.com",
            ][..],
            "",
        ),
        (
            &[
                "org",
                "create",
                "--name",
                "X",
                "--owner-name",
                "Y",
                "--owner-email",
                "y@example.com",
                "--password-stdin",
            ][..],
            "short\n",
        ),
    ] {
        let output = twofold(&app, args, stdin);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(!output.stderr.is_empty(), "{args:?} said nothing");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations"), 1);
    let help = twofold(&app, &["help"], "");
    assert!(help.status.success());
    assert!(stdout(&help).contains("reset-2fa"));
    assert!(stdout(&help).contains("reset-password"));
    assert_eq!(app.count("SELECT COUNT(*) FROM password_resets"), 0);
}
