//! Limits on guessing, kept in the database and counted before anything is checked: per
//! account and client address for passwords, per account for codes, a ceiling per account
//! from all addresses, and a budget per client address.

use std::collections::BTreeMap;

use crate::helpers::{Client, PASSWORD, Response, TestApp};

async fn fail_passwords(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        // A new browser each time: the count must not live in the session.
        app.client()
            .sign_in(email, "wrong password!")
            .await
            .assert_status(401);
    }
}

/// A browser behind the trusted proxy at 127.0.0.1, as the client `address`.
fn from(app: &TestApp, address: &str) -> Client {
    let client = app.client();
    *client.forwarded_for.borrow_mut() = Some(address.to_owned());
    client
}

/// How many answers had each status.
fn statuses(answers: &[Response]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for answer in answers {
        *counts.entry(answer.status.as_u16()).or_insert(0) += 1;
    }
    counts
}

#[actix_rt::test]
async fn forty_wrong_passwords_posted_at_once_are_checked_at_most_ten_times() {
    // bcrypt at cost 10: each check takes long enough that the forty pile up in flight; a
    // line long enough for all forty, so that only the limit refuses (`overload` shows the
    // line's own refusals).
    let app = TestApp::spawn_with(|c| {
        c.bcrypt_cost = 10;
        c.bcrypt_queue = Some(100);
    })
    .await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let clients: Vec<Client> = (0..40).map(|_| app.client()).collect();
    for client in &clients {
        client.get("/login").await.assert_status(200);
    }
    let answers = futures_util::future::join_all(clients.iter().map(|client| {
        client.submit(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong password!"),
            ],
        )
    }))
    .await;
    let counts = statuses(&answers);
    let checked = counts.get(&401).copied().unwrap_or(0);
    assert!((1..=10).contains(&checked), "{counts:?}");
    assert_eq!(
        checked + counts.get(&429).copied().unwrap_or(0),
        40,
        "{counts:?}"
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.status.as_u16() == 429)
            .all(|a| a.header("retry-after").is_some())
    );
    app.assert_overlapped("POST", "/login");
    // The refused ones counted nothing: the pair's counter stopped at the limit.
    assert_eq!(
        app.count("SELECT attempts FROM attempt_counters WHERE key LIKE 'password:%'"),
        10
    );
    // Each checked password left its failure in the audit log: exactly as many as the 401s.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'sign_in_failed'") as usize,
        checked
    );
    // And now even the right password is refused from this address, unchecked.
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn forty_wrong_codes_posted_at_once_after_a_right_password_are_checked_at_most_ten_times() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let clients: Vec<Client> = (0..40).map(|_| app.client()).collect();
    for client in &clients {
        client.password_step("ada@example.com").await;
    }
    let wrong = if device.code_at(crate::helpers::Authenticator::current_step()) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let fields = [("code", wrong)];
    let answers = futures_util::future::join_all(
        clients
            .iter()
            .map(|client| client.submit("/login/two-factor", &fields)),
    )
    .await;
    let counts = statuses(&answers);
    let checked = counts.get(&401).copied().unwrap_or(0);
    assert!((1..=10).contains(&checked), "{counts:?}");
    assert_eq!(
        checked + counts.get(&429).copied().unwrap_or(0),
        40,
        "{counts:?}"
    );
    app.assert_overlapped("POST", "/login/two-factor");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'sign_in_failed'") as usize,
        checked
    );
    // The right code is refused too now, from any browser, until the lock ends.
    let code = device.code().await;
    clients[0]
        .submit("/login/two-factor", &[("code", &code)])
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn wrong_passwords_from_one_address_do_not_stop_the_person_at_another() {
    let app =
        TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]).await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let mut answers = Vec::new();
    for _ in 0..25 {
        answers.push(
            from(&app, "198.51.100.7")
                .sign_in("ada@example.com", "wrong password!")
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(
        answers.iter().filter(|s| **s == 401).count(),
        10,
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|s| **s == 429).count(),
        15,
        "{answers:?}"
    );
    // Ada, at home, signs in with her password and her code.
    let ada = from(&app, "203.0.113.50");
    ada.sign_in_with_code("ada@example.com", &device).await;
    ada.get("/").await.assert_status(200);
}

#[actix_rt::test]
async fn an_unknown_email_gets_exactly_the_answers_a_known_one_gets() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let answers = async |email: &str| {
        let mut seen = Vec::new();
        for _ in 0..12 {
            let res = app.client().sign_in(email, "wrong password!").await;
            let message = res
                .body
                .lines()
                .find(|l| l.contains("form-error") || l.contains("Too many"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            seen.push((
                res.status.as_u16(),
                res.header("retry-after").is_some(),
                message,
            ));
        }
        seen
    };
    let known = answers("ada@example.com").await;
    let unknown = answers("nobody@example.com").await;
    assert_eq!(known, unknown);
    let statuses: Vec<u16> = known.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(statuses, [[401; 10].as_slice(), &[429, 429]].concat());
}

#[actix_rt::test]
async fn each_wrong_password_after_the_limit_doubles_the_lock_up_to_its_cap() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let key = "key LIKE 'password:%'";
    let lock = |app: &TestApp| {
        app.count(&format!(
            "SELECT locked_until FROM attempt_counters WHERE {key}"
        ))
    };
    fail_passwords(&app, "ada@example.com", 9).await;
    assert_eq!(lock(&app), 0, "nine failures lock nothing");
    let mut locks = Vec::new();
    for _ in 0..10 {
        let before = twofold::now_unix();
        app.client()
            .sign_in("ada@example.com", "wrong password!")
            .await
            .assert_status(401);
        let after = twofold::now_unix();
        let until = lock(&app);
        // The lock is counted from the moment of the attempt, within the request.
        let length = (before..=after)
            .map(|t| until - t)
            .find(|l| [30, 60, 120, 240, 480, 960, 1920, 3600].contains(l))
            .unwrap_or(until - before);
        locks.push(length);
        // The lock runs out (moved into the past rather than waited for).
        app.execute(&format!(
            "UPDATE attempt_counters SET locked_until = 0 WHERE {key}"
        ));
    }
    assert_eq!(
        locks,
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600],
        "each failure after the tenth doubles the lock, up to an hour"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT attempts FROM attempt_counters WHERE {key}"
        )),
        19
    );
}

#[actix_rt::test]
async fn a_right_password_gives_its_counters_back() {
    let app = TestApp::spawn().await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "ada@example.com", 9).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM attempt_counters \
             WHERE key NOT LIKE 'client:%' AND key NOT LIKE 'signup-client:%'"
        ),
        0
    );
    fail_passwords(&app, "ada@example.com", 9).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn the_lock_holds_for_another_server_process_on_the_same_database() {
    // Real `twofold` processes, one after the other on one database: nothing of the lock
    // lives in a process.
    let deployment = crate::server_process::Deployment::new();
    let mut first = deployment.start(&[]);
    first.app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&first.app, "ada@example.com", 10).await;
    first.kill();
    let second = deployment.start(&[]);
    second
        .app
        .client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn wrong_codes_are_limited_per_account_whatever_the_browser() {
    let app = TestApp::spawn().await;
    let (_, device, _) = app.owner_with_two_factor("ada@example.com").await;
    let client = app.client();
    client.password_step("ada@example.com").await;
    for _ in 0..5 {
        client.two_factor("000000").await.assert_status(401);
    }
    // A right password does not reset the code's count: only a right code does, or a known
    // password would buy unlimited guesses at the code.
    let other = app.client();
    other.password_step("ada@example.com").await;
    for _ in 0..5 {
        other.two_factor("abcde-12345").await.assert_status(401);
    }
    let code = device.code().await;
    other.two_factor(&code).await.assert_status(429);
    let third = app.client();
    third.password_step("ada@example.com").await;
    third.two_factor(&code).await.assert_status(429);
}

#[actix_rt::test]
async fn the_accounts_ceiling_from_all_addresses_locks_password_sign_ins_and_tells_the_person() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
        c.limits.account_attempts = 6;
    })
    .await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for i in 0..6 {
        from(&app, &format!("198.51.100.{i}"))
            .sign_in("ada@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    // Sent after the answer: waited for.
    let warning = app
        .wait_for_email(
            "ada@example.com",
            "Someone is trying to guess your password",
        )
        .await;
    assert!(
        warning.body.contains("/account/not-me/"),
        "{}",
        warning.body
    );
    assert_eq!(app.emails_to("ada@example.com").len(), 1);
    from(&app, "203.0.113.77")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE event = 'password_sign_ins_paused'"),
        1
    );
}

#[actix_rt::test]
async fn a_client_address_is_limited_across_accounts() {
    let app = TestApp::spawn_with(|c| c.limits.client_attempts = 5).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for i in 0..5 {
        app.client()
            .sign_in(&format!("nobody{i}@example.com"), "wrong password!")
            .await
            .assert_status(401);
    }
    // Even the right password of an untouched account is refused from this address now.
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn the_client_window_starts_again_once_over() {
    let app = TestApp::spawn_with(|c| c.limits.client_attempts = 2).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    fail_passwords(&app, "nobody@example.com", 2).await;
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    // Fifteen minutes pass (the window moves back rather than the test sleeping).
    app.execute(
        "UPDATE attempt_counters SET window_start = window_start - 901, \
         locked_until = locked_until - 901 WHERE key LIKE 'client:%'",
    );
    app.client()
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn ipv6_clients_are_counted_by_their_64() {
    let app =
        TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for i in 0..10 {
        from(&app, &format!("2001:db8:1:2::{i:x}"))
            .sign_in("ada@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    // Another address of the same /64: the same client.
    from(&app, "2001:db8:1:2:ffff::1")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    // Another /64: someone else.
    from(&app, "2001:db8:1:3::1")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let app = TestApp::spawn_with(|c| {
        c.limits.client_attempts = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    let attacker = |spoofed: &str| {
        // The client writes the left entry; the proxy appends the address it saw.
        from(&app, &format!("{spoofed}, 203.0.113.9"))
    };
    for spoofed in ["1.1.1.1", "2.2.2.2"] {
        attacker(spoofed)
            .sign_in("nobody@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    // A new spoofed left entry does not help: the proxy's hop is what counts.
    attacker("3.3.3.3")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    // Nor does garbage on the left.
    attacker("not an address")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
    from(&app, "198.51.100.7")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
    // A hop the proxy wrote that is no address is a client of its own, not the proxy's
    // bucket shared by everyone behind it.
    from(&app, "unknown")
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_redirect("/");
}

#[actix_rt::test]
async fn without_a_trusted_proxy_forwarded_headers_are_ignored() {
    let app = TestApp::spawn_with(|c| c.limits.client_attempts = 2).await;
    app.signup("Acme", "Ada", "ada@example.com").await;
    for spoofed in ["1.1.1.1", "2.2.2.2"] {
        let client = app.client();
        *client.forwarded_for.borrow_mut() = Some(spoofed.into());
        client
            .sign_in("nobody@example.com", "wrong password!")
            .await
            .assert_status(401);
    }
    let client = app.client();
    *client.forwarded_for.borrow_mut() = Some("3.3.3.3".into());
    client
        .sign_in("ada@example.com", PASSWORD)
        .await
        .assert_status(429);
}

#[actix_rt::test]
async fn expired_counters_are_pruned_in_the_background() {
    let app = TestApp::spawn_with(|c| c.prune_every_secs = 1).await;
    app.execute(
        "INSERT INTO attempt_counters (key, attempts, window_start, locked_until, expires_at) \
         VALUES ('client:192.0.2.1', 3, 0, 0, 1)",
    );
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM attempt_counters") == 0 {
            return;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the expired counter was not pruned within 10 s");
}
