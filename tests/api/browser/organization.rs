//! The owner's side of an organization, clicked through in two browsers at once: requiring
//! 2FA while a member is signed in, inviting someone who joins through the emailed link, and
//! emailing a member who lost phone and codes a fresh set of recovery codes.

use super::driver::Browser;
use super::{
    enter_code, enter_password, scan_and_confirm, set_up_authenticator, sign_in, sign_up,
    two_factor_badge, visit,
};
use crate::helpers::{PASSWORD, TestApp};

/// Ada signs up, turns on 2FA and signs in again: the owner, on the home page.
async fn owner_with_two_factor(browser: &Browser, app: &TestApp) {
    sign_up(browser, app, "Acme", "Ada Lovelace", "ada@example.com").await;
    let (phone, _) = set_up_authenticator(browser, "Turn on 2FA").await;
    sign_in(browser, app, "ada@example.com", &phone).await;
}

/// From the people table, the owner invites someone as a member; returns the link's path,
/// read from the email in the outbox.
async fn invite(owner: &Browser, app: &TestApp, name: &str, email: &str) -> String {
    visit(owner, app, "/settings/users").await;
    owner.fill_in_within("#invite", "Name", name).await;
    owner.fill_in_within("#invite", "Email", email).await;
    owner.click_on("Send invitation").await;
    owner.wait_for_path("/settings/users").await;
    owner.wait_for(".flash-success").await;
    let link = app.last_email_to(email).link("/invitations/");
    assert!(link.starts_with("/invitations/"), "{link}");
    link
}

/// A fresh browser opens the invitation link, chooses a password and joins.
async fn join(browser: &Browser, app: &TestApp, link: &str, name: &str) {
    visit(browser, app, link).await;
    assert_eq!(browser.text("h1").await, "Join Acme");
    browser.fill_in("Your name", name).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Join Acme").await;
    browser.wait_for_path("/login").await;
}

/// Signs in with email and password alone, clicking through the sign-in form.
async fn type_password(browser: &Browser, app: &TestApp, email: &str) {
    visit(browser, app, "/login").await;
    browser.fill_in("Email", email).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Sign in").await;
}

#[actix_rt::test]
async fn an_invited_person_joins_through_the_emailed_link_and_signs_in() {
    let app = TestApp::spawn().await;
    let owner = Browser::launch().await;
    owner_with_two_factor(&owner, &app).await;
    let link = invite(&owner, &app, "Bob Builder", "bob@example.com").await;
    assert!(owner.page_text().await.contains("bob@example.com"));

    let bob = Browser::launch().await;
    join(&bob, &app, &link, "Bob the Builder").await;
    type_password(&bob, &app, "bob@example.com").await;
    bob.wait_for_path("/").await;
    let heading = bob.text("h1").await;
    assert!(heading.contains("Bob the Builder"), "{heading}");
    assert_eq!(two_factor_badge(&bob).await, "Disabled");

    // The link worked once.
    visit(&bob, &app, &link).await;
    assert_ne!(bob.text("h1").await, "Join Acme");

    visit(&owner, &app, "/settings/users").await;
    let people = owner.text("table").await;
    assert!(people.contains("Bob the Builder"), "{people}");
}

#[actix_rt::test]
async fn requiring_two_factor_signs_out_a_member_who_then_sets_it_up_at_the_next_sign_in() {
    let app = TestApp::spawn().await;
    let owner = Browser::launch().await;
    owner_with_two_factor(&owner, &app).await;
    let link = invite(&owner, &app, "Bob Builder", "bob@example.com").await;
    let bob = Browser::launch().await;
    join(&bob, &app, &link, "Bob Builder").await;
    type_password(&bob, &app, "bob@example.com").await;
    bob.wait_for_path("/").await;

    visit(&owner, &app, "/settings/organization-security").await;
    assert_eq!(owner.text("#enforcement").await, "Optional");
    let warning = owner.text("#would-sign-out").await;
    assert!(warning.contains("bob@example.com"), "{warning}");
    let checkbox = owner.find("#enforce_two_factor").await;
    owner.click(&checkbox).await;
    // The page asks first, saying how many would be signed out; "Cancel" changes nothing.
    owner.click_on("Save").await;
    let question = owner.answer_dialog(false).await;
    assert!(
        question.contains("1 person without it will be signed out"),
        "{question}"
    );
    visit(&owner, &app, "/settings/organization-security").await;
    assert_eq!(owner.text("#enforcement").await, "Optional");
    let checkbox = owner.find("#enforce_two_factor").await;
    owner.click(&checkbox).await;
    owner.click_on("Save").await;
    owner.answer_dialog(true).await;
    owner.wait_for_path("/settings/organization-security").await;
    owner.wait_for_text("#enforcement", "Required").await;

    // Bob's open session ended: his next page load is at the sign-in page.
    visit(&bob, &app, "/settings/security").await;
    bob.wait_for_path("/login").await;
    type_password(&bob, &app, "bob@example.com").await;
    bob.wait_for_path("/settings/security/two-factor/setup")
        .await;
    bob.wait_for("#two-factor-required").await;
    bob.wait_for("#setup-key").await;
    // The page offers nothing that would only bring him back: no settings, no Cancel.
    assert!(
        bob.try_find(".sidebar").await.is_none(),
        "a sidebar is shown"
    );
    let offered = bob.page_text().await;
    for link in ["Settings", "Cancel", "Security", "Owner"] {
        assert!(!offered.contains(link), "{link} is offered:\n{offered}");
    }
    // Nothing else opens until 2FA is on: Bob is held at the QR code.
    visit(&bob, &app, "/").await;
    bob.wait_for_path("/settings/security/two-factor/setup")
        .await;
    bob.wait_for("#setup-key").await;
    let (phone, codes) = scan_and_confirm(&bob, "Turn on 2FA").await;
    assert_eq!(codes.len(), 5);

    sign_in(&bob, &app, "bob@example.com", &phone).await;
    assert_eq!(two_factor_badge(&bob).await, "Enabled");
    bob.click_on("Settings").await;
    bob.wait_for_path("/settings/security").await;
    assert_eq!(two_factor_badge(&bob).await, "Enabled");
}

#[actix_rt::test]
async fn a_member_signs_in_with_recovery_codes_the_owner_had_emailed_to_him() {
    let app = TestApp::spawn().await;
    let owner = Browser::launch().await;
    owner_with_two_factor(&owner, &app).await;
    let link = invite(&owner, &app, "Bob Builder", "bob@example.com").await;
    let bob = Browser::launch().await;
    join(&bob, &app, &link, "Bob Builder").await;
    type_password(&bob, &app, "bob@example.com").await;
    bob.wait_for_path("/").await;
    bob.click_on("Settings").await;
    let (_lost_phone, old_codes) = set_up_authenticator(&bob, "Turn on 2FA").await;

    // Bob lost phone and codes: the owner emails him new ones from the people table.
    visit(&owner, &app, "/settings/users").await;
    let id = app.user_id("bob@example.com");
    let manage = owner.find(&format!("tr[data-person='{id}'] summary")).await;
    owner.click(&manage).await;
    let button = owner
        .find(&format!(
            "tr[data-person='{id}'] form[action$='/recovery-codes'] button"
        ))
        .await;
    owner.click(&button).await;
    let question = owner.answer_dialog(true).await;
    assert!(
        question.starts_with("Email Bob Builder five new recovery codes?"),
        "{question}"
    );
    owner.wait_for_path("/settings/users").await;
    let flash = owner.text(".flash-success").await;
    assert!(flash.contains("emailed to Bob Builder"), "{flash}");
    let email = app.last_email_to("bob@example.com");
    assert_eq!(email.subject, "Your new recovery codes");
    let codes = email.recovery_codes();
    assert_eq!(codes.len(), 5, "{}", email.body);
    let owners_page = owner.page_text().await;
    for code in &codes {
        assert!(!owners_page.contains(code.as_str()), "the owner saw {code}");
    }

    enter_password(&bob, &app, "bob@example.com").await;
    enter_code(&bob, &old_codes[0]).await;
    bob.wait_for("#code-error").await;
    enter_code(&bob, &codes[0]).await;
    bob.wait_for_path("/").await;
    let heading = bob.text("h1").await;
    assert!(heading.contains("Bob Builder"), "{heading}");
}
