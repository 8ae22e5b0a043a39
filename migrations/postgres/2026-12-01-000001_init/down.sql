DROP TABLE audit_events;
DROP TABLE client_failures;
DROP TABLE recovery_codes;
DROP TABLE users;
DROP TABLE organizations;
