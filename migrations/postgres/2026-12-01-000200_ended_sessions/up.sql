-- Sessions ended by signing out: see migrations/sqlite for why they are kept.
CREATE TABLE ended_sessions (
    session_id TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE INDEX ended_sessions_expires_idx ON ended_sessions (expires_at);
