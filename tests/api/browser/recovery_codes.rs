//! Copy and Download of recovery codes, checked where they land: the clipboard's text and the
//! downloaded file's contents. The page's own script does the work; the browser only grants
//! the clipboard permission a person would grant.

use super::driver::Browser;
use super::{
    enter_code, enter_password, set_up_authenticator, shown_recovery_codes, sign_in, sign_out,
    sign_up,
};
use crate::helpers::{PASSWORD, TestApp};

/// What Copy must give: the codes as shown, one per line.
fn as_text(codes: &[String]) -> String {
    codes.iter().map(|c| format!("{c}\n")).collect()
}

/// What the downloaded file must hold: whose codes they are, then the codes.
fn as_file(codes: &[String]) -> String {
    format!(
        "Twofold recovery codes for ada@example.com (Acme). Each code works once.\n\n{}",
        as_text(codes)
    )
}

/// The downloaded file's name: it names the account.
const FILE: &str = "twofold-recovery-codes-ada@example.com.txt";

/// Clicks Copy and returns what the clipboard then holds.
async fn copy(browser: &Browser) -> String {
    browser.click_on("Copy").await;
    wait_for_status(browser, "Copied to the clipboard.").await;
    browser.clipboard_text().await
}

async fn wait_for_status(browser: &Browser, expected: &str) {
    let mut status = String::new();
    for _ in 0..50 {
        status = browser.text(".copy-status").await;
        if status == expected {
            return;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the page says {status:?}, not {expected:?}");
}

#[actix_rt::test]
async fn the_recovery_codes_can_be_copied_and_downloaded_exactly_as_shown() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.allow_clipboard(&app.address).await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (_, codes) = set_up_authenticator(&browser, "Turn on 2FA").await;

    assert_eq!(copy(&browser).await, as_text(&codes));

    browser.click_on("Download (.txt)").await;
    wait_for_status(&browser, &format!("Downloaded {FILE}.")).await;
    assert_eq!(browser.downloaded(FILE).await, as_file(&codes));
    // Print sits beside them, and the page says what the codes are not for.
    browser.button_or_link("Print").await;
    let note = browser.text("#not-everyday").await;
    assert!(note.starts_with("These are not everyday codes"), "{note}");
}

#[actix_rt::test]
async fn regenerated_recovery_codes_replace_the_old_ones_and_can_be_copied_and_downloaded() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    browser.allow_clipboard(&app.address).await;
    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (phone, old_codes) = set_up_authenticator(&browser, "Turn on 2FA").await;
    sign_in(&browser, &app, "ada@example.com", &phone).await;

    browser.click_on("Settings").await;
    browser.wait_for_path("/settings/security").await;
    browser
        .fill_in_within("#recovery", "Password", PASSWORD)
        .await;
    browser.click_on("Regenerate recovery codes").await;
    browser.wait_for("#recovery-codes").await;
    assert_eq!(browser.text("h1").await, "Your new recovery codes");
    let new_codes = shown_recovery_codes(&browser).await;
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));

    assert_eq!(copy(&browser).await, as_text(&new_codes));
    browser.click_on("Download (.txt)").await;
    wait_for_status(&browser, &format!("Downloaded {FILE}.")).await;
    assert_eq!(browser.downloaded(FILE).await, as_file(&new_codes));

    browser.click_on("Back to Security").await;
    browser.wait_for_path("/settings/security").await;
    sign_out(&browser).await;
    enter_password(&browser, &app, "ada@example.com").await;
    enter_code(&browser, &old_codes[0]).await;
    browser.wait_for("#code-error").await;
    enter_code(&browser, &new_codes[0]).await;
    browser.wait_for_path("/").await;
}
