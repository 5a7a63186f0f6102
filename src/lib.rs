//! certwright: obtain, install and renew TLS certificates from any ACME CA.
//!
//! Layers, arrows pointing down only (a test in `tests/layers.rs` keeps them so):
//! `cli` (clap types; `cli::resolve` turns them into validated requests) -> `commands` (one
//! file per subcommand, never importing another) -> `ops` (the shared workflows; the only
//! layer that wires leaves) -> leaves `acme`, `challenge`, `store`, `nginx`, `schedule`,
//! `config`, `certbot`, `renewers` (what renews on this machine: timers, cron, daemons)
//! (never importing each other) -> `types`, `error`, `fsutil`, `https`, `crash`, `safe` (the
//! one way to read privileged files, run programs, read outside HTTP bodies and show
//! third-party text).
#![forbid(unsafe_code)]
// The library's surface is what the binary and the tests use; the rest is crate-private.
#![warn(unreachable_pub)]

pub(crate) mod acme;
pub(crate) mod certbot;
pub mod challenge;
pub mod cli;
pub mod cli_ini;
pub mod commands;
pub(crate) mod config;
pub(crate) mod crash;
pub mod error;
pub(crate) mod fsutil;
pub(crate) mod https;
pub mod metrics;
pub mod nginx;
pub mod notify;
pub(crate) mod ops;
pub(crate) mod renewers;
pub(crate) mod safe;
pub(crate) mod schedule;
pub(crate) mod store;
pub mod types;
pub mod verify;
