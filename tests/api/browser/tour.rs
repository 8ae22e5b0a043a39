//! A tour of every page: each one is checked by axe-core at 1280 and 375 px wide, must log no
//! script error or CSP violation, and the gallery's pages are photographed whole at both
//! widths. The photographs go to `$TWOFOLD_SCREENSHOTS_DIR` (`.ci/screenshots` sets it to
//! `docs/screenshots/`), else to a folder under `target/`.
//!
//! A new page joins by a `tour.check(…)` where the tour reaches it, or, for the gallery, an
//! entry in [`GALLERY`] and a `tour.photograph(…)`; then `.ci/screenshots` and a row in the
//! README's gallery. The people table, Organization Security and the audit log are in the gallery;
//! the invitation and "this wasn't me" links are checked. So are Settings › Password and
//! Sessions, the hand-over form of Settings › Owner, the deactivated people, and the pages of
//! a forgotten password.

use std::io::Write;
use std::path::PathBuf;

use super::axe::{self, Report};
use super::driver::{Browser, DESKTOP, PHONE};
use super::phone::Phone;
use super::{enter_code, enter_password, sign_up, visit};
use crate::helpers::{PASSWORD, TestApp};

/// The gallery: the file name stem of each page's screenshots and what the page is. The
/// README shows them in this order; `{stem}-1280.png` and `{stem}-375.png` each.
pub const GALLERY: &[(&str, &str)] = &[
    ("sign-up", "Create an organization"),
    ("sign-in", "Sign in"),
    ("forgot-password", "Forgot your password?"),
    (
        "reset-password",
        "Choose a new password, from the emailed link",
    ),
    ("two-factor", "Sign in: the two-factor step"),
    (
        "two-factor-passkey",
        "Sign in: the two-factor step of someone with passkeys",
    ),
    ("home", "Home"),
    (
        "home-after-recovery-code",
        "Home after a sign-in with a recovery code",
    ),
    ("security-off", "Settings › Security, 2FA off"),
    ("setup", "Turning on 2FA: the QR code and the setup key"),
    ("confirm", "Turning on 2FA: password and code"),
    (
        "recovery-codes",
        "Recovery codes, shown once, with Copy and Download",
    ),
    ("security", "Settings › Security, 2FA on"),
    (
        "passkeys",
        "Settings › Passkeys: two passkeys, and the form to add one",
    ),
    ("password", "Settings › Password"),
    (
        "sessions",
        "Settings › Sessions: where you are signed in, this session marked",
    ),
    (
        "owner",
        "Settings › Owner, with the form to hand the ownership over to an admin",
    ),
    (
        "people",
        "Settings › Users: the people table with its 2FA column, and the invitation form",
    ),
    (
        "owner-sends-codes",
        "Settings › Users: the owner has emailed someone new recovery codes",
    ),
    (
        "people-deactivated",
        "Settings › Users: the deactivated people, one with its Reactivate button",
    ),
    (
        "organization-security",
        "Settings › Organization Security: requiring 2FA",
    ),
    ("audit-log", "Settings › Audit log"),
    (
        "enforced-setup",
        "Turning on 2FA when the organization requires it",
    ),
];

/// The widths every page is checked and photographed at.
const WIDTHS: [u32; 2] = [DESKTOP, PHONE];

fn screenshots_dir() -> PathBuf {
    std::env::var_os("TWOFOLD_SCREENSHOTS_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"),
        PathBuf::from,
    )
}

/// What the tour found on one page at one width.
struct Checked {
    page: &'static str,
    width: u32,
    report: Report,
}

/// Checks pages, photographs the gallery's, and reports.
struct Tour<'a> {
    browser: &'a Browser,
    dir: PathBuf,
    checked: Vec<Checked>,
    photographed: Vec<&'static str>,
}

impl<'a> Tour<'a> {
    fn new(browser: &'a Browser) -> Self {
        let dir = screenshots_dir();
        std::fs::create_dir_all(&dir).expect("screenshots folder");
        Self {
            browser,
            dir,
            checked: Vec::new(),
            photographed: Vec::new(),
        }
    }

    /// Runs axe-core on the page at both widths and checks the browser's log.
    async fn check(&mut self, page: &'static str) {
        self.at_both_widths(page, false).await;
    }

    /// Checks the page, and photographs it whole at both widths for the gallery.
    async fn photograph(&mut self, page: &'static str) {
        assert!(
            GALLERY.iter().any(|(stem, _)| *stem == page),
            "{page} is in GALLERY"
        );
        self.at_both_widths(page, true).await;
        self.photographed.push(page);
    }

    async fn at_both_widths(&mut self, page: &'static str, photograph: bool) {
        let browser = self.browser;
        let url = browser.url().await;
        let errors: Vec<String> = browser
            .console_errors()
            .await
            .into_iter()
            // An error page's own status (404, 401…) is logged too; that is not a fault.
            .filter(|e| !e.starts_with(&format!("{url} - Failed to load resource")))
            .collect();
        assert!(
            errors.is_empty(),
            "{page}: the browser logged errors: {errors:#?}"
        );
        for width in WIDTHS {
            browser.set_width(width).await;
            let report = axe::check(browser).await;
            if photograph {
                let png = browser.full_page_screenshot().await;
                let path = self.dir.join(format!("{page}-{width}.png"));
                std::fs::write(&path, png).expect("write the screenshot");
            }
            self.checked.push(Checked {
                page,
                width,
                report,
            });
        }
        browser.set_width(DESKTOP).await;
    }

    /// Writes the accessibility report to the test output, and fails on any serious or
    /// critical violation.
    fn finish(self) {
        let blocking: usize = self.checked.iter().map(|c| c.report.blocking().len()).sum();
        let all: usize = self.checked.iter().map(|c| c.report.violations.len()).sum();
        let mut out = format!(
            "\naxe-core {} on {} pages at {} and {} px ({} checks): \
             {blocking} serious or critical violations, {all} in all\n",
            axe::version(),
            self.checked.len() / WIDTHS.len(),
            WIDTHS[0],
            WIDTHS[1],
            self.checked.len(),
        );
        for c in &self.checked {
            out.push_str(&format!(
                "  {:<22} {:>4} px  {} violations, {} rules passed, {} to review by hand\n",
                c.page,
                c.width,
                c.report.violations.len(),
                c.report.passes,
                c.report.incomplete
            ));
            if !c.report.violations.is_empty() {
                out.push_str(&c.report.describe());
                out.push('\n');
            }
        }
        out.push_str(&format!(
            "screenshots of {} pages at both widths in {}\n",
            self.photographed.len(),
            self.dir.display()
        ));
        // Straight to the process's output, past the test harness's capture: the report is
        // meant to be read in the output of a passing run.
        let _ = std::io::stdout().lock().write_all(out.as_bytes());
        assert_eq!(
            blocking, 0,
            "serious or critical accessibility violations:\n{out}"
        );
        let missing: Vec<_> = GALLERY
            .iter()
            .filter(|(stem, _)| !self.photographed.contains(stem))
            .collect();
        assert!(
            missing.is_empty(),
            "the tour did not photograph {missing:?}"
        );
    }
}

#[actix_rt::test]
async fn every_page_passes_the_accessibility_check_at_both_widths_and_is_photographed() {
    let app = TestApp::spawn().await;
    let browser = Browser::launch().await;
    let mut tour = Tour::new(&browser);

    visit(&browser, &app, "/signup").await;
    tour.photograph("sign-up").await;
    browser.click_on("Create organization").await;
    browser.wait_for(".field-error").await;
    tour.check("sign-up with errors").await;

    visit(&browser, &app, "/login").await;
    tour.photograph("sign-in").await;
    browser.fill_in("Email", "nobody@example.com").await;
    browser.fill_in("Password", "not the password").await;
    browser.click_on("Sign in").await;
    browser.wait_for(".form-error").await;
    tour.check("sign-in refused").await;

    sign_up(&browser, &app, "Acme", "Ada Lovelace", "ada@example.com").await;
    tour.photograph("security-off").await;

    browser.click_on("Turn on 2FA").await;
    browser
        .wait_for_path("/settings/security/two-factor/setup")
        .await;
    tour.photograph("setup").await;
    let phone = Phone::scan(&browser.screenshot().await);

    browser.click_on("Next").await;
    browser
        .wait_for_path("/settings/security/two-factor/confirm")
        .await;
    tour.photograph("confirm").await;
    browser.fill_in("Password", "not the password").await;
    browser.fill_in("Authentication code", "12345").await;
    browser.click_on("Turn on 2FA").await;
    browser.wait_for(".field-error").await;
    tour.check("confirm refused").await;

    browser.fill_in("Password", PASSWORD).await;
    browser
        .fill_in("Authentication code", &phone.code().await)
        .await;
    browser.click_on("Turn on 2FA").await;
    browser.wait_for("#recovery-codes").await;
    tour.photograph("recovery-codes").await;
    let first_code = browser.text("#recovery-codes code").await;

    enter_password(&browser, &app, "ada@example.com").await;
    tour.photograph("two-factor").await;
    enter_code(&browser, "000000").await;
    browser.wait_for("#code-error").await;
    tour.check("two-factor refused").await;
    enter_code(&browser, &phone.code().await).await;
    browser.wait_for_path("/").await;
    tour.photograph("home").await;

    browser.click_on("Settings").await;
    browser.wait_for_path("/settings/security").await;
    tour.photograph("security").await;
    browser
        .fill_in_within("#recovery", "Password", "not the password")
        .await;
    browser.click_on("Regenerate recovery codes").await;
    browser.wait_for("#regenerate-error").await;
    tour.check("security refused").await;

    browser.click_on("Password").await;
    browser.wait_for_path("/settings/security/password").await;
    tour.photograph("password").await;
    browser
        .fill_in("Current password", "not the password")
        .await;
    browser.fill_in("New password", "short").await;
    browser.click_on("Change password").await;
    browser.wait_for(".field-error").await;
    tour.check("password refused").await;

    browser.click_on("Sessions").await;
    browser.wait_for_path("/settings/security/sessions").await;
    tour.photograph("sessions").await;

    // Two passkeys, as rows (the browser suite's passkey tests make real ones): the list, and
    // later the two-factor step's passkey button.
    let ada = app.user_id("ada@example.com");
    app.execute(&format!(
        "INSERT INTO passkeys (user_id, credential_id, name, credential, sign_count, created_at, \
         last_used_at) VALUES \
         ({ada}, 'tour-1', 'MacBook Touch ID', '{{}}', 3, 1764560000, 1764570000), \
         ({ada}, 'tour-2', 'YubiKey 5C', '{{}}', 0, 1764565000, NULL)"
    ));
    app.execute(&format!(
        "UPDATE users SET passkey_count = 2 WHERE id = {ada}"
    ));
    browser.click_on("Passkeys").await;
    browser.wait_for_path("/settings/security/passkeys").await;
    browser.wait_for("#passkeys").await;
    tour.photograph("passkeys").await;

    // The admin pages: the owner invites someone, then opens the people table, the
    // organization's security and the audit log; the invitee's and "this wasn't me" links.
    browser.click_on("Users").await;
    browser.wait_for_path("/settings/users").await;
    tour.check("users").await;
    // A table with several people, three of them with 2FA on who have signed in before.
    let organization_id = app.count("SELECT id FROM organizations");
    app.add_people(organization_id, 7);
    let sealed = if app.sqlite_path().is_some() {
        "X'00'"
    } else {
        "'\\x00'::bytea"
    };
    app.execute(&format!(
        "UPDATE users SET totp_secret = {sealed}, last_sign_in_at = 1764560000 \
         WHERE email IN ('person0001@example.com', 'person0002@example.com', \
         'person0004@example.com')"
    ));
    browser
        .fill_in_within("#invite", "Name", "Bob Builder")
        .await;
    browser
        .fill_in_within("#invite", "Email", "bob@example.com")
        .await;
    browser.click_on("Send invitation").await;
    browser.wait_for("#invitations").await;
    tour.photograph("people").await;
    let person = app.user_id("person0001@example.com");
    let manage = browser
        .find(&format!("tr[data-person='{person}'] summary"))
        .await;
    browser.click(&manage).await;
    let button = browser
        .find(&format!(
            "tr[data-person='{person}'] form[action$='/recovery-codes'] button"
        ))
        .await;
    browser.click(&button).await;
    browser.answer_dialog(true).await;
    browser.wait_for(".flash-success").await;
    tour.photograph("owner-sends-codes").await;
    // Two of them leave; one is an admin who could become the owner.
    app.execute(
        "UPDATE users SET deactivated_at = 1764570000 \
         WHERE email IN ('person0003@example.com', 'person0005@example.com')",
    );
    app.execute("UPDATE users SET role = 'admin' WHERE email = 'person0002@example.com'");
    visit(&browser, &app, "/settings/users?status=deactivated").await;
    browser
        .wait_for_text("#showing", "Showing 1–2 of 2 deactivated people.")
        .await;
    let person = app.user_id("person0003@example.com");
    let manage = browser
        .find(&format!("tr[data-person='{person}'] summary"))
        .await;
    browser.click(&manage).await;
    browser
        .find(&format!(
            "tr[data-person='{person}'] form[action$='/reactivate'] button"
        ))
        .await;
    tour.photograph("people-deactivated").await;
    browser.click_on("Owner").await;
    browser.wait_for_path("/settings/owner").await;
    browser.wait_for("#new_owner").await;
    tour.photograph("owner").await;
    browser.click_on("Organization Security").await;
    browser
        .wait_for_path("/settings/organization-security")
        .await;
    tour.photograph("organization-security").await;
    browser.click_on("Audit log").await;
    browser.wait_for_path("/settings/audit-log").await;
    tour.photograph("audit-log").await;
    let invitation = app.last_email_to("bob@example.com").link("/invitations/");
    visit(&browser, &app, &invitation).await;
    browser.wait_for("#invited-email").await;
    tour.check("invitation").await;
    let not_me = app
        .last_email_to("ada@example.com")
        .link("/account/not-me/");
    visit(&browser, &app, &not_me).await;
    browser.wait_for("form[action^=\"/account/not-me/\"]").await;
    tour.check("this wasn't me").await;

    visit(&browser, &app, "/no-such-page").await;
    browser.wait_for(".status-code").await;
    tour.check("not found").await;

    browser.click_on("Go to the home page").await;
    browser.wait_for_path("/").await;
    browser.click_on("Sign out").await;
    browser.wait_for_path("/login?signed_out=1").await;
    tour.check("signed out").await;

    browser.click_on("Forgot your password?").await;
    browser.wait_for_path("/password/forgot").await;
    tour.photograph("forgot-password").await;
    browser.fill_in("Email", "ada@example.com").await;
    browser.click_on("Email me a link").await;
    browser.wait_for("#reset-sent").await;
    tour.check("reset link sent").await;
    let reset = app
        .wait_for_email("ada@example.com", "Choose a new password")
        .await
        .link("/password/reset/");
    visit(&browser, &app, &reset).await;
    browser.wait_for("#new_password").await;
    tour.photograph("reset-password").await;

    enter_password(&browser, &app, "ada@example.com").await;
    browser.wait_for("#use-passkey").await;
    tour.photograph("two-factor-passkey").await;
    enter_code(&browser, &first_code).await;
    browser.wait_for_path("/").await;
    tour.photograph("home-after-recovery-code").await;

    // The owner requires 2FA (the page asks first); Bob joins through his invitation and,
    // at his first sign-in, is held on the setup page.
    visit(&browser, &app, "/settings/organization-security").await;
    let checkbox = browser.find("#enforce_two_factor").await;
    browser.click(&checkbox).await;
    browser.click_on("Save").await;
    browser.answer_dialog(true).await;
    browser.wait_for_text("#enforcement", "Required").await;
    visit(&browser, &app, &invitation).await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Join Acme").await;
    browser.wait_for_path("/login").await;
    browser.fill_in("Email", "bob@example.com").await;
    browser.fill_in("Password", PASSWORD).await;
    browser.click_on("Sign in").await;
    browser
        .wait_for_path("/settings/security/two-factor/setup")
        .await;
    browser.wait_for("#two-factor-required").await;
    tour.photograph("enforced-setup").await;

    // The two-factor step ends after a while: moved past its end in the database (not by
    // waiting, which a busy machine can outlast before the page even opens).
    let other = TestApp::spawn().await;
    let (_, device, _) = other.owner_with_two_factor("ada@example.com").await;
    enter_password(&browser, &other, "ada@example.com").await;
    other.execute("UPDATE pending_sign_ins SET expires_at = 0");
    enter_code(&browser, &device.code().await).await;
    browser.wait_for_text("h1", "Your sign-in expired").await;
    tour.check("sign-in expired").await;

    tour.finish();
}

#[test]
fn the_readme_shows_every_page_of_the_gallery_at_both_widths() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let mut expected = Vec::new();
    for (stem, _) in GALLERY {
        for width in WIDTHS {
            let file = format!("docs/screenshots/{stem}-{width}.png");
            assert!(
                root.join(&file).exists(),
                "{file} is missing: run .ci/screenshots"
            );
            assert!(readme.contains(&file), "README.md shows {file}");
            expected.push(format!("{stem}-{width}.png"));
        }
    }
    let stray: Vec<String> = std::fs::read_dir(root.join("docs/screenshots"))
        .expect("docs/screenshots")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !expected.contains(name))
        .collect();
    assert!(
        stray.is_empty(),
        "pictures of no page in GALLERY: {stray:?}"
    );
}
