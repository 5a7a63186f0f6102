//! DNS-01 as a solver: where each TXT value goes, the write-ahead journal in the work dir,
//! adding the values, waiting until they are served, and removing exactly them afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acme::Challenge;
use crate::challenge::dns::{
    self, CreatedRecord, Expected, Journal, Lookup, ProviderWriter, Rfc2136Config, Servers,
    TxtWriter, Wait,
};
use crate::error::{Error, StoreError};
use crate::fsutil;

use crate::ops::output::Ui;

/// Bound on the propagation check: a server that has not caught up by then will not in time
/// for the CA either.
const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
const PROPAGATION_INTERVAL: Duration = Duration::from_millis(250);
/// Bound on the provider's own "applied" (certbot's Route53 plugin allows 10 minutes; AWS
/// says changes usually reach every Route53 nameserver within 60 s), asked every 2 s.
const APPLY_TIMEOUT: Duration = Duration::from_secs(600);
const APPLY_INTERVAL: Duration = Duration::from_secs(2);
/// The journal of records this work dir's runs added and have not removed yet.
const JOURNAL_FILE: &str = "dns-01-records.json";

pub(crate) struct DnsSolver {
    writer: Box<dyn TxtWriter>,
    check: Propagation,
    journal_path: PathBuf,
}

/// Where names are located (CNAME, zone) and where their values must be served before the
/// CA is asked; shared by the record writers and `--manual` hooks.
pub(crate) struct Propagation {
    pub lookup: Lookup,
    pub servers: Servers,
    pub extra_wait: Duration,
}

impl Propagation {
    /// At `resolvers` when given (`--dns-resolver`), else at each zone's nameservers found
    /// through `lookup`.
    pub(crate) fn new(
        lookup: Lookup,
        resolvers: &[SocketAddr],
        extra_wait: Duration,
    ) -> Propagation {
        let servers = if resolvers.is_empty() {
            Servers::Authoritative {
                via: lookup.clone(),
                port: 53,
            }
        } else {
            Servers::Explicit(resolvers.to_vec())
        };
        Propagation {
            lookup,
            servers,
            extra_wait,
        }
    }

    /// Names located through `resolvers` (`--dns-resolver`) or, without any, the system's.
    pub(crate) fn resolving(resolvers: &[SocketAddr], extra_wait: Duration) -> Propagation {
        let lookup = if resolvers.is_empty() {
            Lookup::system()
        } else {
            Lookup::new(resolvers.to_vec())
        };
        Propagation::new(lookup, resolvers, extra_wait)
    }

    /// Returns once every server serves every expected value (then the extra wait).
    pub(crate) async fn wait(&self, expected: &[Expected]) -> Result<(), Error> {
        let wait = Wait {
            timeout: PROPAGATION_TIMEOUT,
            interval: PROPAGATION_INTERVAL,
        };
        dns::wait_for_propagation(expected, &self.servers, wait, |_| {}).await?;
        tokio::time::sleep(self.extra_wait).await;
        Ok(())
    }
}

impl DnsSolver {
    /// Reads the credentials (refused if others can read them) and removes what an earlier,
    /// killed run left in the zone.
    pub(crate) async fn rfc2136(
        ui: &Ui,
        credentials: &Path,
        resolvers: &[SocketAddr],
        propagation_seconds: u64,
        work_dir: &Path,
    ) -> Result<DnsSolver, Error> {
        let config = Rfc2136Config::from_file(credentials)?;
        let extra_wait = Duration::from_secs(propagation_seconds);
        let check = Propagation::new(config.lookup()?, resolvers, extra_wait);
        let writer = Box::new(ProviderWriter::rfc2136(&config)?);
        DnsSolver::start(ui, writer, check, work_dir).await
    }

    /// `--dns PROVIDER`: an HTTP-API provider; names are located through `--dns-resolver`
    /// or the system's resolvers.
    pub(crate) async fn provider(
        ui: &Ui,
        provider: &str,
        credentials: &Path,
        resolvers: &[SocketAddr],
        propagation_seconds: u64,
        work_dir: &Path,
    ) -> Result<DnsSolver, Error> {
        let writer = Box::new(dns::writer_from_file(provider, credentials)?);
        let extra_wait = Duration::from_secs(propagation_seconds);
        let check = Propagation::resolving(resolvers, extra_wait);
        DnsSolver::start(ui, writer, check, work_dir).await
    }

    /// `--dns-route53`: credentials from the AWS SDKs' chain (read from this process's
    /// environment), the endpoint from AWS_ENDPOINT_URL_ROUTE_53 / AWS_ENDPOINT_URL.
    pub(crate) async fn route53(
        ui: &Ui,
        resolvers: &[SocketAddr],
        propagation_seconds: u64,
        work_dir: &Path,
    ) -> Result<DnsSolver, Error> {
        let env = |k: &str| std::env::var(k).ok();
        let credentials = dns::aws_credentials(&env).await?;
        let writer = Box::new(dns::route53_writer(
            &credentials,
            &dns::route53_endpoint(&env),
        )?);
        let extra_wait = Duration::from_secs(propagation_seconds);
        let check = Propagation::resolving(resolvers, extra_wait);
        DnsSolver::start(ui, writer, check, work_dir).await
    }

    async fn start(
        ui: &Ui,
        writer: Box<dyn TxtWriter>,
        check: Propagation,
        work_dir: &Path,
    ) -> Result<DnsSolver, Error> {
        let solver = DnsSolver {
            writer,
            check,
            journal_path: work_dir.join(JOURNAL_FILE),
        };
        solver.remove_leftovers(ui).await?;
        Ok(solver)
    }

    /// Adds every challenge's value (noted in the journal first), then waits until the
    /// servers serve them all. On error, what was added is removed again.
    pub(crate) async fn publish(
        &self,
        ui: &Ui,
        challenges: &[Challenge],
    ) -> Result<Vec<CreatedRecord>, Error> {
        let mut created = Vec::new();
        let result = self.add_all(challenges, &mut created).await;
        if let Err(e) = result {
            self.cleanup(ui, &created).await;
            return Err(e);
        }
        if let Err(e) = self.wait_served(&created).await {
            self.cleanup(ui, &created).await;
            return Err(e);
        }
        crate::crash::crash_point("dns-01-published");
        Ok(created)
    }

    /// The provider's own "applied" first (Route53's INSYNC), then the servers' answers.
    async fn wait_served(&self, created: &[CreatedRecord]) -> Result<(), Error> {
        let applied = Wait {
            timeout: APPLY_TIMEOUT,
            interval: APPLY_INTERVAL,
        };
        self.writer.wait_applied(applied).await?;
        self.check.wait(&expected(created)).await
    }

    async fn add_all(
        &self,
        challenges: &[Challenge],
        created: &mut Vec<CreatedRecord>,
    ) -> Result<(), Error> {
        for c in challenges {
            let target = dns::locate(&c.identifier, &self.check.lookup).await?;
            let record = CreatedRecord {
                writer: self.writer.label().to_string(),
                zone: target.zone,
                name: target.name,
                value: c.key_authorization.dns_txt_value(),
            };
            self.update_journal(|j| j.note(record.clone()))?;
            created.push(record.clone());
            self.writer
                .add_txt(&record.zone, &record.name, &record.value)
                .await?;
        }
        Ok(())
    }

    /// Removes exactly the values this run added; a failure is a warning (the journal keeps
    /// the record for the next run).
    pub(crate) async fn cleanup(&self, ui: &Ui, created: &[CreatedRecord]) {
        for record in created {
            match self
                .writer
                .remove_txt(&record.zone, &record.name, &record.value)
                .await
            {
                Ok(()) => {
                    if let Err(e) = self.update_journal(|j| j.forget(record)) {
                        ui.warn(format!("{e}"));
                    }
                }
                Err(e) => ui.warn(format!("{e} (will retry on the next run)")),
            }
        }
    }

    /// Removes every record the journal holds for this writer (a killed run's, or this
    /// run's after a signal).
    pub(crate) async fn remove_leftovers(&self, ui: &Ui) -> Result<(), Error> {
        let mut journal = self.read_journal()?;
        if journal.is_empty() {
            return Ok(());
        }
        for e in dns::remove_recorded(self.writer.as_ref(), &mut journal).await {
            ui.warn(format!("leftover DNS-01 record from an earlier run: {e}"));
        }
        self.write_journal(&journal)
    }

    fn update_journal(&self, change: impl FnOnce(&mut Journal)) -> Result<(), Error> {
        let mut journal = self.read_journal()?;
        change(&mut journal);
        self.write_journal(&journal)
    }

    fn read_journal(&self) -> Result<Journal, Error> {
        Ok(match read_state(&self.journal_path)? {
            Some(text) => Journal::from_json(&text)?,
            None => Journal::default(),
        })
    }

    fn write_journal(&self, journal: &Journal) -> Result<(), Error> {
        let text = (!journal.is_empty()).then(|| journal.to_json());
        write_state(&self.journal_path, text.as_deref())
    }
}

/// A work-dir journal's text; None when absent. Its entries say which records to delete
/// and which hooks to run, so one another user could have written (or a symlink, a FIFO,
/// an endless file) is refused (exit 3), never acted on.
pub(crate) fn read_state(path: &Path) -> Result<Option<String>, Error> {
    use crate::safe::file::{read_text, Policy};
    read_text(path, Policy::CONFIG).map_err(|e| StoreError::from_read(path, e).into())
}

/// Writes a work-dir state file (0600, atomically); None removes it, so a run that cleaned
/// up leaves the work dir as it was.
pub(crate) fn write_state(path: &Path, text: Option<&str>) -> Result<(), Error> {
    let io = |action: &'static str, source: std::io::Error| -> Error {
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
        .into()
    };
    match text {
        None => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", e)),
            _ => Ok(()),
        },
        Some(text) => {
            fsutil::write_atomic(path, text.as_bytes(), 0o600).map_err(|e| io("write", e))
        }
    }
}

/// The values expected at each name (a wildcard and its base name share one).
pub(crate) fn expected(created: &[CreatedRecord]) -> Vec<Expected> {
    let mut out: Vec<Expected> = Vec::new();
    for r in created {
        match out.iter_mut().find(|e| e.name == r.name) {
            Some(e) => e.values.push(r.value.clone()),
            None => out.push(Expected {
                name: r.name.clone(),
                zone: r.zone.clone(),
                values: vec![r.value.clone()],
            }),
        }
    }
    out
}
