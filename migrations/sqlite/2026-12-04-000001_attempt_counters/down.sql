ALTER TABLE users ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE client_failures (
    address TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    failures INTEGER NOT NULL
);
DROP INDEX attempt_counters_expires_idx;
DROP TABLE attempt_counters;
