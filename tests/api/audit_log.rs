//! The audit log and the security emails: events newest first, paged, filtered by person;
//! an email when someone's 2FA changes or a recovery code is used, with a "this wasn't me"
//! link that signs them out everywhere, once.

use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn the_audit_log_shows_the_organizations_events_newest_first_filtered_by_person() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let bob = app
        .join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    app.client()
        .sign_in("bob@example.com", "wrong password!!")
        .await
        .assert_status(401);
    bob.enable_two_factor(PASSWORD).await;
    let bob_id = app.user_id("bob@example.com");
    owner.get("/settings/users").await;
    owner
        .submit(
            &format!("/settings/users/{bob_id}/role"),
            &[("role", "admin")],
        )
        .await;

    let log = owner.get("/settings/audit-log").await;
    log.assert_status(200);
    let order: Vec<usize> = [
        "Role changed",
        "2FA turned on",
        "Sign-in failed",
        "Invitation accepted",
        "Invitation sent",
        "Organization created",
    ]
    .iter()
    .map(|label| {
        log.body
            .find(label)
            .unwrap_or_else(|| panic!("{label} missing"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "not newest first");
    log.assert_contains("Member → Admin")
        .assert_contains("twofold-tests")
        .assert_contains("127.0.0.1");

    let bobs = owner
        .get(&format!("/settings/audit-log?person={bob_id}"))
        .await;
    bobs.assert_contains("Showing events about <strong>Bob Builder</strong>")
        .assert_contains("2FA turned on");
    assert!(!bobs.body.contains("Organization created"));
    let by_email = owner.get("/settings/audit-log?email=BOB@example.com").await;
    assert_eq!(
        by_email.element_text("audit-log"),
        bobs.element_text("audit-log")
    );
    owner
        .get("/settings/audit-log?before=zero")
        .await
        .assert_status(400);
    owner
        .get("/settings/audit-log?before=5&after=2")
        .await
        .assert_status(400);
}

#[actix_rt::test]
async fn the_audit_log_is_paged_fifty_events_at_a_time() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    for _ in 0..60 {
        app.execute(
            "INSERT INTO audit_events (organization_id, event, created_at) VALUES (1, 'sign_in_failed', 0)",
        );
    }
    let first = owner.get("/settings/audit-log").await;
    assert_eq!(
        first
            .body
            .matches("data-label=\"Event\">Sign-in failed</td>")
            .count(),
        50
    );
    // The oldest event shown names the next page: older than it, by id, not by offset.
    let older = first.link_to("/settings/audit-log?before=");
    let second = owner.get(&older).await;
    assert_eq!(
        second
            .body
            .matches("data-label=\"Event\">Sign-in failed</td>")
            .count(),
        10
    );
    second.assert_contains("Organization created");
    assert!(!second.body.contains("rel=\"next\""), "nothing is older");
    // And back: the newer page is the first one again.
    let newer = second.link_to("/settings/audit-log?after=");
    let again = owner.get(&newer).await;
    assert_eq!(
        again.element_text("audit-log"),
        first.element_text("audit-log")
    );
    assert!(!again.body.contains("rel=\"prev\""), "nothing is newer");
    // Events logged meanwhile do not shift a page reached by its cursor.
    for _ in 0..5 {
        app.execute(
            "INSERT INTO audit_events (organization_id, event, created_at) VALUES (1, 'sign_in_failed', 0)",
        );
    }
    assert_eq!(
        owner.get(&older).await.element_text("audit-log"),
        second.element_text("audit-log")
    );
}

#[actix_rt::test]
async fn a_person_is_emailed_when_their_2fa_changes_or_a_recovery_code_is_used() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let (_first_device, codes) = owner.enable_two_factor(PASSWORD).await;
    assert_eq!(
        app.last_email_to("ada@example.com").subject,
        "Two-factor authentication is on"
    );
    owner.sign_in("ada@example.com", PASSWORD).await;
    owner.two_factor(&codes[0]).await.assert_redirect("/");
    let email = app.last_email_to("ada@example.com");
    assert_eq!(email.subject, "A recovery code was used to sign in");
    assert!(
        email
            .body
            .contains("You have 4 unused recovery codes left.")
    );
    let (device, _) = owner.enable_two_factor(PASSWORD).await;
    assert_eq!(
        app.last_email_to("ada@example.com").subject,
        "Your two-factor authentication moved to a new app"
    );
    owner.sign_in_with_code("ada@example.com", &device).await;
    owner.get("/settings/security").await;
    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_redirect("/settings/security");
    assert_eq!(
        app.last_email_to("ada@example.com").subject,
        "Two-factor authentication is off"
    );
    assert_eq!(app.emails_to("ada@example.com").len(), 4);
    for email in app.emails_to("ada@example.com") {
        email.link("/account/not-me/");
    }
    let _ = device;
}

#[actix_rt::test]
async fn this_wasnt_me_signs_that_person_out_everywhere_once_and_is_recorded() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let (device, _) = owner.enable_two_factor(PASSWORD).await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    let link = app
        .last_email_to("ada@example.com")
        .link("/account/not-me/");

    // Opening the link only asks: mail scanners open links.
    let victim = app.client();
    victim
        .get(&link)
        .await
        .assert_status(200)
        .assert_contains("2FA turned on");
    owner.get("/").await.assert_status(200);
    victim
        .submit(&link, &[])
        .await
        .assert_status(200)
        .assert_contains("You were signed out everywhere");
    owner.get("/").await.assert_redirect("/login");
    app.client().get(&link).await.assert_status(410);
    victim.submit(&link, &[]).await.assert_status(410);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'reported_not_me'"),
        1
    );
    let token = link.trim_start_matches("/account/not-me/");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM alert_tokens WHERE token_hash = '{token}'"
        )),
        0,
        "not the token itself"
    );
    // What is stored is the token's SHA-256, computed here independently of the app.
    let sha256 = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(token.as_bytes()))
    };
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM alert_tokens WHERE token_hash = '{sha256}'"
        )),
        1,
        "only the token's SHA-256 is stored"
    );
    // Signing in again takes a new password, through the link the report emailed.
    owner
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(403);
    let reset = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    owner.get(&reset).await.assert_status(200);
    owner
        .submit(&reset, &[("new_password", "a brand new passphrase")])
        .await
        .assert_redirect("/login");
    owner
        .sign_in("ada@example.com", "a brand new passphrase")
        .await
        .assert_redirect("/login/two-factor");
    owner
        .two_factor(&device.code().await)
        .await
        .assert_redirect("/");
    owner
        .get("/settings/audit-log")
        .await
        .assert_contains("Reported &#34;this wasn&#39;t me&#34;");
}
