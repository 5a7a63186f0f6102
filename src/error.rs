//! Typed errors for every layer, and the one place they become exit codes.
//!
//! The exit codes are listed once, in `EXIT_CODES`; `Error::exit_code` maps to them.

use std::path::PathBuf;

/// What a user typed that cannot be used, naming the flag or input. Always exit 2, found
/// before any network I/O except where only the CA's directory tells (`EabRequired`,
/// `ProfileNotOffered`).
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
    /// IP address identifiers with `--nginx`.
    #[error(
        "IP address identifiers need --standalone or --webroot (nginx server blocks are chosen by name)"
    )]
    IpWithNginx,
    /// The shared store's URL (`--store`, shown with any password redacted).
    #[error("--store {url}: {reason}")]
    StoreUrl { url: String, reason: String },
    /// A flag's value refused, quoted: `--node-id "a b": use letters, ...`.
    #[error("{flag} {value:?}: {reason}")]
    BadValue {
        flag: &'static str,
        value: String,
        reason: String,
    },
    /// A value of the wrong kind: `--ip-address "x" is not an IP address`.
    #[error("{flag} {value:?} is not {expected}")]
    NotA {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A flag's value refused without repeating it (it may hold a secret, e.g. a webhook URL).
    #[error("{flag}: {reason}")]
    BadFlag { flag: &'static str, reason: String },
    /// A flag that cannot be used as given; `problem` completes the sentence.
    #[error("{flag} {problem}")]
    Flag { flag: &'static str, problem: String },
    /// A flag (or input) given without one it depends on.
    #[error("{what} needs {needs}")]
    Needs { what: String, needs: String },
    /// A required flag left out (clap's groups usually catch it first).
    #[error("pass {flags}")]
    MissingFlag { flags: &'static str },
    /// Nothing to act on: `no domain given: pass -d NAME`.
    #[error("{what}: {fix}")]
    Missing {
        what: &'static str,
        fix: &'static str,
    },
    /// A file or directory a flag (or `webroot`) names that could not be read or used.
    #[error("{flag} {}: {reason}", .path.display())]
    UnusableFile {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A path a flag (or `webroot`) names that is not what the flag takes;
    /// `problem` completes the sentence.
    #[error("{flag} {} {problem}", .path.display())]
    BadPath {
        flag: &'static str,
        path: PathBuf,
        problem: String,
    },
    /// A path the user gave (a credentials file, an output file) that cannot be used.
    #[error("{}: {reason}", .path.display())]
    Path { path: PathBuf, reason: String },
    /// The deploy targets (`--deploy-*`) failed the check a deploy makes.
    #[error("{reason}")]
    DeployTarget { reason: String },
    /// A hook (or `--nginx-ctl`) given as an empty command.
    #[error("{flag} is empty")]
    EmptyHook { flag: String },
    /// A hook (or `--nginx-ctl`) another user could replace; it would run as root.
    #[error(
        "{flag} `{command}`: refusing to run {what}; make it and its directories writable only by root"
    )]
    UnsafeHook {
        flag: String,
        command: String,
        what: String,
    },
    /// The EAB HMAC key (from `from`: a file, the flag or the environment) is not base64url.
    #[error("the EAB HMAC key from {from} is not base64url (the form CAs show it in)")]
    EabKey { from: String },
    /// The CA's directory asks for External Account Binding and none was given.
    #[error(
        "{server} requires External Account Binding (EAB): pass --eab-kid KID with \
         --eab-hmac-key-file FILE (or {env}), as shown in the CA's dashboard"
    )]
    EabRequired { server: String, env: &'static str },
    /// `--required-profile` names a profile the CA does not offer.
    #[error("the CA does not offer the required profile {wanted:?} ({offered})")]
    ProfileNotOffered { wanted: String, offered: String },
    /// `--nginx-server-root` holds no nginx.conf.
    #[error("no nginx configuration at {} (set --nginx-server-root)", .conf.display())]
    NoNginxConf { conf: PathBuf },
    /// `--user` names no user.
    #[error("--user {name}: no such user")]
    NoSuchUser { name: String },
    /// The lineage exists with fewer names: adding names needs `--expand`.
    #[error(
        "certificate {cert_name} exists for [{existing}]; adding {added} needs --expand (or a new --cert-name)"
    )]
    NeedsExpand {
        cert_name: String,
        existing: String,
        added: String,
    },
    /// The lineage exists with other names: changing them needs `--cert-name` given.
    #[error(
        "certificate {cert_name} exists for [{existing}]; to change its names to [{wanted}], pass --cert-name {cert_name} explicitly"
    )]
    NamesChanged {
        cert_name: String,
        existing: String,
        wanted: String,
    },
    /// `enhance` on a lineage that `install` has not put into nginx.
    #[error(
        "{name} is not installed in nginx: run `certwright install --nginx --cert-name {name}` first"
    )]
    NotInstalled { name: String },
    /// `--certbot-dir` is not a certbot configuration directory.
    #[error("{} is not a certbot configuration directory: cannot read {}: {reason}", .dir.display(), .renewal.display())]
    NotCertbotDir {
        dir: PathBuf,
        renewal: PathBuf,
        reason: String,
    },
    /// `delete` at a terminal with no lineage to choose from.
    #[error("there is no certificate to delete")]
    NothingToDelete,
    /// `delete`'s menu answered with no listed number.
    #[error("no certificate numbered {answer:?}; nothing deleted")]
    NoSuchChoice { answer: String },
    /// A question must be asked but stdin is not a terminal; `command` when the command
    /// itself (not one answer) needs the confirmation.
    #[error("{}", no_terminal(.command))]
    NoTerminal { command: Option<String> },
}

/// The message of `InputError::NoTerminal`.
fn no_terminal(command: &Option<String>) -> String {
    match command {
        Some(command) => format!(
            "{command} asks for confirmation, but stdin is not a terminal: pass -n \
             (--non-interactive) to go ahead without asking"
        ),
        None => "cannot ask for confirmation: stdin is not a terminal".to_string(),
    }
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
    #[error("validation of {identifier} failed: {problem}{}", diagnosis_lines(.diagnosis))]
    Validation {
        /// (A boxed str: with the diagnosis, `AcmeError` stays under clippy's bound.)
        identifier: Box<str>,
        problem: Problem,
        /// What `doctor`'s checks found for the name right after the failure.
        diagnosis: Option<Box<Diagnosis>>,
    },
    #[error("the certificate the CA returned is unusable: {0}")]
    BadCertificate(String),
}

/// `doctor`'s findings for a name whose validation failed, one line each (behind one thin
/// pointer: `AcmeError` stays under clippy's large-error bound).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis(pub Vec<String>);

/// The post-failure findings under the CA's error, one indented line each.
fn diagnosis_lines(diagnosis: &Option<Box<Diagnosis>>) -> String {
    diagnosis
        .iter()
        .flat_map(|d| d.0.iter())
        .map(|l| format!("\n  doctor: {l}"))
        .collect()
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
    #[error("no server block serves {name}; server_name values found: {found}{fallback}")]
    NoServerBlock {
        name: String,
        found: String,
        /// Which block nginx falls back to for the name, and the fix ("" if none).
        fallback: String,
    },
    #[error(
        "{at}: this server block also serves {names}, which the certificate does not cover: \
         its https would present a certificate for other names; nothing was changed{fix}"
    )]
    UncoveredNames {
        /// `file:line` of the block.
        at: String,
        names: String,
        /// The command that covers them (filled in by the caller that knows it, "" if not).
        fix: String,
    },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} changed since certwright wrote it; not restoring it: {reason}")]
    ChangedSinceWrite { path: PathBuf, reason: String },
    /// Checkpoint state another user could have written; nothing was restored.
    #[error(
        "refusing nginx checkpoint state {path}: {reason}; nothing was restored (remove it if \
         you did not create it)"
    )]
    UntrustedState { path: PathBuf, reason: String },
    #[error("{0}")]
    Other(String),
}

/// A pre-, post- or deploy hook that failed (the renewal itself may have succeeded).
#[derive(Debug, Clone, thiserror::Error)]
pub enum HookError {
    #[error("{kind} `{command}` exited with {status}")]
    Exited {
        kind: &'static str,
        command: String,
        status: String,
    },
    #[error("{kind} `{command}` could not run: {reason}")]
    Spawn {
        kind: &'static str,
        command: String,
        reason: String,
    },
    /// The deploy step before the hook (nginx reload, fleet config) failed.
    #[error("{0}")]
    Deploy(String),
}

/// Every exit code and its meaning: `--help`, the man page and the README are checked
/// against this table.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (exit::SUCCESS, "success, or nothing to do"),
    (exit::FAILED, "issuance or renewal failed (CA error, validation failed, TLS to the CA failed, a hook failed)"),
    (exit::USAGE, "usage or bad input (checked before any network I/O; nothing written)"),
    (exit::STORE, "config, store or permission problem"),
    (exit::LOCKED, "another certwright run holds the lock (the message names its pid)"),
    (exit::NGINX, "nginx problem (config unparseable or failing `nginx -t`, no server block for a name, reload failed)"),
    (exit::FLEET, "fleet mode: the shared store is unreachable or refused a write, or this node lost the lineage's lock mid-order (nothing installed)"),
    (exit::WOULD_FAIL, "doctor: a finding that would make validation fail (each printed with where and the fix)"),
];

/// The exit codes by name, one constant each (what `EXIT_CODES` documents).
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const STORE: u8 = 3;
    pub const LOCKED: u8 = 4;
    pub const NGINX: u8 = 5;
    pub const FLEET: u8 = 6;
    pub const WOULD_FAIL: u8 = 7;
}

/// The exit-code table as the help text shows it.
pub fn exit_codes_help() -> String {
    let mut out = String::from("Exit codes:\n");
    for (code, meaning) in EXIT_CODES {
        out.push_str(&format!("  {code}  {meaning}\n"));
    }
    out
}

/// DNS-01: credentials, zone discovery, record updates and the propagation check.
/// Credentials problems are bad input (exit 2); the rest are failed issuance (exit 1).
/// No variant carries a secret: credentials errors name the file and the key, never a value.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("DNS credentials file {path}: {reason}")]
    Credentials { path: PathBuf, reason: String },
    #[error("no DNS zone found for {name}: {reason}")]
    NoZone { name: String, reason: String },
    #[error("DNS query {name} {rtype} at {server} failed: {reason}")]
    Query {
        server: String,
        name: String,
        rtype: String,
        reason: String,
    },
    #[error("{writer} could not {action} TXT {name} in zone {zone}: {reason}")]
    Update {
        writer: String,
        action: &'static str,
        name: String,
        zone: String,
        reason: String,
    },
    #[error("{writer}: change {changes} still not applied (INSYNC) after {seconds} s")]
    NotApplied {
        writer: String,
        changes: String,
        seconds: u64,
    },
    #[error("TXT records not visible after {seconds} s at {lagging}")]
    NotPropagated { seconds: u64, lagging: String },
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// A failure or refusal of `safe::file` reading `path`: a file another user could have
    /// written is `Unsafe` (exit 3, naming it and why).
    pub(crate) fn from_read(path: &std::path::Path, e: crate::safe::file::ReadError) -> Self {
        match e {
            crate::safe::file::ReadError::Io(source) => StoreError::Io {
                action: "cannot read",
                path: path.to_path_buf(),
                source,
            },
            crate::safe::file::ReadError::Untrusted(reason) => StoreError::Unsafe {
                path: path.to_path_buf(),
                reason,
            },
        }
    }
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
    #[error(transparent)]
    Dns(#[from] DnsError),
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A runtime failure that is neither the user's input nor the CA's answer (the async
    /// runtime, a worker task, a child process of our own).
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Hook(#[from] HookError),
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
    /// `verify`, or the check after an install or renewal, found nginx serving another
    /// certificate than the lineage's; each mismatch was reported.
    #[error("{failed} of {total} certificate(s) are not what the server serves")]
    NotServed { failed: usize, total: usize },
    #[error("{failed} of {total} alert target(s) did not take the test event")]
    AlertsFailed { failed: usize, total: usize },
    /// `import-certbot` where some lineages could not be imported; each was reported.
    #[error("{failed} of {total} certbot lineage(s) could not be imported")]
    NotImported { failed: usize, total: usize },
    /// `doctor` found problems that would make validation fail; each was printed.
    #[error("{errors} finding(s) would make validation fail")]
    WouldFail { errors: usize },
    /// SIGINT/SIGTERM while challenges were published; they were undone first.
    #[error("stopped by {signal} while the challenges were published (they were removed again)")]
    Interrupted { signal: &'static str },
}

impl Error {
    /// The one mapping from error to exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            // Not accepting the terms is a missing flag, not a failed issuance.
            Error::Input(_)
            | Error::Acme(AcmeError::TermsNotAgreed { .. })
            | Error::Dns(DnsError::Credentials { .. }) => exit::USAGE,
            Error::Acme(_)
            | Error::Dns(_)
            | Error::Challenge(_)
            | Error::Internal(_)
            | Error::Hook(_)
            | Error::SomeFailed { .. }
            | Error::NotImported { .. }
            | Error::AlertsFailed { .. }
            | Error::NotServed { .. }
            | Error::Interrupted { .. } => exit::FAILED,
            Error::Store(_) | Error::Config(_) => exit::STORE,
            Error::Locked { .. } => exit::LOCKED,
            Error::Nginx(_) => exit::NGINX,
            Error::Shared { .. } => exit::FLEET,
            Error::WouldFail { .. } => exit::WOULD_FAIL,
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
            (
                InputError::MissingFlag {
                    flags: "--cert-name NAME",
                }
                .into(),
                2,
            ),
            (StoreError::Other("x".into()).into(), 3),
            (
                Error::Locked {
                    path: "/x".into(),
                    pid: "1".into(),
                },
                4,
            ),
            (NginxError::Other("x".into()).into(), 5),
            (
                Error::Shared {
                    store: "redis://x".into(),
                    reason: "x".into(),
                },
                6,
            ),
            (Error::Internal("x".into()), 1),
            (
                DnsError::Credentials {
                    path: "/x".into(),
                    reason: "mode 0644".into(),
                }
                .into(),
                2,
            ),
            (DnsError::Other("x".into()).into(), 1),
            (Error::WouldFail { errors: 1 }, 7),
        ];
        for (err, code) in cases {
            assert_eq!(err.exit_code(), code, "{err}");
        }
    }

    #[test]
    fn readme_lists_every_exit_code_as_the_table_does() {
        let readme = include_str!("../README.md");
        for (code, meaning) in EXIT_CODES {
            let row = format!("| {code} | {meaning} |");
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
        let rows = readme
            .lines()
            .skip_while(|l| *l != "## Exit codes")
            .take_while(|l| !l.starts_with("## JSON"))
            .filter(|l| l.starts_with("| ") && l.as_bytes()[2].is_ascii_digit())
            .count();
        assert_eq!(
            rows,
            EXIT_CODES.len(),
            "README.md's exit-code table has other rows"
        );
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
