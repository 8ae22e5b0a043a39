//! Creating an organization, the home page, signing out and the owner page.

use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn a_new_organization_and_its_owner_can_sign_up_and_see_the_home_page() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "Ada@Example.com").await;

    let home = owner.get("/").await;
    home.assert_status(200)
        .assert_contains("Ada Lovelace")
        .assert_contains("ada@example.com")
        .assert_contains("href=\"/settings/security\"");
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations"), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'owner' AND email = 'ada@example.com'"),
        1
    );
}

#[actix_rt::test]
async fn passwords_are_stored_as_bcrypt_hashes_of_the_configured_cost() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$2b$04$%'"),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE password_hash LIKE '%{PASSWORD}%'"
        )),
        0
    );
}

#[actix_rt::test]
async fn signup_refuses_short_and_overlong_passwords_with_clear_messages() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/signup").await;
    let fields = |password: &'static str| {
        [
            ("organization", "Acme"),
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", password),
        ]
    };
    client
        .submit("/signup", &fields("too short"))
        .await
        .assert_status(422)
        .assert_contains("at least 12 characters");
    // 73 bytes: bcrypt would silently ignore the 73rd; Twofold refuses instead.
    let long = "x".repeat(73);
    let long: &'static str = Box::leak(long.into_boxed_str());
    client
        .submit("/signup", &fields(long))
        .await
        .assert_status(422)
        .assert_contains("at most 72 bytes");
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations"), 0);
}

#[actix_rt::test]
async fn signup_shows_each_field_error_next_to_its_field_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client.get("/signup").await;
    let res = client
        .submit(
            "/signup",
            &[
                ("organization", "  "),
                ("name", "Ada"),
                ("email", "not-an-email"),
                ("password", PASSWORD),
            ],
        )
        .await;
    res.assert_status(422)
        .assert_contains("id=\"organization-error\"")
        .assert_contains("id=\"email-error\"")
        .assert_contains("value=\"not-an-email\"");
    assert!(!res.body.contains("id=\"name-error\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
}

#[actix_rt::test]
async fn an_email_can_hold_only_one_account() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let other = app.client();
    other.get("/signup").await;
    other
        .submit(
            "/signup",
            &[
                ("organization", "Other"),
                ("name", "Ada Again"),
                ("email", "ADA@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_status(422)
        .assert_contains("already exists");
    assert_eq!(app.count("SELECT COUNT(*) FROM organizations"), 1);
}

#[actix_rt::test]
async fn signup_can_be_closed_by_configuration() {
    let app = TestApp::spawn_with(|c| c.signup_open = false).await;
    let client = app.client();
    client.get("/signup").await.assert_status(403);
    client.get("/login").await;
    client
        .submit(
            "/signup",
            &[
                ("organization", "Acme"),
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_status(403);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 0);
}

#[actix_rt::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let old_cookie = owner.session_cookie().expect("session cookie");
    owner.get("/").await.assert_status(200);
    owner
        .submit("/logout", &[])
        .await
        .assert_redirect("/login?signed_out=1");
    owner.get("/").await.assert_redirect("/login");
    owner
        .get("/login?signed_out=1")
        .await
        .assert_contains("You have signed out.");
    // A new sign-in works again.
    owner
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert_ne!(owner.session_cookie(), Some(old_cookie));
}

#[actix_rt::test]
async fn anyone_signed_in_can_see_who_the_owner_is() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let page = owner.get("/settings/owner").await;
    page.assert_status(200);
    assert_eq!(
        page.element_text("owner-name").as_deref(),
        Some("Ada Lovelace")
    );
    assert_eq!(
        page.element_text("owner-email").as_deref(),
        Some("ada@example.com")
    );
    app.client()
        .get("/settings/owner")
        .await
        .assert_redirect("/login");
}

#[actix_rt::test]
async fn names_full_of_html_are_shown_escaped() {
    let app = TestApp::spawn().await;
    let owner = app
        .signup("<script>alert(1)</script>", "<b>Ada</b>", "ada@example.com")
        .await;
    let home = owner.get("/").await;
    home.assert_status(200);
    assert!(!home.body.contains("<script>alert(1)</script>"));
    assert!(!home.body.contains("<b>Ada</b>"));
    home.assert_contains("Welcome, &#60;b&#62;Ada&#60;/b&#62;");
}

#[actix_rt::test]
async fn the_health_check_answers_when_the_database_does() {
    let app = TestApp::spawn().await;
    let res = app.client().get("/healthz").await;
    res.assert_status(200);
    assert_eq!(res.body, "ok");
}

/// On the PostgreSQL run of the suite: a database server that no longer has the database.
/// (An embedded SQLite file stays open in the process, so there the check can only pass.)
#[cfg(feature = "postgres")]
#[actix_rt::test]
async fn the_health_check_fails_while_postgresql_does_not_answer() {
    let app = TestApp::spawn().await;
    app.client().get("/healthz").await.assert_status(200);
    if app.sqlite_path().is_some() {
        return;
    }
    let url = &app.config.database_url;
    let (server, name) = url.rsplit_once('/').expect("database name");
    TestApp::postgres_admin(server)(&format!("DROP DATABASE {name} WITH (FORCE)"));
    let res = app.client().get("/healthz").await;
    res.assert_status(503);
    assert_eq!(res.body, "database unavailable");
}
