-- An organization has exactly one owner: the database refuses a second, whatever a handover
-- racing another change might try.
CREATE UNIQUE INDEX users_one_owner ON users (organization_id) WHERE role = 'owner';
