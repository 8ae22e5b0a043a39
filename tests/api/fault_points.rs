//! A write cut between two of its statements leaves nothing half done. With the
//! `test-hooks` feature, `TWOFOLD_FAULT_POINT` makes the real server abort at a named
//! point inside a write transaction: before the audit event of each change (written after the
//! change itself, in the same transaction), and in the middle of counting an attempt. Each
//! case prepares the state through the HTTP pages, restarts the server with the fault point,
//! sends the one request that reaches it, sees the process die there, restarts it and finds the
//! database exactly as before that request.
//!
//! Unlike the random kills of `crash_safety`, every case here lands inside its transaction,
//! every time.

use std::time::Duration;

use crate::helpers::{Authenticator, Client, PASSWORD, TestApp, snapshot};
use crate::server_process::Deployment;

/// One case: the fault point, and whether the attempt counters belong to the snapshot (they
/// do not when an earlier, committed step of the same request changes them).
struct Case {
    point: &'static str,
    with_counters: bool,
}

/// Runs the last request of a case against a server that aborts at the case's point, and
/// checks that the database is as it was.
async fn cut(
    deployment: &Deployment,
    case: &Case,
    client: &Client,
    path: &str,
    fields: &[(&str, &str)],
) {
    let before = {
        let server = deployment.start(&[]);
        snapshot(&server.app, case.with_counters)
    };
    let mut faulty = deployment.start(&[("TWOFOLD_FAULT_POINT", case.point)]);
    client.use_instance(&faulty.app.address);
    let answer = client.try_submit(path, fields).await;
    assert!(
        answer.is_err(),
        "{}: the request was answered ({answer:?}): the fault point was not reached",
        case.point
    );
    let exit = faulty.wait_for_exit(Duration::from_secs(20));
    assert!(exit.is_some(), "{}: the server did not stop", case.point);
    assert!(
        faulty
            .log()
            .iter()
            .any(|l| l.contains(&format!("fault point {}", case.point))),
        "{}: the server died elsewhere:\n{}",
        case.point,
        faulty.log().join("\n")
    );
    let restarted = deployment.start(&[]);
    assert_eq!(
        snapshot(&restarted.app, case.with_counters),
        before,
        "{}: a write cut in the middle left something behind",
        case.point
    );
}

fn case(point: &'static str) -> Case {
    Case {
        point,
        with_counters: false,
    }
}

#[actix_rt::test]
async fn a_write_cut_between_two_of_its_statements_leaves_nothing_half_done() {
    // Sign-up: the organization, its owner and the event.
    {
        let deployment = Deployment::new();
        let server = deployment.start(&[]);
        let client = server.app.client();
        client.get("/signup").await.assert_status(200);
        drop(server);
        let fields = [
            ("organization", "Acme"),
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
        ];
        cut(
            &deployment,
            &case("before-audit:organization_created"),
            &client,
            "/signup",
            &fields,
        )
        .await;
    }
    // Counting an attempt: cut between its statements, nothing is counted.
    {
        let deployment = Deployment::new();
        let server = deployment.start(&[]);
        server.app.signup("Acme", "Ada", "ada@example.com").await;
        let client = server.app.client();
        client.get("/login").await.assert_status(200);
        drop(server);
        let fields = [
            ("email", "ada@example.com"),
            ("password", "wrong password!"),
        ];
        let counted = Case {
            point: "attempt-counted",
            with_counters: true,
        };
        cut(&deployment, &counted, &client, "/login", &fields).await;
    }
    // A password sign-in: the time of sign-in, the counters' reset and the event.
    {
        let deployment = Deployment::new();
        let server = deployment.start(&[]);
        server.app.signup("Acme", "Ada", "ada@example.com").await;
        let client = server.app.client();
        client.get("/login").await.assert_status(200);
        drop(server);
        let fields = [("email", "ada@example.com"), ("password", PASSWORD)];
        cut(
            &deployment,
            &case("before-audit:sign_in"),
            &client,
            "/login",
            &fields,
        )
        .await;
    }
    // The rest start from an owner with 2FA, a member with 2FA who has signed in, and a
    // member without; each on a deployment of its own.
    for point in [
        "before-audit:two_factor_enabled",
        "before-audit:recovery_code_used",
        "before-audit:recovery_codes_regenerated",
        "before-audit:two_factor_disabled",
        "before-audit:invitation_sent",
        "before-audit:invitation_accepted",
        "before-audit:role_changed",
        "before-audit:person_deactivated",
        "before-audit:two_factor_enforcement_changed",
        "before-audit:recovery_codes_issued",
        "before-audit:reported_not_me",
        "before-audit:password_changed",
        "before-audit:password_reset",
        "before-audit:password_reset_requested",
        "before-audit:session_ended",
        "before-audit:ownership_transferred",
        "before-audit:person_reactivated",
    ] {
        one_of_the_organizations_writes(point).await;
    }
}

/// Prepares an organization and cuts the write of `point`.
async fn one_of_the_organizations_writes(point: &'static str) {
    let deployment = Deployment::new();
    let server = deployment.start(&[]);
    let app: &TestApp = &server.app;
    let (owner, device, codes) = app.owner_with_two_factor("ada@example.com").await;
    let not_me = app
        .last_email_to("ada@example.com")
        .link("/account/not-me/");
    owner.sign_in_with_code("ada@example.com", &device).await;
    let bea = app.join(&owner, "Bea", "bea@example.com", "member").await;
    bea.enable_two_factor(PASSWORD).await;
    app.join(&owner, "Cy", "cy@example.com", "member").await;
    let bea_id = app.user_id("bea@example.com");
    let cy_id = app.user_id("cy@example.com");
    let link = app.invite(&owner, "Di", "di@example.com", "member").await;

    let (client, path, fields): (Client, String, Vec<(&str, String)>) = match point {
        "before-audit:two_factor_enabled" => {
            let cy = app.client();
            cy.sign_in("cy@example.com", PASSWORD)
                .await
                .assert_redirect("/");
            let page = cy.start_setup().await;
            let phone = Authenticator::from_setup_page(&page);
            cy.get("/settings/security/two-factor/confirm").await;
            let code = phone.code().await;
            (
                cy,
                "/settings/security/two-factor/confirm".into(),
                vec![("password", PASSWORD.into()), ("code", code)],
            )
        }
        "before-audit:recovery_code_used" => {
            let client = app.client();
            client.password_step("ada@example.com").await;
            (
                client,
                "/login/two-factor".into(),
                vec![("code", codes[0].clone())],
            )
        }
        "before-audit:recovery_codes_regenerated" => {
            owner.get("/settings/security").await;
            (
                owner,
                "/settings/security/recovery-codes".into(),
                vec![("password", PASSWORD.into())],
            )
        }
        "before-audit:two_factor_disabled" => {
            owner.get("/settings/security").await;
            (
                owner,
                "/settings/security/two-factor/disable".into(),
                vec![("password", PASSWORD.into())],
            )
        }
        "before-audit:invitation_sent" => {
            owner.get("/settings/users").await;
            (
                owner,
                "/settings/users/invite".into(),
                vec![
                    ("name", "Ed".into()),
                    ("email", "ed@example.com".into()),
                    ("role", "member".into()),
                ],
            )
        }
        "before-audit:invitation_accepted" => {
            let di = app.client();
            di.get(&link).await.assert_status(200);
            (
                di,
                link.clone(),
                vec![("name", "Di".into()), ("password", PASSWORD.into())],
            )
        }
        "before-audit:role_changed" => {
            owner.get("/settings/users").await;
            (
                owner,
                format!("/settings/users/{cy_id}/role"),
                vec![("role", "admin".into())],
            )
        }
        "before-audit:person_deactivated" => {
            owner.get("/settings/users").await;
            (
                owner,
                format!("/settings/users/{cy_id}/deactivate"),
                Vec::new(),
            )
        }
        "before-audit:two_factor_enforcement_changed" => {
            owner.get("/settings/organization-security").await;
            (
                owner,
                "/settings/organization-security".into(),
                vec![("enforce_two_factor", "on".into())],
            )
        }
        "before-audit:recovery_codes_issued" => {
            owner.get("/settings/users").await;
            (
                owner,
                format!("/settings/users/{bea_id}/recovery-codes"),
                Vec::new(),
            )
        }
        "before-audit:reported_not_me" => {
            let someone = app.client();
            someone.get(&not_me).await.assert_status(200);
            (someone, not_me.clone(), Vec::new())
        }
        "before-audit:password_changed" => {
            owner.get("/settings/security/password").await;
            (
                owner,
                "/settings/security/password".into(),
                vec![
                    ("current_password", PASSWORD.into()),
                    ("new_password", "a new and longer passphrase".into()),
                ],
            )
        }
        "before-audit:password_reset" => {
            let someone = app.client();
            someone.get("/password/forgot").await;
            someone
                .submit("/password/forgot", &[("email", "cy@example.com")])
                .await
                .assert_status(200);
            let link = app
                .wait_for_email("cy@example.com", "Choose a new password")
                .await
                .link("/password/reset/");
            someone.get(&link).await.assert_status(200);
            (
                someone,
                link,
                vec![("new_password", "a new and longer passphrase".into())],
            )
        }
        "before-audit:password_reset_requested" => {
            owner.get("/settings/users").await;
            (
                owner,
                format!("/settings/users/{cy_id}/password-reset"),
                Vec::new(),
            )
        }
        "before-audit:session_ended" => {
            let (cy_here, cy_there) = (app.client(), app.client());
            cy_here.sign_in("cy@example.com", PASSWORD).await;
            cy_there.sign_in("cy@example.com", PASSWORD).await;
            let there = app.count(&format!(
                "SELECT MAX(id) FROM sessions WHERE user_id = {cy_id}"
            ));
            cy_here.get("/settings/security/sessions").await;
            (
                cy_here,
                format!("/settings/security/sessions/{there}/revoke"),
                Vec::new(),
            )
        }
        "before-audit:ownership_transferred" => {
            owner.get("/settings/users").await;
            owner
                .submit(
                    &format!("/settings/users/{cy_id}/role"),
                    &[("role", "admin")],
                )
                .await
                .assert_redirect("/settings/users");
            owner.get("/settings/owner").await;
            (
                owner,
                "/settings/owner/transfer".into(),
                vec![
                    ("new_owner", cy_id.to_string()),
                    ("password", PASSWORD.into()),
                ],
            )
        }
        "before-audit:person_reactivated" => {
            owner.get("/settings/users").await;
            owner
                .submit(&format!("/settings/users/{cy_id}/deactivate"), &[])
                .await
                .assert_redirect("/settings/users");
            owner.get("/settings/users?status=deactivated").await;
            (
                owner,
                format!("/settings/users/{cy_id}/reactivate"),
                Vec::new(),
            )
        }
        other => panic!("no case for {other}"),
    };
    drop(bea);
    drop(server);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    cut(&deployment, &case(point), &client, &path, &fields).await;
}
