//! Passkeys over HTTP, with a software authenticator (webauthn-authenticator-rs's
//! SoftPasskey) playing the person's device: adding one, the two-factor step with it, and the
//! attacks on its ceremonies (a replayed answer, a copied passkey whose counter goes back, an
//! answer for another person's sign-in). The browser suite does the same in Chromium with its
//! virtual authenticator, including signing in with a passkey alone.

use serde_json::Value;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

use crate::helpers::{Client, PASSWORD, Response, TestApp};

/// A person's device with a passkey on it.
struct Device {
    authenticator: SoftPasskey,
    origin: Url,
}

impl Device {
    fn new(app: &TestApp) -> Self {
        Self {
            // `true`: it reports the user verified, as a device with a screen lock does.
            authenticator: SoftPasskey::new(true),
            origin: Url::parse(&app.public_url).expect("public URL"),
        }
    }

    /// The answer to a registration challenge, as JSON text.
    fn register(&mut self, options: &Value) -> String {
        let ccr: CreationChallengeResponse =
            serde_json::from_value(options.clone()).expect("creation options");
        let answer = self
            .authenticator
            .do_registration(self.origin.clone(), ccr)
            .expect("the device registers");
        serde_json::to_string(&answer).expect("JSON")
    }

    /// The answer to an authentication challenge, as JSON text.
    fn authenticate(&mut self, options: &Value) -> String {
        let rcr: RequestChallengeResponse =
            serde_json::from_value(options.clone()).expect("request options");
        let answer = self
            .authenticator
            .do_authentication(self.origin.clone(), rcr)
            .expect("the device signs");
        serde_json::to_string(&answer).expect("JSON")
    }
}

/// A challenge answered as JSON: the ceremony id and the options.
fn challenge(res: &Response) -> (String, Value) {
    res.assert_status(200);
    let json: Value = serde_json::from_str(&res.body).expect("a JSON challenge");
    (
        json["ceremony"].as_str().expect("ceremony").to_owned(),
        json["options"].clone(),
    )
}

/// Adds a passkey named `name` from a signed-in client; returns the answer to the finishing
/// POST.
async fn add_passkey(client: &Client, device: &mut Device, name: &str) -> Response {
    client
        .get("/settings/security/passkeys")
        .await
        .assert_status(200);
    let (ceremony, options) = challenge(
        &client
            .submit(
                "/settings/security/passkeys/options",
                &[("password", PASSWORD)],
            )
            .await,
    );
    let credential = device.register(&options);
    client
        .submit(
            "/settings/security/passkeys",
            &[
                ("ceremony", &ceremony),
                ("credential", &credential),
                ("name", name),
            ],
        )
        .await
}

/// After the password step: the two-factor step's passkey challenge and the device's answer.
async fn passkey_answer(client: &Client, device: &mut Device) -> (String, String) {
    client.get("/login/two-factor").await.assert_status(200);
    let (ceremony, options) = challenge(
        &client
            .submit("/login/two-factor/passkey/options", &[])
            .await,
    );
    (ceremony, device.authenticate(&options))
}

async fn finish_with_passkey(client: &Client, ceremony: &str, credential: &str) -> Response {
    client
        .submit(
            "/login/two-factor/passkey",
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await
}

#[actix_rt::test]
async fn a_first_passkey_turns_2fa_on_with_recovery_codes_and_stands_for_the_code() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let elsewhere = app.client();
    elsewhere
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    let mut device = Device::new(&app);

    let page = add_passkey(&owner, &mut device, "Laptop").await;
    page.assert_status(200);
    assert_eq!(page.recovery_codes().len(), 5);
    let ada = app.user_id("ada@example.com");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM passkeys WHERE user_id = {ada} AND name = 'Laptop'"
        )),
        1
    );
    assert_eq!(
        app.count("SELECT two_factor_count FROM organizations"),
        1,
        "the organization counts Ada with 2FA on"
    );
    // This browser goes on; the other session ended.
    owner
        .get("/settings/security/passkeys")
        .await
        .assert_status(200)
        .assert_contains("Laptop");
    elsewhere.get("/").await.assert_redirect("/login");
    app.wait_for_email("ada@example.com", "A passkey was added to your account")
        .await;

    // The next sign-in asks for the second factor, and the passkey gives it.
    let client = app.client();
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let (ceremony, credential) = passkey_answer(&client, &mut device).await;
    finish_with_passkey(&client, &ceremony, &credential)
        .await
        .assert_redirect("/");
    client.get("/").await.assert_status(200);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE subject_id = {ada} AND event = 'passkey_used'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM passkeys WHERE user_id = {ada} AND last_used_at IS NOT NULL \
             AND sign_count > 0"
        )),
        1
    );
}

#[actix_rt::test]
async fn a_passkey_answer_signs_in_once_and_its_replay_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let mut device = Device::new(&app);
    add_passkey(&owner, &mut device, "Laptop")
        .await
        .assert_status(200);

    let client = app.client();
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let (ceremony, credential) = passkey_answer(&client, &mut device).await;
    finish_with_passkey(&client, &ceremony, &credential)
        .await
        .assert_redirect("/");

    // An attacker with the password and a copy of that answer: a new password step, then the
    // old answer. Its ceremony is spent.
    let attacker = app.client();
    attacker
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    attacker.get("/login/two-factor").await.assert_status(200);
    finish_with_passkey(&attacker, &ceremony, &credential)
        .await
        .assert_status(401)
        .assert_contains("That passkey prompt expired");
    // And an answer to the attacker's own challenge, signed for Ada's earlier one, fails too.
    let (fresh, _) = challenge(
        &attacker
            .submit("/login/two-factor/passkey/options", &[])
            .await,
    );
    finish_with_passkey(&attacker, &fresh, &credential)
        .await
        .assert_status(401);
    attacker.get("/").await.assert_redirect("/login");
}

#[actix_rt::test]
async fn a_passkey_whose_counter_goes_back_is_refused_and_the_person_is_emailed() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let mut device = Device::new(&app);
    add_passkey(&owner, &mut device, "Laptop")
        .await
        .assert_status(200);
    // The stored counter runs ahead of the device's: as if a copy of the passkey had been
    // used meanwhile.
    app.execute("UPDATE passkeys SET sign_count = 1000");

    let client = app.client();
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let (ceremony, credential) = passkey_answer(&client, &mut device).await;
    finish_with_passkey(&client, &ceremony, &credential)
        .await
        .assert_status(401)
        .assert_contains("looks like a copy");
    client.get("/").await.assert_redirect("/login");
    app.wait_for_email(
        "ada@example.com",
        "A sign-in with a copy of your passkey was refused",
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'passkey_refused'"),
        1
    );
    assert_eq!(app.count("SELECT sign_count FROM passkeys"), 1000);
}

#[actix_rt::test]
async fn another_persons_challenge_or_passkey_does_not_finish_a_sign_in() {
    let app = TestApp::spawn().await;
    let ada = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let mut adas_device = Device::new(&app);
    add_passkey(&ada, &mut adas_device, "Ada's laptop")
        .await
        .assert_status(200);
    let bob = app.signup("Bobco", "Bob", "bob@example.com").await;
    let mut bobs_device = Device::new(&app);
    add_passkey(&bob, &mut bobs_device, "Bob's laptop")
        .await
        .assert_status(200);

    // Bob, at his own two-factor step, answers with a challenge from Ada's.
    let at_ada = app.client();
    at_ada
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let (adas_ceremony, _) = passkey_answer(&at_ada, &mut adas_device).await;
    let at_bob = app.client();
    at_bob
        .sign_in("bob@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    at_bob.get("/login/two-factor").await.assert_status(200);
    let (_, bobs_options) = challenge(
        &at_bob
            .submit("/login/two-factor/passkey/options", &[])
            .await,
    );
    let bobs_answer = bobs_device.authenticate(&bobs_options);
    finish_with_passkey(&at_bob, &adas_ceremony, &bobs_answer)
        .await
        .assert_status(401);
    at_bob.get("/").await.assert_redirect("/login");
    // And Bob's passkey at Ada's step, with Ada's own challenge: not one of hers.
    finish_with_passkey(&at_ada, &adas_ceremony, &bobs_answer)
        .await
        .assert_status(401)
        .assert_contains("not one of this account");
    at_ada.get("/").await.assert_redirect("/login");
}

#[actix_rt::test]
async fn a_ceremony_started_on_one_instance_finishes_on_another() {
    let app = TestApp::spawn().await;
    let public_url = app.public_url.clone();
    let other = app
        .spawn_again_with(move |c| c.public_url = public_url)
        .await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let mut device = Device::new(&app);
    add_passkey(&owner, &mut device, "Laptop")
        .await
        .assert_status(200);

    let client = app.client();
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/login/two-factor");
    let (ceremony, credential) = passkey_answer(&client, &mut device).await;
    client.use_instance(&other.address);
    finish_with_passkey(&client, &ceremony, &credential)
        .await
        .assert_redirect("/");
    client.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn adding_a_passkey_needs_the_password_and_removing_the_last_turns_2fa_off_unless_required() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    owner
        .get("/settings/security/passkeys")
        .await
        .assert_status(200);
    owner
        .submit(
            "/settings/security/passkeys/options",
            &[("password", "not the password")],
        )
        .await
        .assert_status(401);
    assert_eq!(app.count("SELECT COUNT(*) FROM passkey_ceremonies"), 0);

    let mut device = Device::new(&app);
    add_passkey(&owner, &mut device, "Laptop")
        .await
        .assert_status(200);
    let id = app.count("SELECT id FROM passkeys");

    // Required by the organization: the last method stays.
    app.execute("UPDATE organizations SET enforce_two_factor = TRUE");
    owner
        .submit(&format!("/settings/security/passkeys/{id}/remove"), &[])
        .await
        .assert_status(403)
        .assert_contains("requires two-factor authentication");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys"), 1);

    app.execute("UPDATE organizations SET enforce_two_factor = FALSE");
    owner
        .submit(&format!("/settings/security/passkeys/{id}/remove"), &[])
        .await
        .assert_redirect("/settings/security/passkeys");
    assert_eq!(app.count("SELECT COUNT(*) FROM passkeys"), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE two_factor"),
        0,
        "2FA is off"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes"), 0);
    assert_eq!(app.count("SELECT two_factor_count FROM organizations"), 0);
    owner.get("/").await.assert_status(200);
    app.wait_for_email("ada@example.com", "A passkey was removed from your account")
        .await;
}

#[actix_rt::test]
async fn a_passkey_confirms_a_password_change_when_re_authentication_is_due() {
    // A second factor counts as recent for 2 s here.
    let app = TestApp::spawn_with(|c| c.reauth_secs = 2).await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let mut device = Device::new(&app);
    add_passkey(&owner, &mut device, "Laptop")
        .await
        .assert_status(200);
    actix_rt::time::sleep(std::time::Duration::from_secs(3)).await;

    // Due now: the form asks for a code, and offers the passkey.
    owner
        .get("/settings/security/password")
        .await
        .assert_status(200)
        .assert_contains("id=\"password-code\"")
        .assert_contains("id=\"reauth-with-passkey\"");
    owner
        .submit(
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await
        .assert_status(401);
    let (ceremony, options) =
        challenge(&owner.submit("/settings/security/reauth/options", &[]).await);
    let credential = device.authenticate(&options);
    owner
        .submit(
            "/settings/security/reauth/passkey",
            &[
                ("ceremony", &ceremony),
                ("credential", &credential),
                ("back", "/settings/security/password"),
            ],
        )
        .await
        .assert_redirect("/settings/security/password");
    // Proved: the form no longer asks, and the change goes through without a code.
    let page = owner.get("/settings/security/password").await;
    page.assert_status(200);
    assert!(!page.body.contains("id=\"password-code\""));
    owner
        .submit(
            "/settings/security/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await
        .assert_redirect("/settings/security/password");
    // The same answer again proves nothing.
    owner
        .get("/settings/security/password")
        .await
        .assert_status(200);
    owner
        .submit(
            "/settings/security/reauth/passkey",
            &[
                ("ceremony", &ceremony),
                ("credential", &credential),
                ("back", "/settings/security/password"),
            ],
        )
        .await
        .assert_status(409);
}
