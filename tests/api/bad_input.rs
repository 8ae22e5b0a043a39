//! Input Twofold cannot accept gets a clear 4xx page and changes nothing.

use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn unknown_routes_get_a_404_page() {
    let app = TestApp::spawn().await;
    let res = app.client().get("/no/such/page").await;
    res.assert_status(404).assert_contains("Page not found");
    assert!(
        res.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
}

#[actix_rt::test]
async fn missing_fields_get_a_400_page_and_change_nothing() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/signup").await;
    client
        .submit(
            "/signup",
            &[("organization", "Acme"), ("email", "a@example.com")],
        )
        .await
        .assert_status(400)
        .assert_contains("missing the field");
    client
        .submit("/login", &[("email", "a@example.com")])
        .await
        .assert_status(400);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
}

#[actix_rt::test]
async fn repeated_fields_are_refused() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let client = app.client();
    client.get("/login").await;
    client
        .submit(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("password", "wrong password!"),
            ],
        )
        .await
        .assert_status(400);
    assert_eq!(
        app.count(
            "SELECT COALESCE(SUM(attempts), 0) FROM attempt_counters \
             WHERE key NOT LIKE 'signup-client:%'"
        ),
        0
    );
}

#[actix_rt::test]
async fn an_oversized_body_gets_413_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/signup").await;
    let huge = "x".repeat(1024 * 1024);
    let res = client
        .submit(
            "/signup",
            &[
                ("organization", &huge),
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    res.assert_status(413);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
}

#[actix_rt::test]
async fn invalid_utf8_gets_a_400() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/login").await;
    let body = format!(
        "csrf_token={}&email=%FF%FEada%40example.com&password=x",
        client.csrf_token()
    );
    client
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            body.into_bytes(),
        )
        .await
        .assert_status(400)
        .assert_contains("not valid UTF-8");
}

#[actix_rt::test]
async fn a_body_that_is_not_a_form_gets_415() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/login").await;
    client
        .post_raw("/login", "application/json", br#"{"email":"a"}"#.to_vec())
        .await
        .assert_status(415);
}

#[actix_rt::test]
async fn malformed_codes_are_refused_without_counting_as_guesses() {
    let app = TestApp::spawn().await;
    let (_, _device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    for bad in [
        "12345",
        "1234567",
        "12a456",
        "",
        "abcde-1234",
        "💥💥💥💥💥💥",
        "' OR 1=1 --",
    ] {
        client
            .two_factor(bad)
            .await
            .assert_status(422)
            .assert_contains("Enter the 6-digit code");
    }
    let long = "9".repeat(10_000);
    client.two_factor(&long).await.assert_status(422);
    // Refused as unreadable before anything was counted (the right password's attempt was
    // given back).
    assert_eq!(
        app.count(
            "SELECT COALESCE(SUM(attempts), 0) FROM attempt_counters \
             WHERE key NOT LIKE 'signup-client:%'"
        ),
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL"),
        0
    );
}

#[actix_rt::test]
async fn a_malformed_email_gets_a_clear_message() {
    let app = TestApp::spawn().await;
    app.client()
        .sign_in("not an email", PASSWORD)
        .await
        .assert_status(422)
        .assert_contains("Enter an email address");
}

#[actix_rt::test]
async fn a_forged_session_cookie_is_ignored() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let cookie = owner.session_cookie().expect("cookie");
    let mut tampered: Vec<char> = cookie.chars().collect();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == 'A' { 'B' } else { 'A' };
    let forged = app.client();
    forged.set_session_cookie(&tampered.into_iter().collect::<String>());
    forged.get("/").await.assert_redirect("/login");
    forged.set_session_cookie("garbage");
    forged
        .get("/settings/security")
        .await
        .assert_redirect("/login");
}
