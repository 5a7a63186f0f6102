//! ACME protocol use on top of instant-acme: directory, account, order, validation,
//! finalize, download. Never touches disk or nginx: the caller persists what it returns and
//! publishes the challenges it is handed.

mod account;
mod ari;
mod directory;
mod http;
mod jws;
pub(crate) mod keys;
mod order;
mod problem;
mod retry;
#[cfg(test)]
mod tests;

pub(crate) use account::{AcmeAccount, ExternalAccount, RevokeReason};
pub(crate) use ari::{fetch_renewal_info, AriCertId};
pub(crate) use directory::{fetch_directory, fetch_directory_dated};
pub(crate) use http::AcmeHttp;
pub(crate) use order::{Challenge, OrderSpec, PendingOrder};

pub(crate) use crate::types::ChallengeKind;
