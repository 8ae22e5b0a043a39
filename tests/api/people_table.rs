//! Settings › Users: the people table's fields, 2FA cell, filter, search, count and paging.

use crate::helpers::{Client, PASSWORD, Response, TestApp, strip_tags};

/// The column headings of the people table.
fn headings(page: &Response) -> Vec<String> {
    let table = &page.body[page.body.find("id=\"people\"").expect("table")..];
    let head = &table[..table.find("</thead>").expect("thead")];
    head.split("<th scope")
        .skip(1)
        .map(|th| strip_tags(&format!("<th{}", th.split("</th>").next().unwrap_or(""))))
        .map(|t| t.trim().to_owned())
        .collect()
}

/// The text of each row's cell for a field (`data-field="…"`), in order.
fn column(page: &Response, field: &str) -> Vec<String> {
    let table = &page.body[page.body.find("<tbody>").expect("tbody")..];
    let table = &table[..table.find("</tbody>").expect("end of tbody")];
    let marker = format!("<td data-field=\"{field}\">");
    table
        .split(&marker)
        .skip(1)
        .map(|cell| {
            strip_tags(cell.split("</td>").next().unwrap_or(""))
                .trim()
                .to_owned()
        })
        .collect()
}

async fn owner_with_people(app: &TestApp) -> Client {
    app.signup("Acme", "Ada Lovelace", "ada@example.com").await
}

#[actix_rt::test]
async fn the_2fa_column_is_shown_by_default_and_each_viewers_choice_of_columns_is_saved() {
    let app = TestApp::spawn().await;
    let owner = owner_with_people(&app).await;
    let admin = app
        .join(&owner, "Alan Admin", "alan@example.com", "admin")
        .await;
    let default = [
        "Name",
        "Email",
        "Role",
        "2FA",
        "Last sign-in (UTC)",
        "Actions",
    ];
    let page = owner.get("/settings/users").await;
    page.assert_status(200);
    assert_eq!(headings(&page), default);

    // The owner takes 2FA away and adds the recovery codes left.
    owner
        .submit(
            "/settings/users/fields",
            &[("fields", "name"), ("fields", "recovery_codes")],
        )
        .await
        .assert_redirect("/settings/users");
    let chosen = ["Name", "Recovery codes left", "Actions"];
    assert_eq!(headings(&owner.get("/settings/users").await), chosen);
    // Saved for this viewer only, and kept across sign-ins.
    assert_eq!(headings(&admin.get("/settings/users").await), default);
    let again = app.client();
    again.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(headings(&again.get("/settings/users").await), chosen);

    owner
        .submit("/settings/users/fields", &[("fields", "password_hash")])
        .await
        .assert_status(400);
    owner
        .submit("/settings/users/fields", &[])
        .await
        .assert_status(422);
    assert_eq!(headings(&owner.get("/settings/users").await), chosen);
}

#[actix_rt::test]
async fn the_2fa_cell_reads_enabled_or_disabled_and_recovery_codes_left_are_counted() {
    let app = TestApp::spawn().await;
    let owner = owner_with_people(&app).await;
    let bob = app
        .join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    let (device, codes) = bob.enable_two_factor(PASSWORD).await;
    bob.sign_in("bob@example.com", PASSWORD).await;
    bob.two_factor(&codes[0]).await.assert_redirect("/");
    let _ = device;

    owner.get("/settings/users").await;
    owner
        .submit(
            "/settings/users/fields",
            &[
                ("fields", "email"),
                ("fields", "two_factor"),
                ("fields", "recovery_codes"),
            ],
        )
        .await;
    let page = owner.get("/settings/users").await;
    // Rows are in name order: Ada, then Bob.
    assert_eq!(
        column(&page, "email"),
        ["ada@example.com", "bob@example.com"]
    );
    assert_eq!(column(&page, "two_factor"), ["Disabled", "Enabled"]);
    assert_eq!(column(&page, "recovery_codes"), ["—", "4"]);
}

#[actix_rt::test]
async fn the_page_says_how_many_people_have_2fa_on_of_how_many() {
    let app = TestApp::spawn().await;
    let owner = owner_with_people(&app).await;
    let bob = app
        .join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    app.join(&owner, "Carol Clerk", "carol@example.com", "member")
        .await;
    let summary = |page: &Response| page.element_text("two-factor-summary").expect("summary");
    assert_eq!(
        summary(&owner.get("/settings/users").await),
        "0 of 3 people have 2FA on"
    );
    bob.enable_two_factor(PASSWORD).await;
    assert_eq!(
        summary(&owner.get("/settings/users").await),
        "1 of 3 people have 2FA on"
    );
    // The counts follow every change, also ones made straight in the database.
    app.execute("UPDATE users SET deactivated_at = 1 WHERE email = 'carol@example.com'");
    assert_eq!(
        summary(&owner.get("/settings/users").await),
        "1 of 2 people have 2FA on"
    );
}

#[actix_rt::test]
async fn the_table_filters_by_2fa_and_searches_names_and_emails_ignoring_case() {
    let app = TestApp::spawn().await;
    let owner = owner_with_people(&app).await;
    let bob = app
        .join(&owner, "Bob Builder", "bob@example.com", "member")
        .await;
    app.join(&owner, "Carol Clerk", "carol@builders.example", "member")
        .await;
    bob.enable_two_factor(PASSWORD).await;
    owner.get("/settings/users").await;
    owner
        .submit("/settings/users/fields", &[("fields", "email")])
        .await;

    let emails = |page: Response| column(&page, "email");
    assert_eq!(
        emails(owner.get("/settings/users?two_factor=enabled").await),
        ["bob@example.com"]
    );
    assert_eq!(
        emails(owner.get("/settings/users?two_factor=disabled").await),
        ["ada@example.com", "carol@builders.example"]
    );
    // Name or email, any case.
    assert_eq!(
        emails(owner.get("/settings/users?q=BUILD").await),
        ["bob@example.com", "carol@builders.example"]
    );
    assert_eq!(
        emails(
            owner
                .get("/settings/users?q=build&two_factor=disabled")
                .await
        ),
        ["carol@builders.example"]
    );
    assert_eq!(
        emails(owner.get("/settings/users?q=lovelace").await),
        ["ada@example.com"]
    );
    // LIKE's wildcards are searched for literally.
    assert!(emails(owner.get("/settings/users?q=%25").await).is_empty());
    assert!(emails(owner.get("/settings/users?q=_").await).is_empty());

    for bad in [
        "/settings/users?two_factor=maybe",
        "/settings/users?page=0",
        "/settings/users?page=abc",
        "/settings/users?page=-3",
    ] {
        owner.get(bad).await.assert_status(400);
    }
}

#[actix_rt::test]
async fn fifty_people_a_page_with_links_to_the_other_pages() {
    let app = TestApp::spawn().await;
    let owner = owner_with_people(&app).await;
    let organization = app.count("SELECT id FROM organizations");
    app.add_people(organization, 120);
    owner.get("/settings/users").await;
    owner
        .submit("/settings/users/fields", &[("fields", "email")])
        .await;

    let first = owner.get("/settings/users").await;
    let emails = column(&first, "email");
    assert_eq!(emails.len(), 50);
    assert_eq!(emails[0], "ada@example.com");
    assert_eq!(emails[1], "person0001@example.com");
    assert_eq!(
        first.element_text("two-factor-summary").expect("summary"),
        "0 of 121 people have 2FA on"
    );
    first
        .assert_contains("href=\"/settings/users?page=2\"")
        .assert_contains("href=\"/settings/users?page=3\"")
        .assert_contains("Page 1 of 3");

    let third = owner.get("/settings/users?page=3").await;
    let emails = column(&third, "email");
    assert_eq!(emails.len(), 21);
    assert_eq!(emails[0], "person0100@example.com");
    assert_eq!(emails[20], "person0120@example.com");
    third.assert_contains("Showing 101–121 of 121.");

    // Page links keep the search and the filter.
    let searched = owner
        .get("/settings/users?q=person00&two_factor=disabled")
        .await;
    assert_eq!(column(&searched, "email").len(), 50);
    searched
        .assert_contains("href=\"/settings/users?q=person00&#38;two_factor=disabled&#38;page=2\"")
        .assert_contains("Showing 1–50 of 99.");
    let past_the_end = owner.get("/settings/users?page=9").await;
    past_the_end
        .assert_status(200)
        .assert_contains("No one here matches.");
}
