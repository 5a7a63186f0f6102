//! Typed errors for every layer, and the one place they become exit codes.
//!
//! Exit codes (documented in README.md and the man page):
//! 0 success or nothing to do; 1 issuance/renewal failed; 2 usage or bad input;
//! 3 config/store/permission; 4 another run holds the lock; 5 nginx; 6 the fleet's shared
//! store (unreachable, refused a write, or this node lost the lineage lock).

use std::path::PathBuf;

/// What a user typed that cannot be used. Always exit 2, always before any network I/O.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("invalid domain name {name:?}: {reason}")]
    Domain { name: String, reason: String },
    #[error("invalid certificate name {name:?}: {reason}")]
    CertName { name: String, reason: String },
    #[error("invalid email address {email:?}: {reason}")]
    Email { email: String, reason: String },
    #[error("invalid ACME server URL {url:?}: {reason}")]
    Server { url: String, reason: String },
    #[error("{0}")]
    Other(String),
}

/// A `cli.ini` line that cannot become a flag (see `cli_ini`); the caller adds the path and
/// reports it as bad input (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CliIniError {
    pub line: usize,
    pub reason: String,
}

/// An ACME problem document kept as data so callers and tests can branch on its type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// e.g. `urn:ietf:params:acme:error:rateLimited`
    pub kind: Option<String>,
    pub detail: Option<String>,
    pub status: Option<u16>,
    /// Per-identifier subproblems rendered as `identifier: type: detail`.
    pub subproblems: Vec<String>,
    /// The raw `Retry-After` header the CA sent with a 429 or 503 (seconds or an HTTP-date;
    /// parsed and capped by the caller, which schedules the next attempt).
    /// (A boxed str keeps every `Result<_, AcmeError>` under clippy's large-error bound.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Box<str>>,
}

impl Problem {
    /// The short type, e.g. `rateLimited`, or `unknown`.
    pub fn short_kind(&self) -> &str {
        self.kind
            .as_deref()
            .map(|k| k.rsplit(':').next().unwrap_or(k))
            .unwrap_or("unknown")
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.short_kind())?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        for sub in &self.subproblems {
            write!(f, "; {sub}")?;
        }
        if let Some(retry_after) = &self.retry_after {
            write!(f, " (the CA asks to retry after {retry_after})")?;
        }
        Ok(())
    }
}

/// Talking to the CA went wrong (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("the CA refused the request: {0}")]
    Problem(Problem),
    #[error("could not reach the ACME server {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{0}")]
    Protocol(String),
    #[error("{what} did not finish within {seconds} s")]
    Timeout { what: String, seconds: u64 },
    #[error("the CA's terms of service must be accepted: read {terms} and pass --agree-tos")]
    TermsNotAgreed { terms: String },
    #[error("validation of {identifier} failed: {problem}")]
    Validation {
        identifier: String,
        problem: Problem,
    },
    #[error("the certificate the CA returned is unusable: {0}")]
    BadCertificate(String),
}

/// On-disk state could not be read or written (exit 3).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("refusing to use {path}: {reason}")]
    Unsafe { path: PathBuf, reason: String },
    #[error("no certificate named {0} (see `certwright certificates`)")]
    NoSuchLineage(String),
    #[error("{0}")]
    Other(String),
}

/// nginx could not be read, patched, tested or reloaded (exit 5).
#[derive(Debug, thiserror::Error)]
pub enum NginxError {
    #[error("{file}:{line}: {message}")]
    Parse {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("`nginx -t` fails {when}:\n{output}")]
    ConfigTest { when: &'static str, output: String },
    #[error("nginx reload failed:\n{output}")]
    Reload { output: String },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no server block serves {name}; server_name values found: {found}")]
    NoServerBlock { name: String, found: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} changed since certwright wrote it; not restoring it: {reason}")]
    ChangedSinceWrite { path: PathBuf, reason: String },
    #[error("{0}")]
    Other(String),
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Acme(#[from] AcmeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Nginx(#[from] NginxError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("could not answer the HTTP-01 challenge: {0}")]
    Challenge(String),
    #[error("another certwright run (pid {pid}) holds the lock on {path}")]
    Locked { path: PathBuf, pid: String },
    /// A renewal run where some lineages failed; each failure was already reported.
    #[error("{failed} of {total} certificate(s) failed to renew")]
    SomeFailed { failed: usize, total: usize },
    /// The fleet's shared store (Redis) failed, or this node lost a lineage's lock there.
    #[error("shared store {store}: {reason}")]
    Shared { store: String, reason: String },
    /// `import-certbot` where some lineages could not be imported; each was reported.
    #[error("{failed} of {total} certbot lineage(s) could not be imported")]
    NotImported { failed: usize, total: usize },
}

impl Error {
    /// The one mapping from error to exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            // Not accepting the terms is a missing flag, not a failed issuance.
            Error::Input(_) | Error::Acme(AcmeError::TermsNotAgreed { .. }) => 2,
            Error::Acme(_)
            | Error::Challenge(_)
            | Error::SomeFailed { .. }
            | Error::NotImported { .. } => 1,
            Error::Store(_) | Error::Config(_) => 3,
            Error::Locked { .. } => 4,
            Error::Nginx(_) => 5,
            Error::Shared { .. } => 6,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Flatten an error and its sources into one line, so a cause ("invalid peer certificate:
/// UnknownIssuer") is not hidden behind its wrapper ("client error (Connect)").
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_per_category() {
        let cases: Vec<(Error, u8)> = vec![
            (AcmeError::Protocol("x".into()).into(), 1),
            (InputError::Other("x".into()).into(), 2),
            (StoreError::Other("x".into()).into(), 3),
            (
                Error::Locked {
                    path: "/x".into(),
                    pid: "1".into(),
                },
                4,
            ),
            (NginxError::Other("x".into()).into(), 5),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_code(), code, "{err}");
        }
    }

    #[test]
    fn problem_display_names_type_and_detail() {
        let p = Problem {
            kind: Some("urn:ietf:params:acme:error:rejectedIdentifier".into()),
            detail: Some("blocked name".into()),
            status: Some(400),
            subproblems: vec![],
            retry_after: None,
        };
        assert_eq!(p.to_string(), "rejectedIdentifier (HTTP 400): blocked name");
    }
}
