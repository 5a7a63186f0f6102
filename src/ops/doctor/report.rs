//! What `doctor` found, as data (for `--json` and the failure alert) and as text.

use std::net::IpAddr;

use serde::Serialize;

use crate::challenge::probe::Hop;
use crate::renewers::Renewer;

/// An error would make validation fail; a warning would not (renewal set-up, notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Error,
    Warning,
}

/// One finding: what is wrong, where (record, file:line, address) and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    pub severity: Severity,
    /// dns, dnssec, caa, http, nginx, solver, ca, clock, dns-01, renewal
    pub check: &'static str,
    pub what: String,
    #[serde(rename = "where")]
    pub place: String,
    pub fix: String,
}

impl Finding {
    pub(crate) fn error(check: &'static str, what: String, place: String, fix: String) -> Self {
        Finding {
            severity: Severity::Error,
            check,
            what,
            place,
            fix,
        }
    }

    pub(crate) fn warning(check: &'static str, what: String, place: String, fix: String) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(check, what, place, fix)
        }
    }
}

/// The self-probe through one address.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ProbeReport {
    pub address: IpAddr,
    pub answered: bool,
    pub hops: Vec<Hop>,
}

/// Everything found for one name.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct NameReport {
    pub name: String,
    /// The challenge type checked: http-01 or dns-01.
    pub challenge: &'static str,
    pub addresses: Vec<IpAddr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cname_chain: Vec<String>,
    /// DNS-01: the zone the `_acme-challenge` record goes into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<ProbeReport>,
    pub findings: Vec<Finding>,
}

/// The CA as seen from here.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CaReport {
    pub server: String,
    pub caa_identities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_skew_seconds: Option<i64>,
    pub findings: Vec<Finding>,
}

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub schema: u32,
    pub names: Vec<NameReport>,
    pub cas: Vec<CaReport>,
    pub renewers: Vec<Renewer>,
    pub renewal: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
}

impl Report {
    /// Every finding, names first.
    pub(crate) fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.names
            .iter()
            .flat_map(|n| n.findings.iter())
            .chain(self.cas.iter().flat_map(|c| c.findings.iter()))
            .chain(self.renewal.iter())
    }

    /// Counts errors and warnings (after every finding is in).
    pub(crate) fn count(&mut self) {
        let (errors, warnings) = self.findings().fold((0, 0), |(e, w), f| match f.severity {
            Severity::Error => (e + 1, w),
            Severity::Warning => (e, w + 1),
        });
        self.errors = errors;
        self.warnings = warnings;
    }

    /// Human text: one block per name, CA and the renewal set-up, then a summary line.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.names {
            let addrs: Vec<String> = n.addresses.iter().map(IpAddr::to_string).collect();
            let shown = if addrs.is_empty() {
                "no addresses".to_string()
            } else {
                addrs.join(", ")
            };
            let verdict = if n.findings.is_empty() {
                "ok"
            } else {
                "problems"
            };
            out.push_str(&format!(
                "{} ({}, {shown}): {verdict}\n",
                n.name, n.challenge
            ));
            for chain in &n.cname_chain {
                out.push_str(&format!("  CNAME {chain}\n"));
            }
            if let Some(zone) = &n.zone {
                out.push_str(&format!("  zone {zone}\n"));
            }
            push_findings(&mut out, &n.findings);
        }
        for ca in &self.cas {
            if !ca.findings.is_empty() {
                out.push_str(&format!("CA {}:\n", ca.server));
                push_findings(&mut out, &ca.findings);
            }
        }
        out.push_str("renewal set-up:");
        if self.renewers.is_empty() {
            out.push_str(" nothing found\n");
        } else {
            out.push('\n');
            for r in &self.renewers {
                let state = match (&r.inactive, r.dry_run_only) {
                    (Some(why), _) => format!(" (inactive: {why})"),
                    (None, true) => " (dry run only)".into(),
                    (None, false) => String::new(),
                };
                let kind = format!("{:?} {:?}", r.client, r.via).to_lowercase();
                out.push_str(&format!("  {kind} at {}: {}{state}\n", r.place, r.text));
            }
        }
        push_findings(&mut out, &self.renewal);
        out.push_str(&format!(
            "{} error(s), {} warning(s)\n",
            self.errors, self.warnings
        ));
        out
    }
}

fn push_findings(out: &mut String, findings: &[Finding]) {
    for f in findings {
        let label = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("  {label} [{}]: {}\n", f.check, f.what));
        out.push_str(&format!("      where: {}\n", f.place));
        out.push_str(&format!("      fix: {}\n", f.fix));
    }
}
