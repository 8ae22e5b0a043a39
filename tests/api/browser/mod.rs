//! Twofold in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by `.ci/test`) driven over WebDriver through the flows of SPEC, the way people
//! use them: typing into labelled fields, clicking buttons, pressing keys.
//!
//! - `flows`: sign-up; turning on 2FA by scanning the QR code from a screenshot with a phone
//!   whose codes come from `oathtool`; signing in with a code and with a recovery code; a new
//!   phone; turning 2FA off.
//! - `recovery_codes`: Copy (the clipboard's text) and Download (the `.txt` file's contents).
//! - `keyboard`: 2FA setup, sign-in and changing the password with the keyboard alone.
//! - `tour`: every page at 1280 and 375 px wide, checked by axe-core and photographed for the
//!   gallery in `docs/screenshots/`.
//!
//! - `organization`: the owner's side: requiring 2FA while a member is signed in, inviting
//!   someone who joins through the emailed link, emailing a member new recovery codes.
//! - `account`: changing the password while signed in elsewhere, a forgotten password
//!   replaced through the emailed link, signing out other sessions from Settings › Sessions.
//! - `passkeys`: with a virtual authenticator, at `http://localhost:PORT` (WebAuthn refuses
//!   IP addresses): a first passkey that turns 2FA on, signing in with password and passkey
//!   and with the passkey alone, a second passkey, renaming, an organization's requirement met
//!   by a passkey only, removing the last one, an authenticator gone, the re-authentication
//!   gate.
//!
//! Emails are read from the app's outbox (`.eml` files), where the person would find them.
//!
//! Every test starts its own app, chromedriver and Chromium, so tests run in parallel and a
//! failing one leaves nothing behind. A missing browser fails the test: the test command
//! installs it.

mod axe;
mod driver;
mod phone;

mod account;
mod flows;
mod keyboard;
mod organization;
mod passkeys;
mod recovery_codes;
mod tour;

use crate::helpers::{PASSWORD, TestApp};
use driver::Browser;
use phone::Phone;

/// Opens a path of the app.
async fn visit(browser: &Browser, app: &TestApp, path: &str) {
    browser.goto(&format!("{}{path}", app.address)).await;
}

/// Creates an organization through the sign-up page; the new owner lands on Settings ›
/// Security, signed in.
async fn sign_up(browser: &Browser, app: &TestApp, organization: &str, name: &str, email: &str) {
    visit(browser, app, "/signup").await;
    browser.fill_in("Organization name", organization).await;
    browser.fill_in("Your name", name).await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Create organization").await;
    browser.wait_for_path("/settings/security").await;
}

/// From Settings › Security: "Turn on 2FA" (or "Set up a new authenticator app"), scan the
/// QR code from a screenshot, check that the key shown for typing in is the same secret,
/// Next, password and the phone's code. Returns the phone and the recovery codes shown.
async fn set_up_authenticator(browser: &Browser, button: &str) -> (Phone, Vec<String>) {
    browser.wait_for_path("/settings/security").await;
    browser.click_on(button).await;
    let confirm = if button == "Turn on 2FA" {
        "Turn on 2FA"
    } else {
        "Switch to the new app"
    };
    scan_and_confirm(browser, confirm).await
}

/// On the 2FA setup page: scans the QR code from a screenshot, checks the key shown for
/// typing in, Next, password, the phone's code and `confirm`. Returns the phone and the
/// recovery codes shown.
async fn scan_and_confirm(browser: &Browser, confirm: &str) -> (Phone, Vec<String>) {
    browser
        .wait_for_path("/settings/security/two-factor/setup")
        .await;
    let phone = Phone::scan(&browser.screenshot().await);
    let typed_key: String = browser
        .text("#setup-key")
        .await
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(
        typed_key, phone.account.secret,
        "the key to type in is the QR code's secret"
    );

    browser.click_on("Next").await;
    browser
        .wait_for_path("/settings/security/two-factor/confirm")
        .await;
    browser.fill_in("Password", PASSWORD).await;
    let code = phone.code().await;
    browser.fill_in("Authentication code", &code).await;
    browser.click_on(confirm).await;
    browser.wait_for("#recovery-codes").await;
    let codes = shown_recovery_codes(browser).await;
    (phone, codes)
}

/// The recovery codes listed on the page, one per `<code>` in `#recovery-codes`.
async fn shown_recovery_codes(browser: &Browser) -> Vec<String> {
    let mut codes = Vec::new();
    for element in browser.find_all("#recovery-codes code").await {
        codes.push(browser.text_of(&element).await);
    }
    assert_eq!(codes.len(), 5, "five recovery codes are shown");
    for code in &codes {
        let (left, right) = code.split_once('-').expect("xxxxx-xxxxx");
        assert!(
            left.len() == 5 && right.len() == 5,
            "a code reads xxxxx-xxxxx: {code}"
        );
    }
    codes
}

/// Signs in with email and password; someone with 2FA arrives at the two-factor step.
async fn enter_password(browser: &Browser, app: &TestApp, email: &str) {
    visit(browser, app, "/login").await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Sign in").await;
    browser.wait_for_path("/login/two-factor").await;
}

/// Types a code (or a recovery code) at the two-factor step and verifies it.
async fn enter_code(browser: &Browser, code: &str) {
    browser.fill_in("Authentication code", code).await;
    browser.click_on("Verify").await;
}

/// Signs in with password and a fresh code from the phone; lands on the home page.
async fn sign_in(browser: &Browser, app: &TestApp, email: &str, phone: &Phone) {
    enter_password(browser, app, email).await;
    enter_code(browser, &phone.code().await).await;
    browser.wait_for_path("/").await;
}

/// Clicks "Sign out" in the top bar.
async fn sign_out(browser: &Browser) {
    browser.click_on("Sign out").await;
    browser.wait_for_path("/login?signed_out=1").await;
}

/// The text of the 2FA status badge on the page.
async fn two_factor_badge(browser: &Browser) -> String {
    browser.text(".badge").await
}
