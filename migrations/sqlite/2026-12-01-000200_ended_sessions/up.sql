-- Sessions ended by signing out. A session lives in its cookie, which the server cannot take
-- back, so a signed-out session's id is kept here until the session would have expired anyway
-- (`expires_at`, its absolute lifetime); every signed-in request checks that its id is absent.
CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX ended_sessions_expires_idx ON ended_sessions (expires_at);
