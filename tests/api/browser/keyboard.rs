//! The whole way from sign-up through 2FA setup to signing in with a code, then changing the
//! password, with the keyboard alone: Tab to move, typing, Enter to follow a link or submit.
//! No clicks. Every stop of the focus must be visible.

use super::driver::{Browser, keys};
use super::phone::Phone;
use super::{shown_recovery_codes, two_factor_badge, visit};
use crate::helpers::{PASSWORD, TestApp};

const NEW_PASSWORD: &str = "an entirely new passphrase";

/// More Tab presses than any page has stops.
const MAX_TABS: usize = 40;

/// Presses Tab until the focus is on an element matching `css`. Each element the focus
/// passes must show it has the focus.
async fn tab_to(browser: &Browser, css: &str) {
    for _ in 0..MAX_TABS {
        browser.press(&[keys::TAB]).await;
        let here = browser.focused().await;
        if here != "nothing" {
            assert!(
                browser.focus_is_visible().await,
                "the focus on {here} is not visible on {}",
                browser.path().await
            );
        }
        if browser.focus_is_on(css).await {
            return;
        }
    }
    panic!(
        "Tab never reaches {css} on {} ({MAX_TABS} presses)",
        browser.path().await
    );
}

/// Tabs to a field and types into it.
async fn tab_and_type(browser: &Browser, css: &str, text: &str) {
    tab_to(browser, css).await;
    browser.type_text(text).await;
}

#[actix_rt::test]
async fn two_factor_setup_sign_in_and_a_new_password_can_be_done_with_the_keyboard_alone() {
    // Re-authentication is always due, so the password form asks for a code too.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 0).await;
    let browser = Browser::launch().await;

    visit(&browser, &app, "/signup").await;
    tab_and_type(&browser, "#organization", "Acme").await;
    tab_and_type(&browser, "#name", "Ada Lovelace").await;
    tab_and_type(&browser, "#email", "ada@example.com").await;
    tab_and_type(&browser, "#password", PASSWORD).await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for_path("/settings/security").await;

    tab_to(
        &browser,
        "form[action='/settings/security/two-factor/setup'] button",
    )
    .await;
    browser.press(&[keys::ENTER]).await;
    browser
        .wait_for_path("/settings/security/two-factor/setup")
        .await;
    let phone = Phone::scan(&browser.screenshot().await);

    tab_to(&browser, "a[href='/settings/security/two-factor/confirm']").await;
    browser.press(&[keys::ENTER]).await;
    browser
        .wait_for_path("/settings/security/two-factor/confirm")
        .await;
    // The code field has the focus on arrival; the password comes first in the form.
    assert!(browser.focus_is_on("#code").await);
    browser.press_shift_tab().await;
    assert!(browser.focus_is_on("#password").await);
    browser.type_text(PASSWORD).await;
    tab_and_type(&browser, "#code", &phone.code().await).await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for("#recovery-codes").await;
    shown_recovery_codes(&browser).await;

    tab_to(&browser, "a[href='/login']").await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for_path("/login").await;
    assert!(
        browser.focus_is_on("#email").await,
        "the email field has the focus"
    );
    browser.type_text("ada@example.com").await;
    tab_and_type(&browser, "#password", PASSWORD).await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for_path("/login/two-factor").await;
    assert!(
        browser.focus_is_on("#code").await,
        "the code field has the focus"
    );
    browser.type_text(&phone.code().await).await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for_path("/").await;
    assert_eq!(two_factor_badge(&browser).await, "Enabled");

    // From the home page to Settings › Password, and a new password with the current one and
    // a code.
    tab_to(&browser, "main a[href='/settings/security/password']").await;
    browser.press(&[keys::ENTER]).await;
    browser.wait_for_path("/settings/security/password").await;
    tab_and_type(&browser, "#current_password", PASSWORD).await;
    tab_and_type(&browser, "#new_password", NEW_PASSWORD).await;
    tab_and_type(&browser, "#password-code", &phone.code().await).await;
    browser.press(&[keys::ENTER]).await;
    browser
        .wait_for_text(
            ".flash-success",
            "Your password is changed. Every other session of yours was signed out.",
        )
        .await;
    browser.wait_for_path("/settings/security/password").await;

    let someone = app.client();
    someone
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(401);
    someone
        .sign_in("ada@example.com", NEW_PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
}
