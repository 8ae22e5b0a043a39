-- Twofold's schema on PostgreSQL: the same tables as migrations/sqlite, in PostgreSQL's types.

CREATE TABLE organizations (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    enforce_two_factor BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    totp_secret BYTEA,
    totp_enabled_at BIGINT,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    pending_totp_secret BYTEA,
    pending_totp_created_at BIGINT,
    session_epoch BIGINT NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_sign_in_at BIGINT,
    deactivated_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX users_organization_idx ON users (organization_id, name);

CREATE TABLE recovery_codes (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX recovery_codes_user_hash_idx ON recovery_codes (user_id, code_hash);

CREATE TABLE client_failures (
    address TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL
);

CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
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
