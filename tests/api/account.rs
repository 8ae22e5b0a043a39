//! The account around 2FA: changing the password, a forgotten password, the sessions page,
//! the new-browser email, handing over the ownership, reactivation, and "this wasn't me"
//! containing the damage.

use crate::helpers::{Authenticator, Client, PASSWORD, Response, TestApp};

const NEW_PASSWORD: &str = "an entirely new passphrase";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// A browser with this User-Agent.
fn browser(app: &TestApp, user_agent: &str) -> Client {
    let mut client = app.client();
    client.user_agent = user_agent.to_owned();
    client
}

/// Whether this browser's session still opens the home page.
async fn signed_in(client: &Client) -> bool {
    let res = client.get("/").await;
    match res.status.as_u16() {
        200 => true,
        303 => false,
        other => panic!("home answered {other}"),
    }
}

/// The ids of the sessions page's rows whose text contains `text`.
fn session_rows(page: &Response, text: &str) -> Vec<i64> {
    page.body
        .split("<tr data-session=\"")
        .skip(1)
        .filter(|row| {
            let row = &row[..row.find("</tr>").expect("row end")];
            row.contains(text)
        })
        .map(|row| row[..row.find('"').expect("id end")].parse().expect("id"))
        .collect()
}

fn count_events(app: &TestApp, event: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE event = '{event}'"
    ))
}

#[actix_rt::test]
async fn the_home_page_links_to_what_settings_offers_and_each_link_opens() {
    let app = TestApp::spawn().await;
    let ada = app.signup("Acme", "Ada", "ada@example.com").await;
    let home = ada.get("/").await;
    let section = home
        .body
        .split("id=\"home-settings\"")
        .nth(1)
        .expect("the home page's settings links");
    let section = &section[..section.find("</ul>").expect("list end")];
    let links: Vec<&str> = section
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').expect("href end")])
        .collect();
    assert_eq!(
        links,
        [
            "/settings/security",
            "/settings/security/password",
            "/settings/security/sessions"
        ]
    );
    for link in links {
        ada.get(link).await.assert_status(200);
    }
    assert!(!home.body.contains("manage your password"));
}

// Changing the password.

#[actix_rt::test]
async fn a_changed_password_ends_the_other_sessions_keeps_this_one_and_retires_the_old_one() {
    let app = TestApp::spawn().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let there = app.client();
    there
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");

    here.get("/settings/security/password")
        .await
        .assert_status(200);
    here.submit(
        "/settings/security/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
        ],
    )
    .await
    .assert_redirect("/settings/security/password");
    here.get("/settings/security/password")
        .await
        .assert_status(200)
        .assert_contains("Your password is changed");
    assert!(signed_in(&here).await, "this session goes on");
    assert!(!signed_in(&there).await, "the other session ended");

    let someone = app.client();
    someone
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(401);
    someone
        .sign_in("ada@example.com", NEW_PASSWORD)
        .await
        .assert_redirect("/");
    let email = app
        .emails_to("ada@example.com")
        .into_iter()
        .find(|e| e.subject == "Your password was changed")
        .expect("the person is told");
    assert!(email.body.contains("/account/not-me/"), "{}", email.body);
    assert_eq!(count_events(&app, "password_changed"), 1);
}

#[actix_rt::test]
async fn the_session_that_changed_the_password_goes_on_under_a_new_identity() {
    let app = TestApp::spawn().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let before = here.session_cookie().expect("a session");
    here.get("/settings/security/password").await;
    here.submit(
        "/settings/security/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
        ],
    )
    .await
    .assert_redirect("/settings/security/password");
    assert_ne!(here.session_cookie().expect("a session"), before);
    // The cookie from before the change opens nothing.
    let copy = app.client();
    copy.set_session_cookie(&before);
    assert!(!signed_in(&copy).await);
}

#[actix_rt::test]
async fn a_wrong_current_password_changes_nothing_and_counts_toward_the_limit() {
    let app = TestApp::spawn_with(|c| c.limits.password_attempts = 3).await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let there = app.client();
    there.sign_in("ada@example.com", PASSWORD).await;
    let original = stored_hash(&app);
    for _ in 0..3 {
        here.get("/settings/security/password").await;
        here.submit(
            "/settings/security/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await
        .assert_status(401)
        .assert_contains("Incorrect password.");
    }
    // The limit holds even for the right password now.
    here.get("/settings/security/password").await;
    here.submit(
        "/settings/security/password",
        &[
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
        ],
    )
    .await
    .assert_status(429);
    assert_eq!(stored_hash(&app), original);
    assert!(signed_in(&there).await, "no session ended");
    assert_eq!(count_events(&app, "password_changed"), 0);
}

fn stored_hash(app: &TestApp) -> String {
    use diesel::prelude::*;
    use twofold::db::schema::users;
    let conn = &mut app.db();
    twofold::db_run!(conn => {
        users::table
            .filter(users::email.eq("ada@example.com"))
            .select(users::password_hash)
            .first::<String>(conn)
            .expect("Ada's hash")
    })
}

#[actix_rt::test]
async fn a_new_password_too_long_for_bcrypt_or_equal_to_the_old_is_refused() {
    let app = TestApp::spawn().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let original = stored_hash(&app);
    let too_long = "é".repeat(37); // 74 bytes
    for (new, says) in [
        (too_long.as_str(), "72 bytes"),
        (PASSWORD, "current one"),
        ("short", "12 characters"),
    ] {
        here.get("/settings/security/password").await;
        here.submit(
            "/settings/security/password",
            &[("current_password", PASSWORD), ("new_password", new)],
        )
        .await
        .assert_status(422)
        .assert_contains(says);
    }
    assert_eq!(stored_hash(&app), original);
}

#[actix_rt::test]
async fn changing_the_password_asks_for_the_second_factor_when_it_is_due() {
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;
    owner
        .get("/settings/security/password")
        .await
        .assert_contains("id=\"password-code\"");
    let original = stored_hash(&app);
    owner
        .submit(
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await
        .assert_status(401);
    assert_eq!(stored_hash(&app), original, "no code, no change");
    let code = device.code().await;
    owner
        .submit(
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("code", &code),
            ],
        )
        .await
        .assert_redirect("/settings/security/password");
    assert_ne!(stored_hash(&app), original);
}

// A forgotten password.

/// Asks for a reset link for `email` from a browser of no one.
async fn ask_for_link(app: &TestApp, email: &str) -> Response {
    let someone = app.client();
    someone.get("/password/forgot").await.assert_status(200);
    someone
        .submit("/password/forgot", &[("email", email)])
        .await
}

#[actix_rt::test]
async fn a_reset_link_works_once_ends_every_session_and_the_next_sign_in_still_asks_for_the_code() {
    let app = TestApp::spawn().await;
    let (owner, device, _) = app.owner_with_two_factor("ada@example.com").await;
    owner.sign_in_with_code("ada@example.com", &device).await;

    ask_for_link(&app, "ada@example.com")
        .await
        .assert_status(200)
        .assert_contains("id=\"reset-sent\"");
    let email = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await;
    let link = email.link("/password/reset/");
    let stored = app.count(&format!(
        "SELECT COUNT(*) FROM password_resets WHERE token_hash = '{}'",
        sha256_hex(link.trim_start_matches("/password/reset/"))
    ));
    assert_eq!(stored, 1, "the link's token is stored only as its SHA-256");

    let holder = app.client();
    holder.get(&link).await.assert_status(200);
    holder
        .submit(&link, &[("new_password", NEW_PASSWORD)])
        .await
        .assert_redirect("/login");
    assert!(!signed_in(&holder).await, "a reset signs no one in");
    assert!(!signed_in(&owner).await, "every session ended");

    // Once.
    holder.get(&link).await.assert_status(410);
    holder.get("/password/forgot").await;
    holder
        .submit(&link, &[("new_password", "yet another passphrase")])
        .await
        .assert_status(410);

    // The old password is gone; the new one still stops at the code.
    let someone = app.client();
    someone
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(401);
    someone
        .sign_in("ada@example.com", NEW_PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE totp_secret IS NOT NULL"),
        1,
        "2FA stays on"
    );
    assert_eq!(count_events(&app, "password_reset"), 1);
    app.wait_for_email("ada@example.com", "Your password was reset")
        .await;
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[actix_rt::test]
async fn the_forgotten_password_page_answers_alike_for_any_address_and_emails_only_accounts() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let known = ask_for_link(&app, "ada@example.com").await;
    let unknown = ask_for_link(&app, "nobody@example.com").await;
    assert_eq!(known.status, unknown.status);
    let page =
        |res: &Response, email: &str| crate::helpers::strip_tags(&res.body).replace(email, "EMAIL");
    assert_eq!(
        page(&known, "ada@example.com"),
        page(&unknown, "nobody@example.com")
    );
    app.wait_for_email("ada@example.com", "Choose a new password")
        .await;
    assert!(app.emails_to("nobody@example.com").is_empty());
}

#[actix_rt::test]
async fn reset_links_are_limited_per_email_and_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.limits.reset_requests_per_email = 2;
        c.limits.reset_requests_per_address = 3;
    })
    .await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for _ in 0..2 {
        ask_for_link(&app, "ada@example.com")
            .await
            .assert_status(200);
    }
    ask_for_link(&app, "ada@example.com")
        .await
        .assert_status(429);
    // The address has one request left: an unknown email counts like a known one.
    ask_for_link(&app, "nobody@example.com")
        .await
        .assert_status(200);
    ask_for_link(&app, "bea@example.com")
        .await
        .assert_status(429);
    for _ in 0..100 {
        if app.emails_to("ada@example.com").len() >= 2 {
            break;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let links = app
        .emails_to("ada@example.com")
        .into_iter()
        .filter(|e| e.subject == "Choose a new password")
        .count();
    assert_eq!(links, 2);
}

#[actix_rt::test]
async fn an_expired_or_unknown_link_or_a_deactivated_persons_gets_no_new_password() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    app.join(&owner, "Bea", "bea@example.com", "member").await;

    ask_for_link(&app, "ada@example.com").await;
    let link = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    app.execute("UPDATE password_resets SET expires_at = 1");
    let holder = app.client();
    holder.get(&link).await.assert_status(410);
    holder
        .get("/password/reset/nonsense")
        .await
        .assert_status(404);
    let unknown = format!("/password/reset/{}", "a".repeat(64));
    holder.get(&unknown).await.assert_status(404);

    // A deactivated person is sent nothing.
    let bea = app.user_id("bea@example.com");
    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/users/{bea}/deactivate"), &[])
        .await
        .assert_redirect("/settings/users");
    ask_for_link(&app, "bea@example.com")
        .await
        .assert_status(200);
    actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        app.emails_to("bea@example.com")
            .iter()
            .all(|e| e.subject != "Choose a new password")
    );
}

#[actix_rt::test]
async fn a_newer_link_or_a_changed_password_retires_the_older_links() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    ask_for_link(&app, "ada@example.com").await;
    let first = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    ask_for_link(&app, "ada@example.com").await;
    let second = loop {
        let links: Vec<String> = app
            .emails_to("ada@example.com")
            .iter()
            .filter(|e| e.subject == "Choose a new password")
            .map(|e| e.link("/password/reset/"))
            .collect();
        if links.len() == 2 {
            break links[1].clone();
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    app.client().get(&first).await.assert_status(410);
    app.client().get(&second).await.assert_status(200);
    owner.get("/settings/security/password").await;
    owner
        .submit(
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await
        .assert_redirect("/settings/security/password");
    app.client().get(&second).await.assert_status(410);
}

#[actix_rt::test]
async fn an_admin_emails_a_reset_link_from_the_people_table_and_a_member_cannot() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let bea = app.join(&owner, "Bea", "bea@example.com", "member").await;
    app.join(&owner, "Cy", "cy@example.com", "member").await;
    let cy = app.user_id("cy@example.com");
    let ada = app.user_id("ada@example.com");

    owner
        .get("/settings/users")
        .await
        .assert_contains(&format!("/settings/users/{cy}/password-reset"));
    owner
        .submit(&format!("/settings/users/{cy}/password-reset"), &[])
        .await
        .assert_redirect("/settings/users");
    let email = app.last_email_to("cy@example.com");
    assert_eq!(email.subject, "Choose a new password");
    assert!(email.body.contains("Ada, who manages"), "{}", email.body);
    let link = email.link("/password/reset/");
    let cy_browser = app.client();
    cy_browser.get(&link).await.assert_status(200);
    cy_browser
        .submit(&link, &[("new_password", NEW_PASSWORD)])
        .await
        .assert_redirect("/login");
    cy_browser
        .sign_in("cy@example.com", NEW_PASSWORD)
        .await
        .assert_redirect("/");
    assert_eq!(count_events(&app, "password_reset_requested"), 1);

    // A member may not, and nobody sends one to themselves from the table.
    bea.get("/").await;
    bea.submit(&format!("/settings/users/{cy}/password-reset"), &[])
        .await
        .assert_status(403);
    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/users/{ada}/password-reset"), &[])
        .await
        .assert_status(403);
    assert_eq!(count_events(&app, "password_reset_requested"), 1);
}

#[actix_rt::test]
async fn an_admin_of_another_organization_cannot_send_anyone_here_a_link() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let other = app.signup("Globex", "Hank", "hank@example.com").await;
    let ada = app.user_id("ada@example.com");
    other.get("/settings/users").await;
    other
        .submit(&format!("/settings/users/{ada}/password-reset"), &[])
        .await
        .assert_status(404);
    assert!(
        app.emails_to("ada@example.com")
            .iter()
            .all(|e| e.subject != "Choose a new password")
    );
}

// Sessions.

#[actix_rt::test]
async fn revoking_one_session_out_of_three_ends_exactly_that_one() {
    let app = TestApp::spawn().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let firefox = browser(&app, FIREFOX);
    let iphone = browser(&app, IPHONE);
    firefox.sign_in("ada@example.com", PASSWORD).await;
    iphone.sign_in("ada@example.com", PASSWORD).await;

    let page = here.get("/settings/security/sessions").await;
    page.assert_status(200)
        .assert_contains("Firefox 128 on Linux")
        .assert_contains("Safari 17 on iPhone")
        .assert_contains("id=\"this-session\"");
    assert_eq!(session_rows(&page, "").len(), 3);
    assert_eq!(session_rows(&page, "This session").len(), 1);
    let [firefox_row] = session_rows(&page, "Firefox")[..] else {
        panic!("one Firefox row");
    };
    here.submit(
        &format!("/settings/security/sessions/{firefox_row}/revoke"),
        &[],
    )
    .await
    .assert_redirect("/settings/security/sessions");
    assert!(!signed_in(&firefox).await);
    assert!(signed_in(&iphone).await);
    assert!(signed_in(&here).await);
    let page = here.get("/settings/security/sessions").await;
    assert_eq!(session_rows(&page, "").len(), 2);
    assert_eq!(count_events(&app, "session_ended"), 1);
}

#[actix_rt::test]
async fn signing_out_every_other_session_keeps_this_one_on_every_instance() {
    let app = TestApp::spawn().await;
    let other_instance = app.spawn_again().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let (a, b) = (browser(&app, FIREFOX), browser(&app, IPHONE));
    a.sign_in("ada@example.com", PASSWORD).await;
    b.sign_in("ada@example.com", PASSWORD).await;
    b.use_instance(&other_instance.address);
    assert!(signed_in(&b).await, "a session holds on the other instance");

    here.get("/settings/security/sessions").await;
    here.submit("/settings/security/sessions/revoke-others", &[])
        .await
        .assert_redirect("/settings/security/sessions");
    here.get("/settings/security/sessions")
        .await
        .assert_contains("Your 2 other sessions are signed out.");
    assert!(!signed_in(&a).await);
    assert!(!signed_in(&b).await, "ended on the other instance too");
    assert!(signed_in(&here).await);
}

#[actix_rt::test]
async fn a_browser_whose_session_was_ended_elsewhere_signs_in_again_at_the_first_try() {
    let app = TestApp::spawn().await;
    let here = app.signup("Acme", "Ada", "ada@example.com").await;
    let there = browser(&app, FIREFOX);
    there.sign_in("ada@example.com", PASSWORD).await;
    here.get("/settings/security/sessions").await;
    here.submit("/settings/security/sessions/revoke-others", &[])
        .await
        .assert_redirect("/settings/security/sessions");
    // The ended session's first request is the sign-in page itself: its form must work.
    there
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn nobody_ends_another_persons_session_or_their_own_current_one_from_the_page() {
    let app = TestApp::spawn().await;
    let ada = app.signup("Acme", "Ada", "ada@example.com").await;
    let hank = app.signup("Globex", "Hank", "hank@example.com").await;
    let hanks = app.count(&format!(
        "SELECT MAX(id) FROM sessions WHERE user_id = {}",
        app.user_id("hank@example.com")
    ));
    let adas = app.count(&format!(
        "SELECT MAX(id) FROM sessions WHERE user_id = {}",
        app.user_id("ada@example.com")
    ));
    ada.get("/settings/security/sessions").await;
    ada.submit(&format!("/settings/security/sessions/{hanks}/revoke"), &[])
        .await
        .assert_status(404);
    assert!(signed_in(&hank).await);
    ada.get("/settings/security/sessions").await;
    ada.submit(&format!("/settings/security/sessions/{adas}/revoke"), &[])
        .await
        .assert_status(422)
        .assert_contains("sign out instead");
    assert!(signed_in(&ada).await);
    ada.get("/settings/security/sessions").await;
    ada.submit("/settings/security/sessions/x/revoke", &[])
        .await
        .assert_status(404);
    assert_eq!(count_events(&app, "session_ended"), 0);
}

// The new-browser email.

#[actix_rt::test]
async fn a_new_browser_is_announced_once_and_the_same_browsers_next_sign_in_is_not() {
    let app = TestApp::spawn().await;
    let first = app.signup("Acme", "Ada", "ada@example.com").await;
    let announcements = |app: &TestApp| {
        app.emails_to("ada@example.com")
            .into_iter()
            .filter(|e| e.subject == "A sign-in from a new browser")
            .collect::<Vec<_>>()
    };
    // The browser that created the account is known.
    first.get("/").await;
    first.submit("/logout", &[]).await;
    first
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert!(announcements(&app).is_empty());

    let firefox = browser(&app, FIREFOX);
    firefox
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    let sent = announcements(&app);
    assert_eq!(sent.len(), 1);
    let body = &sent[0].body;
    assert!(body.contains("Firefox 128 on Linux"), "{body}");
    assert!(body.contains("127.0.0.1"), "{body}");
    assert!(body.contains("/account/not-me/"), "{body}");
    assert!(body.contains("UTC"), "{body}");

    firefox.get("/").await;
    firefox.submit("/logout", &[]).await;
    firefox
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert_eq!(announcements(&app).len(), 1, "the same browser again");
}

#[actix_rt::test]
async fn with_two_factor_the_new_browser_is_announced_after_the_code_not_the_password() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let before = app.emails_to("ada@example.com").len();
    let stranger = browser(&app, FIREFOX);
    stranger.password_step("ada@example.com").await;
    assert_eq!(
        app.emails_to("ada@example.com").len(),
        before,
        "a right password alone is no sign-in"
    );
    let code = device.code().await;
    stranger.two_factor(&code).await.assert_redirect("/");
    assert_eq!(
        app.last_email_to("ada@example.com").subject,
        "A sign-in from a new browser"
    );
}

#[actix_rt::test]
async fn a_persons_first_sign_in_after_joining_announces_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    app.join(&owner, "Bea", "bea@example.com", "member").await;
    assert!(
        app.emails_to("bea@example.com")
            .iter()
            .all(|e| e.subject != "A sign-in from a new browser")
    );
}

// Handing over the ownership.

/// Ada (owner) with Bea (admin) and Cy (member), each signed in.
async fn organization(app: &TestApp) -> (Client, Client, Client) {
    let ada = app.signup("Acme", "Ada", "ada@example.com").await;
    let bea = app.join(&ada, "Bea", "bea@example.com", "admin").await;
    let cy = app.join(&ada, "Cy", "cy@example.com", "member").await;
    (ada, bea, cy)
}

fn role_of(app: &TestApp, email: &str) -> String {
    use diesel::prelude::*;
    use twofold::db::schema::users;
    let conn = &mut app.db();
    twofold::db_run!(conn => {
        users::table
            .filter(users::email.eq(email))
            .select(users::role)
            .first::<twofold::domain::Role>(conn)
            .expect("role")
            .label()
            .to_owned()
    })
}

#[actix_rt::test]
async fn handing_over_moves_the_owner_and_the_old_owner_keeps_admin_rights() {
    let app = TestApp::spawn().await;
    let (ada, bea, cy) = organization(&app).await;
    let bea_id = app.user_id("bea@example.com");
    let cy_id = app.user_id("cy@example.com");

    let page = ada.get("/settings/owner").await;
    page.assert_status(200).assert_contains("id=\"transfer\"");
    assert!(page.body.contains(&format!("value=\"{bea_id}\"")));
    assert!(
        !page.body.contains(&format!("value=\"{cy_id}\"")),
        "only admins"
    );
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id.to_string()), ("password", PASSWORD)],
    )
    .await
    .assert_redirect("/settings/owner");

    assert_eq!(role_of(&app, "bea@example.com"), "Owner");
    assert_eq!(role_of(&app, "ada@example.com"), "Admin");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'owner'"),
        1
    );
    ada.get("/settings/owner")
        .await
        .assert_contains("Bea")
        .assert_contains("is the owner now");
    // Ada keeps an admin's rights and loses the owner's.
    ada.get("/settings/users").await.assert_status(200);
    ada.submit(&format!("/settings/users/{cy_id}/deactivate"), &[])
        .await
        .assert_redirect("/settings/users");
    ada.get("/settings/users").await;
    ada.submit(&format!("/settings/users/{bea_id}/recovery-codes"), &[])
        .await
        .assert_status(403);
    assert!(
        !ada.get("/settings/owner")
            .await
            .body
            .contains("id=\"transfer\"")
    );
    // Bea is the owner: the hand-over form is hers.
    bea.get("/settings/owner")
        .await
        .assert_contains("id=\"transfer\"");
    assert_eq!(
        app.last_email_to("bea@example.com").subject,
        "You are now the owner of your organization"
    );
    assert_eq!(
        app.last_email_to("ada@example.com").subject,
        "You handed over the ownership of your organization"
    );
    assert_eq!(count_events(&app, "ownership_transferred"), 1);
    drop(cy);
}

#[actix_rt::test]
async fn ownership_goes_to_no_member_no_one_outside_and_not_without_the_password() {
    let app = TestApp::spawn().await;
    let (ada, bea, _cy) = organization(&app).await;
    let outsider = app.signup("Globex", "Hank", "hank@example.com").await;
    let bea_id = app.user_id("bea@example.com").to_string();
    let cy_id = app.user_id("cy@example.com").to_string();
    let hank_id = app.user_id("hank@example.com").to_string();

    ada.get("/settings/owner").await;
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &cy_id), ("password", PASSWORD)],
    )
    .await
    .assert_status(422)
    .assert_contains("not an admin");
    ada.get("/settings/owner").await;
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &hank_id), ("password", PASSWORD)],
    )
    .await
    .assert_status(404);
    ada.get("/settings/owner").await;
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id), ("password", "not the password")],
    )
    .await
    .assert_status(401)
    .assert_contains("Incorrect password.");
    // An admin cannot take it.
    bea.get("/settings/owner").await;
    bea.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id), ("password", PASSWORD)],
    )
    .await
    .assert_status(403);
    outsider.get("/settings/owner").await;
    assert_eq!(role_of(&app, "ada@example.com"), "Owner");
    assert_eq!(role_of(&app, "bea@example.com"), "Admin");
    assert_eq!(count_events(&app, "ownership_transferred"), 0);
}

#[actix_rt::test]
async fn while_2fa_is_required_the_new_owner_must_have_it() {
    let app = TestApp::spawn().await;
    let (ada, device, _) = app.owner_with_two_factor("ada@example.com").await;
    ada.sign_in_with_code("ada@example.com", &device).await;
    let bea = app.join(&ada, "Bea", "bea@example.com", "admin").await;
    let bea_id = app.user_id("bea@example.com").to_string();
    ada.get("/settings/organization-security").await;
    ada.submit(
        "/settings/organization-security",
        &[("enforce_two_factor", "on")],
    )
    .await
    .assert_status(303);

    ada.get("/settings/owner")
        .await
        .assert_contains("needs 2FA");
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id), ("password", PASSWORD)],
    )
    .await
    .assert_status(422)
    .assert_contains("no two-factor authentication");
    assert_eq!(role_of(&app, "ada@example.com"), "Owner");

    // Once Bea has 2FA, she can become the owner.
    bea.sign_in("bea@example.com", PASSWORD)
        .await
        .assert_redirect("/settings/security/two-factor/setup");
    let page = bea.get("/settings/security/two-factor/setup").await;
    let phone = Authenticator::from_setup_page(&page);
    bea.get("/settings/security/two-factor/confirm").await;
    let code = phone.code().await;
    bea.submit(
        "/settings/security/two-factor/confirm",
        &[("password", PASSWORD), ("code", &code)],
    )
    .await
    .assert_status(200);
    ada.get("/settings/owner").await;
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id), ("password", PASSWORD)],
    )
    .await
    .assert_redirect("/settings/owner");
    assert_eq!(role_of(&app, "bea@example.com"), "Owner");
}

#[actix_rt::test]
async fn handing_over_asks_for_the_second_factor_when_it_is_due() {
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let (ada, device, _) = app.owner_with_two_factor("ada@example.com").await;
    ada.sign_in_with_code("ada@example.com", &device).await;
    app.join(&ada, "Bea", "bea@example.com", "admin").await;
    let bea_id = app.user_id("bea@example.com").to_string();
    ada.get("/settings/owner")
        .await
        .assert_contains("id=\"transfer-code\"");
    ada.submit(
        "/settings/owner/transfer",
        &[("new_owner", &bea_id), ("password", PASSWORD)],
    )
    .await
    .assert_status(401);
    assert_eq!(role_of(&app, "ada@example.com"), "Owner");
    let code = device.code().await;
    ada.submit(
        "/settings/owner/transfer",
        &[
            ("new_owner", &bea_id),
            ("password", PASSWORD),
            ("code", &code),
        ],
    )
    .await
    .assert_redirect("/settings/owner");
    assert_eq!(role_of(&app, "bea@example.com"), "Owner");
}

#[actix_rt::test]
async fn the_database_itself_refuses_a_second_owner() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn().await;
    let (_ada, _bea, _cy) = organization(&app).await;
    let conn = &mut app.db();
    let second = twofold::db_run!(conn => diesel::sql_query(
        "UPDATE users SET role = 'owner' WHERE email = 'bea@example.com'"
    )
    .execute(conn));
    assert!(second.is_err(), "a second owner was stored");
    assert_eq!(role_of(&app, "bea@example.com"), "Admin");
}

// Reactivation.

#[actix_rt::test]
async fn a_reactivated_person_signs_in_again_with_their_2fa_kept() {
    let app = TestApp::spawn().await;
    let ada = app.signup("Acme", "Ada", "ada@example.com").await;
    let bea = app.join(&ada, "Bea", "bea@example.com", "member").await;
    let (phone, _) = bea.enable_two_factor(PASSWORD).await;
    bea.sign_in_with_code("bea@example.com", &phone).await;
    let bea_id = app.user_id("bea@example.com");

    ada.get("/settings/users").await;
    ada.submit(&format!("/settings/users/{bea_id}/deactivate"), &[])
        .await
        .assert_redirect("/settings/users");
    assert!(!signed_in(&bea).await);
    let active = ada.get("/settings/users").await;
    assert!(!active.body.contains(&format!("data-person=\"{bea_id}\"")));
    let listed = ada.get("/settings/users?status=deactivated").await;
    listed
        .assert_status(200)
        .assert_contains(&format!("data-person=\"{bea_id}\""))
        .assert_contains(&format!("/settings/users/{bea_id}/reactivate"));
    app.client()
        .sign_in("bea@example.com", PASSWORD)
        .await
        .assert_status(401);

    ada.submit(&format!("/settings/users/{bea_id}/reactivate"), &[])
        .await
        .assert_redirect("/settings/users?status=deactivated");
    assert!(
        !signed_in(&bea).await,
        "the sessions from before stay ended"
    );
    let again = app.client();
    again
        .sign_in("bea@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let code = phone.code().await;
    again.two_factor(&code).await.assert_redirect("/");
    assert_eq!(
        app.emails_to("bea@example.com")
            .iter()
            .filter(|e| e.subject == "Your account is active again")
            .count(),
        1
    );
    assert_eq!(count_events(&app, "person_reactivated"), 1);
    let active = ada.get("/settings/users").await;
    assert!(active.body.contains(&format!("data-person=\"{bea_id}\"")));
}

#[actix_rt::test]
async fn only_the_owner_reactivates_an_admin_and_members_reactivate_no_one() {
    let app = TestApp::spawn().await;
    let (ada, bea, cy) = organization(&app).await;
    let dee = app.join(&ada, "Dee", "dee@example.com", "admin").await;
    let dee_id = app.user_id("dee@example.com");
    let cy_id = app.user_id("cy@example.com");
    ada.get("/settings/users").await;
    for id in [dee_id, cy_id] {
        ada.submit(&format!("/settings/users/{id}/deactivate"), &[])
            .await
            .assert_redirect("/settings/users");
    }
    bea.get("/settings/users?status=deactivated").await;
    bea.submit(&format!("/settings/users/{dee_id}/reactivate"), &[])
        .await
        .assert_status(403);
    let outsider = app.signup("Globex", "Hank", "hank@example.com").await;
    outsider.get("/settings/users").await;
    outsider
        .submit(&format!("/settings/users/{cy_id}/reactivate"), &[])
        .await
        .assert_status(404);
    assert_eq!(count_events(&app, "person_reactivated"), 0);
    bea.submit(&format!("/settings/users/{cy_id}/reactivate"), &[])
        .await
        .assert_redirect("/settings/users?status=deactivated");
    assert_eq!(count_events(&app, "person_reactivated"), 1);
    drop((cy, dee));
}

// "This wasn't me".

#[actix_rt::test]
async fn this_wasnt_me_requires_a_new_password_emails_the_link_and_tells_the_owner() {
    let app = TestApp::spawn().await;
    let ada = app.signup("Acme", "Ada", "ada@example.com").await;
    let bea = app.join(&ada, "Bea", "bea@example.com", "member").await;
    // A sign-in from a new browser: Bea's email says so, with the link.
    let stranger = browser(&app, FIREFOX);
    stranger
        .sign_in("bea@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    let not_me = app
        .last_email_to("bea@example.com")
        .link("/account/not-me/");

    let reporter = app.client();
    reporter.get(&not_me).await.assert_status(200);
    reporter.submit(&not_me, &[]).await.assert_status(200);
    assert!(!signed_in(&stranger).await);
    assert!(!signed_in(&bea).await);
    // The password alone no longer signs in, even the right one.
    stranger
        .sign_in("bea@example.com", PASSWORD)
        .await
        .assert_status(403)
        .assert_contains("Choose a new password");
    let link = app
        .wait_for_email("bea@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    let owner_told = app.last_email_to("ada@example.com");
    assert_eq!(
        owner_told.subject,
        "Bea reported a change they did not make"
    );
    reporter.get(&link).await.assert_status(200);
    reporter
        .submit(&link, &[("new_password", NEW_PASSWORD)])
        .await
        .assert_redirect("/login");
    app.client()
        .sign_in("bea@example.com", NEW_PASSWORD)
        .await
        .assert_redirect("/");
}
