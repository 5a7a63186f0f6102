//! One file per subcommand. This is the only layer that wires the leaf modules together;
//! each command validates all input first, then takes the lock, then does I/O.

mod account;
mod certificates;
mod certonly;
mod challenge_proxy;
mod csr;
mod daemon;
mod delete;
mod fleet;
mod hooks;
mod import_certbot;
mod install;
mod obtain;
mod plan;
mod privileges;
mod reconfigure;
mod renew;
mod revoke;
mod rollback;
mod run;
mod state;
pub mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{AcmeError, Error, InputError};
use crate::schedule::RetryAfter;
use crate::store::Store;
use crate::types::ServerUrl;

use ui::Ui;

/// Shared by every command.
pub struct Ctx {
    pub global: GlobalArgs,
    pub ui: Ui,
}

impl Ctx {
    pub fn store(&self) -> Store {
        Store::new(&self.global.config_dir, &self.global.work_dir)
    }

    pub fn interactive(&self) -> bool {
        !self.global.non_interactive
    }
}

/// Run a parsed command line and turn the outcome into an exit code, printing an error once.
pub fn main(cli: Cli, webroot_assignments: Vec<Option<usize>>) -> ExitCode {
    let ctx = Ctx {
        ui: Ui::new(cli.global.quiet),
        global: cli.global,
    };
    let result = match cli.command {
        Command::Run(args) => run::run(&ctx, args, webroot_assignments),
        Command::Certonly(args) => certonly::run(&ctx, args, webroot_assignments),
        Command::Install(args) => install::run(&ctx, args),
        Command::Rollback(args) => rollback::run(&ctx, args),
        Command::Certificates(args) => certificates::run(&ctx, args),
        Command::Renew(args) => renew::run(&ctx, args),
        Command::Plan(args) => plan::run(&ctx, args),
        Command::Daemon(args) => daemon::run(&ctx, args),
        Command::Register(args) => account::run_register(&ctx, args),
        Command::ShowAccount(args) => account::run_show(&ctx, args),
        Command::UpdateAccount(args) => account::run_update(&ctx, args),
        Command::Unregister(args) => account::run_unregister(&ctx, args),
        Command::Revoke(args) => revoke::run(&ctx, args),
        Command::Delete(args) => delete::run(&ctx, args),
        Command::Reconfigure(args) => reconfigure::run(&ctx, args),
        Command::ImportCertbot(args) => import_certbot::run(&ctx, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {}", crate::error::error_chain(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

/// A single-threaded runtime: an issuance is a handful of sequential requests, and one
/// thread keeps the resident set small.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(future))
}

/// Log to `<logs>/certwright.log` (0600). Called after input validation, so a typo writes
/// nothing anywhere. A log dir we cannot write is a warning, not a failure.
pub(crate) fn init_logging(ctx: &Ctx) {
    let level = match ctx.global.verbose {
        0 => tracing::Level::INFO,
        1 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let dir = &ctx.global.logs_dir;
    let path = dir.join("certwright.log");
    let file = crate::fsutil::open_log(dir, "certwright.log");
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            ctx.ui
                .warn(format!("not logging to {}: {e}", path.display()));
            return;
        }
    };
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false)
        .with_writer(std::sync::Mutex::new(file))
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// `--server` / `--staging` / default, validated.
pub(crate) fn resolve_server(server: Option<&str>, staging: bool) -> Result<ServerUrl, Error> {
    let url = match (server, staging) {
        (Some(s), _) => s,
        (None, true) => ServerUrl::LETSENCRYPT_STAGING,
        (None, false) => ServerUrl::LETSENCRYPT,
    };
    Ok(url.parse()?)
}

/// `--ca-bundle` must be a readable file of PEM certificates; checked before anything else
/// happens (not first when the HTTP client is built, after the store was prepared).
pub(crate) fn resolve_ca_bundle(path: Option<&Path>) -> Result<Option<PathBuf>, Error> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let Some(path) = path else { return Ok(None) };
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| InputError::Other(format!("--ca-bundle {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(InputError::Other(format!(
                    "--ca-bundle {} contains no PEM certificate",
                    path.display()
                ))
                .into());
            }
            Ok(Some(
                std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            ))
        }
        Ok(_) => {
            Err(InputError::Other(format!("--ca-bundle {} is not a file", path.display())).into())
        }
        Err(e) => Err(InputError::Other(format!("--ca-bundle {}: {e}", path.display())).into()),
    }
}

/// How long the CA asked us to stay away after a failure (the `Retry-After` of a 429 or
/// 503), capped for scheduling. None when it sent none or sent something unparseable.
pub(crate) fn ca_retry_after(err: &Error, now: time::OffsetDateTime) -> Option<time::Duration> {
    let Error::Acme(AcmeError::Problem(problem)) = err else {
        return None;
    };
    let raw = problem.retry_after.as_deref()?;
    RetryAfter::parse(raw, now).map(RetryAfter::for_scheduling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;
    use time::macros::datetime;
    use time::Duration;

    fn limited(retry_after: Option<&str>) -> Error {
        AcmeError::Problem(Problem {
            kind: Some("urn:ietf:params:acme:error:rateLimited".into()),
            detail: None,
            status: Some(429),
            subproblems: vec![],
            retry_after: retry_after.map(Into::into),
        })
        .into()
    }

    #[test]
    fn the_cas_retry_after_is_parsed_and_capped() {
        let now = datetime!(2026-03-01 12:00:00 UTC);
        let at = |v: &str| ca_retry_after(&limited(Some(v)), now);
        assert_eq!(at("120"), Some(Duration::seconds(120)));
        assert_eq!(
            at("Sun, 01 Mar 2026 13:30:00 GMT"),
            Some(Duration::minutes(90))
        );
        // A date in the past means now.
        assert_eq!(at("Sat, 28 Feb 2026 12:00:00 GMT"), Some(Duration::ZERO));
        // One year (or more than fits) is capped at a day.
        assert_eq!(at("31536000"), Some(Duration::DAY));
        assert_eq!(at("999999999999999999999999"), Some(Duration::DAY));
        // Garbage is ignored, not an error.
        assert_eq!(at("soon"), None);
        assert_eq!(at("-5"), None);
        assert_eq!(ca_retry_after(&limited(None), now), None);
        assert_eq!(
            ca_retry_after(&AcmeError::Protocol("x".into()).into(), now),
            None
        );
    }
}
