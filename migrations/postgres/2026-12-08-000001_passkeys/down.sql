DROP INDEX users_active_two_factor_on_idx;
DROP INDEX users_active_two_factor_off_idx;
DROP TRIGGER users_counts ON users;
ALTER TABLE users DROP COLUMN two_factor;
CREATE OR REPLACE FUNCTION users_keep_counts() RETURNS trigger AS $$
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
CREATE INDEX users_active_two_factor_on_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NOT NULL;
CREATE INDEX users_active_two_factor_off_idx ON users (organization_id, name, id)
    WHERE deactivated_at IS NULL AND totp_secret IS NULL;
DROP TABLE passkey_ceremonies;
DROP TABLE passkeys;
DROP INDEX users_passkey_user_id_idx;
ALTER TABLE users DROP COLUMN passkey_count;
ALTER TABLE users DROP COLUMN passkey_user_id;
