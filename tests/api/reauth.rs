//! Re-authentication ("sudo mode"): with 2FA on, moving it to a new app, regenerating
//! recovery codes and turning it off need a second factor proved in this session within
//! `TWOFOLD_REAUTH_MINUTES`; otherwise the form asks for a code. A stolen session plus the
//! password must not be enough to move 2FA to a thief's phone or mint fresh codes.

use crate::helpers::{Authenticator, Client, PASSWORD, TestApp};

/// An app whose sensitive actions ask for the code every time, and Ada signed in with 2FA.
async fn asking_every_time() -> (TestApp, Client, Authenticator, Vec<String>) {
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let (owner, device, codes) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    (app, owner, device, codes)
}

#[actix_rt::test]
async fn moving_two_factor_to_a_new_app_needs_a_current_code() {
    let (app, owner, device, _) = asking_every_time().await;
    let page = owner.get("/settings/security").await;
    page.assert_contains("id=\"setup-code\"");
    owner
        .submit("/settings/security/two-factor/setup", &[])
        .await
        .assert_status(401)
        .assert_contains("to confirm it");
    owner
        .submit("/settings/security/two-factor/setup", &[("code", "000000")])
        .await
        .assert_status(401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE pending_totp_secret IS NOT NULL"),
        0,
        "no setup was started"
    );
    let code = device.code().await;
    owner
        .submit("/settings/security/two-factor/setup", &[("code", &code)])
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    owner
        .get("/settings/security/two-factor/setup")
        .await
        .assert_status(200)
        .assert_contains("id=\"setup-key\"");
}

#[actix_rt::test]
async fn regenerating_recovery_codes_needs_a_current_code_and_tells_the_person() {
    let (app, owner, device, old) = asking_every_time().await;
    owner.get("/settings/security").await;
    owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await
        .assert_status(401);
    // Nothing changed: the old codes are the ones there are.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL"),
        5
    );
    let emails_before = app.emails_to("ada@example.com").len();
    let code = device.code().await;
    let res = owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
    res.assert_status(200);
    let new = res.recovery_codes();
    assert_eq!(new.len(), 5);
    assert!(new.iter().all(|c| !old.contains(c)));
    let emails = app.emails_to("ada@example.com");
    assert_eq!(emails.len(), emails_before + 1);
    let email = emails.last().expect("an email");
    assert_eq!(email.subject, "Your recovery codes were regenerated");
    assert!(email.body.contains("/account/not-me/"), "{}", email.body);
}

#[actix_rt::test]
async fn a_recovery_code_confirms_it_too_and_is_spent() {
    let (app, owner, _, codes) = asking_every_time().await;
    owner.get("/settings/security").await;
    let res = owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD), ("code", &codes[0])],
        )
        .await;
    res.assert_status(200);
    let fresh = res.recovery_codes();
    // The code used was one of the old ones, which are all gone now anyway; a second use of
    // a fresh code elsewhere works once.
    owner.get("/settings/security").await;
    owner
        .submit(
            "/settings/security/two-factor/setup",
            &[("code", &fresh[0])],
        )
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    owner.get("/settings/security").await;
    owner
        .submit(
            "/settings/security/two-factor/setup",
            &[("code", &fresh[0])],
        )
        .await
        .assert_status(401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL"),
        1
    );
}

#[actix_rt::test]
async fn a_sign_in_with_a_code_spares_the_code_for_a_while() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    let page = owner.get("/settings/security").await;
    assert!(!page.body.contains("id=\"setup-code\""), "{}", page.body);
    owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await
        .assert_status(200);
    owner.get("/settings/security").await;
    owner
        .submit("/settings/security/two-factor/setup", &[])
        .await
        .assert_redirect("/settings/security/two-factor/setup");
}

#[actix_rt::test]
async fn wrong_codes_in_re_authentication_count_against_the_same_limit() {
    let (_, owner, device, _) = asking_every_time().await;
    // The right code is taken first: waiting for the phone's next step could outlast the lock.
    let code = device.code().await;
    owner.get("/settings/security").await;
    for _ in 0..10 {
        owner
            .submit("/settings/security/two-factor/setup", &[("code", "000000")])
            .await
            .assert_status(401);
    }
    owner
        .submit("/settings/security/two-factor/setup", &[("code", &code)])
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn a_proof_older_than_the_window_is_asked_again() {
    let app = TestApp::spawn_with(|c| c.reauth_secs = 1).await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    // The window of one second passes (a sleep, not a timing assertion).
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    owner
        .get("/settings/security")
        .await
        .assert_contains("id=\"regenerate-code\"");
    owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await
        .assert_status(401);
}

#[actix_rt::test]
async fn codes_at_sign_in_and_in_re_authentication_share_one_limit() {
    let (app, owner, device, _) = asking_every_time().await;
    let code = device.code().await;
    let stranger = app.client();
    stranger.password_step("ada@example.com").await;
    for _ in 0..5 {
        stranger.two_factor("000000").await.assert_status(401);
    }
    owner.get("/settings/security").await;
    for _ in 0..5 {
        owner
            .submit("/settings/security/two-factor/setup", &[("code", "000000")])
            .await
            .assert_status(401);
    }
    owner
        .submit("/settings/security/two-factor/setup", &[("code", &code)])
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn a_move_started_in_one_session_cannot_be_finished_in_another() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    // The person proves their code and starts a move, then walks away.
    owner.start_setup().await;
    // Another session of theirs (a stolen cookie, say) sees no QR code and cannot confirm.
    let other = app.client();
    other.sign_in_with_code("ada@example.com", &device).await;
    let page = other.get("/settings/security/two-factor/setup").await;
    assert!(!page.body.contains("id=\"setup-key\""), "{}", page.body);
    other.get("/settings/security").await;
    other
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", "123456")],
        )
        .await
        .assert_redirect("/settings/security");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE pending_totp_secret IS NOT NULL"),
        1,
        "the move waits for the session that started it"
    );
    owner
        .get("/settings/security/two-factor/setup")
        .await
        .assert_contains("id=\"setup-key\"");
}
