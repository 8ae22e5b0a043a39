//! Overload: the bcrypt line is bounded. Beyond it, sign-ins, sign-ups, password changes and
//! resets answer 503 with `Retry-After` at once, and a refused request changed nothing: no
//! attempt counted, no audit event, no account. Not timed: the line is made short
//! (`TWOFOLD_BCRYPT_QUEUE`) and bcrypt slow (cost 10) so that a flood overflows it.

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::helpers::{Client, PASSWORD, Response, TestApp};

fn statuses(answers: &[Response]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a.status.as_u16()).or_insert(0) += 1;
    }
    counts
}

/// Every 503 says when to come back, and says nothing was changed.
#[track_caller]
fn busy_answers_say_when(answers: &[Response]) {
    for a in answers.iter().filter(|a| a.status.as_u16() == 503) {
        let after: i64 = a
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("a Retry-After in seconds");
        assert!(after >= 1, "Retry-After: {after}");
        a.assert_contains("Nothing was changed");
    }
}

async fn overloaded_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.bcrypt_cost = 10;
        c.bcrypt_queue = Some(3);
        // Limits far away: only the line refuses here.
        c.limits.password_attempts = 1000;
        c.limits.account_attempts = 1000;
        c.limits.client_attempts = 100_000;
        c.limits.signups_per_address = 1000;
    })
    .await
}

#[actix_rt::test]
async fn a_flood_of_sign_ins_beyond_the_line_gets_503_at_once_and_counts_nothing() {
    let app = overloaded_app().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let clients: Vec<Client> = (0..30).map(|_| app.client()).collect();
    for client in &clients {
        client.get("/login").await.assert_status(200);
    }
    let answers = join_all(clients.iter().map(|client| {
        client.submit(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ],
        )
    }))
    .await;
    app.assert_overlapped("POST", "/login");
    let counts = statuses(&answers);
    let busy = counts.get(&503).copied().unwrap_or(0);
    let checked = counts.get(&401).copied().unwrap_or(0);
    assert!(busy >= 1, "the line overflowed: {counts:?}");
    assert!(checked >= 1, "the line still served: {counts:?}");
    assert_eq!(busy + checked, 30, "{counts:?}");
    busy_answers_say_when(&answers);
    // Only the checked ones were counted and recorded.
    assert_eq!(
        app.count("SELECT attempts FROM attempt_counters WHERE key LIKE 'account:%'") as usize,
        checked
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'sign_in_failed'") as usize,
        checked
    );
    // The line empties; the right password goes through again.
    let ada = app.client();
    for _ in 0..100 {
        let res = ada.sign_in("ada@example.com", PASSWORD).await;
        if res.status.as_u16() != 503 {
            res.assert_redirect("/");
            return;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the line never emptied");
}

#[actix_rt::test]
async fn a_flood_of_sign_ups_beyond_the_line_creates_only_the_accounts_it_answered() {
    let app = overloaded_app().await;
    let clients: Vec<Client> = (0..20).map(|_| app.client()).collect();
    for client in &clients {
        client.get("/signup").await.assert_status(200);
    }
    let emails: Vec<String> = (0..20).map(|i| format!("owner{i}@example.com")).collect();
    let answers = join_all(
        clients
            .iter()
            .zip(&emails)
            .map(|(client, email)| async move {
                client
                    .submit(
                        "/signup",
                        &[
                            ("organization", "Acme"),
                            ("name", "Owner"),
                            ("email", email),
                            ("password", PASSWORD),
                        ],
                    )
                    .await
            }),
    )
    .await;
    app.assert_overlapped("POST", "/signup");
    let counts = statuses(&answers);
    let busy = counts.get(&503).copied().unwrap_or(0);
    let created = counts.get(&303).copied().unwrap_or(0);
    assert!(busy >= 1, "{counts:?}");
    assert_eq!(busy + created, 20, "{counts:?}");
    busy_answers_say_when(&answers);
    // Exactly the answered ones exist, each whole; the refused ones left nothing.
    for (answer, email) in answers.iter().zip(&emails) {
        let exists = app.count(&format!(
            "SELECT COUNT(*) FROM users WHERE email = '{email}'"
        ));
        assert_eq!(exists, i64::from(answer.status.as_u16() == 303), "{email}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM organizations") as usize,
        created
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'organization_created'")
            as usize,
        created
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM attempt_counters WHERE key LIKE 'signup-client:%'"),
        1
    );
    assert_eq!(
        app.count("SELECT attempts FROM attempt_counters WHERE key LIKE 'signup-client:%'")
            as usize,
        created
    );
}

#[actix_rt::test]
async fn sign_ups_are_limited_per_client_address() {
    let app = TestApp::spawn_with(|c| c.limits.signups_per_address = 2).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    app.signup("Bobco", "Bob", "bob@example.com").await;
    let third = app.client();
    third.get("/signup").await.assert_status(200);
    let res = third
        .submit(
            "/signup",
            &[
                ("organization", "Cyco"),
                ("name", "Cy"),
                ("email", "cy@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    res.assert_status(429);
    assert!(res.header("retry-after").is_some());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'cy@example.com'"),
        0
    );
}
