ALTER TABLE users DROP COLUMN must_reset_password;
DROP INDEX password_resets_expires_idx;
DROP TABLE password_resets;
DROP TABLE known_browsers;
CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX ended_sessions_expires_idx ON ended_sessions (expires_at);
DROP INDEX sessions_expires_idx;
DROP INDEX sessions_user_idx;
DROP TABLE sessions;
