//! The kinds of security event an organization's audit log records.

/// What happened, as the audit log stores and shows it. Stored as the text of
/// [`Event::as_str`], which never changes for an existing kind: old rows stay readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Event {
    OrganizationCreated,
    SignIn,
    SignInFailed,
    TwoFactorEnabled,
    TwoFactorMoved,
    TwoFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    RecoveryCodesIssued,
    TwoFactorReset,
    EnforcementChanged,
    InvitationSent,
    InvitationResent,
    InvitationRevoked,
    InvitationAccepted,
    RoleChanged,
    Deactivated,
    ReportedNotMe,
    PasswordSignInsPaused,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    OwnershipTransferred,
    Reactivated,
    SessionEnded,
    PasskeyAdded,
    PasskeyRemoved,
    PasskeyUsed,
    PasskeyRefused,
}

impl Event {
    /// Every kind, for the round-trip test.
    pub const ALL: [Self; 29] = [
        Self::OrganizationCreated,
        Self::SignIn,
        Self::SignInFailed,
        Self::TwoFactorEnabled,
        Self::TwoFactorMoved,
        Self::TwoFactorDisabled,
        Self::RecoveryCodeUsed,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodesIssued,
        Self::TwoFactorReset,
        Self::EnforcementChanged,
        Self::InvitationSent,
        Self::InvitationResent,
        Self::InvitationRevoked,
        Self::InvitationAccepted,
        Self::RoleChanged,
        Self::Deactivated,
        Self::ReportedNotMe,
        Self::PasswordSignInsPaused,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::OwnershipTransferred,
        Self::Reactivated,
        Self::SessionEnded,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyUsed,
        Self::PasskeyRefused,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrganizationCreated => "organization_created",
            Self::SignIn => "sign_in",
            Self::SignInFailed => "sign_in_failed",
            Self::TwoFactorEnabled => "two_factor_enabled",
            Self::TwoFactorMoved => "two_factor_moved",
            Self::TwoFactorDisabled => "two_factor_disabled",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::RecoveryCodesIssued => "recovery_codes_issued",
            Self::TwoFactorReset => "two_factor_reset",
            Self::EnforcementChanged => "two_factor_enforcement_changed",
            Self::InvitationSent => "invitation_sent",
            Self::InvitationResent => "invitation_resent",
            Self::InvitationRevoked => "invitation_revoked",
            Self::InvitationAccepted => "invitation_accepted",
            Self::RoleChanged => "role_changed",
            Self::Deactivated => "person_deactivated",
            Self::ReportedNotMe => "reported_not_me",
            Self::PasswordSignInsPaused => "password_sign_ins_paused",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::OwnershipTransferred => "ownership_transferred",
            Self::Reactivated => "person_reactivated",
            Self::SessionEnded => "session_ended",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyUsed => "passkey_used",
            Self::PasskeyRefused => "passkey_refused",
        }
    }

    /// The kind with this stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == stored)
    }

    /// How the audit log and the emails name it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::OrganizationCreated => "Organization created",
            Self::SignIn => "Signed in",
            Self::SignInFailed => "Sign-in failed",
            Self::TwoFactorEnabled => "2FA turned on",
            Self::TwoFactorMoved => "2FA moved to a new app",
            Self::TwoFactorDisabled => "2FA turned off",
            Self::RecoveryCodeUsed => "Recovery code used",
            Self::RecoveryCodesRegenerated => "Recovery codes regenerated",
            Self::RecoveryCodesIssued => "Recovery codes issued by the owner",
            Self::TwoFactorReset => "2FA reset by an operator",
            Self::EnforcementChanged => "2FA enforcement changed",
            Self::InvitationSent => "Invitation sent",
            Self::InvitationResent => "Invitation resent",
            Self::InvitationRevoked => "Invitation revoked",
            Self::InvitationAccepted => "Invitation accepted",
            Self::RoleChanged => "Role changed",
            Self::Deactivated => "Deactivated",
            Self::ReportedNotMe => "Reported \"this wasn't me\"",
            Self::PasswordSignInsPaused => "Password sign-ins paused after many wrong passwords",
            Self::PasswordChanged => "Password changed",
            Self::PasswordResetRequested => "Password reset link sent",
            Self::PasswordReset => "Password reset through the emailed link",
            Self::OwnershipTransferred => "Ownership handed over",
            Self::Reactivated => "Reactivated",
            Self::SessionEnded => "Signed out a session",
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
            Self::PasskeyUsed => "Passkey used",
            Self::PasskeyRefused => "Passkey refused: its counter went backwards (a copy?)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
        }
        assert_eq!(Event::parse("no_such_event"), None);
    }
}
