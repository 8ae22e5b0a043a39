//! Settings pages.

mod audit_log;
mod organization_security;
mod owner;
mod passkeys;
mod password;
mod security;
mod sessions;
mod two_factor;
mod users;

use actix_web::web;

/// Registers the settings routes, under one scope: a request for any other path passes them
/// by with a single comparison of the prefix.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/settings").configure(settings));
}

fn settings(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(security::redirect_to_security))
        .route("/security", web::get().to(security::get_security))
        .route(
            "/security/recovery-codes",
            web::post().to(security::post_recovery_codes),
        )
        .route(
            "/security/two-factor/disable",
            web::post().to(security::post_disable),
        )
        .route(
            "/security/two-factor/setup",
            web::post().to(two_factor::post_setup),
        )
        .route(
            "/security/two-factor/setup",
            web::get().to(two_factor::get_setup),
        )
        .route(
            "/security/two-factor/confirm",
            web::get().to(two_factor::get_confirm),
        )
        .route(
            "/security/two-factor/confirm",
            web::post().to(two_factor::post_confirm),
        )
        .route("/security/sessions", web::get().to(sessions::get_sessions))
        .route(
            "/security/sessions/revoke-others",
            web::post().to(sessions::post_revoke_others),
        )
        .route("/security/password", web::get().to(password::get_password))
        .route(
            "/security/password",
            web::post().to(password::post_password),
        )
        .route("/security/passkeys", web::get().to(passkeys::get_passkeys))
        .route("/security/passkeys", web::post().to(passkeys::post_passkey))
        .route(
            "/security/passkeys/options",
            web::post().to(passkeys::post_options),
        )
        .route("/security/reauth", web::post().to(passkeys::post_reauth))
        .route(
            "/security/reauth/options",
            web::post().to(passkeys::post_reauth_options),
        )
        .route(
            "/security/reauth/passkey",
            web::post().to(passkeys::post_reauth_passkey),
        )
        .route("/owner", web::get().to(owner::get_owner))
        .route("/owner/transfer", web::post().to(owner::post_transfer))
        .route("/users", web::get().to(users::get_users))
        .route("/users/fields", web::post().to(users::post_fields))
        .route(
            "/users/invite",
            web::post().to(users::invitations::post_invite),
        )
        .route(
            "/organization-security",
            web::get().to(organization_security::get_organization_security),
        )
        .route(
            "/organization-security",
            web::post().to(organization_security::post_organization_security),
        )
        .route("/audit-log", web::get().to(audit_log::get_audit_log))
        // Paths with an id last: matching them costs more than a plain comparison.
        .route(
            "/security/sessions/{id}/revoke",
            web::post().to(sessions::post_revoke),
        )
        .route(
            "/security/passkeys/{id}/rename",
            web::post().to(passkeys::post_rename),
        )
        .route(
            "/security/passkeys/{id}/remove",
            web::post().to(passkeys::post_remove),
        )
        .route(
            "/users/{id}/role",
            web::post().to(users::actions::post_role),
        )
        .route(
            "/users/{id}/deactivate",
            web::post().to(users::actions::post_deactivate),
        )
        .route(
            "/users/{id}/reactivate",
            web::post().to(users::actions::post_reactivate),
        )
        .route(
            "/users/{id}/password-reset",
            web::post().to(users::actions::post_password_reset),
        )
        .route(
            "/users/{id}/recovery-codes",
            web::post().to(users::actions::post_recovery_codes),
        )
        .route(
            "/invitations/{id}/resend",
            web::post().to(users::invitations::post_resend),
        )
        .route(
            "/invitations/{id}/revoke",
            web::post().to(users::invitations::post_revoke),
        );
}
