-- The account around 2FA: sessions people can see and end, browsers they have used, links
-- to choose a new password, and the flag that asks for one.

-- Every signed-in session, so that a person can see where they are signed in and end one. The
-- cookie holds a random session id; its SHA-256 is the key. A session holds while its row is
-- not ended, has not expired, and its epoch is the person's.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    id_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    client_address TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);

-- A person's sessions, newest first, for the sessions page.
CREATE INDEX sessions_user_idx ON sessions (user_id, id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Replaced by sessions.ended_at.
DROP TABLE ended_sessions;

-- The browsers a person has signed in from (the SHA-256 of a long-lived cookie's random id):
-- a sign-in from any other is announced by email.
CREATE TABLE known_browsers (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser_hash TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, browser_hash)
);

-- Links to choose a new password: SHA-256 of the token, single use, one hour.
CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);

-- Set by "this wasn't me": the next sign-in with the password is refused until a new one is
-- chosen through the emailed link.
ALTER TABLE users ADD COLUMN must_reset_password BOOLEAN NOT NULL DEFAULT 0;
