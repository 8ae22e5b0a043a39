-- Attempt limits, counted before anything is checked. One row a counter: a person's email with
-- a client address (wrong passwords), a person's email alone (the account's ceiling), a
-- person's id (wrong codes), a client address (everything it tries, across accounts). Keys of
-- emails use the email's SHA-256, so an email that has no account gets a counter like any
-- other (the same answers, 429s included) without its text being stored.
CREATE TABLE attempt_counters (
    key TEXT PRIMARY KEY NOT NULL,
    -- Attempts counted in the current window (a success resets or refunds them).
    attempts INTEGER NOT NULL DEFAULT 0,
    window_start BIGINT NOT NULL,
    -- No attempt is counted, nor checked, before this time.
    locked_until BIGINT NOT NULL DEFAULT 0,
    -- When the row may be pruned: its window and any lock are over by then.
    expires_at BIGINT NOT NULL
);

CREATE INDEX attempt_counters_expires_idx ON attempt_counters (expires_at);

-- Replaced by the counters above.
DROP TABLE client_failures;
ALTER TABLE users DROP COLUMN failed_attempts;
ALTER TABLE users DROP COLUMN locked_until;
