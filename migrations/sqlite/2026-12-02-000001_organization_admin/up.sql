-- The organization administration side: invitations, "this wasn't me" links, each viewer's
-- choice of people-table columns, and what keeps the people table fast at 100,000 people.

-- The people-table columns this person chose (comma-separated keys); NULL means the default.
ALTER TABLE users ADD COLUMN people_fields TEXT;

-- Kept by the triggers below, so that "N of M people have 2FA on" is one row read however
-- large the organization: active (not deactivated) people, and those of them with 2FA on.
ALTER TABLE organizations ADD COLUMN people_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN two_factor_count BIGINT NOT NULL DEFAULT 0;

UPDATE organizations SET
    people_count = (SELECT COUNT(*) FROM users
        WHERE users.organization_id = organizations.id AND users.deactivated_at IS NULL),
    two_factor_count = (SELECT COUNT(*) FROM users
        WHERE users.organization_id = organizations.id AND users.deactivated_at IS NULL
          AND users.totp_secret IS NOT NULL);

CREATE TRIGGER users_counts_insert AFTER INSERT ON users BEGIN
    UPDATE organizations SET
        people_count = people_count + (NEW.deactivated_at IS NULL),
        two_factor_count = two_factor_count
            + (NEW.deactivated_at IS NULL AND NEW.totp_secret IS NOT NULL)
    WHERE id = NEW.organization_id;
END;

CREATE TRIGGER users_counts_delete AFTER DELETE ON users BEGIN
    UPDATE organizations SET
        people_count = people_count - (OLD.deactivated_at IS NULL),
        two_factor_count = two_factor_count
            - (OLD.deactivated_at IS NULL AND OLD.totp_secret IS NOT NULL)
    WHERE id = OLD.organization_id;
END;

CREATE TRIGGER users_counts_update
AFTER UPDATE OF totp_secret, deactivated_at, organization_id ON users BEGIN
    UPDATE organizations SET
        people_count = people_count - (OLD.deactivated_at IS NULL),
        two_factor_count = two_factor_count
            - (OLD.deactivated_at IS NULL AND OLD.totp_secret IS NOT NULL)
    WHERE id = OLD.organization_id;
    UPDATE organizations SET
        people_count = people_count + (NEW.deactivated_at IS NULL),
        two_factor_count = two_factor_count
            + (NEW.deactivated_at IS NULL AND NEW.totp_secret IS NOT NULL)
    WHERE id = NEW.organization_id;
END;

-- One page of the people table, in name order, without sorting the organization: one index
-- for everyone active and one for each 2FA filter.
CREATE INDEX users_active_name_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL;
CREATE INDEX users_active_two_factor_on_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NOT NULL;
CREATE INDEX users_active_two_factor_off_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NULL;

-- The audit log filtered by person, as subject or as actor.
CREATE INDEX audit_events_subject_idx ON audit_events (organization_id, subject_id, id);
CREATE INDEX audit_events_actor_idx ON audit_events (organization_id, actor_id, id);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    -- SHA-256 of the link's token: the token itself is only in the email.
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

-- The "this wasn't me" links sent with security emails: SHA-256 of the token, single use.
CREATE TABLE alert_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
