//! The account around 2FA, clicked through in Chromium: changing the password while signed
//! in elsewhere too, choosing a new one through the emailed link of "Forgot your password?",
//! and signing out other sessions from Settings › Sessions.

use serde_json::json;

use super::driver::Browser;
use super::{enter_code, set_up_authenticator, sign_up, two_factor_badge, visit};
use crate::helpers::{Client, PASSWORD, TestApp};

const NEW_PASSWORD: &str = "an entirely new passphrase";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Types email and password into the sign-in form and presses "Sign in".
async fn submit_sign_in(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    visit(browser, app, "/login").await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", password).await;
    browser.click_on("Sign in").await;
}

/// The sign-in form refuses a password, saying so.
async fn assert_password_refused(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    submit_sign_in(browser, app, email, password).await;
    browser
        .wait_for_text("#login-error", "Incorrect email or password.")
        .await;
    browser.wait_for_path("/login").await;
}

/// An HTTP client with this browser's User-Agent, signed in with [`PASSWORD`] (no 2FA).
async fn signed_in_client(app: &TestApp, user_agent: &str, email: &str) -> Client {
    let mut client = app.client();
    client.user_agent = user_agent.to_owned();
    client.sign_in(email, PASSWORD).await.assert_redirect("/");
    client
}

/// Whether this client's session still opens the home page (else it is sent to sign in).
async fn still_signed_in(client: &Client) -> bool {
    let res = client.get("/").await;
    match res.status.as_u16() {
        200 => true,
        303 => {
            assert_eq!(res.header("location").as_deref(), Some("/login"));
            false
        }
        other => panic!("home answered {other}"),
    }
}

/// A row of the sessions table as the page shows it.
#[derive(Debug)]
struct SessionRow {
    id: String,
    text: String,
    current: bool,
}

/// The rows of the sessions table: their id, their visible text, and whether the row is
/// marked as the current session.
async fn session_rows(browser: &Browser) -> Vec<SessionRow> {
    let rows = browser
        .execute(
            "return Array.prototype.map.call(
               document.querySelectorAll('#sessions tbody tr'),
               function (tr) {
                 return { id: tr.dataset.session, text: tr.innerText,
                          current: tr.getAttribute('aria-current') === 'true' };
               });",
            json!([]),
        )
        .await;
    rows.as_array()
        .expect("a list of rows")
        .iter()
        .map(|row| SessionRow {
            id: row["id"].as_str().unwrap_or_default().to_owned(),
            text: row["text"].as_str().unwrap_or_default().to_owned(),
            current: row["current"] == json!(true),
        })
        .collect()
}

/// The one row whose text contains `text`.
#[track_caller]
fn row_with<'a>(rows: &'a [SessionRow], text: &str) -> &'a SessionRow {
    let found: Vec<_> = rows.iter().filter(|r| r.text.contains(text)).collect();
    assert_eq!(found.len(), 1, "one row with {text:?} in {rows:#?}");
    found[0]
}

#[actix_rt::test]
async fn a_changed_password_keeps_this_browser_signed_in_and_signs_out_the_other() {
    let app = TestApp::spawn().await;
    let here = Browser::launch().await;
    sign_up(&here, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let there = Browser::launch().await;
    submit_sign_in(&there, &app, "ada@example.com", PASSWORD).await;
    there.wait_for_path("/").await;

    here.click_on("Password").await;
    here.wait_for_path("/settings/security/password").await;
    assert_eq!(here.text("h1").await, "Password");
    here.fill_in("Current password", PASSWORD).await;
    here.fill_in("New password", NEW_PASSWORD).await;
    here.click_on("Change password").await;
    here.wait_for_text(
        ".flash-success",
        "Your password is changed. Every other session of yours was signed out.",
    )
    .await;
    here.wait_for_path("/settings/security/password").await;

    // This browser goes on.
    visit(&here, &app, "/").await;
    here.wait_for_path("/").await;
    assert!(here.text("h1").await.contains("Welcome, Ada Lovelace"));

    // The other one is at the sign-in page at its next request.
    visit(&there, &app, "/settings/security").await;
    there.wait_for_path("/login").await;
    assert_password_refused(&there, &app, "ada@example.com", PASSWORD).await;
    submit_sign_in(&there, &app, "ada@example.com", NEW_PASSWORD).await;
    there.wait_for_path("/").await;
    assert!(there.text("h1").await.contains("Welcome, Ada Lovelace"));
}

#[actix_rt::test]
async fn a_forgotten_password_is_replaced_through_the_emailed_link_and_2fa_is_still_asked() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (phone, _) = set_up_authenticator(&browser, "Turn on 2FA").await;

    visit(&browser, &app, "/login").await;
    browser.click_on("Forgot your password?").await;
    browser.wait_for_path("/password/forgot").await;
    assert_eq!(browser.text("h1").await, "Forgot your password?");
    browser.fill_in("Email", "ada@example.com").await;
    browser.click_on("Email me a link").await;
    let sent = browser.wait_for("#reset-sent").await;
    let sent = browser.text_of(&sent).await;
    assert!(sent.contains("ada@example.com"), "{sent}");

    let email = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await;
    let link = email.link("/password/reset/");
    visit(&browser, &app, &link).await;
    assert_eq!(browser.text("h1").await, "Choose a new password");
    browser.fill_in("New password", NEW_PASSWORD).await;
    browser.click_on("Set new password").await;
    browser.wait_for_path("/login").await;
    let flash = browser.text(".flash-success").await;
    assert!(flash.contains("Your new password is set"), "{flash}");

    assert_password_refused(&browser, &app, "ada@example.com", PASSWORD).await;
    submit_sign_in(&browser, &app, "ada@example.com", NEW_PASSWORD).await;
    browser.wait_for_path("/login/two-factor").await;
    enter_code(&browser, &phone.code().await).await;
    browser.wait_for_path("/").await;
    assert_eq!(two_factor_badge(&browser).await, "Enabled");

    // The link worked once.
    visit(&browser, &app, &link).await;
    assert_eq!(browser.text("h1").await, "This link doesn't work");
}

#[actix_rt::test]
async fn the_sessions_page_lists_three_browsers_and_signs_out_one_then_all_the_others() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let firefox = signed_in_client(&app, FIREFOX, "ada@example.com").await;
    let iphone = signed_in_client(&app, IPHONE, "ada@example.com").await;

    browser.click_on("Sessions").await;
    browser.wait_for_path("/settings/security/sessions").await;
    let rows = session_rows(&browser).await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let current: Vec<_> = rows.iter().filter(|r| r.current).collect();
    assert_eq!(current.len(), 1, "one row is this session: {rows:#?}");
    assert!(
        current[0].text.contains("Headless Chrome") && current[0].text.contains("This session"),
        "{rows:#?}"
    );
    let in_firefox = row_with(&rows, "Firefox 128 on Linux");
    row_with(&rows, "Safari 17 on iPhone");
    assert!(!in_firefox.current);

    let sign_out = browser
        .find(&format!("tr[data-session='{}'] button", in_firefox.id))
        .await;
    browser.click(&sign_out).await;
    let question = browser.answer_dialog(true).await;
    assert!(
        question.starts_with("Sign out the session in Firefox 128 on Linux at "),
        "{question}"
    );
    browser
        .wait_for_text(".flash-success", "That session is signed out.")
        .await;
    let rows = session_rows(&browser).await;
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(
        rows.iter().all(|r| !r.text.contains("Firefox")),
        "{rows:#?}"
    );
    assert!(!still_signed_in(&firefox).await, "Firefox was signed out");
    assert!(still_signed_in(&iphone).await, "the iPhone was not");

    browser.click_on("Sign out all other sessions").await;
    let question = browser.answer_dialog(true).await;
    assert_eq!(question, "Sign out all your other sessions?");
    browser
        .wait_for_text(".flash-success", "Your 1 other session is signed out.")
        .await;
    let rows = session_rows(&browser).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(rows[0].current, "{rows:#?}");
    assert!(!still_signed_in(&iphone).await, "the iPhone was signed out");
    assert!(
        browser
            .try_find("form[action$='/revoke-others']")
            .await
            .is_none(),
        "nothing is left to sign out"
    );

    visit(&browser, &app, "/").await;
    browser.wait_for_path("/").await;
}
