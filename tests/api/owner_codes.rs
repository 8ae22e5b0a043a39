//! Owner-issued recovery codes: for a person who lost both phone and codes. The codes go by
//! email to that person only, work once, end their old codes and sessions, and never appear
//! on the owner's page.

use crate::helpers::{Client, PASSWORD, TestApp};

/// An owner (signed in, no 2FA) and Bob, a member with 2FA who has signed in (signed out
/// again), with his original recovery codes.
async fn owner_and_locked_out_bob(app: &TestApp) -> (Client, Vec<String>) {
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let bob = app
        .join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let (device, codes) = bob.enable_two_factor(PASSWORD).await;
    bob.sign_in_with_code("bob@example.com", &device).await;
    (owner, codes)
}

async fn issue(owner: &Client, app: &TestApp, email: &str) -> crate::helpers::Response {
    let id = app.user_id(email);
    owner.get("/settings/users").await.assert_status(200);
    owner
        .submit(&format!("/settings/users/{id}/recovery-codes"), &[])
        .await
}

#[actix_rt::test]
async fn owner_issued_codes_arrive_by_email_work_once_and_never_show_on_the_owners_page() {
    let app = TestApp::spawn().await;
    let (owner, _) = owner_and_locked_out_bob(&app).await;
    let sent_before = app.emails_to("bob@example.com").len();
    issue(&owner, &app, "bob@example.com")
        .await
        .assert_redirect("/settings/users");

    let emails = app.emails_to("bob@example.com");
    assert_eq!(emails.len(), sent_before + 1);
    let email = emails.last().expect("the codes' email");
    assert_eq!(email.subject, "Your new recovery codes");
    let codes = email.recovery_codes();
    assert_eq!(codes.len(), 5, "{}", email.body);
    // Nobody else got them, and the owner's pages never show them.
    for other in app
        .outbox()
        .iter()
        .filter(|e| !e.to.contains("bob@example.com"))
    {
        assert!(codes.iter().all(|c| !other.body.contains(c.as_str())));
    }
    let page = owner.get("/settings/users").await;
    page.assert_contains("Five new recovery codes were emailed to Bob Builder");
    for body in [page.body, owner.get("/settings/audit-log").await.body] {
        assert!(!body.contains("id=\"recovery-codes\""));
        for code in &codes {
            assert!(!body.contains(code.as_str()), "the owner saw {code}");
        }
    }

    let bob = app.client();
    bob.sign_in("bob@example.com", PASSWORD).await;
    bob.two_factor(&codes[0]).await.assert_redirect("/");
    bob.get("/")
        .await
        .assert_contains("Set up your new authenticator app");
    let again = app.client();
    again.sign_in("bob@example.com", PASSWORD).await;
    again.two_factor(&codes[0]).await.assert_status(401);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'recovery_codes_issued' AND actor_id = (SELECT id FROM users WHERE email = 'ada@example.com')"
        ),
        1
    );
}

#[actix_rt::test]
async fn the_persons_old_codes_stop_working_and_their_sessions_end() {
    let app = TestApp::spawn().await;
    let (owner, old_codes) = owner_and_locked_out_bob(&app).await;
    let bob_elsewhere = app.client();
    bob_elsewhere.sign_in("bob@example.com", PASSWORD).await;
    bob_elsewhere
        .two_factor(&old_codes[0])
        .await
        .assert_redirect("/");
    bob_elsewhere.get("/").await.assert_status(200);

    issue(&owner, &app, "bob@example.com")
        .await
        .assert_redirect("/settings/users");
    bob_elsewhere.get("/").await.assert_redirect("/login");
    let bob = app.client();
    bob.sign_in("bob@example.com", PASSWORD).await;
    bob.two_factor(&old_codes[1]).await.assert_status(401);
}

#[actix_rt::test]
async fn not_for_someone_without_2fa_nor_someone_who_never_signed_in_nor_the_owner_themself() {
    let app = TestApp::spawn().await;
    let (owner, _) = owner_and_locked_out_bob(&app).await;
    app.join(&owner, "Carol Clerk", "carol@example.com", "member")
        .await;
    issue(&owner, &app, "carol@example.com")
        .await
        .assert_status(422)
        .assert_contains("has no two-factor authentication");
    issue(&owner, &app, "ada@example.com")
        .await
        .assert_status(403);
    app.execute("UPDATE users SET last_sign_in_at = NULL WHERE email = 'bob@example.com'");
    issue(&owner, &app, "bob@example.com")
        .await
        .assert_status(422)
        .assert_contains("has never signed in");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'recovery_codes_issued'"),
        0
    );
    // The button is offered only where it works.
    app.execute("UPDATE users SET last_sign_in_at = 1 WHERE email = 'bob@example.com'");
    let page = owner.get("/settings/users").await;
    let bob_id = app.user_id("bob@example.com");
    assert_eq!(page.body.matches("/recovery-codes\"").count(), 1);
    page.assert_contains(&format!("/settings/users/{bob_id}/recovery-codes\""));
}
