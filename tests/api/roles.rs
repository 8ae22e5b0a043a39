//! Roles and guards: members get 403 on every admin route, nobody reaches another
//! organization's people, and the rules about who may change whom.

use crate::helpers::{Client, PASSWORD, TestApp};

/// An owner with 2FA off (signed in), and a member of the same organization (signed in).
async fn owner_and_member(app: &TestApp) -> (Client, Client) {
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let member = app
        .join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    (owner, member)
}

/// What an admin route could change, to show that a refused request changed nothing.
fn snapshot(app: &TestApp) -> Vec<i64> {
    [
        "SELECT COUNT(*) FROM audit_events",
        "SELECT COUNT(*) FROM invitations",
        "SELECT COUNT(*) FROM invitations WHERE revoked_at IS NOT NULL",
        "SELECT COUNT(*) FROM users WHERE role = 'admin'",
        "SELECT COUNT(*) FROM users WHERE deactivated_at IS NOT NULL",
        "SELECT COUNT(*) FROM users WHERE people_fields IS NOT NULL",
        "SELECT COUNT(*) FROM recovery_codes",
        "SELECT COUNT(*) FROM organizations WHERE enforce_two_factor = TRUE",
        "SELECT SUM(session_epoch) FROM users",
    ]
    .iter()
    .map(|sql| app.count(sql))
    .collect()
}

#[actix_rt::test]
async fn a_member_gets_403_on_every_admin_route_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (owner, member) = owner_and_member(&app).await;
    app.invite(&owner, "Ian Invitee", "ian@example.com", "member")
        .await;
    // The target of the actions on a person: another member, whom an admin could act on (the
    // owner could be refused for being the owner, which would prove nothing about the guard).
    app.join(&owner, "Max Member", "max@example.com", "member")
        .await;
    let other_id = app.user_id("max@example.com").to_string();
    let invitation_id = app.count("SELECT MAX(id) FROM invitations").to_string();
    let before = snapshot(&app);

    for path in [
        "/settings/users",
        "/settings/users?two_factor=enabled",
        "/settings/organization-security",
        "/settings/audit-log",
    ] {
        let res = member.get(path).await;
        assert_eq!(res.status.as_u16(), 403, "GET {path}");
        res.assert_contains("You can&#39;t open this page");
    }
    member.get("/settings/security").await.assert_status(200);
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/users/fields".into(),
            vec![("fields", "two_factor")],
        ),
        (
            "/settings/users/invite".into(),
            vec![
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("role", "member"),
            ],
        ),
        (
            format!("/settings/users/{other_id}/role"),
            vec![("role", "admin")],
        ),
        (format!("/settings/users/{other_id}/deactivate"), vec![]),
        (format!("/settings/users/{other_id}/recovery-codes"), vec![]),
        (
            format!("/settings/invitations/{invitation_id}/resend"),
            vec![],
        ),
        (
            format!("/settings/invitations/{invitation_id}/revoke"),
            vec![],
        ),
        (
            "/settings/organization-security".into(),
            vec![("enforce_two_factor", "on")],
        ),
    ];
    for (path, fields) in &posts {
        let res = member.submit(path, fields).await;
        assert_eq!(res.status.as_u16(), 403, "POST {path}");
        // Refused by the guard for who the member is, not by a rule about the target.
        let refusal = if path.ends_with("/recovery-codes") {
            "Only your organization&#39;s owner can do this."
        } else {
            "Only your organization&#39;s admins and owner can open this page."
        };
        res.assert_contains(refusal);
    }
    assert_eq!(snapshot(&app), before);
    assert_eq!(app.emails_to("eve@example.com").len(), 0);
}

#[actix_rt::test]
async fn an_admin_cannot_issue_recovery_codes_which_only_the_owner_can() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    let member_id = {
        app.join(&owner, "Mia Member", "mia@example.com", "member")
            .await;
        app.user_id("mia@example.com")
    };
    admin.get("/settings/users").await.assert_status(200);
    let res = admin
        .submit(&format!("/settings/users/{member_id}/recovery-codes"), &[])
        .await;
    res.assert_status(403);
    assert_eq!(app.count("SELECT COUNT(*) FROM recovery_codes"), 0);
}

#[actix_rt::test]
async fn admin_routes_send_someone_signed_out_to_sign_in() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in [
        "/settings/users",
        "/settings/organization-security",
        "/settings/audit-log",
    ] {
        client.get(path).await.assert_redirect("/login");
    }
}

#[actix_rt::test]
async fn ids_from_another_organization_get_the_same_404_as_ids_that_do_not_exist() {
    let app = TestApp::spawn().await;
    let acme = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let globex = app
        .signup("Globex", "Hank Scorpio", "hank@example.com")
        .await;
    // Another organization's person with 2FA who has signed in: everything an owner needs.
    let (device, _) = app
        .join(&globex, "Gil Globex", "gil@example.com", "admin")
        .await
        .enable_two_factor(PASSWORD)
        .await;
    app.client()
        .sign_in_with_code("gil@example.com", &device)
        .await;
    app.invite(&globex, "Ivy Invitee", "ivy@example.com", "member")
        .await;
    let theirs = app.user_id("gil@example.com");
    let their_invitation = app.count("SELECT MAX(id) FROM invitations");
    let missing = 999_999;
    let before = snapshot(&app);

    acme.get("/settings/users").await.assert_status(200);
    let post_routes = |id: i64, invitation: i64| {
        vec![
            (
                format!("/settings/users/{id}/role"),
                vec![("role", "member")],
            ),
            (format!("/settings/users/{id}/deactivate"), vec![]),
            (format!("/settings/users/{id}/recovery-codes"), vec![]),
            (format!("/settings/invitations/{invitation}/resend"), vec![]),
            (format!("/settings/invitations/{invitation}/revoke"), vec![]),
        ]
    };
    let others = post_routes(theirs, their_invitation);
    let nobodys = post_routes(missing, missing);
    for ((path, fields), (missing_path, _)) in others.iter().zip(&nobodys) {
        let refused = acme.submit(path, fields).await;
        let absent = acme.submit(missing_path, fields).await;
        assert_eq!(refused.status.as_u16(), 404, "POST {path}");
        assert_eq!(absent.status.as_u16(), 404, "POST {missing_path}");
        assert_eq!(refused.body, absent.body, "{path} tells them apart");
    }
    for (path, missing_path) in [
        (
            format!("/settings/audit-log?person={theirs}"),
            format!("/settings/audit-log?person={missing}"),
        ),
        (
            "/settings/audit-log?email=gil@example.com".to_owned(),
            "/settings/audit-log?email=nobody@example.com".to_owned(),
        ),
    ] {
        let refused = acme.get(&path).await;
        let absent = acme.get(&missing_path).await;
        assert_eq!(refused.status.as_u16(), 404, "GET {path}");
        assert_eq!(refused.body, absent.body, "{path} tells them apart");
    }
    // A malformed id is a page that does not exist either.
    acme.submit("/settings/users/abc/role", &[("role", "member")])
        .await
        .assert_status(404);
    assert_eq!(snapshot(&app), before);

    let people = acme.get("/settings/users").await;
    assert!(!people.body.contains("gil@example.com"));
    assert!(!people.body.contains("ivy@example.com"));
    let log = acme.get("/settings/audit-log").await;
    assert!(!log.body.contains("Gil Globex") && !log.body.contains("Hank"));
}

#[actix_rt::test]
async fn the_owner_cannot_be_demoted_or_deactivated_and_nobody_makes_a_second_owner() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    app.join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    let (owner_id, member_id) = (
        app.user_id("ada@example.com"),
        app.user_id("mia@example.com"),
    );
    let before = snapshot(&app);

    admin.get("/settings/users").await.assert_status(200);
    for (path, fields) in [
        (
            format!("/settings/users/{owner_id}/role"),
            vec![("role", "member")],
        ),
        (format!("/settings/users/{owner_id}/deactivate"), vec![]),
        (
            format!("/settings/users/{member_id}/role"),
            vec![("role", "owner")],
        ),
        (
            format!("/settings/users/{member_id}/role"),
            vec![("role", "admin")],
        ),
    ] {
        admin.submit(&path, &fields).await.assert_status(403);
    }
    owner.get("/settings/users").await.assert_status(200);
    for (path, fields) in [
        (
            format!("/settings/users/{owner_id}/role"),
            vec![("role", "admin")],
        ),
        (format!("/settings/users/{owner_id}/deactivate"), vec![]),
        (
            format!("/settings/users/{member_id}/role"),
            vec![("role", "owner")],
        ),
    ] {
        owner.submit(&path, &fields).await.assert_status(403);
    }
    owner
        .submit(
            &format!("/settings/users/{member_id}/role"),
            &[("role", "root")],
        )
        .await
        .assert_status(422);
    assert_eq!(snapshot(&app), before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE role = 'owner'"),
        1
    );
}

#[actix_rt::test]
async fn only_the_owner_makes_admins_and_the_change_is_audited() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let member = app
        .join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    let member_id = app.user_id("mia@example.com");
    member.get("/settings/users").await.assert_status(403);

    owner.get("/settings/users").await.assert_status(200);
    owner
        .submit(
            &format!("/settings/users/{member_id}/role"),
            &[("role", "admin")],
        )
        .await
        .assert_redirect("/settings/users");
    // The new role holds from Mia's next request, in the session she already has.
    member.get("/settings/users").await.assert_status(200);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE event = 'role_changed' AND subject_id = {member_id}"
        )),
        1
    );
}

#[actix_rt::test]
async fn a_deactivated_person_is_signed_out_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let owner = app.signup("Acme", "Ada Lovelace", "ada@example.com").await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    let member = app
        .join(&owner, "Mia Member", "mia@example.com", "member")
        .await;
    let (admin_id, member_id) = (
        app.user_id("alan@example.com"),
        app.user_id("mia@example.com"),
    );
    member.get("/").await.assert_status(200);

    // An admin may deactivate a member, not another admin nor themself.
    admin.get("/settings/users").await.assert_status(200);
    admin
        .submit(&format!("/settings/users/{admin_id}/deactivate"), &[])
        .await
        .assert_status(403);
    admin
        .submit(&format!("/settings/users/{member_id}/deactivate"), &[])
        .await
        .assert_redirect("/settings/users");

    member.get("/").await.assert_redirect("/login");
    app.client()
        .sign_in("mia@example.com", PASSWORD)
        .await
        .assert_status(401);
    let people = owner.get("/settings/users").await;
    assert!(
        !people
            .body
            .contains("<td data-field=\"email\">mia@example.com")
    );
    people.assert_contains("of <strong>2</strong> people have 2FA on");
}

#[actix_rt::test]
async fn a_member_sees_no_admin_links_in_the_settings_sidebar() {
    let app = TestApp::spawn().await;
    let (owner, member) = owner_and_member(&app).await;
    let page = member.get("/settings/security").await;
    for link in [
        "/settings/users\"",
        "/settings/organization-security\"",
        "/settings/audit-log\"",
    ] {
        assert!(!page.body.contains(link), "a member sees {link}");
    }
    page.assert_contains("/settings/owner\"");
    let page = owner.get("/settings/security").await;
    page.assert_contains("/settings/users\"")
        .assert_contains("/settings/audit-log\"");
}
