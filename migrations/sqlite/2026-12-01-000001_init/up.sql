-- Twofold's schema. Times are Unix seconds (BIGINT) so the same models serve SQLite and PostgreSQL.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    enforce_two_factor BOOLEAN NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    -- AEAD-sealed TOTP secrets (nonce || ciphertext), the user id as associated data.
    totp_secret BLOB,
    totp_enabled_at BIGINT,
    -- The last TOTP time step accepted for this person: never accepted again.
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    pending_totp_secret BLOB,
    pending_totp_created_at BIGINT,
    -- Bumped to end every session of this person on every device.
    session_epoch BIGINT NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_sign_in_at BIGINT,
    deactivated_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX users_organization_idx ON users (organization_id, name);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- HMAC-SHA256 of the normalized code under a key derived from the deployment's secret.
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX recovery_codes_user_hash_idx ON recovery_codes (user_id, code_hash);

-- Failed sign-in attempts per client address, in fixed windows.
CREATE TABLE client_failures (
    address TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    subject_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    client_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE INDEX audit_events_organization_idx ON audit_events (organization_id, id);
