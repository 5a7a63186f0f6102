//! certwright: obtain, install and renew TLS certificates from any ACME CA.
//!
//! Data flows one way: `cli` (clap types) -> `commands` (the only layer that wires things)
//! -> leaf modules `acme`, `challenge`, `store`, `nginx`, `schedule`, `config`, `certbot`
//! -> shared `types` / `error` / `fsutil`. Leaves never import each other.
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
pub mod metrics;
pub mod nginx;
pub mod notify;
pub mod schedule;
pub mod store;
pub mod types;
pub mod verify;
