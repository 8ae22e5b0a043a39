//! Twofold's integration tests: the real app over HTTP on a temp SQLite file (or a fresh
//! PostgreSQL database when `TWOFOLD_TEST_POSTGRES_URL` names a server). One binary, so the
//! suite links once. The browser suite needs headless Chromium and is built with the
//! `browser-tests` feature, which `.ci/test` turns on; plain `cargo test` runs the rest.

mod helpers;

mod account;
mod at_rest;
mod audit_log;
mod bad_input;
#[cfg(feature = "browser-tests")]
mod browser;
mod brute_force;
mod cli;
mod crash_safety;
mod enforcement;
#[cfg(feature = "test-hooks")]
mod fault_points;
mod graceful_shutdown;
mod headers_and_csrf;
mod hostile_input;
mod instances;
mod invitations;
mod load;
mod overload;
mod owner_codes;
mod passkeys;
mod people_table;
mod reauth;
mod recovery_codes;
mod roles;
mod server_process;
mod session_lifetime;
mod sign_in;
mod signup;
mod two_factor_setup;
