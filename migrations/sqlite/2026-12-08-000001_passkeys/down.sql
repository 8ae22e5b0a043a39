DROP INDEX users_active_two_factor_on_idx;
DROP INDEX users_active_two_factor_off_idx;
CREATE INDEX users_active_two_factor_on_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NOT NULL;
CREATE INDEX users_active_two_factor_off_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NULL;
DROP TRIGGER users_counts_insert;
DROP TRIGGER users_counts_delete;
DROP TRIGGER users_counts_update;
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
ALTER TABLE users DROP COLUMN two_factor;
DROP TABLE passkey_ceremonies;
DROP TABLE passkeys;
DROP INDEX users_passkey_user_id_idx;
ALTER TABLE users DROP COLUMN passkey_count;
ALTER TABLE users DROP COLUMN passkey_user_id;
