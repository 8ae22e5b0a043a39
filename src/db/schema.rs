// The tables of migrations/, as diesel sees them (kept in step with `diesel print-schema`).

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        enforce_two_factor -> Bool,
        created_at -> BigInt,
        people_count -> BigInt,
        two_factor_count -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        organization_id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        totp_secret -> Nullable<Binary>,
        totp_enabled_at -> Nullable<BigInt>,
        totp_last_step -> BigInt,
        pending_totp_secret -> Nullable<Binary>,
        pending_totp_created_at -> Nullable<BigInt>,
        session_epoch -> BigInt,
        last_sign_in_at -> Nullable<BigInt>,
        deactivated_at -> Nullable<BigInt>,
        created_at -> BigInt,
        people_fields -> Nullable<Text>,
        must_reset_password -> Bool,
        passkey_user_id -> Nullable<Text>,
        passkey_count -> BigInt,
        two_factor -> Bool,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    attempt_counters (key) {
        key -> Text,
        attempts -> Integer,
        window_start -> BigInt,
        locked_until -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        organization_id -> BigInt,
        actor_id -> Nullable<BigInt>,
        subject_id -> Nullable<BigInt>,
        event -> Text,
        detail -> Text,
        client_address -> Text,
        user_agent -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    pending_sign_ins (id_hash) {
        id_hash -> Text,
        user_id -> BigInt,
        epoch -> BigInt,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        id_hash -> Text,
        user_id -> BigInt,
        epoch -> BigInt,
        user_agent -> Text,
        client_address -> Text,
        created_at -> BigInt,
        last_active_at -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    known_browsers (user_id, browser_hash) {
        user_id -> BigInt,
        browser_hash -> Text,
        first_seen_at -> BigInt,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        organization_id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        token_hash -> Text,
        invited_by -> Nullable<BigInt>,
        created_at -> BigInt,
        expires_at -> BigInt,
        accepted_at -> Nullable<BigInt>,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    alert_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        event -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    passkeys (id) {
        id -> BigInt,
        user_id -> BigInt,
        credential_id -> Text,
        name -> Text,
        credential -> Text,
        sign_count -> BigInt,
        created_at -> BigInt,
        last_used_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    passkey_ceremonies (id_hash) {
        id_hash -> Text,
        purpose -> Text,
        user_id -> Nullable<BigInt>,
        bound_to -> Nullable<Text>,
        state -> Text,
        expires_at -> BigInt,
    }
}

diesel::joinable!(passkeys -> users (user_id));
diesel::joinable!(users -> organizations (organization_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(audit_events -> organizations (organization_id));
diesel::joinable!(invitations -> organizations (organization_id));
diesel::joinable!(alert_tokens -> users (user_id));
diesel::joinable!(pending_sign_ins -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(known_browsers -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    passkeys,
    passkey_ceremonies,
    users,
    recovery_codes,
    attempt_counters,
    audit_events,
    sessions,
    known_browsers,
    password_resets,
    pending_sign_ins,
    invitations,
    alert_tokens,
);
