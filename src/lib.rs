//! certwright: obtain, install and renew TLS certificates from any ACME CA.
//!
//! Layers, arrows pointing down only (a test in `tests/layers.rs` keeps them so):
//! `cli` (clap types; `cli::resolve` turns them into validated requests) -> `commands` (one
//! file per subcommand, never importing another) -> `ops` (the shared workflows; the only
//! layer that wires leaves) -> leaves `acme`, `challenge`, `store`, `nginx`, `schedule`,
//! `config`, `certbot` (never importing each other) -> `types`, `error`, `fsutil`, `https`, `crash`.
#![forbid(unsafe_code)]

pub mod acme;
pub mod certbot;
pub mod challenge;
pub mod cli;
pub mod cli_ini;
pub mod commands;
pub mod config;
pub mod crash;
pub mod error;
pub mod fsutil;
pub mod https;
pub mod metrics;
pub mod nginx;
pub mod notify;
pub mod ops;
pub mod schedule;
pub mod store;
pub mod types;
pub mod verify;
