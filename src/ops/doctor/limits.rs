//! Rate limits ahead, from this host's own archive and failure records: certificates for
//! the exact same names and per registered domain in the last 7 days, and failed attempts in
//! the last hour (Let's Encrypt: 5 duplicates and 50 per registered domain a week, 5 failed
//! validations per name an hour). Other CAs' limits are not known: only named.

use time::{Duration, OffsetDateTime};

use crate::store::inspect::inspect_chain;
use crate::store::Store;
use crate::types::CertName;

use crate::ops::output::Ui;
use crate::ops::renew::state::LineageState;

use super::report::Finding;

const WEEK: Duration = Duration::days(7);
const DUPLICATES: usize = 5;
const PER_DOMAIN: usize = 50;
const FAILED_PER_HOUR: u32 = 5;

/// One archived certificate.
pub(super) struct Issued {
    pub domains: Vec<String>,
    pub not_before: OffsetDateTime,
}

/// A lineage's last failure.
pub(super) struct Failure {
    pub domains: Vec<String>,
    pub at: OffsetDateTime,
    pub consecutive: u32,
}

/// Every archived certificate of every lineage, and each lineage's names with its last
/// failure (time, consecutive count).
pub(super) fn archive(
    ui: &Ui,
    store: &Store,
    lineages: &[(CertName, Vec<String>)],
) -> (Vec<Issued>, Vec<Failure>) {
    let mut issued = Vec::new();
    let mut failures = Vec::new();
    for (name, domains) in lineages {
        for file in store.lineage_files(name).unwrap_or_default() {
            let in_archive = file.components().any(|c| c.as_os_str() == "archive");
            if !in_archive || file.file_name().is_none_or(|f| f != "cert.pem") {
                continue;
            }
            let Ok(Some(pem)) = crate::safe::file::read(&file, crate::safe::file::Policy::STORE)
            else {
                continue;
            };
            if let Ok(info) = inspect_chain(&pem) {
                issued.push(Issued {
                    domains: info.domains,
                    not_before: info.not_before,
                });
            }
        }
        if let Some(f) = LineageState::load(ui, store, name).failure {
            failures.push(Failure {
                domains: domains.clone(),
                at: f.last_failure,
                consecutive: f.consecutive,
            });
        }
    }
    (issued, failures)
}

/// The registered domain, approximated as the last two labels (no public suffix list).
fn registered(name: &str) -> String {
    let labels: Vec<&str> = name.trim_start_matches("*.").rsplit('.').take(2).collect();
    labels.into_iter().rev().collect::<Vec<_>>().join(".")
}

/// Hints for one order of `names` at a CA (`letsencrypt`: its limits are known).
pub(super) fn hints(
    issued: &[Issued],
    failures: &[Failure],
    names: &[String],
    letsencrypt: bool,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let recent: Vec<&Issued> = issued
        .iter()
        .filter(|i| now - i.not_before < WEEK)
        .collect();
    let mut wanted: Vec<String> = names.to_vec();
    wanted.sort();
    let same = recent
        .iter()
        .filter(|i| {
            let mut d = i.domains.clone();
            d.sort();
            d == wanted
        })
        .count();
    let mut out = Vec::new();
    let place = "this host's archive (certificates issued in the last 7 days)".to_string();
    if same >= DUPLICATES - 1 {
        out.push(hint(
            letsencrypt && same >= DUPLICATES,
            format!("{same} certificate(s) for exactly {} in the last 7 days; Let's Encrypt allows {DUPLICATES}", names.join(", ")),
            place.clone(),
            "wait, or add or drop a name (another name set is not a duplicate)".into(),
        ));
    }
    let mut domains: Vec<String> = names.iter().map(|n| registered(n)).collect();
    domains.dedup();
    for domain in domains {
        let count = recent
            .iter()
            .filter(|i| i.domains.iter().any(|d| registered(d) == domain))
            .count();
        if count >= PER_DOMAIN - 10 {
            out.push(hint(
                letsencrypt && count >= PER_DOMAIN,
                format!("{count} certificate(s) under {domain} in the last 7 days; Let's Encrypt allows {PER_DOMAIN} per registered domain"),
                place.clone(),
                "spread new names over more days, or put several names in one certificate".into(),
            ));
        }
    }
    out.extend(failure_hints(failures, names, letsencrypt, now));
    out
}

fn failure_hints(
    failures: &[Failure],
    names: &[String],
    letsencrypt: bool,
    now: OffsetDateTime,
) -> Vec<Finding> {
    failures
        .iter()
        .filter(|f| now - f.at < Duration::HOUR && f.domains.iter().any(|d| names.contains(d)))
        .map(|f| {
            hint(
                letsencrypt && f.consecutive >= FAILED_PER_HOUR,
                format!("{} failed attempt(s) in a row for {}, the last at {}; Let's Encrypt allows {FAILED_PER_HOUR} failed validations per name per hour", f.consecutive, f.domains.join(", "), f.at),
                "this host's renewal state (work dir)".into(),
                "fix what this report finds before the next attempt; each failure uses a slot".into(),
            )
        })
        .collect()
}

fn hint(error: bool, what: String, place: String, fix: String) -> Finding {
    if error {
        Finding::error("rate-limit", what, place, fix)
    } else {
        Finding::warning("rate-limit", what, place, fix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_registered_domains_are_counted_over_a_week() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
        let cert = |d: &[&str], days_ago: i64| Issued {
            domains: d.iter().map(|s| s.to_string()).collect(),
            not_before: now - Duration::days(days_ago),
        };
        let mut issued: Vec<Issued> = (0..5).map(|_| cert(&["b.x.test", "a.x.test"], 1)).collect();
        issued.push(cert(&["a.x.test", "b.x.test"], 8));
        let names = ["a.x.test".to_string(), "b.x.test".to_string()];
        let found = hints(&issued, &[], &names, true, now);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].what.starts_with("5 certificate(s) for exactly"));
        assert_eq!(found[0].severity, super::super::report::Severity::Error);
        assert!(hints(&issued, &[], &names, false, now)
            .iter()
            .all(|f| f.severity == super::super::report::Severity::Warning));
        assert_eq!(registered("www.example.com"), "example.com");
    }
}
