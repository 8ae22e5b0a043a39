//! Recovery codes: single use, forgiving to type, spent atomically, replaceable.

use crate::helpers::{PASSWORD, TestApp, race_code};

#[actix_rt::test]
async fn a_recovery_code_works_only_once() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let first = app.client();
    first.sign_in("ada@example.com", PASSWORD).await;
    first.two_factor(&codes[2]).await.assert_redirect("/");

    let second = app.client();
    second.sign_in("ada@example.com", PASSWORD).await;
    second.two_factor(&codes[2]).await.assert_status(401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL"),
        1
    );
}

#[actix_rt::test]
async fn a_recovery_code_is_matched_ignoring_case_spaces_and_dashes() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let typed = format!(" {} ", codes[0].replace('-', " ").to_uppercase());
    let client = app.client();
    client.sign_in("ada@example.com", PASSWORD).await;
    client.two_factor(&typed).await.assert_redirect("/");
}

#[actix_rt::test]
async fn ten_concurrent_requests_with_one_recovery_code_let_exactly_one_in() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let clients: Vec<_> = (0..10).map(|_| app.client()).collect();
    for client in &clients {
        client.password_step("ada@example.com").await;
    }
    assert_eq!(race_code(&clients, &codes[0]).await, (1, 9));
    app.assert_overlapped("POST", "/login/two-factor");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL"),
        1
    );
}

#[actix_rt::test]
async fn new_recovery_codes_need_the_password_and_replace_the_old_ones() {
    let app = TestApp::spawn().await;
    let (owner, device, old_codes) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    owner.get("/settings/security").await;
    owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", "wrong password!")],
        )
        .await
        .assert_status(401)
        .assert_contains("Incorrect password.");
    let res = owner
        .submit(
            "/settings/security/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let new_codes = res.recovery_codes();
    assert_eq!(new_codes.len(), 5);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));
    // Regenerating does not sign this session out.
    owner.get("/").await.assert_status(200);

    let client = app.client();
    client.sign_in("ada@example.com", PASSWORD).await;
    client.two_factor(&old_codes[0]).await.assert_status(401);
    client.two_factor(&new_codes[0]).await.assert_redirect("/");
}

#[actix_rt::test]
async fn the_security_page_says_when_no_code_is_left() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let mut last = None;
    for code in &codes {
        let c = app.client();
        c.sign_in("ada@example.com", PASSWORD).await;
        c.two_factor(code).await.assert_redirect("/");
        last = Some(c);
    }
    let client = last.expect("signed in");
    let page = client.get("/settings/security").await;
    assert_eq!(page.element_text("codes-left").as_deref(), Some("0"));
    page.assert_contains("You have no recovery codes left");
}

#[actix_rt::test]
async fn one_code_left_brings_a_warning() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let mut last = None;
    for code in &codes[..4] {
        let c = app.client();
        c.sign_in("ada@example.com", PASSWORD).await;
        c.two_factor(code).await.assert_redirect("/");
        last = Some(c);
    }
    let client = last.expect("signed in");
    let page = client.get("/settings/security").await;
    assert_eq!(page.element_text("codes-left").as_deref(), Some("1"));
    page.assert_contains("Only one code left");
}
