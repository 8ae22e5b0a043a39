//! The flows of SPEC, clicked through in Chromium: sign-up, turning on 2FA with a phone that
//! scans the QR code, signing in with a code and with a recovery code, a new phone, turning
//! 2FA off.

use super::driver::Browser;
use super::{
    enter_code, enter_password, set_up_authenticator, sign_in, sign_out, sign_up, two_factor_badge,
    visit,
};
use crate::helpers::TestApp;

/// A code that is surely not the one the phone shows: its last digit changed.
fn wrong(code: &str) -> String {
    let (head, last) = code.split_at(code.len() - 1);
    let digit = last.parse::<u8>().expect("a digit");
    format!("{head}{}", (digit + 1) % 10)
}

#[actix_rt::test]
async fn a_person_signs_up_and_turns_on_two_factor_by_scanning_the_qr_code() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;

    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    assert_eq!(two_factor_badge(&browser).await, "Disabled");

    let (phone, codes) = set_up_authenticator(&browser, "Turn on 2FA").await;
    assert_eq!(
        phone.account.uri,
        format!(
            "otpauth://totp/Twofold:ada@example.com?secret={}&issuer=Twofold&algorithm=SHA1&digits=6&period=30",
            phone.account.secret
        )
    );
    assert_eq!(phone.account.issuer, "Twofold");
    assert_eq!(phone.account.account, "ada@example.com");
    assert_eq!(codes.len(), 5);
    let page = browser.page_text().await;
    assert!(page.contains("Two-factor authentication is on"), "{page}");
    assert!(page.contains("signed out on all devices"), "{page}");

    // Turning 2FA on ended this session too.
    visit(&browser, &app, "/").await;
    browser.wait_for_path("/login").await;

    enter_password(&browser, &app, "ada@example.com").await;
    let code = phone.code().await;
    enter_code(&browser, &wrong(&code)).await;
    let error = browser.wait_for("#code-error").await;
    assert!(
        browser.text_of(&error).await.contains("didn't match"),
        "a wrong code is refused with a clear message"
    );
    browser.wait_for_path("/login/two-factor").await;
    enter_code(&browser, &code).await;
    browser.wait_for_path("/").await;
    assert!(browser.text("h1").await.contains("Welcome, Ada Lovelace"));
    assert_eq!(two_factor_badge(&browser).await, "Enabled");

    browser.click_on("Settings").await;
    browser.wait_for_path("/settings/security").await;
    assert_eq!(two_factor_badge(&browser).await, "Enabled");
    assert_eq!(browser.text("#codes-left").await, "5");
}

#[actix_rt::test]
async fn a_person_signs_in_with_a_recovery_code_which_then_works_no_more() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (_phone, codes) = set_up_authenticator(&browser, "Turn on 2FA").await;

    enter_password(&browser, &app, "ada@example.com").await;
    enter_code(&browser, &codes[0]).await;
    browser.wait_for_path("/").await;
    let callout = browser.text(".callout-warning").await;
    assert!(
        callout.contains("Set up your new authenticator app"),
        "{callout}"
    );
    assert!(browser.text(".flash").await.contains("4 unused codes"));
    browser.click_on("Go to Settings › Security").await;
    browser.wait_for_path("/settings/security").await;
    assert_eq!(browser.text("#codes-left").await, "4");

    sign_out(&browser).await;
    enter_password(&browser, &app, "ada@example.com").await;
    enter_code(&browser, &codes[0]).await;
    let error = browser.wait_for("#code-error").await;
    assert!(!browser.text_of(&error).await.is_empty());
    browser.wait_for_path("/login/two-factor").await;

    // Recovery codes are matched without regard to case or dashes.
    let typed_loosely = codes[1].to_uppercase().replace('-', " ");
    enter_code(&browser, &typed_loosely).await;
    browser.wait_for_path("/").await;
}

#[actix_rt::test]
async fn a_person_moves_two_factor_to_a_new_phone_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (old_phone, _) = set_up_authenticator(&browser, "Turn on 2FA").await;
    sign_in(&browser, &app, "ada@example.com", &old_phone).await;

    browser.click_on("Settings").await;
    let (new_phone, _) = set_up_authenticator(&browser, "Set up a new authenticator app").await;
    assert_ne!(new_phone.account.secret, old_phone.account.secret);
    assert!(
        browser
            .text("h1")
            .await
            .contains("Your new authenticator app is set up")
    );

    enter_password(&browser, &app, "ada@example.com").await;
    // Both phones show a code for the same moment: only the new one's is accepted.
    let step = new_phone.next_step();
    enter_code(&browser, &old_phone.code_at(step)).await;
    browser.wait_for("#code-error").await;
    enter_code(&browser, &new_phone.code().await).await;
    browser.wait_for_path("/").await;
    assert_eq!(two_factor_badge(&browser).await, "Enabled");
}

#[actix_rt::test]
async fn a_person_turns_two_factor_off_and_then_signs_in_with_the_password_alone() {
    // Re-authentication asks every time: the form wants a current code besides the password.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let browser = Browser::launch().await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (phone, _) = set_up_authenticator(&browser, "Turn on 2FA").await;
    sign_in(&browser, &app, "ada@example.com", &phone).await;

    browser.click_on("Settings").await;
    browser.wait_for_path("/settings/security").await;
    browser
        .fill_in_within("#disable", "Password", crate::helpers::PASSWORD)
        .await;
    let code = phone.code().await;
    browser
        .fill_in_within("#disable", "Authentication code", &code)
        .await;
    browser.click_on("Turn off 2FA").await;
    browser.wait_for(".flash-success").await;
    assert!(
        browser
            .text(".flash-success")
            .await
            .contains("Two-factor authentication is off")
    );
    assert_eq!(two_factor_badge(&browser).await, "Disabled");
    browser.button_or_link("Turn on 2FA").await;

    sign_out(&browser).await;
    visit(&browser, &app, "/login").await;
    browser.fill_in("Email", "ada@example.com").await;
    browser.fill_in("Password", crate::helpers::PASSWORD).await;
    browser.click_on("Sign in").await;
    browser.wait_for_path("/").await;
    assert_eq!(two_factor_badge(&browser).await, "Disabled");
}
