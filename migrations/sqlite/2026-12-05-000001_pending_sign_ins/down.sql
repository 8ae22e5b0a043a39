DROP INDEX pending_sign_ins_expires_idx;
DROP TABLE pending_sign_ins;
