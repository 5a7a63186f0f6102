//! DNS-01 as a solver: where each TXT value goes, the write-ahead journal in the work dir,
//! adding the values, waiting until they are served, and removing exactly them afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::acme::Http01Challenge;
use crate::challenge::dns::{
    self, CreatedRecord, Expected, Journal, Lookup, ProviderWriter, Rfc2136Config, Servers,
    TxtWriter, Wait,
};
use crate::error::{Error, StoreError};
use crate::fsutil;

use super::output::Ui;

/// Bound on the propagation check: a server that has not caught up by then will not in time
/// for the CA either.
const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);
const PROPAGATION_INTERVAL: Duration = Duration::from_millis(250);
/// The journal of records this work dir's runs added and have not removed yet.
const JOURNAL_FILE: &str = "dns-01-records.json";

pub struct DnsSolver {
    writer: ProviderWriter,
    lookup: Lookup,
    servers: Servers,
    extra_wait: Duration,
    journal_path: PathBuf,
}

impl DnsSolver {
    /// Reads the credentials (refused if others can read them) and removes what an earlier,
    /// killed run left in the zone.
    pub async fn rfc2136(
        ui: &Ui,
        credentials: &Path,
        resolvers: &[SocketAddr],
        propagation_seconds: u64,
        work_dir: &Path,
    ) -> Result<DnsSolver, Error> {
        let config = Rfc2136Config::from_file(credentials)?;
        let lookup = config.lookup()?;
        let servers = if resolvers.is_empty() {
            Servers::Authoritative {
                via: lookup.clone(),
                port: 53,
            }
        } else {
            Servers::Explicit(resolvers.to_vec())
        };
        let solver = DnsSolver {
            writer: ProviderWriter::rfc2136(&config)?,
            lookup,
            servers,
            extra_wait: Duration::from_secs(propagation_seconds),
            journal_path: work_dir.join(JOURNAL_FILE),
        };
        solver.remove_leftovers(ui).await?;
        Ok(solver)
    }

    /// Adds every challenge's value (noted in the journal first), then waits until the
    /// servers serve them all. On error, what was added is removed again.
    pub async fn publish(
        &self,
        ui: &Ui,
        challenges: &[Http01Challenge],
    ) -> Result<Vec<CreatedRecord>, Error> {
        let mut created = Vec::new();
        let result = self.add_all(challenges, &mut created).await;
        if let Err(e) = result {
            self.cleanup(ui, &created).await;
            return Err(e);
        }
        let expected = expected(&created);
        let wait = Wait {
            timeout: PROPAGATION_TIMEOUT,
            interval: PROPAGATION_INTERVAL,
        };
        let checked = dns::wait_for_propagation(&expected, &self.servers, wait, |_| {}).await;
        if let Err(e) = checked {
            self.cleanup(ui, &created).await;
            return Err(e.into());
        }
        tokio::time::sleep(self.extra_wait).await;
        crate::crash::crash_point("dns-01-published");
        Ok(created)
    }

    async fn add_all(
        &self,
        challenges: &[Http01Challenge],
        created: &mut Vec<CreatedRecord>,
    ) -> Result<(), Error> {
        for c in challenges {
            let target = dns::locate(&c.identifier, &self.lookup).await?;
            let record = CreatedRecord {
                writer: self.writer.label().to_string(),
                zone: target.zone,
                name: target.name,
                value: c.dns_value.clone(),
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
    pub async fn cleanup(&self, ui: &Ui, created: &[CreatedRecord]) {
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

    async fn remove_leftovers(&self, ui: &Ui) -> Result<(), Error> {
        let mut journal = self.read_journal()?;
        if journal.is_empty() {
            return Ok(());
        }
        for e in dns::remove_recorded(&self.writer, &mut journal).await {
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
        match std::fs::read_to_string(&self.journal_path) {
            Ok(text) => Ok(Journal::from_json(&text)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Journal::default()),
            Err(source) => Err(StoreError::Io {
                action: "read",
                path: self.journal_path.clone(),
                source,
            }
            .into()),
        }
    }

    /// An empty journal is no file: a run that cleaned up leaves the work dir as it was.
    fn write_journal(&self, journal: &Journal) -> Result<(), Error> {
        if journal.is_empty() {
            return match std::fs::remove_file(&self.journal_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
                    action: "remove",
                    path: self.journal_path.clone(),
                    source: e,
                }
                .into()),
                _ => Ok(()),
            };
        }
        fsutil::write_atomic(&self.journal_path, journal.to_json().as_bytes(), 0o600).map_err(
            |source| {
                StoreError::Io {
                    action: "write",
                    path: self.journal_path.clone(),
                    source,
                }
                .into()
            },
        )
    }
}

/// The values expected at each name (a wildcard and its base name share one).
fn expected(created: &[CreatedRecord]) -> Vec<Expected> {
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
