-- The state between a right password and a right code, kept on the server (and so shared by
-- every instance): the browser's cookie holds only a random id, whose SHA-256 is the key. The
-- sign-in it leads to deletes it, so a copy of the cookie cannot take another code.
CREATE TABLE pending_sign_ins (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX pending_sign_ins_expires_idx ON pending_sign_ins (expires_at);
