//! Limits on guessing: per account and per client address, kept in the database.

use crate::helpers::{PASSWORD, TestApp};

async fn fail_passwords(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        // A new browser each time: the count must not live in the session.
        app.client()
            .sign_in(email, "wrong password!")
            .await
            .assert_status(401);
    }
}

#[actix_rt::test]
async fn ten_wrong_passwords_lock_the_account_even_against_the_right_one() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "ada@example.com", 10).await;
    let res = app.client().sign_in("ada@example.com", PASSWORD).await;
    res.assert_status(429)
        .assert_contains("Too many failed attempts");
    assert!(res.header("retry-after").is_some());
}

#[actix_rt::test]
async fn the_lock_holds_for_another_server_process_on_the_same_database() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "ada@example.com", 10).await;
    let restarted = app.spawn_again().await;
    restarted
        .client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn wrong_codes_count_toward_the_same_lock() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    for _ in 0..5 {
        client.two_factor("000000").await.assert_status(401);
    }
    // A right password does not reset the count: only a completed sign-in does.
    let other = app.client();
    other.password_step("ada@example.com").await;
    for _ in 0..5 {
        other.two_factor("abcde-12345").await.assert_status(401);
    }
    let code = device.code().await;
    other.two_factor(&code).await.assert_status(429);
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn a_completed_sign_in_resets_the_count() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "ada@example.com", 9).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert_eq!(app.count("SELECT failed_attempts FROM users"), 0);
    fail_passwords(&app, "ada@example.com", 9).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn each_failure_after_the_limit_doubles_the_lock() {
    let app = TestApp::spawn_with(|c| c.limits.account_lock_secs = 1).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "ada@example.com", 10).await;
    // The lock's length: its end less the time of the failure that set it.
    let lock = || {
        app.count(
            "SELECT locked_until - (SELECT MAX(created_at) FROM audit_events \
             WHERE event = 'sign_in_failed') FROM users",
        )
    };
    let first = lock();
    actix_rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    fail_passwords(&app, "ada@example.com", 1).await;
    let second = lock();
    assert!((0..=2).contains(&first), "first lock {first}s");
    assert!(
        (1..=3).contains(&second) && second >= first,
        "second lock {second}s"
    );
    assert_eq!(app.count("SELECT failed_attempts FROM users"), 11);
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn a_client_address_is_limited_across_accounts() {
    let app = TestApp::spawn_with(|c| c.limits.client_failures = 5).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for i in 0..5 {
        app.client()
            .sign_in(&format!("nobody{i}@example.com"), "wrong password!")
            .await
            .assert_status(401);
    }
    // Even the right password of an untouched account is refused from this address now.
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    assert_eq!(app.count("SELECT failed_attempts FROM users"), 0);
}

#[actix_rt::test]
async fn the_client_window_starts_again_once_over() {
    let app = TestApp::spawn_with(|c| c.limits.client_failures = 2).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "nobody@example.com", 2).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    // Fifteen minutes pass (the window's start moves back rather than the test sleeping).
    app.execute("UPDATE client_failures SET window_start = window_start - 901");
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = TestApp::spawn_with(|c| {
        c.limits.client_failures = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let attacker = |spoofed: &str| {
        let client = app.client();
        // The client writes the left entry; the proxy appends the address it saw.
        *client.forwarded_for.borrow_mut() = Some(format!("{spoofed}, 203.0.113.9"));
        client
    };
    for spoofed in ["1.1.1.1", "2.2.2.2"] {
        attacker(spoofed)
            .sign_in("nobody@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    // A new spoofed left entry does not help: the proxy's hop is what counts.
    attacker("3.3.3.3")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    let neighbour = app.client();
    *neighbour.forwarded_for.borrow_mut() = Some("198.51.100.7".into());
    neighbour
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn without_a_trusted_proxy_forwarded_headers_are_ignored() {
    let app = TestApp::spawn_with(|c| c.limits.client_failures = 2).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for spoofed in ["1.1.1.1", "2.2.2.2"] {
        let client = app.client();
        *client.forwarded_for.borrow_mut() = Some(spoofed.into());
        client
            .sign_in("nobody@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    let client = app.client();
    *client.forwarded_for.borrow_mut() = Some("3.3.3.3".into());
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}
