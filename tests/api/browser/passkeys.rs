//! Passkeys, clicked through in Chromium with a virtual authenticator (the WebDriver
//! extension of WebAuthn) standing for the laptop's fingerprint reader: registering one as the
//! first second factor, signing in with password and passkey and with the passkey alone,
//! meeting an organization's 2FA requirement with a passkey only, renaming and removing one,
//! and what the pages do when the authenticator is gone.
//!
//! Browsers refuse WebAuthn on a bare IP address, so these tests browse the app at its public
//! URL, `http://localhost:PORT`, never at `127.0.0.1`; the session cookie belongs to that host.
//!
//! With no authenticator at all, Chromium waits for one until the ceremony's own timeout
//! (minutes), as it waits for a security key to be plugged in; so the test of a missing
//! authenticator then adds one that lacks the passkey, which answers "not allowed" at once.

use std::time::Duration;

use serde_json::json;

use super::driver::Browser;
use super::{shown_recovery_codes, sign_out, two_factor_badge};
use crate::helpers::{PASSWORD, TestApp};

const PASSKEYS: &str = "/settings/security/passkeys";

/// Opens a path of the app at `http://localhost:PORT`, where passkeys work.
async fn visit_localhost(browser: &Browser, app: &TestApp, path: &str) {
    assert!(
        app.public_url.starts_with("http://localhost:"),
        "passkeys need the app under a host name: {}",
        app.public_url
    );
    browser.goto(&format!("{}{path}", app.public_url)).await;
}

/// Creates an organization through the sign-up page at localhost; the new owner lands on
/// Settings › Security, signed in.
async fn sign_up_at_localhost(
    browser: &Browser,
    app: &TestApp,
    organization: &str,
    name: &str,
    email: &str,
) {
    visit_localhost(browser, app, "/signup").await;
    browser.fill_in("Organization name", organization).await;
    browser.fill_in("Your name", name).await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Create organization").await;
    browser.wait_for_path("/settings/security").await;
}

/// On the Passkeys page: names a new passkey, types the password and presses "Add a
/// passkey"; the page's script then runs the ceremony with the authenticator and sends the
/// form. The caller waits for the outcome.
async fn add_passkey(browser: &Browser, name: &str) {
    browser.wait_for_path(PASSKEYS).await;
    browser.wait_for("#add-passkey-form").await;
    browser.fill_in("Passkey name", name).await;
    browser.fill_in("Your password", PASSWORD).await;
    browser.click_on("Add a passkey").await;
}

/// Ada signs up at localhost and adds her first passkey, "Laptop", from Settings ›
/// Passkeys; she is on the recovery codes page, still signed in. Returns the codes.
async fn ada_with_a_passkey(browser: &Browser, app: &TestApp) -> Vec<String> {
    sign_up_at_localhost(browser, app, "Acme", "Ada Lovelace", "ada@example.com").await;
    browser.click_on("Passkeys").await;
    add_passkey(browser, "Laptop").await;
    browser.wait_for("#recovery-codes").await;
    shown_recovery_codes(browser).await
}

/// The names of the passkeys listed on the Passkeys page, in the page's order.
async fn listed_passkeys(browser: &Browser) -> Vec<String> {
    let mut names = Vec::new();
    for element in browser.find_all("#passkeys li .passkey-name").await {
        names.push(browser.text_of(&element).await);
    }
    names
}

/// The visible text of each passkey's row on the Passkeys page.
async fn passkey_rows(browser: &Browser) -> Vec<String> {
    let mut rows = Vec::new();
    for element in browser.find_all("#passkeys li[data-passkey]").await {
        rows.push(browser.text_of(&element).await);
    }
    rows
}

/// How many times the authenticator's one credential has signed.
async fn sign_count(browser: &Browser, authenticator: &str) -> u64 {
    let credentials = browser.virtual_credentials(authenticator).await;
    assert_eq!(credentials.len(), 1, "{credentials:#?}");
    credentials[0]["signCount"]
        .as_u64()
        .unwrap_or_else(|| panic!("a sign count in {credentials:#?}"))
}

/// Signs in with email and password at localhost, arriving at the two-factor step.
async fn enter_password_at_localhost(browser: &Browser, app: &TestApp, email: &str) {
    visit_localhost(browser, app, "/login").await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Sign in").await;
    browser.wait_for_path("/login/two-factor").await;
}

/// Signs in with the password and then "Use a passkey"; lands on the home page.
async fn sign_in_with_password_and_passkey(browser: &Browser, app: &TestApp, email: &str) {
    enter_password_at_localhost(browser, app, email).await;
    let use_passkey = browser.wait_for("#use-passkey").await;
    browser.click(&use_passkey).await;
    browser.wait_for_path("/").await;
}

/// Opens the sign-in page and presses "Sign in with a passkey", typing nothing.
async fn press_sign_in_with_passkey(browser: &Browser, app: &TestApp) {
    visit_localhost(browser, app, "/login").await;
    let button = browser.wait_for("#sign-in-with-passkey").await;
    browser.click(&button).await;
}

/// Whether the home page opens (else the browser is sent to sign in).
async fn signed_in(browser: &Browser, app: &TestApp) -> bool {
    visit_localhost(browser, app, "/").await;
    match browser.path().await.as_str() {
        "/" => true,
        "/login" => false,
        other => panic!("the home page sent the browser to {other}"),
    }
}

/// Waits (up to 15 s) for the page to show a passkey error, in the script's `#passkey-error`
/// or in the server's `#login-error`, and returns its text.
async fn wait_for_passkey_error(browser: &Browser) -> String {
    let script = "var shown = Array.prototype.filter.call(
                    document.querySelectorAll('#passkey-error, #login-error'),
                    function (e) { return !e.hidden && e.offsetParent !== null
                                          && e.textContent.trim() !== ''; });
                  return shown.length ? shown[0].textContent.trim() : null;";
    for _ in 0..150 {
        if let Some(text) = browser.execute(script, json!([])).await.as_str() {
            return text.to_owned();
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no passkey error is shown on {}:\n{}",
        browser.path().await,
        browser.page_text().await
    );
}

/// Clicks the "Remove" button of the one passkey row and accepts the page's question;
/// returns the question.
async fn remove_the_passkey(browser: &Browser) -> String {
    let rows = browser.find_all("#passkeys li[data-passkey]").await;
    assert_eq!(rows.len(), 1, "one passkey is listed");
    let remove = browser
        .find("#passkeys li[data-passkey] form[action$='/remove'] button")
        .await;
    let label = browser.text_of(&remove).await;
    assert!(label.starts_with("Remove"), "{label}");
    browser.click(&remove).await;
    browser.answer_dialog(true).await
}

/// Waits (up to 15 s) for the first element matching `css` to contain `text`, and returns
/// its whole text.
async fn wait_for_text_containing(browser: &Browser, css: &str, text: &str) -> String {
    let mut last = String::new();
    for _ in 0..150 {
        if browser.try_find(css).await.is_some() {
            last = browser.text(css).await;
            if last.contains(text) {
                return last;
            }
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} reads {last:?}, which lacks {text:?}, on {}",
        browser.path().await
    );
}

#[actix_rt::test]
async fn a_first_passkey_turns_on_two_factor_shows_recovery_codes_and_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let laptop = browser.add_virtual_authenticator().await;
    sign_up_at_localhost(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    assert_eq!(two_factor_badge(&browser).await, "Disabled");
    browser
        .wait_for("#passkeys-card a[href='/settings/security/passkeys']")
        .await;
    let elsewhere = app.client();
    elsewhere
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");

    browser.click_on("Passkeys").await;
    browser.wait_for_path(PASSKEYS).await;
    assert_eq!(browser.text("h1").await, "Passkeys");
    browser.wait_for("#no-passkeys").await;
    assert!(browser.try_find("ul#passkeys").await.is_none());
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "the Passkeys page logged {errors:#?}");

    add_passkey(&browser, "Laptop").await;
    browser.wait_for("#recovery-codes").await;
    let codes = shown_recovery_codes(&browser).await;
    assert_eq!(codes.len(), 5);

    let credentials = browser.virtual_credentials(&laptop).await;
    assert_eq!(credentials.len(), 1, "{credentials:#?}");
    assert_eq!(credentials[0]["rpId"], json!("localhost"));
    assert_eq!(
        credentials[0]["isResidentCredential"],
        json!(true),
        "a passkey is a discoverable credential"
    );

    // The other session ended; this browser goes on.
    let res = elsewhere.get("/").await;
    res.assert_redirect("/login");
    visit_localhost(&browser, &app, PASSKEYS).await;
    browser.wait_for_path(PASSKEYS).await;
    assert_eq!(listed_passkeys(&browser).await, ["Laptop"]);
    let rows = passkey_rows(&browser).await;
    assert!(rows[0].contains("Added"), "{rows:#?}");
    assert!(rows[0].contains("Never used"), "{rows:#?}");
    assert!(browser.try_find("#no-passkeys").await.is_none());
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "the Passkeys page logged {errors:#?}");

    browser.click_on("Security").await;
    browser.wait_for_path("/settings/security").await;
    assert_eq!(two_factor_badge(&browser).await, "Enabled");
}

#[actix_rt::test]
async fn a_person_signs_in_with_the_password_and_then_their_passkey() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let laptop = browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    let uses_before = sign_count(&browser, &laptop).await;
    sign_out(&browser).await;

    enter_password_at_localhost(&browser, &app, "ada@example.com").await;
    browser.click_on("Use a passkey").await;
    browser.wait_for_path("/").await;
    assert!(browser.text("h1").await.contains("Welcome, Ada Lovelace"));
    assert_eq!(two_factor_badge(&browser).await, "Enabled");
    let uses_after = sign_count(&browser, &laptop).await;
    assert!(
        uses_after > uses_before,
        "the authenticator signed: {uses_before} then {uses_after}"
    );

    visit_localhost(&browser, &app, PASSKEYS).await;
    let rows = passkey_rows(&browser).await;
    assert!(rows[0].contains("Last used"), "{rows:#?}");
    assert!(!rows[0].contains("Never used"), "{rows:#?}");
}

#[actix_rt::test]
async fn a_person_signs_in_with_their_passkey_alone_typing_nothing() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    sign_out(&browser).await;

    visit_localhost(&browser, &app, "/login").await;
    let autocomplete = browser
        .execute(
            "return document.getElementById('email').getAttribute('autocomplete');",
            json!([]),
        )
        .await;
    assert_eq!(
        autocomplete,
        json!("username webauthn"),
        "the email field offers passkeys as the browser autofills it"
    );
    browser.click_on("Sign in with a passkey").await;
    browser.wait_for_path("/").await;
    assert!(browser.text("h1").await.contains("Welcome, Ada Lovelace"));
    assert_eq!(two_factor_badge(&browser).await, "Enabled");
}

#[actix_rt::test]
async fn a_second_passkey_on_another_authenticator_is_added_without_new_recovery_codes() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let laptop = browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    sign_out(&browser).await;
    sign_in_with_password_and_passkey(&browser, &app, "ada@example.com").await;

    // The laptop's reader is put away and a security key plugged in.
    browser.remove_virtual_authenticator(&laptop).await;
    let key = browser.add_virtual_authenticator().await;
    visit_localhost(&browser, &app, PASSKEYS).await;
    add_passkey(&browser, "Security key").await;
    browser.wait_for_path(PASSKEYS).await;
    let flash = wait_for_text_containing(&browser, ".flash-success", "added").await;
    assert!(flash.contains("added"), "{flash}");
    assert!(browser.try_find("#recovery-codes").await.is_none());
    let mut names = listed_passkeys(&browser).await;
    names.sort();
    assert_eq!(names, ["Laptop", "Security key"]);
    assert_eq!(browser.virtual_credentials(&key).await.len(), 1);

    sign_out(&browser).await;
    press_sign_in_with_passkey(&browser, &app).await;
    browser.wait_for_path("/").await;
    assert!(browser.text("h1").await.contains("Welcome, Ada Lovelace"));
}

#[actix_rt::test]
async fn a_passkey_is_renamed_in_its_row() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    sign_out(&browser).await;
    press_sign_in_with_passkey(&browser, &app).await;
    browser.wait_for_path("/").await;

    visit_localhost(&browser, &app, PASSKEYS).await;
    browser.wait_for("#passkeys li[data-passkey]").await;
    let id = browser
        .execute(
            "return document.querySelector('#passkeys li[data-passkey]').dataset.passkey;",
            json!([]),
        )
        .await;
    let id = id.as_str().expect("the row's passkey id").to_owned();
    let scope = format!("#passkeys li[data-passkey='{id}']");
    // The rename form opens from the row.
    let open = browser.find(&format!("{scope} summary")).await;
    browser.click(&open).await;
    browser
        .fill_in_within(&scope, "New name", "Ada's work laptop")
        .await;
    let rename = browser
        .find(&format!("{scope} form[action$='/rename'] button"))
        .await;
    assert_eq!(browser.text_of(&rename).await, "Rename");
    browser.click(&rename).await;
    browser.wait_for_path(PASSKEYS).await;
    browser
        .wait_for_text("#passkeys li .passkey-name", "Ada's work laptop")
        .await;
    assert_eq!(listed_passkeys(&browser).await, ["Ada's work laptop"]);
}

#[actix_rt::test]
async fn a_member_whose_only_second_factor_is_a_passkey_meets_the_organizations_requirement_and_must_keep_it()
 {
    let app = TestApp::spawn().await;
    let owner = Browser::launch().await;
    owner.add_virtual_authenticator().await;
    ada_with_a_passkey(&owner, &app).await;

    // Ada invites Bob, who joins, signs in with his password and adds a passkey.
    visit_localhost(&owner, &app, "/settings/users").await;
    owner.fill_in_within("#invite", "Name", "Bob Builder").await;
    owner
        .fill_in_within("#invite", "Email", "bob@example.com")
        .await;
    owner.click_on("Send invitation").await;
    owner.wait_for_path("/settings/users").await;
    owner.wait_for(".flash-success").await;
    let link = app.last_email_to("bob@example.com").link("/invitations/");
    let bob = Browser::launch().await;
    bob.add_virtual_authenticator().await;
    visit_localhost(&bob, &app, &link).await;
    assert_eq!(bob.text("h1").await, "Join Acme");
    bob.fill_in("Your name", "Bob Builder").await;
    bob.fill_in("Password", PASSWORD).await;
    bob.click_on("Join Acme").await;
    bob.wait_for_path("/login").await;
    bob.fill_in("Email", "bob@example.com").await;
    bob.fill_in("Password", PASSWORD).await;
    bob.click_on("Sign in").await;
    bob.wait_for_path("/").await;
    assert_eq!(two_factor_badge(&bob).await, "Disabled");
    visit_localhost(&bob, &app, PASSKEYS).await;
    add_passkey(&bob, "Bob's laptop").await;
    bob.wait_for("#recovery-codes").await;
    shown_recovery_codes(&bob).await;

    // With passkeys, both count as having 2FA: requiring it signs nobody out.
    visit_localhost(&owner, &app, "/settings/organization-security").await;
    assert_eq!(owner.text("#enforcement").await, "Optional");
    let nobody = owner.text("#would-sign-out").await;
    assert!(nobody.contains("nobody would be signed out"), "{nobody}");
    let checkbox = owner.find("#enforce_two_factor").await;
    owner.click(&checkbox).await;
    owner.click_on("Save").await;
    owner.wait_for_path("/settings/organization-security").await;
    owner.wait_for_text("#enforcement", "Required").await;

    // Bob is not disturbed, and is not held at the authenticator app's setup.
    assert!(signed_in(&bob, &app).await, "Bob's session went on");
    sign_out(&bob).await;
    sign_in_with_password_and_passkey(&bob, &app, "bob@example.com").await;
    assert!(bob.text("h1").await.contains("Bob Builder"));
    assert_eq!(two_factor_badge(&bob).await, "Enabled");
    bob.click_on("Settings").await;
    bob.wait_for_path("/settings/security").await;
    assert_eq!(two_factor_badge(&bob).await, "Enabled");
    sign_out(&bob).await;
    press_sign_in_with_passkey(&bob, &app).await;
    bob.wait_for_path("/").await;
    visit_localhost(&bob, &app, "/settings/security").await;
    bob.wait_for_path("/settings/security").await;

    // His only method cannot go while the organization requires 2FA.
    visit_localhost(&bob, &app, PASSKEYS).await;
    let question = remove_the_passkey(&bob).await;
    assert!(!question.is_empty());
    let refusal = wait_for_text_containing(&bob, ".flash-warning, .form-error", "requires").await;
    assert!(refusal.contains("requires"), "{refusal}");
    visit_localhost(&bob, &app, PASSKEYS).await;
    assert_eq!(listed_passkeys(&bob).await, ["Bob's laptop"]);
    assert!(signed_in(&bob, &app).await);
    assert_eq!(two_factor_badge(&bob).await, "Enabled");
}

#[actix_rt::test]
async fn removing_the_only_passkey_turns_two_factor_off_and_it_signs_in_no_more() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let laptop = browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    sign_out(&browser).await;
    press_sign_in_with_passkey(&browser, &app).await;
    browser.wait_for_path("/").await;

    visit_localhost(&browser, &app, PASSKEYS).await;
    let question = remove_the_passkey(&browser).await;
    assert!(!question.is_empty());
    browser.wait_for_path(PASSKEYS).await;
    let flash = wait_for_text_containing(&browser, ".flash-success", "removed").await;
    assert!(flash.contains("removed"), "{flash}");
    browser.wait_for("#no-passkeys").await;
    assert!(browser.try_find("ul#passkeys").await.is_none());
    visit_localhost(&browser, &app, "/").await;
    assert_eq!(two_factor_badge(&browser).await, "Disabled");
    visit_localhost(&browser, &app, "/settings/security").await;
    assert_eq!(two_factor_badge(&browser).await, "Disabled");

    // The laptop still holds the credential and signs with it; the app refuses it.
    assert_eq!(browser.virtual_credentials(&laptop).await.len(), 1);
    sign_out(&browser).await;
    press_sign_in_with_passkey(&browser, &app).await;
    let error = wait_for_passkey_error(&browser).await;
    assert!(
        error.contains("That passkey is not registered here"),
        "{error}"
    );
    assert!(!signed_in(&browser, &app).await);

    // The password alone signs in now.
    visit_localhost(&browser, &app, "/login").await;
    browser.fill_in("Email", "ada@example.com").await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Sign in").await;
    browser.wait_for_path("/").await;
}

#[actix_rt::test]
async fn with_the_authenticator_gone_the_passkey_signs_nobody_in() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let laptop = browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;
    sign_out(&browser).await;

    // With no authenticator at all, the browser waits for one: nobody is signed in.
    browser.remove_virtual_authenticator(&laptop).await;
    press_sign_in_with_passkey(&browser, &app).await;
    actix_rt::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(browser.path().await, "/login");

    // A security key plugged in then does not hold the passkey: the page says so.
    let other_key = browser.add_virtual_authenticator().await;
    let error = wait_for_passkey_error(&browser).await;
    assert!(!error.is_empty());
    assert_eq!(browser.path().await, "/login");
    assert!(browser.virtual_credentials(&other_key).await.is_empty());
    assert!(!signed_in(&browser, &app).await);

    // At the two-factor step too, that key is refused and the step stays.
    enter_password_at_localhost(&browser, &app, "ada@example.com").await;
    browser.click_on("Use a passkey").await;
    let error = wait_for_passkey_error(&browser).await;
    assert!(!error.is_empty());
    assert_eq!(browser.path().await, "/login/two-factor");
    assert!(!signed_in(&browser, &app).await);
}

#[actix_rt::test]
async fn the_passkeys_page_asks_for_a_second_factor_before_changes_when_none_was_given_lately() {
    // Re-authentication is always due.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let browser = Browser::launch().await;
    browser.add_virtual_authenticator().await;
    ada_with_a_passkey(&browser, &app).await;

    visit_localhost(&browser, &app, PASSKEYS).await;
    browser.wait_for("#reauth").await;
    browser
        .field("#reauth", "Code from your app, or a recovery code")
        .await;
    browser.button_or_link("Confirm").await;
    let with_passkey = browser.find("#reauth-with-passkey").await;
    assert_eq!(browser.text_of(&with_passkey).await, "Use a passkey");
    assert!(browser.try_find("#add-passkey-form").await.is_none());
    assert!(browser.try_find("form[action$='/remove']").await.is_none());
    assert_eq!(listed_passkeys(&browser).await, ["Laptop"]);
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "the Passkeys page logged {errors:#?}");
}
