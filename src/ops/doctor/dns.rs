//! A name's DNS as the CA will see it: its addresses and CNAME chain, DNSSEC failures, the
//! CAA set that applies (RFC 8659) with RFC 8657's parameters, and for DNS-01 the zone the
//! record goes into.

use crate::challenge::dns::diagnose::{self, CaaRecord, CaaSet, Resolution, ResolveProblem};
use crate::challenge::dns::{self, Lookup};
use crate::error::DnsError;

use super::report::Finding;

/// What CAA records are checked against: the CA's identities, the challenge type, and this
/// host's account with the CA.
pub(super) struct CaaContext<'a> {
    pub identities: &'a [String],
    pub method: &'a str,
    pub account: Account,
}

/// certwright's account URL at the CA, as far as it was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Account {
    /// Not looked up (after a failure): an `accounturi` restriction is only named.
    NotChecked,
    /// No account with this CA yet: a new one cannot match an `accounturi`.
    Missing,
    Url(String),
}

/// The CAA issuer domains of well-known CAs whose directories do not list them.
const KNOWN_IDENTITIES: [(&str, &str); 6] = [
    ("letsencrypt.org", "letsencrypt.org"),
    ("zerossl.com", "sectigo.com"),
    ("pki.goog", "pki.goog"),
    ("buypass.com", "buypass.com"),
    ("ssl.com", "ssl.com"),
    ("digicert.com", "digicert.com"),
];

/// The CA's CAA identities: from its directory, else known by its host.
pub(super) fn identities(from_directory: &[String], server: &str) -> Vec<String> {
    if !from_directory.is_empty() {
        return from_directory
            .iter()
            .map(|i| i.to_ascii_lowercase())
            .collect();
    }
    let host = server
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    KNOWN_IDENTITIES
        .iter()
        .filter(|(suffix, _)| host.ends_with(suffix))
        .map(|(_, id)| id.to_string())
        .collect()
}

/// Addresses and findings about them.
pub(super) async fn addresses(lookup: &Lookup, name: &str) -> (Resolution, Vec<Finding>) {
    match diagnose::resolve(lookup, name).await {
        Ok(r) => {
            let findings = r
                .problem
                .as_ref()
                .map(|p| vec![resolve_finding(name, p, lookup)])
                .unwrap_or_default();
            (r, findings)
        }
        Err(e) => (Resolution::default(), vec![unreachable(name, &e)]),
    }
}

fn unreachable(name: &str, e: &DnsError) -> Finding {
    Finding::error(
        "dns",
        format!("no resolver answered for {name}: {e}"),
        format!("{name} A/AAAA"),
        "check --dns-resolver (default: /etc/resolv.conf's nameservers)".into(),
    )
}

pub(super) fn resolve_finding(name: &str, problem: &ResolveProblem, lookup: &Lookup) -> Finding {
    let at = servers(lookup);
    match problem {
        ResolveProblem::NxDomain { name: missing } => Finding::error(
            "dns",
            format!("{missing} does not exist (NXDOMAIN at {at})"),
            format!("{missing} A/AAAA"),
            format!("add an A and/or AAAA record for {missing} pointing at this server"),
        ),
        ResolveProblem::DanglingCname { owner, target } => Finding::error(
            "dns",
            format!("dangling CNAME: {owner} points at {target}, which has no address (at {at})"),
            format!("{owner} CNAME {target}"),
            format!("point {owner} at a name that resolves, or replace the CNAME with A/AAAA records"),
        ),
        ResolveProblem::ServFail { name: failing, rtype, dnssec: true } => Finding::error(
            "dnssec",
            format!("DNSSEC validation fails for {failing}: {at} answers SERVFAIL, and answers with checking disabled (CD); CAs treat this as a failed validation"),
            format!("{failing} {rtype} (zone signatures or DS record)"),
            "re-sign the zone (expired or broken RRSIG) or correct the DS record at the parent".into(),
        ),
        ResolveProblem::ServFail { name: failing, rtype, dnssec: false } => Finding::error(
            "dns",
            format!("{at} answers SERVFAIL for {failing} {rtype}, also with checking disabled"),
            format!("{failing} {rtype}"),
            "check that the zone's authoritative servers answer (lame delegation?)".into(),
        ),
        ResolveProblem::NoAddress { name: bare } => Finding::error(
            "dns",
            format!("{bare} has neither an A nor an AAAA record (at {at})"),
            format!("{bare} A/AAAA"),
            format!("add an A and/or AAAA record for {bare}"),
        ),
        ResolveProblem::Failed { reason } => Finding::error(
            "dns",
            format!("looking up {name} failed: {reason}"),
            format!("{name} A/AAAA"),
            "check the zone's authoritative servers".into(),
        ),
    }
}

fn servers(lookup: &Lookup) -> String {
    lookup
        .servers()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CAA set that applies, checked against the CA's identities and the challenge type.
pub(super) async fn caa(lookup: &Lookup, name: &str, ctx: &CaaContext<'_>) -> Vec<Finding> {
    match diagnose::relevant_caa(lookup, name).await {
        Ok(Ok(Some(set))) => caa_findings(name, &set, ctx),
        Ok(Ok(None)) => Vec::new(),
        Ok(Err(problem)) => vec![resolve_finding(name, &problem, lookup)],
        Err(e) => vec![Finding::error(
            "caa",
            format!("no resolver answered the CAA query for {name}: {e}"),
            format!("{name} CAA"),
            "CAs refuse to issue when CAA cannot be looked up; check the zone's servers".into(),
        )],
    }
}

fn record_text(owner: &str, r: &CaaRecord) -> String {
    format!(
        "{owner} CAA {} {} \"{}\"",
        if r.critical { 128 } else { 0 },
        r.tag,
        r.value
    )
}

/// RFC 8659 section 4.1: a critical property a CA does not know forbids issuance.
fn unknown_critical(set: &CaaSet) -> Option<Finding> {
    const KNOWN: [&str; 7] = [
        "issue",
        "issuewild",
        "iodef",
        "issuemail",
        "issuevmc",
        "contactemail",
        "contactphone",
    ];
    let r = set
        .records
        .iter()
        .find(|r| r.critical && !KNOWN.contains(&r.tag.as_str()))?;
    Some(Finding::error(
        "caa",
        format!(
            "CAA at {} has a critical property {:?} CAs do not understand: they must refuse",
            set.owner, r.tag
        ),
        record_text(&set.owner, r),
        "clear the critical flag (128) or remove the record".into(),
    ))
}

/// RFC 8659 section 4: `issuewild` governs wildcards when present, else `issue`.
pub(super) fn caa_findings(name: &str, set: &CaaSet, ctx: &CaaContext<'_>) -> Vec<Finding> {
    let identities = ctx.identities;
    if let Some(f) = unknown_critical(set) {
        return vec![f];
    }
    let wildcard = name.starts_with("*.");
    let tag = if wildcard && set.records.iter().any(|r| r.tag == "issuewild") {
        "issuewild"
    } else {
        "issue"
    };
    let relevant: Vec<&CaaRecord> = set.records.iter().filter(|r| r.tag == tag).collect();
    if relevant.is_empty() {
        return Vec::new();
    }
    let shown = relevant
        .iter()
        .map(|r| record_text(&set.owner, r))
        .collect::<Vec<_>>()
        .join("; ");
    let allowed: Vec<&str> = relevant
        .iter()
        .filter_map(|r| r.issuer.as_deref())
        .collect();
    let fix_for = |id: &str| format!("add `{} CAA 0 {tag} \"{id}\"`", set.owner);
    if allowed.is_empty() {
        return vec![Finding::error(
            "caa",
            format!("CAA at {} forbids every CA to issue for {name}", set.owner),
            shown,
            fix_for(
                identities
                    .first()
                    .map(String::as_str)
                    .unwrap_or("<the CA's domain>"),
            ),
        )];
    }
    if identities.is_empty() {
        return vec![Finding::warning(
            "caa",
            format!("CAA at {} allows only {}; the CA does not publish its CAA identity, so this could not be checked", set.owner, allowed.join(", ")),
            shown,
            "make sure the CA's CAA domain is among them".into(),
        )];
    }
    let ours: Vec<&&CaaRecord> = relevant
        .iter()
        .filter(|r| {
            r.issuer
                .as_deref()
                .is_some_and(|i| identities.iter().any(|id| id == i))
        })
        .collect();
    if ours.is_empty() {
        return vec![Finding::error(
            "caa",
            format!(
                "CAA at {} allows only {}, not this CA ({})",
                set.owner,
                allowed.join(", "),
                identities.join(", ")
            ),
            shown,
            fix_for(&identities[0]),
        )];
    }
    rfc8657_findings(name, &set.owner, &ours, ctx)
}

/// RFC 8657: this CA's records limited to other validation methods or other accounts.
fn rfc8657_findings(
    name: &str,
    owner: &str,
    ours: &[&&CaaRecord],
    ctx: &CaaContext<'_>,
) -> Vec<Finding> {
    let param = |r: &CaaRecord, key: &str| {
        r.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let method_ok = |r: &CaaRecord| {
        param(r, "validationmethods").is_none_or(|v| {
            v.split(',')
                .any(|m| m.trim().eq_ignore_ascii_case(ctx.method))
        })
    };
    let account_ok = |r: &CaaRecord| match (param(r, "accounturi"), &ctx.account) {
        (None, _) | (Some(_), Account::NotChecked) => true,
        (Some(uri), Account::Url(ours)) => &uri == ours,
        (Some(_), Account::Missing) => false,
    };
    let shown = ours
        .iter()
        .map(|r| record_text(owner, r))
        .collect::<Vec<_>>()
        .join("; ");
    if !ours.iter().any(|r| method_ok(r)) {
        return vec![Finding::error(
            "caa",
            format!(
                "CAA at {owner} allows this CA only with other validation methods than {}",
                ctx.method
            ),
            shown,
            format!(
                "add {} to validationmethods, or use a solver for the method it allows",
                ctx.method
            ),
        )];
    }
    if ours.iter().any(|r| method_ok(r) && account_ok(r)) {
        return Vec::new();
    }
    let accounts: Vec<String> = ours.iter().filter_map(|r| param(r, "accounturi")).collect();
    let have = match &ctx.account {
        Account::Url(url) => format!("certwright's account is {url}"),
        _ => "certwright has no account with this CA yet (a new one gets a new URL)".into(),
    };
    vec![Finding::error(
        "caa",
        format!("CAA at {owner} limits issuance for {name} to the account(s) {}; {have}", accounts.join(", ")),
        shown,
        "add a record with certwright's account URL (`certwright show_account`), or drop accounturi".into(),
    )]
}

/// DNS-01: where the TXT record goes (following an `_acme-challenge` CNAME) and its zone.
pub(super) async fn dns01(lookup: &Lookup, name: &str) -> Vec<Finding> {
    match dns::locate(name, lookup).await {
        Ok(_) => Vec::new(),
        Err(e) => vec![locate_failure(name, &e)],
    }
}

/// No zone (or no end of the CNAME chain) for a name's `_acme-challenge` record.
pub(super) fn locate_failure(name: &str, e: &DnsError) -> Finding {
    Finding::error(
        "dns-01",
        format!("cannot find where the TXT record for {name} goes: {e}"),
        dns::challenge_name(name),
        "check the zone exists at the resolvers, and any _acme-challenge CNAME's target".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::dns::diagnose::split_issue_value;

    fn set(values: &[&str]) -> CaaSet {
        CaaSet {
            owner: "example.test".into(),
            records: values
                .iter()
                .map(|v| {
                    let (issuer, params) = split_issue_value(v);
                    CaaRecord {
                        critical: false,
                        tag: "issue".into(),
                        value: v.to_string(),
                        issuer,
                        params,
                    }
                })
                .collect(),
        }
    }

    fn check(values: &[&str], method: &str, account: Account) -> Vec<Finding> {
        let ids = ["letsencrypt.org".to_string()];
        let ctx = CaaContext {
            identities: &ids,
            method,
            account,
        };
        caa_findings("www.example.test", &set(values), &ctx)
    }

    #[test]
    fn caa_allows_forbids_and_limits_as_rfc_8659_and_8657_say() {
        assert!(check(&["letsencrypt.org"], "http-01", Account::Missing).is_empty());
        let other = check(&["sectigo.com"], "http-01", Account::Missing);
        assert!(
            other[0].what.contains("allows only sectigo.com"),
            "{other:?}"
        );
        assert!(check(&[";"], "http-01", Account::Missing)[0]
            .what
            .contains("forbids every CA"));
        let methods = check(
            &["letsencrypt.org; validationmethods=dns-01"],
            "http-01",
            Account::Missing,
        );
        assert!(
            methods[0].what.contains("other validation methods"),
            "{methods:?}"
        );
        let acct = "letsencrypt.org; accounturi=https://ca/acct/1";
        assert!(check(&[acct], "http-01", Account::Url("https://ca/acct/1".into())).is_empty());
        let wrong = check(&[acct], "http-01", Account::Url("https://ca/acct/2".into()));
        assert!(wrong[0].what.contains("https://ca/acct/2"), "{wrong:?}");
        assert!(check(&[acct], "http-01", Account::NotChecked).is_empty());
    }
}
