//! The "created records" journal: every TXT value a run adds is noted here (and persisted by
//! the caller in the work dir) BEFORE it is added, so a run killed with SIGKILL leaves a list
//! the next run removes. Removing a value that was never added is harmless.

use serde::{Deserialize, Serialize};

use super::writer::TxtWriter;
use crate::error::DnsError;

/// One TXT value a run added (or was about to add).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedRecord {
    /// `TxtWriter::label` of the writer that added it.
    pub writer: String,
    pub zone: String,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub records: Vec<CreatedRecord>,
}

impl Journal {
    pub fn from_json(text: &str) -> Result<Journal, DnsError> {
        serde_json::from_str(text)
            .map_err(|e| DnsError::Other(format!("DNS record journal is corrupt: {e}")))
    }

    pub fn to_json(&self) -> String {
        // Plain strings and vectors: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Notes a record (once).
    pub fn note(&mut self, record: CreatedRecord) {
        if !self.records.contains(&record) {
            self.records.push(record);
        }
    }

    pub fn forget(&mut self, record: &CreatedRecord) {
        self.records.retain(|r| r != record);
    }
}

/// Removes every journal entry `writer` made (others are kept for their own writer) and
/// forgets those that are gone; returns the failures, which stay in the journal.
pub async fn remove_recorded(writer: &dyn TxtWriter, journal: &mut Journal) -> Vec<DnsError> {
    let mine: Vec<CreatedRecord> = journal
        .records
        .iter()
        .filter(|r| r.writer == writer.label())
        .cloned()
        .collect();
    let mut failures = Vec::new();
    for record in mine {
        match writer
            .remove_txt(&record.zone, &record.name, &record.value)
            .await
        {
            Ok(()) => journal.forget(&record),
            Err(e) => failures.push(e),
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_dedupes() {
        let record = CreatedRecord {
            writer: "rfc2136 192.0.2.1:53 key k.".into(),
            zone: "example.com".into(),
            name: "_acme-challenge.example.com".into(),
            value: "abc".into(),
        };
        let mut journal = Journal::default();
        journal.note(record.clone());
        journal.note(record.clone());
        assert_eq!(journal.records.len(), 1);
        let back = Journal::from_json(&journal.to_json()).expect("parse");
        assert_eq!(back, journal);
        journal.forget(&record);
        assert!(journal.is_empty());
        assert!(Journal::from_json("{").is_err());
    }
}
