//! Enforced 2FA: everyone without it is signed out at once and emailed; after the password
//! they land on the setup page and can open nothing else, route by route, until 2FA is on.

use crate::helpers::{Authenticator, Client, PASSWORD, TestApp};

/// An owner with 2FA (signed in again), and an admin without 2FA (signed in).
async fn organization(app: &TestApp) -> (Client, Authenticator, Client) {
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    let (device, _) = owner.enable_two_factor(PASSWORD).await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    (owner, device, admin)
}

async fn enforce(owner: &Client, on: bool) {
    owner
        .get("/settings/organization-security")
        .await
        .assert_status(200);
    let fields: &[(&str, &str)] = if on {
        &[("enforce_two_factor", "on")]
    } else {
        &[]
    };
    owner
        .submit("/settings/organization-security", fields)
        .await
        .assert_redirect("/settings/organization-security");
}

#[actix_rt::test]
async fn the_page_shows_who_would_be_signed_out_before_saving() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = organization(&app).await;
    app.join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    let page = owner.get("/settings/organization-security").await;
    page.assert_status(200)
        .assert_contains("Optional")
        .assert_contains("name=\"enforce_two_factor\" value=\"on\"");
    let preview = page.element_text("would-sign-out").expect("preview");
    assert!(preview.contains("signs out 2 of 3 people"), "{preview}");
    assert!(preview.contains("alan@example.com") && preview.contains("mia@example.com"));
    assert!(!preview.contains("ada@example.com"), "{preview}");
}

#[actix_rt::test]
async fn enforcing_signs_out_and_emails_everyone_without_2fa_and_leaves_the_others_alone() {
    let app = TestApp::spawn().await;
    let (owner, _, admin) = organization(&app).await;
    let member = app
        .join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    admin.get("/").await.assert_status(200);
    member.get("/").await.assert_status(200);

    enforce(&owner, true).await;
    owner
        .get("/settings/organization-security")
        .await
        .assert_contains("Required")
        .assert_contains("2 people without it were signed out and are being emailed.");
    owner.get("/").await.assert_status(200);
    admin.get("/").await.assert_redirect("/login");
    member.get("/").await.assert_redirect("/login");
    for address in ["alan@example.com", "mia@example.com"] {
        app.wait_for_email(address, "requires two-factor").await;
    }
    assert!(
        app.emails_to("ada@example.com")
            .iter()
            .all(|e| !e.subject.contains("requires"))
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'two_factor_enforcement_changed'"
        ),
        1
    );
}

#[actix_rt::test]
async fn an_admin_without_2fa_cannot_enforce_it_and_a_bad_value_is_refused() {
    let app = TestApp::spawn().await;
    let (_, _, admin) = organization(&app).await;
    admin.get("/settings/organization-security").await;
    admin
        .submit(
            "/settings/organization-security",
            &[("enforce_two_factor", "on")],
        )
        .await
        .assert_status(422)
        .assert_contains("Turn on two-factor authentication for your own account first");
    admin
        .submit(
            "/settings/organization-security",
            &[("enforce_two_factor", "yes")],
        )
        .await
        .assert_status(400);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM organizations WHERE enforce_two_factor = TRUE"),
        0
    );
}

#[actix_rt::test]
async fn turning_2fa_off_is_refused_while_it_is_enforced() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = organization(&app).await;
    enforce(&owner, true).await;
    owner.get("/settings/security").await;
    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_status(403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        1
    );
    enforce(&owner, false).await;
    owner.get("/settings/security").await;
    let code = device.code().await;
    owner
        .submit(
            "/settings/security/two-factor/disable",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_redirect("/settings/security");
}

/// A request: method, path and form fields.
type Request = (&'static str, String, Vec<(&'static str, String)>);

/// Every route of the app, GET and POST, with fields a handler would act on. The list is
/// the app's URL map: a route added without adding it here is a route this test misses.
fn every_route(
    user_id: i64,
    invitation_id: i64,
    invitation_link: &str,
    not_me_link: &str,
) -> Vec<Request> {
    let get = |path: &str| ("GET", path.to_owned(), Vec::new());
    let post = |path: String, fields: &[(&'static str, &str)]| {
        (
            "POST",
            path,
            fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        )
    };
    vec![
        get("/"),
        get("/healthz"),
        get("/signup"),
        get("/login"),
        get("/login/two-factor"),
        get("/settings"),
        get("/settings/security"),
        get("/settings/owner"),
        get("/settings/users"),
        get("/settings/users?two_factor=disabled"),
        get("/settings/organization-security"),
        get("/settings/audit-log"),
        get("/settings/security/password"),
        get("/settings/security/sessions"),
        get("/settings/users?status=deactivated"),
        get("/password/forgot"),
        get(&format!("/password/reset/{}", "a".repeat(64))),
        get(invitation_link),
        get(not_me_link),
        get("/no/such/page"),
        get("/settings/security/two-factor/setup/"),
        get("/static/../settings/users"),
        post(
            "/signup".into(),
            &[
                ("organization", "Other"),
                ("name", "Alan"),
                ("email", "alan2@example.com"),
                ("password", PASSWORD),
            ],
        ),
        post(
            "/login".into(),
            &[("email", "alan@example.com"), ("password", PASSWORD)],
        ),
        post("/login/two-factor".into(), &[("code", "123456")]),
        post(
            "/settings/security/two-factor/disable".into(),
            &[("password", PASSWORD), ("code", "123456")],
        ),
        post(
            "/settings/security/recovery-codes".into(),
            &[("password", PASSWORD)],
        ),
        post("/settings/users/fields".into(), &[("fields", "two_factor")]),
        post(
            "/settings/users/invite".into(),
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("role", "member"),
            ],
        ),
        post(
            format!("/settings/users/{user_id}/role"),
            &[("role", "member")],
        ),
        post(format!("/settings/users/{user_id}/deactivate"), &[]),
        post(format!("/settings/users/{user_id}/recovery-codes"), &[]),
        post(format!("/settings/invitations/{invitation_id}/resend"), &[]),
        post(format!("/settings/invitations/{invitation_id}/revoke"), &[]),
        post("/settings/organization-security".into(), &[]),
        post(
            invitation_link.to_owned(),
            &[("name", "Ivy"), ("password", PASSWORD)],
        ),
        post(not_me_link.to_owned(), &[]),
        post(
            "/settings/security/password".into(),
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new and longer passphrase"),
            ],
        ),
        post(
            "/settings/security/passkeys/1/rename".into(),
            &[("name", "Laptop")],
        ),
        post("/settings/security/passkeys/1/remove".into(), &[]),
        post("/settings/security/reauth".into(), &[("code", "123456")]),
        post("/settings/security/reauth/options".into(), &[]),
        post(
            "/settings/security/reauth/passkey".into(),
            &[("ceremony", "x"), ("credential", "{}")],
        ),
        post("/login/passkey/options".into(), &[]),
        post("/settings/security/sessions/revoke-others".into(), &[]),
        post("/settings/security/sessions/1/revoke".into(), &[]),
        post(format!("/settings/users/{user_id}/reactivate"), &[]),
        post(format!("/settings/users/{user_id}/password-reset"), &[]),
        post(
            "/settings/owner/transfer".into(),
            &[("new_owner", &user_id.to_string()), ("password", PASSWORD)],
        ),
        post("/password/forgot".into(), &[("email", "mia@example.com")]),
        post(
            format!("/password/reset/{}", "a".repeat(64)),
            &[("new_password", "a new and longer passphrase")],
        ),
    ]
}

#[actix_rt::test]
async fn until_2fa_is_on_every_route_but_setup_confirm_sign_out_and_static_files_redirects_to_setup()
 {
    let app = TestApp::spawn().await;
    let (owner, _, _) = organization(&app).await;
    // Targets that an admin's requests would change, were they let through.
    let member = app
        .join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    let (member_device, _) = member.enable_two_factor(PASSWORD).await;
    member
        .sign_in_with_code("mia@example.com", &member_device)
        .await;
    let not_me_link = app
        .last_email_to("mia@example.com")
        .link("/account/not-me/");
    let invitation_link = app
        .invite(&owner, "Ivy Invitee", "ivy@example.com", "member")
        .await;
    enforce(&owner, true).await;
    app.wait_for_email("alan@example.com", "requires two-factor")
        .await;

    let admin = app.client();
    admin
        .sign_in("alan@example.com", PASSWORD)
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    let setup = admin.get("/settings/security/two-factor/setup").await;
    setup
        .assert_status(200)
        .assert_contains("id=\"setup-key\"")
        .assert_contains("Your organization requires two-factor authentication");

    let snapshot = || {
        [
            "SELECT COUNT(*) FROM users",
            "SELECT COUNT(*) FROM users WHERE role = 'admin'",
            "SELECT COUNT(*) FROM users WHERE deactivated_at IS NOT NULL",
            "SELECT COUNT(*) FROM users WHERE people_fields IS NOT NULL",
            "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL OR accepted_at IS NOT NULL",
            "SELECT COUNT(*) FROM recovery_codes",
            "SELECT COUNT(*) FROM alert_tokens WHERE used_at IS NOT NULL",
            "SELECT COUNT(*) FROM organizations",
            "SELECT COUNT(*) FROM organizations WHERE enforce_two_factor = TRUE",
            "SELECT SUM(session_epoch) FROM users",
            "SELECT COUNT(*) FROM sessions WHERE ended_at IS NOT NULL",
            "SELECT COUNT(*) FROM password_resets",
            "SELECT COUNT(DISTINCT password_hash) FROM users",
        ]
        .map(|sql| app.count(sql))
    };
    let before = snapshot();
    let emails_before = app.outbox().len();
    let member_id = app.user_id("mia@example.com");
    let invitation_id = app.count("SELECT MAX(id) FROM invitations");
    for (method, path, fields) in
        every_route(member_id, invitation_id, &invitation_link, &not_me_link)
    {
        let res = if method == "GET" {
            admin.get(&path).await
        } else {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.submit(&path, &fields).await
        };
        assert_eq!(
            (res.status.as_u16(), res.header("location").as_deref()),
            (303, Some("/settings/security/two-factor/setup")),
            "{method} {path} got through"
        );
    }
    assert_eq!(snapshot(), before);
    assert_eq!(app.outbox().len(), emails_before);

    // What stays open: static files, the setup pages and signing out.
    for path in ["/static/style.css", "/static/app.js", "/favicon.ico"] {
        admin.get(path).await.assert_status(200);
    }
    admin
        .get("/settings/security/two-factor/setup")
        .await
        .assert_status(200);
    admin
        .get("/settings/security/two-factor/confirm")
        .await
        .assert_status(200);
    // A passkey meets the requirement too: its page stays open.
    admin
        .get("/settings/security/passkeys")
        .await
        .assert_status(200)
        .assert_contains("id=\"add-passkey\"");
    // Turning 2FA on ends the hold (and, as always, every session).
    let device = Authenticator::from_setup_page(&setup);
    admin.get("/settings/security/two-factor/confirm").await;
    let code = device.code().await;
    admin
        .submit(
            "/settings/security/two-factor/confirm",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await
        .assert_status(200)
        .assert_contains("id=\"recovery-codes\"");
    admin.sign_in_with_code("alan@example.com", &device).await;
    admin.get("/settings/users").await.assert_status(200);
}

#[actix_rt::test]
async fn signing_out_and_starting_setup_stay_open_while_held() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = organization(&app).await;
    enforce(&owner, true).await;
    let admin = app.client();
    admin.sign_in("alan@example.com", PASSWORD).await;
    // The started setup expired: the setup page offers to start again, in place.
    app.execute("UPDATE users SET pending_totp_secret = NULL, pending_totp_created_at = NULL WHERE email = 'alan@example.com'");
    admin
        .get("/settings/security/two-factor/setup")
        .await
        .assert_status(200)
        .assert_contains("Set up 2FA");
    admin
        .get("/settings/security/two-factor/confirm")
        .await
        .assert_status(200)
        .assert_contains("Set up 2FA");
    admin
        .submit("/settings/security/two-factor/setup", &[])
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    admin
        .get("/settings/security/two-factor/setup")
        .await
        .assert_contains("id=\"setup-key\"");
    admin
        .submit("/logout", &[])
        .await
        .assert_redirect("/login?signed_out=1");
    admin.get("/").await.assert_redirect("/login");
}

#[actix_rt::test]
async fn the_hold_follows_the_database_not_the_session() {
    let app = TestApp::spawn().await;
    let (owner, _, admin) = organization(&app).await;
    // Signed in before enforcement, and enforcement switched on behind the session's back
    // (not through the page, so no sign-out): the next request is held all the same.
    admin.get("/").await.assert_status(200);
    app.execute("UPDATE organizations SET enforce_two_factor = TRUE");
    admin
        .get("/settings/users")
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    // And released the moment enforcement is off again.
    app.execute("UPDATE organizations SET enforce_two_factor = FALSE");
    admin.get("/settings/users").await.assert_status(200);
    drop(owner);
}

#[actix_rt::test]
async fn someone_who_joins_an_organization_that_enforces_2fa_sets_it_up_first() {
    let app = TestApp::spawn().await;
    let (owner, _, _) = organization(&app).await;
    enforce(&owner, true).await;
    let link = app
        .invite(&owner, "Nina New", "nina@example.com", "member")
        .await;
    let nina = app.client();
    nina.get(&link).await;
    nina.submit(&link, &[("name", "Nina New"), ("password", PASSWORD)])
        .await
        .assert_redirect("/login");
    nina.sign_in("nina@example.com", PASSWORD)
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    nina.get("/")
        .await
        .assert_redirect("/settings/security/two-factor/setup");
}
