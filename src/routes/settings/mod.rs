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

/// Registers the settings routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(security::redirect_to_security))
        .route("/settings/security", web::get().to(security::get_security))
        .route(
            "/settings/security/recovery-codes",
            web::post().to(security::post_recovery_codes),
        )
        .route(
            "/settings/security/two-factor/disable",
            web::post().to(security::post_disable),
        )
        .route(
            "/settings/security/two-factor/setup",
            web::post().to(two_factor::post_setup),
        )
        .route(
            "/settings/security/two-factor/setup",
            web::get().to(two_factor::get_setup),
        )
        .route(
            "/settings/security/two-factor/confirm",
            web::get().to(two_factor::get_confirm),
        )
        .route(
            "/settings/security/two-factor/confirm",
            web::post().to(two_factor::post_confirm),
        )
        .route(
            "/settings/security/sessions",
            web::get().to(sessions::get_sessions),
        )
        .route(
            "/settings/security/sessions/revoke-others",
            web::post().to(sessions::post_revoke_others),
        )
        .route(
            "/settings/security/sessions/{id}/revoke",
            web::post().to(sessions::post_revoke),
        )
        .route(
            "/settings/security/password",
            web::get().to(password::get_password),
        )
        .route(
            "/settings/security/password",
            web::post().to(password::post_password),
        )
        .route(
            "/settings/security/passkeys",
            web::get().to(passkeys::get_passkeys),
        )
        .route(
            "/settings/security/passkeys",
            web::post().to(passkeys::post_passkey),
        )
        .route(
            "/settings/security/passkeys/options",
            web::post().to(passkeys::post_options),
        )
        .route(
            "/settings/security/passkeys/{id}/rename",
            web::post().to(passkeys::post_rename),
        )
        .route(
            "/settings/security/passkeys/{id}/remove",
            web::post().to(passkeys::post_remove),
        )
        .route(
            "/settings/security/reauth",
            web::post().to(passkeys::post_reauth),
        )
        .route(
            "/settings/security/reauth/options",
            web::post().to(passkeys::post_reauth_options),
        )
        .route(
            "/settings/security/reauth/passkey",
            web::post().to(passkeys::post_reauth_passkey),
        )
        .route("/settings/owner", web::get().to(owner::get_owner))
        .route(
            "/settings/owner/transfer",
            web::post().to(owner::post_transfer),
        )
        .route("/settings/users", web::get().to(users::get_users))
        .route("/settings/users/fields", web::post().to(users::post_fields))
        .route(
            "/settings/users/invite",
            web::post().to(users::invitations::post_invite),
        )
        .route(
            "/settings/users/{id}/role",
            web::post().to(users::actions::post_role),
        )
        .route(
            "/settings/users/{id}/deactivate",
            web::post().to(users::actions::post_deactivate),
        )
        .route(
            "/settings/users/{id}/reactivate",
            web::post().to(users::actions::post_reactivate),
        )
        .route(
            "/settings/users/{id}/password-reset",
            web::post().to(users::actions::post_password_reset),
        )
        .route(
            "/settings/users/{id}/recovery-codes",
            web::post().to(users::actions::post_recovery_codes),
        )
        .route(
            "/settings/invitations/{id}/resend",
            web::post().to(users::invitations::post_resend),
        )
        .route(
            "/settings/invitations/{id}/revoke",
            web::post().to(users::invitations::post_revoke),
        )
        .route(
            "/settings/organization-security",
            web::get().to(organization_security::get_organization_security),
        )
        .route(
            "/settings/organization-security",
            web::post().to(organization_security::post_organization_security),
        )
        .route(
            "/settings/audit-log",
            web::get().to(audit_log::get_audit_log),
        );
}
