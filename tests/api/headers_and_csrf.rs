//! CSRF tokens on every state-changing form, cookie attributes and security headers.

use crate::helpers::{PASSWORD, TestApp};

/// Every state-changing route, with fields that would otherwise be acceptable.
const FORMS: &[(&str, &[(&str, &str)])] = &[
    (
        "/signup",
        &[
            ("organization", "Evil"),
            ("name", "Mallory"),
            ("email", "mallory@example.com"),
            ("password", PASSWORD),
        ],
    ),
    (
        "/login",
        &[("email", "ada@example.com"), ("password", PASSWORD)],
    ),
    ("/login/two-factor", &[("code", "123456")]),
    ("/logout", &[]),
    ("/settings/security/two-factor/setup", &[]),
    (
        "/settings/security/two-factor/confirm",
        &[("password", PASSWORD), ("code", "123456")],
    ),
    (
        "/settings/security/two-factor/disable",
        &[("password", PASSWORD), ("code", "123456")],
    ),
    (
        "/settings/security/recovery-codes",
        &[("password", PASSWORD)],
    ),
    ("/settings/users/fields", &[("fields", "two_factor")]),
    (
        "/settings/users/invite",
        &[
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("role", "member"),
        ],
    ),
    ("/settings/users/1/role", &[("role", "member")]),
    ("/settings/users/1/deactivate", &[]),
    ("/settings/users/1/recovery-codes", &[]),
    ("/settings/invitations/1/resend", &[]),
    ("/settings/invitations/1/revoke", &[]),
    (
        "/settings/organization-security",
        &[("enforce_two_factor", "on")],
    ),
    (
        "/invitations/0000000000000000000000000000000000000000000000000000000000000000",
        &[("name", "Eve"), ("password", PASSWORD)],
    ),
    (
        "/account/not-me/0000000000000000000000000000000000000000000000000000000000000000",
        &[],
    ),
];

#[actix_rt::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    owner.get("/").await.assert_status(200);
    let before = (
        app.count("SELECT COUNT(*) FROM users"),
        app.count("SELECT COUNT(*) FROM users WHERE pending_totp_secret IS NOT NULL"),
        app.count("SELECT COUNT(*) FROM audit_events"),
        app.count("SELECT COUNT(*) FROM invitations"),
        app.count("SELECT COUNT(*) FROM users WHERE people_fields IS NOT NULL"),
        app.count("SELECT COUNT(*) FROM organizations WHERE enforce_two_factor = TRUE"),
    );
    for (path, fields) in FORMS {
        let res = owner.post(path, fields).await;
        assert_eq!(res.status.as_u16(), 403, "{path} without a token");
        res.assert_contains("This form has expired");
        let mut with_wrong_token = vec![("csrf_token", "0".repeat(64))];
        with_wrong_token.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        let pairs: Vec<(&str, &str)> = with_wrong_token
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let res = owner.post(path, &pairs).await;
        assert_eq!(res.status.as_u16(), 403, "{path} with a wrong token");
    }
    let after = (
        app.count("SELECT COUNT(*) FROM users"),
        app.count("SELECT COUNT(*) FROM users WHERE pending_totp_secret IS NOT NULL"),
        app.count("SELECT COUNT(*) FROM audit_events"),
        app.count("SELECT COUNT(*) FROM invitations"),
        app.count("SELECT COUNT(*) FROM users WHERE people_fields IS NOT NULL"),
        app.count("SELECT COUNT(*) FROM organizations WHERE enforce_two_factor = TRUE"),
    );
    assert_eq!(before, after);
    // Still signed in: the forged sign-out did nothing.
    owner.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn a_token_from_another_session_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let attacker = app.client();
    attacker.get("/login").await;
    let attacker_token = attacker.csrf_token();
    owner
        .post(
            "/settings/security/two-factor/setup",
            &[("csrf_token", &attacker_token)],
        )
        .await
        .assert_status(403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE pending_totp_secret IS NOT NULL"),
        0
    );
}

#[actix_rt::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    let res = app.client().get("/login").await;
    let cookie = res.header("set-cookie").expect("session cookie");
    assert!(cookie.starts_with("twofold_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http deployment: {cookie}"
    );
}

#[actix_rt::test]
async fn the_session_cookie_is_secure_behind_an_https_public_url() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://twofold.example.com".into()).await;
    let res = app.client().get("/login").await;
    let cookie = res.header("set-cookie").expect("session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[actix_rt::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in ["/login", "/signup", "/does-not-exist", "/settings/security"] {
        let res = client.get(path).await;
        let csp = res.header("content-security-policy").expect("CSP");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            res.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert!(res.header("referrer-policy").is_some(), "{path}");
    }
    let login = client.get("/login").await;
    assert!(!login.body.contains("<script>"), "no inline script");
    assert!(!login.body.contains("style=\""), "no inline style");
}

#[actix_rt::test]
async fn static_files_are_served_and_cached() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let css = client.get("/static/style.css").await;
    css.assert_status(200);
    assert!(
        css.header("content-type")
            .unwrap_or_default()
            .starts_with("text/css")
    );
    assert!(
        css.header("cache-control")
            .unwrap_or_default()
            .contains("max-age")
    );
    client.get("/static/app.js").await.assert_status(200);
}
