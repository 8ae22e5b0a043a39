-- The organization administration side: the same as migrations/sqlite, in PostgreSQL's terms.

ALTER TABLE users ADD COLUMN people_fields TEXT;

-- Kept by the trigger below, so that "N of M people have 2FA on" is one row read however
-- large the organization: active (not deactivated) people, and those of them with 2FA on.
ALTER TABLE organizations ADD COLUMN people_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN two_factor_count BIGINT NOT NULL DEFAULT 0;

UPDATE organizations SET
    people_count = (SELECT COUNT(*) FROM users
        WHERE users.organization_id = organizations.id AND users.deactivated_at IS NULL),
    two_factor_count = (SELECT COUNT(*) FROM users
        WHERE users.organization_id = organizations.id AND users.deactivated_at IS NULL
          AND users.totp_secret IS NOT NULL);

CREATE FUNCTION users_keep_counts() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE organizations SET
            people_count = people_count - (OLD.deactivated_at IS NULL)::int,
            two_factor_count = two_factor_count
                - (OLD.deactivated_at IS NULL AND OLD.totp_secret IS NOT NULL)::int
        WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE organizations SET
            people_count = people_count + (NEW.deactivated_at IS NULL)::int,
            two_factor_count = two_factor_count
                + (NEW.deactivated_at IS NULL AND NEW.totp_secret IS NOT NULL)::int
        WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_counts
AFTER INSERT OR DELETE OR UPDATE OF totp_secret, deactivated_at, organization_id ON users
FOR EACH ROW EXECUTE FUNCTION users_keep_counts();

CREATE INDEX users_active_name_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL;
CREATE INDEX users_active_two_factor_on_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NOT NULL;
CREATE INDEX users_active_two_factor_off_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NULL;

CREATE INDEX audit_events_subject_idx ON audit_events (organization_id, subject_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (organization_id, actor_id, id);

CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX invitations_organization_idx ON invitations (organization_id, email);
-- The open invitations listed under the people table, newest first, however many were
-- accepted before.
CREATE INDEX invitations_open_idx ON invitations (organization_id, id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

CREATE TABLE alert_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
