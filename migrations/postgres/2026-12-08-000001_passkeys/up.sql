-- Passkeys (WebAuthn credentials), a second factor beside the authenticator app and a
-- sign-in on their own. The person's user handle is a random UUID, made with their first
-- passkey: it is what a discoverable credential names, never their id or email.
ALTER TABLE users ADD COLUMN passkey_user_id TEXT;
ALTER TABLE users ADD COLUMN passkey_count BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX users_passkey_user_id_idx ON users (passkey_user_id);

CREATE TABLE passkeys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- base64url, unique across the deployment.
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The credential as webauthn-rs keeps it (JSON): its public key, counter and flags.
    credential TEXT NOT NULL,
    -- The authenticator's signature counter, advanced by a conditional update.
    sign_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);

-- A WebAuthn ceremony's state between its challenge and the browser's answer, shared by every
-- instance: single-use (the answer deletes it) and short-lived. The browser holds a random
-- id, whose SHA-256 is the key; `bound_to` is the session or pending sign-in it belongs to.
CREATE TABLE passkey_ceremonies (
    id_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    bound_to TEXT,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX passkey_ceremonies_expires_idx ON passkey_ceremonies (expires_at);

-- 2FA is on with the app, a passkey, or both: one column the counts, the people table's
-- filters and their indexes read.
ALTER TABLE users ADD COLUMN two_factor BOOLEAN NOT NULL
    GENERATED ALWAYS AS (totp_secret IS NOT NULL OR passkey_count > 0) STORED;

CREATE OR REPLACE FUNCTION users_keep_counts() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE organizations SET
            people_count = people_count - (OLD.deactivated_at IS NULL)::int,
            two_factor_count = two_factor_count
                - (OLD.deactivated_at IS NULL AND OLD.two_factor)::int
        WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE organizations SET
            people_count = people_count + (NEW.deactivated_at IS NULL)::int,
            two_factor_count = two_factor_count
                + (NEW.deactivated_at IS NULL AND NEW.two_factor)::int
        WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER users_counts ON users;
CREATE TRIGGER users_counts
AFTER INSERT OR DELETE OR UPDATE OF totp_secret, passkey_count, deactivated_at, organization_id
ON users FOR EACH ROW EXECUTE FUNCTION users_keep_counts();

DROP INDEX users_active_two_factor_on_idx;
DROP INDEX users_active_two_factor_off_idx;
CREATE INDEX users_active_two_factor_on_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND two_factor;
CREATE INDEX users_active_two_factor_off_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND NOT two_factor;
