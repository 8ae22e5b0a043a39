//! Invitations: an emailed single-use link valid for 7 days, stored only as a hash; pending
//! invitations can be resent and revoked.

use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn an_invitee_joins_through_the_emailed_link_and_then_signs_in_as_usual() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let link = app
        .invite(&owner, "Bob Builder", "Bob@Example.com", "member")
        .await;
    let email = app.last_email_to("bob@example.com");
    assert!(email.subject.contains("Acme"), "{email:?}");
    assert!(
        email.body.contains("Ada Lovelace invited you"),
        "{}",
        email.body
    );
    owner
        .get("/settings/users")
        .await
        .assert_contains("bob@example.com")
        .assert_contains("Pending invitations");

    let bob = app.client();
    bob.get(&link)
        .await
        .assert_status(200)
        .assert_contains("Join Acme")
        .assert_contains("bob@example.com");
    bob.submit(
        &link,
        &[("name", "Bob the Builder"), ("password", PASSWORD)],
    )
    .await
    .assert_redirect("/login");
    bob.get("/login").await.assert_contains("Welcome to Acme");
    bob.sign_in("bob@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    bob.get("/")
        .await
        .assert_contains("Bob the Builder")
        .assert_contains("Member of <strong>Acme</strong>");
    let people = owner.get("/settings/users").await;
    people.assert_contains("Bob the Builder");
    assert!(!people.body.contains("Pending invitations"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'invitation_accepted'"),
        1
    );
}

#[actix_rt::test]
async fn an_invitation_link_works_only_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let link = app
        .invite(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let first = app.client();
    first.get(&link).await.assert_status(200);
    let second = app.client();
    second.get(&link).await.assert_status(200);
    first
        .submit(&link, &[("name", "Bob"), ("password", PASSWORD)])
        .await
        .assert_redirect("/login");
    second
        .submit(
            &link,
            &[("name", "Mallory"), ("password", "another password!")],
        )
        .await
        .assert_status(410);
    app.client().get(&link).await.assert_status(410);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'bob@example.com'"),
        1
    );
    app.client()
        .sign_in("bob@example.com", "another password!")
        .await
        .assert_status(401);
}

#[actix_rt::test]
async fn an_invitation_link_expires_after_7_days() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let link = app
        .invite(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let seven_days = app.count("SELECT expires_at - created_at FROM invitations");
    assert_eq!(seven_days, 7 * 24 * 60 * 60);
    app.execute("UPDATE invitations SET expires_at = created_at - 1");
    let bob = app.client();
    bob.get(&link)
        .await
        .assert_status(410)
        .assert_contains("doesn&#39;t work");
    app.execute("UPDATE invitations SET expires_at = expires_at + 1000000");
    bob.get(&link).await.assert_status(200);
    app.execute("UPDATE invitations SET expires_at = created_at - 1");
    bob.submit(&link, &[("name", "Bob"), ("password", PASSWORD)])
        .await
        .assert_status(410);
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 1);
    owner
        .get("/settings/users")
        .await
        .assert_contains("Expired");
}

#[actix_rt::test]
async fn the_token_is_stored_only_as_a_hash_and_made_up_tokens_find_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let link = app
        .invite(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let token = link.trim_start_matches("/invitations/");
    assert_eq!(token.len(), 64, "256 random bits as hex");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE token_hash = '{token}'"
        )),
        0
    );
    // What is stored is the token's SHA-256, computed here independently of the app.
    let sha256 = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(token.as_bytes()))
    };
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM invitations WHERE token_hash = '{sha256}'"
        )),
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM invitations"), 1);
    let client = app.client();
    for made_up in [
        format!("/invitations/{}", "0".repeat(64)),
        "/invitations/short".to_owned(),
        format!("/invitations/{}", token.to_uppercase()),
    ] {
        client.get(&made_up).await.assert_status(404);
    }
}

#[actix_rt::test]
async fn a_resent_invitation_replaces_the_old_link_and_a_revoked_one_stops_working() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let old_link = app
        .invite(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let id = app.count("SELECT id FROM invitations");
    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/invitations/{id}/resend"), &[])
        .await
        .assert_redirect("/settings/users");
    let new_link = app.last_email_to("bob@example.com").link("/invitations/");
    assert_ne!(old_link, new_link);
    assert_eq!(app.emails_to("bob@example.com").len(), 2);
    app.client().get(&old_link).await.assert_status(404);
    app.client().get(&new_link).await.assert_status(200);

    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/invitations/{id}/revoke"), &[])
        .await
        .assert_redirect("/settings/users");
    app.client().get(&new_link).await.assert_status(410);
    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/invitations/{id}/resend"), &[])
        .await
        .assert_status(422);
    assert_eq!(app.emails_to("bob@example.com").len(), 2);
    for event in ["invitation_sent", "invitation_resent", "invitation_revoked"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE event = '{event}'"
            )),
            1,
            "{event}"
        );
    }
}

#[actix_rt::test]
async fn only_the_owner_invites_admins_and_nobody_invites_an_owner() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    admin.get("/settings/users").await;
    for role in ["admin", "owner"] {
        admin
            .submit(
                "/settings/users/invite",
                &[
                    ("name", "Eve"),
                    ("email", "eve@example.com"),
                    ("role", role),
                ],
            )
            .await
            .assert_status(422);
    }
    owner.get("/settings/users").await;
    owner
        .submit(
            "/settings/users/invite",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("role", "owner"),
            ],
        )
        .await
        .assert_status(422);
    assert_eq!(app.emails_to("eve@example.com").len(), 0);
    admin
        .submit(
            "/settings/users/invite",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("role", "member"),
            ],
        )
        .await
        .assert_redirect("/settings/users");
    assert_eq!(app.emails_to("eve@example.com").len(), 1);
}

#[actix_rt::test]
async fn bad_invitations_are_refused_next_to_their_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    app.invite(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let before = app.count("SELECT COUNT(*) FROM invitations");
    for (name, email, message) in [
        ("", "carol@example.com", "cannot be empty"),
        ("Carol", "not an email", "Enter an email address"),
        (
            "Ada again",
            "ada@example.com",
            "already in your organization",
        ),
        (
            "Bob again",
            "bob@example.com",
            "already has a pending invitation",
        ),
    ] {
        owner
            .submit(
                "/settings/users/invite",
                &[("name", name), ("email", email), ("role", "member")],
            )
            .await
            .assert_status(422)
            .assert_contains(message);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM invitations"), before);
    // A weak password at the link is refused the same way.
    let link = app.last_email_to("bob@example.com").link("/invitations/");
    let bob = app.client();
    bob.get(&link).await;
    bob.submit(&link, &[("name", "Bob"), ("password", "short")])
        .await
        .assert_status(422)
        .assert_contains("Use at least 12 characters.");
    assert_eq!(app.count("SELECT COUNT(*) FROM users"), 1);
}

/// A mail server that accepts every message and keeps it: just enough SMTP for lettre.
fn fake_smtp_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().expect("stream");
            let mut reader = BufReader::new(stream);
            let _ = writer.write_all(b"220 fake ESMTP\r\n");
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                let command = line.to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") {
                    b"250-fake\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                } else if command.starts_with("DATA") {
                    let _ = writer.write_all(b"354 go on\r\n");
                    let mut message = String::new();
                    let mut data = String::new();
                    while reader.read_line(&mut data).unwrap_or(0) > 0 && data != ".\r\n" {
                        message.push_str(&data);
                        data.clear();
                    }
                    store.lock().expect("store").push(message);
                    b"250 kept\r\n"
                } else if command.starts_with("QUIT") {
                    let _ = writer.write_all(b"221 bye\r\n");
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = writer.write_all(reply);
                line.clear();
            }
        }
    });
    (port, received)
}

#[actix_rt::test]
async fn with_an_smtp_server_configured_invitations_go_there_and_not_to_the_outbox() {
    let (port, received) = fake_smtp_server();
    let app = TestApp::spawn_with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    owner.get("/settings/users").await;
    owner
        .submit(
            "/settings/users/invite",
            &[
                ("name", "Bob Builder"),
                ("email", "bob@example.com"),
                ("role", "member"),
            ],
        )
        .await
        .assert_redirect("/settings/users");
    let messages = received.lock().expect("messages").clone();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("bob@example.com"), "{}", messages[0]);
    assert!(messages[0].contains("/invitations/"), "{}", messages[0]);
    assert!(app.outbox().is_empty());
}

#[actix_rt::test]
async fn inviting_an_address_with_an_account_elsewhere_answers_like_any_invitation() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    app.signup("Globex", "Hank Scorpio", "hank@example.com")
        .await;
    // What the inviter sees after inviting, with the invitee's name and address taken out.
    let invite = async |name: &str, email: &str| {
        owner.get("/settings/users").await;
        let res = owner
            .submit(
                "/settings/users/invite",
                &[("name", name), ("email", email), ("role", "member")],
            )
            .await;
        let status = (res.status.as_u16(), res.header("location"));
        let flash = owner
            .get("/settings/users")
            .await
            .body
            .lines()
            .find(|l| l.contains("class=\"flash"))
            .unwrap_or_default()
            .replace(email, "EMAIL")
            .replace(name, "NAME");
        (status, flash)
    };
    let elsewhere = invite("Hank", "hank@example.com").await;
    let nobody = invite("Nora", "nora@example.com").await;
    assert_eq!(elsewhere, nobody);
    assert!(
        elsewhere.1.contains("Invitation sent to EMAIL"),
        "{elsewhere:?}"
    );
    // The same pending rows.
    let page = owner.get("/settings/users").await;
    page.assert_contains("hank@example.com")
        .assert_contains("nora@example.com");
    assert!(
        !page.body.contains("already has an account"),
        "{}",
        page.body
    );
    // Only the address's owner learns it, by an email with no link to follow.
    let hanks = app.last_email_to("hank@example.com");
    assert_eq!(hanks.subject, "Join Acme on Twofold");
    assert!(
        hanks.body.contains("already have a Twofold account"),
        "{}",
        hanks.body
    );
    assert!(!hanks.body.contains("/invitations/"), "{}", hanks.body);
    assert!(
        app.last_email_to("nora@example.com")
            .body
            .contains("/invitations/")
    );
    // Hank stays where he was.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM users u JOIN organizations o ON o.id = u.organization_id \
             WHERE u.email = 'hank@example.com' AND o.name = 'Globex'"
        ),
        1
    );
}

#[actix_rt::test]
async fn deactivating_someone_revokes_the_invitations_they_sent() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    let link = app
        .invite(&admin, "Nora", "nora@example.com", "member")
        .await;
    let alan = app.user_id("alan@example.com");
    owner.get("/settings/users").await;
    owner
        .submit(&format!("/settings/users/{alan}/deactivate"), &[])
        .await
        .assert_redirect("/settings/users");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL"),
        1
    );
    let nora = app.client();
    nora.get(&link).await.assert_status(410);
}
