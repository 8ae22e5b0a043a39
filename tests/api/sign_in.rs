//! Signing in with a password and with a second factor.

use std::process::Command;

use crate::helpers::{Authenticator, PASSWORD, TestApp, race_code};

#[actix_rt::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;

    let wrong_password = app
        .client()
        .sign_in("ada@example.com", "wrong password!")
        .await;
    let unknown_email = app
        .client()
        .sign_in("nobody@example.com", "wrong password!")
        .await;
    wrong_password
        .assert_status(401)
        .assert_contains("Incorrect email or password.");
    unknown_email
        .assert_status(401)
        .assert_contains("Incorrect email or password.");
    let message = |body: &str| {
        let start = body.find("<p class=\"form-error\"").expect("error shown");
        body[start..start + body[start..].find("</p>").expect("end")].to_owned()
    };
    assert_eq!(message(&wrong_password.body), message(&unknown_email.body));
}

#[actix_rt::test]
async fn a_person_without_two_factor_signs_in_with_the_password_alone() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let client = app.client();
    client
        .sign_in("ADA@example.com ", PASSWORD)
        .await
        .assert_redirect("/");
    client
        .get("/")
        .await
        .assert_status(200)
        .assert_contains("Ada");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE last_sign_in_at IS NOT NULL"),
        1
    );
}

#[actix_rt::test]
async fn with_two_factor_the_password_alone_opens_nothing() {
    let app = TestApp::spawn().await;
    let (_, _device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.get("/login").await;
    let before = client.session_cookie().expect("anonymous session");
    client.password_step("ada@example.com").await;
    let pending = client.session_cookie().expect("pending session");
    assert_ne!(before, pending, "the session is renewed after the password");
    client.get("/").await.assert_redirect("/login");
    client
        .get("/settings/security")
        .await
        .assert_redirect("/login");
}

#[actix_rt::test]
async fn a_code_signs_in_under_a_new_session_identity() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    let page = client.get("/login/two-factor").await;
    page.assert_status(200)
        .assert_contains("autocomplete=\"one-time-code\"")
        .assert_contains("inputmode=\"numeric\"")
        .assert_contains("autofocus");
    let pending = client.session_cookie().expect("pending session");
    let code = device.code().await;
    client
        .submit("/login/two-factor", &[("code", &code)])
        .await
        .assert_redirect("/");
    assert_ne!(client.session_cookie(), Some(pending));
    client.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn codes_from_an_independent_totp_implementation_sign_in() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    // oathtool (Debian's oath-toolkit) shares no code with totp-lite. It prints the codes of
    // the current step and the next one.
    let before = Authenticator::current_step();
    let output = Command::new("oathtool")
        .args(["--totp", "-b", "-w", "1", &device.base32])
        .output()
        .expect("oathtool is installed by the test set-up (.ci/test)");
    assert!(output.status.success(), "oathtool failed: {output:?}");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let codes: Vec<&str> = stdout.lines().collect();
    assert_eq!(codes.len(), 2, "{stdout}");
    // The confirmation spent the current step, so the next step's code is the one to use.
    let current = Authenticator::current_step();
    assert!(
        codes[0] == device.code_at(before) || codes[0] == device.code_at(current),
        "both implementations agree"
    );
    let client = app.client();
    client.password_step("ada@example.com").await;
    client.two_factor(codes[1]).await.assert_redirect("/");
    device.mark_used(current + 1);
}

#[actix_rt::test]
async fn a_code_once_accepted_is_never_accepted_again() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let first = app.client();
    first.password_step("ada@example.com").await;
    let code = device.code().await;
    first.two_factor(&code).await.assert_redirect("/");

    let second = app.client();
    second.password_step("ada@example.com").await;
    second
        .two_factor(&code)
        .await
        .assert_status(401)
        .assert_contains("already used");
    second.get("/").await.assert_redirect("/login");
}

#[actix_rt::test]
async fn ten_concurrent_sign_ins_with_one_totp_code_let_exactly_one_in() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let clients: Vec<_> = (0..10).map(|_| app.client()).collect();
    for client in &clients {
        client.password_step("ada@example.com").await;
    }
    let code = device.code().await;
    assert_eq!(race_code(&clients, &code).await, (1, 9));
    app.assert_overlapped("POST", "/login/two-factor");
}

/// The page of a refused code, without what changes from one request to the next (the
/// session's CSRF token).
fn refusal_page(body: &str) -> String {
    body.lines()
        .filter(|l| !l.contains("csrf_token"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[actix_rt::test]
async fn a_code_minutes_ahead_gets_the_same_answer_as_a_random_wrong_code_at_sign_in() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    // Three minutes ahead: right for a step the attacker could then wait for.
    let ahead = device.code_at(Authenticator::current_step() + 6);
    let near_miss = client.two_factor(&ahead).await;
    near_miss.assert_status(401);
    let mut random = 0;
    let wrong = loop {
        let code = format!("{:06}", 123_457 + random);
        random += 1;
        if (-20..=20).all(|d| device.code_at(Authenticator::current_step() + d) != code) {
            break client.two_factor(&code).await;
        }
    };
    wrong.assert_status(401);
    assert_eq!(refusal_page(&near_miss.body), refusal_page(&wrong.body));
    assert!(!near_miss.body.contains("clock"), "{}", near_miss.body);
}

#[actix_rt::test]
async fn the_two_factor_step_expires() {
    let app = TestApp::spawn_with(|c| c.two_factor_step_secs = 1).await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    actix_rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    let code = device.code().await;
    client
        .submit("/login/two-factor", &[("code", &code)])
        .await
        .assert_status(401)
        .assert_contains("Your sign-in expired");
    client.get("/").await.assert_redirect("/login");
    // Nothing was spent: the same code still signs in from the start (through an app on the
    // same database whose step lasts long enough not to end between the two posts).
    let patient = app.spawn_again_with(|c| c.two_factor_step_secs = 300).await;
    let again = patient.client();
    again.password_step("ada@example.com").await;
    again.two_factor(&code).await.assert_redirect("/");
}

#[actix_rt::test]
async fn the_two_factor_step_without_a_password_first_goes_nowhere() {
    let app = TestApp::spawn().await;
    let client = app.client();
    client
        .get("/login/two-factor")
        .await
        .assert_redirect("/login");
    client.get("/login").await;
    client
        .submit("/login/two-factor", &[("code", "123456")])
        .await
        .assert_status(401)
        .assert_contains("Your sign-in expired");
}

#[actix_rt::test]
async fn after_a_recovery_code_sign_in_the_home_page_asks_for_a_new_authenticator_app() {
    let app = TestApp::spawn().await;
    let (_, _device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    client.two_factor(&codes[0]).await.assert_redirect("/");
    client
        .get("/")
        .await
        .assert_status(200)
        .assert_contains("Set up your new authenticator app")
        .assert_contains("4 unused recovery codes left");
}

#[actix_rt::test]
async fn a_deactivated_person_cannot_sign_in_and_is_signed_out() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    owner.get("/").await.assert_status(200);
    app.execute("UPDATE users SET deactivated_at = 1");
    owner.get("/").await.assert_redirect("/login");
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(401);
}

#[actix_rt::test]
async fn a_copy_of_the_cookie_after_the_password_step_cannot_sign_in_again() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let person = app.client();
    person.password_step("ada@example.com").await;
    // Someone copies the cookie of the step between the password and the code.
    let copied = person.session_cookie().expect("the pending step's cookie");
    let code = device.code().await;
    person.two_factor(&code).await.assert_redirect("/");
    // With the copy and the next code, no sign-in: the step was consumed.
    let thief = app.client();
    thief.set_session_cookie(&copied);
    let page = thief.get("/login/two-factor").await;
    page.assert_status(401)
        .assert_contains("Your sign-in expired");
    thief.set_session_cookie(&copied);
    thief.get("/login").await;
    thief.set_session_cookie(&copied);
    let next = device.code().await;
    let res = thief
        .submit("/login/two-factor", &[("code", next.as_str())])
        .await;
    assert_ne!(res.header("location").as_deref(), Some("/"), "{}", res.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'sign_in'"),
        1,
        "one sign-in with a code: the person's"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_sign_ins"), 0);
}

#[actix_rt::test]
async fn a_new_password_step_replaces_the_browsers_older_one() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let person = app.client();
    person.password_step("ada@example.com").await;
    let older = person.session_cookie().expect("cookie");
    // The person starts again: the older step is abandoned.
    person.password_step("ada@example.com").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM pending_sign_ins"), 1);
    let copy = app.client();
    copy.set_session_cookie(&older);
    copy.get("/login/two-factor")
        .await
        .assert_status(401)
        .assert_contains("Your sign-in expired");
    let code = device.code().await;
    person.two_factor(&code).await.assert_redirect("/");
}
