//! Session lifetime, enforced by the server: an idle timeout, an absolute lifetime, and no
//! second life for a cookie after signing out.

use std::time::Duration;

use actix_rt::time::sleep;

use crate::helpers::{PASSWORD, TestApp};

#[actix_rt::test]
async fn an_idle_session_ends_even_if_the_browser_keeps_its_cookie() {
    let app = TestApp::spawn_with(|c| c.sessions.idle_secs = 2).await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    owner.get("/").await.assert_status(200);
    let cookie = owner.session_cookie().expect("session cookie");

    sleep(Duration::from_millis(3_200)).await;
    owner.get("/").await.assert_redirect("/login");
    // The cookie itself carries no expiry the server relies on: replaying it does not help.
    let replay = app.client();
    replay.set_session_cookie(&cookie);
    replay
        .get("/settings/security")
        .await
        .assert_redirect("/login");
}

#[actix_rt::test]
async fn a_session_in_use_outlives_the_idle_timeout() {
    let app = TestApp::spawn_with(|c| c.sessions.idle_secs = 6).await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    // Eight seconds of use, a request every two: longer than the idle timeout in total, never
    // idle for that long.
    for _ in 0..4 {
        owner.get("/").await.assert_status(200);
        sleep(Duration::from_secs(2)).await;
    }
    owner.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn a_session_ends_at_its_absolute_lifetime_however_active() {
    let app = TestApp::spawn_with(|c| {
        c.sessions.idle_secs = 600;
        c.sessions.absolute_secs = 3;
    })
    .await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    owner.get("/").await.assert_status(200);
    let mut ended = false;
    // Bounded: the lifetime is 3 s, the loop gives it 6.
    for _ in 0..12 {
        sleep(Duration::from_millis(500)).await;
        let res = owner.get("/").await;
        if res.status.as_u16() == 303 {
            res.assert_redirect("/login");
            ended = true;
            break;
        }
        res.assert_status(200);
    }
    assert!(ended, "the session outlived its absolute lifetime");
    // Signing in again starts a new lifetime.
    owner
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    owner.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn a_cookie_replayed_after_sign_out_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada", "ada@example.com").await;
    let laptop = app.client();
    laptop
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    owner.get("/").await.assert_status(200);
    let copied = owner.session_cookie().expect("session cookie");

    owner
        .submit("/logout", &[])
        .await
        .assert_redirect("/login?signed_out=1");
    assert!(owner.session_cookie().is_none(), "the cookie is removed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sessions WHERE ended_at IS NOT NULL"),
        1
    );

    let thief = app.client();
    thief.set_session_cookie(&copied);
    thief.get("/").await.assert_redirect("/login");
    thief.set_session_cookie(&copied);
    thief
        .get("/settings/security")
        .await
        .assert_redirect("/login");
    // Only that session ended: the person's other device is still signed in.
    laptop.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn sessions_are_forgotten_once_they_would_have_expired_anyway() {
    let app = TestApp::spawn_with(|c| {
        c.sessions.absolute_secs = 2;
        c.prune_every_secs = 1;
    })
    .await;
    let first = app.signup("Acme", "Ada", "ada@example.com").await;
    first.get("/settings/security").await;
    first.submit("/logout", &[]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions"), 1);
    // Past its absolute lifetime, the pruning (every second here) deletes it.
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM sessions") == 0 {
            return;
        }
        sleep(Duration::from_millis(100)).await;
    }
    panic!("the expired session was not pruned");
}
