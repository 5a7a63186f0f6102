//! DNS-01 before ordering: where each `_acme-challenge` record goes (its CNAME delegation
//! followed) and in which zone, whether the servers the solver will check agree on the zone
//! (SOA serials), and whether the solver's credentials can write there: a harmless random
//! TXT value is published through the solver, waited for as an order would, and removed.

use std::net::SocketAddr;

use crate::acme::Challenge;
use crate::challenge::dns::diagnose::soa_serials;
use crate::challenge::dns::{self, authoritative, Lookup};
use crate::config::Authenticator;
use crate::store::Store;

use crate::ops::issue::session::Session;
use crate::ops::output::Ui;
use crate::ops::solve::prepare_authenticator;

use super::report::{Finding, NameReport};

/// Zone, delegation and agreement for every report, then one test-record round.
pub(super) async fn check(
    ui: &Ui,
    store: &Store,
    auth: &Authenticator,
    lookup: &Lookup,
    explicit: &[SocketAddr],
    reports: &mut [NameReport],
) {
    let mut zones: Vec<String> = Vec::new();
    for r in reports.iter_mut() {
        match dns::locate(&r.name, lookup).await {
            Ok(target) => {
                if target.name != target.challenge_name {
                    r.cname_chain
                        .push(format!("{} -> {}", target.challenge_name, target.name));
                }
                r.zone = Some(target.zone.clone());
                if !zones.contains(&target.zone) {
                    zones.push(target.zone);
                }
            }
            Err(e) => r.findings.push(super::dns::locate_failure(&r.name, &e)),
        }
    }
    for zone in &zones {
        let finding = agreement(lookup, explicit, zone).await;
        if let Some(r) = reports.iter_mut().find(|r| r.zone.as_deref() == Some(zone)) {
            r.findings.extend(finding);
        }
    }
    let located: Vec<String> = reports
        .iter()
        .filter(|r| r.zone.is_some())
        .map(|r| r.name.clone())
        .collect();
    if let Err(reason) = test_record(ui, store, auth, &located).await {
        if let Some(r) = reports.iter_mut().find(|r| r.zone.is_some()) {
            r.findings.push(Finding::error(
                "dns-01",
                format!(
                    "the {} solver could not publish a test TXT record: {reason}",
                    auth.name()
                ),
                dns::challenge_name(&r.name),
                "check the solver's credentials and that they may update this zone".into(),
            ));
        }
    }
}

/// The servers the solver waits for (`--dns-resolver`, else the zone's nameservers) must
/// agree on the zone's SOA serial, or one of them serves an older copy.
async fn agreement(lookup: &Lookup, explicit: &[SocketAddr], zone: &str) -> Option<Finding> {
    let servers = if explicit.is_empty() {
        match authoritative(lookup, zone, 53).await {
            Ok(s) => s,
            Err(e) => {
                return Some(Finding::warning(
                    "dns-01",
                    format!("cannot find the nameservers of {zone}: {e}"),
                    format!("{zone} NS"),
                    "check the zone's NS records".into(),
                ))
            }
        }
    } else {
        explicit.to_vec()
    };
    let serials = soa_serials(&servers, zone).await.ok()?;
    let shown: Vec<String> = serials
        .iter()
        .map(|(s, r)| match r {
            Ok(serial) => format!("{serial} at {s}"),
            Err(e) => format!("{s}: {e}"),
        })
        .collect();
    let mut distinct: Vec<&Result<u32, String>> = serials.iter().map(|(_, r)| r).collect();
    distinct.sort();
    distinct.dedup();
    (distinct.len() > 1).then(|| {
        Finding::warning(
            "dns-01",
            format!("the servers of {zone} disagree: {}", shown.join(", ")),
            format!("{zone} SOA"),
            "fix zone transfers (NOTIFY, allow-transfer) so every server serves the record in time"
                .into(),
        )
    })
}

/// The DNS solver's `--dns-resolver` list (empty for the other solvers).
pub(super) fn solver_resolvers(auth: &Authenticator) -> Vec<SocketAddr> {
    match auth {
        Authenticator::DnsRfc2136 { resolvers, .. }
        | Authenticator::Dns { resolvers, .. }
        | Authenticator::DnsRoute53 { resolvers, .. }
        | Authenticator::Manual { resolvers, .. } => resolvers.clone(),
        _ => Vec::new(),
    }
}

/// One random TXT value per name through the solver, waited for, then removed.
async fn test_record(
    ui: &Ui,
    store: &Store,
    auth: &Authenticator,
    names: &[String],
) -> Result<(), String> {
    if names.is_empty() {
        return Ok(());
    }
    let challenges: Vec<Challenge> = names.iter().map(|n| Challenge::made_up(n)).collect();
    let session = Session::default();
    let error = |e: crate::error::Error| crate::error::error_chain(&e);
    let mut prepared = prepare_authenticator(ui, &session, store, auth)
        .await
        .map_err(error)?;
    let published = prepared.publish(ui, &challenges).await.map_err(error)?;
    prepared.cleanup(ui, published, &challenges).await;
    Ok(())
}
