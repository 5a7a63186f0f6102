//! `doctor`: why a name would fail validation, found before asking the CA (DNS, DNSSEC,
//! CAA, the HTTP path through every address, the CA's clock), and what will renew. Orders
//! nothing; what it publishes to probe (a token file, a listener, an nginx location) it
//! removes again.

mod after;
mod dns;
mod dns01;
mod http;
mod limits;
pub(crate) mod report;
mod setup;

use std::net::SocketAddr;
use std::path::PathBuf;

use time::OffsetDateTime;

use crate::acme::{self, AcmeHttp};
use crate::challenge::dns::Lookup;
use crate::config::Authenticator;
use crate::error::Error;
use crate::schedule::retry_after::parse_http_date;
use crate::store::Store;
use crate::types::{CertName, DomainName, ServerUrl};

use crate::ops::issue::accounts::{account_meta, stored_account};
use crate::ops::output::Ui;
use crate::ops::renew::lineage::require_config;

pub(crate) use after::after_failure;
use report::{CaReport, Finding, NameReport, Report};

/// A clock this far from the CA's is worth a warning.
const MAX_SKEW_SECONDS: i64 = 60;

/// What `doctor` checks (validated by `cli::resolve::doctor`).
#[derive(Debug, Clone)]
pub(crate) struct DoctorRequest {
    /// `-d` names; empty: the lineages below, or every lineage.
    pub names: Vec<DomainName>,
    pub cert_names: Vec<CertName>,
    /// The solver given on the command line; None: each lineage's own (standalone for -d).
    pub authenticator: Option<Authenticator>,
    /// The standalone solver `-d` names get when none is given.
    pub default_authenticator: Authenticator,
    pub resolvers: Vec<SocketAddr>,
    /// `--http-01-port`: where a webroot's web server answers (the CA uses 80).
    pub http_01_port: u16,
    /// `--server`/`--staging` as given; None: each lineage's own (Let's Encrypt for -d).
    pub server: Option<ServerUrl>,
    pub default_server: ServerUrl,
    pub ca_bundle: Option<PathBuf>,
    /// `--nginx-server-root` when given; else the running master's config is read.
    pub nginx_root: Option<PathBuf>,
    /// nginx.conf under the default server root, when no master says otherwise.
    pub nginx_default_conf: PathBuf,
    pub system_root: PathBuf,
    pub certbot_dir: PathBuf,
    pub json: bool,
}

/// Names checked together: one solver, one CA.
struct Group {
    /// Every name, once.
    names: Vec<String>,
    /// The name sets ordered together (each lineage's, or the -d names): rate limits count
    /// per set.
    sets: Vec<Vec<String>>,
    authenticator: Authenticator,
    server: ServerUrl,
    ca_bundle: Option<PathBuf>,
    /// Where the probe asks: the solver's port, else `--http-01-port`.
    port: u16,
}

impl Group {
    fn new(
        names: Vec<String>,
        authenticator: Authenticator,
        server: ServerUrl,
        ca_bundle: Option<PathBuf>,
        default_port: u16,
    ) -> Group {
        Group {
            sets: vec![names.clone()],
            names,
            port: http::http_port(&authenticator).unwrap_or(default_port),
            authenticator,
            server,
            ca_bundle,
        }
    }
}

impl Group {
    fn same_round(&self, other: &Group) -> bool {
        self.authenticator == other.authenticator
            && self.server == other.server
            && self.ca_bundle == other.ca_bundle
            && self.port == other.port
    }

    fn absorb(&mut self, other: Group) {
        for n in &other.names {
            if !self.names.contains(n) {
                self.names.push(n.clone());
            }
        }
        self.sets.extend(other.sets);
    }
}

/// Runs every check and returns the report (the caller prints it and picks the exit code).
pub(crate) async fn run(ui: &Ui, store: &Store, req: &DoctorRequest) -> Result<Report, Error> {
    let (groups, lineages) = groups(store, req)?;
    let our_names: Vec<String> = lineages.iter().flat_map(|(_, d)| d.clone()).collect();
    let (issued, failures) = limits::archive(ui, store, &lineages);
    let now = OffsetDateTime::now_utc();
    let lookup = if req.resolvers.is_empty() {
        Lookup::system()
    } else {
        Lookup::new(req.resolvers.clone())
    };
    let nginx_conf = http::nginx_config(req.nginx_root.as_deref(), &req.nginx_default_conf);
    let mut report = Report {
        schema: 1,
        ..Report::default()
    };
    for group in &groups {
        // Lineages share CAs: each directory is read once.
        let seen = report
            .cas
            .iter()
            .position(|c| c.server == group.server.as_str());
        let ca = match seen {
            Some(i) => report.cas[i].clone(),
            None => {
                let ca = ca_report(&group.server, group.ca_bundle.as_deref()).await;
                report.cas.push(ca.clone());
                ca
            }
        };
        let identities = dns::identities(&ca.caa_identities, group.server.as_str());
        let caa = dns::CaaContext {
            identities: &identities,
            method: if group.authenticator.is_dns() {
                "dns-01"
            } else {
                "http-01"
            },
            account: account_url(store, &group.server),
        };
        let mut names = check_group(ui, store, group, &lookup, &caa, nginx_conf.as_ref()).await;
        let letsencrypt = ca.server.contains(".letsencrypt.org/");
        for set in &group.sets {
            let hints = limits::hints(&issued, &failures, set, letsencrypt, now);
            if let Some(first) = names.iter_mut().find(|n| Some(&n.name) == set.first()) {
                first.findings.extend(hints);
            }
        }
        report.names.extend(names);
    }
    let (renewers, findings) = setup::check(&req.system_root, &req.certbot_dir, &our_names);
    report.renewers = renewers;
    report.renewal = findings;
    report.count();
    Ok(report)
}

/// Whether something on this machine renews certwright's certificates for real (a timer,
/// a cron entry without --dry-run, a daemon).
pub(crate) fn renewal_active(system_root: &std::path::Path) -> bool {
    crate::renewers::find(system_root).iter().any(|r| {
        r.client == crate::renewers::Client::Certwright && r.inactive.is_none() && !r.dry_run_only
    })
}

/// This host's lineages with their names.
type Lineages = Vec<(CertName, Vec<String>)>;

/// The groups to check, and this host's lineages (for the certbot overlap and the limits).
fn groups(store: &Store, req: &DoctorRequest) -> Result<(Vec<Group>, Lineages), Error> {
    let (all, _) = store.list_lineages()?;
    let mut ours = Vec::new();
    let mut configs = Vec::new();
    for name in &all {
        if let Ok(config) = require_config(store, name) {
            let domains = config.domains.iter().map(|d| d.as_str().to_string());
            ours.push((name.clone(), domains.collect()));
            configs.push(config);
        }
    }
    if !req.names.is_empty() {
        let authenticator = req.authenticator.clone();
        let group = Group::new(
            req.names.iter().map(|d| d.as_str().to_string()).collect(),
            authenticator.unwrap_or(req.default_authenticator.clone()),
            req.server.clone().unwrap_or(req.default_server.clone()),
            req.ca_bundle.clone(),
            req.http_01_port,
        );
        return Ok((vec![group], ours));
    }
    for wanted in &req.cert_names {
        require_config(store, wanted)?;
    }
    let mut groups: Vec<Group> = Vec::new();
    let wanted = configs
        .into_iter()
        .filter(|c| req.cert_names.is_empty() || req.cert_names.contains(&c.cert_name));
    for c in wanted {
        let group = Group::new(
            c.domains.iter().map(|d| d.as_str().to_string()).collect(),
            req.authenticator.clone().unwrap_or(c.authenticator),
            req.server.clone().unwrap_or(c.server),
            req.ca_bundle.clone().or(c.ca_bundle),
            req.http_01_port,
        );
        // Lineages with the same solver and CA are checked in one publish-and-probe round.
        match groups.iter_mut().find(|g| g.same_round(&group)) {
            Some(g) => g.absorb(group),
            None => groups.push(group),
        }
    }
    Ok((groups, ours))
}

/// This host's account URL at the server (for CAA `accounturi`).
fn account_url(store: &Store, server: &ServerUrl) -> dns::Account {
    let Ok(Some((account, _))) = stored_account(store, server, None) else {
        return dns::Account::Missing;
    };
    match account_meta(store, &account).ok().and_then(|m| m.url) {
        Some(url) => dns::Account::Url(url),
        None => dns::Account::NotChecked,
    }
}

/// The CA's directory: its CAA identities and its clock.
async fn ca_report(server: &ServerUrl, ca_bundle: Option<&std::path::Path>) -> CaReport {
    let mut out = CaReport {
        server: server.to_string(),
        ..CaReport::default()
    };
    let fetched = match AcmeHttp::new(ca_bundle) {
        Ok(http) => acme::fetch_directory_dated(&http, server).await,
        Err(e) => Err(e),
    };
    let (directory, date) = match fetched {
        Ok(found) => found,
        Err(e) => {
            out.findings.push(Finding::error(
                "ca",
                format!(
                    "cannot read the CA's directory: {}",
                    crate::error::error_chain(&e)
                ),
                server.to_string(),
                "check --server and --ca-bundle, and that this host reaches the CA over HTTPS"
                    .into(),
            ));
            return out;
        }
    };
    out.caa_identities = directory.meta.caa_identities;
    let skew = date
        .as_deref()
        .and_then(parse_http_date)
        .map(|at| (OffsetDateTime::now_utc() - at).whole_seconds());
    out.clock_skew_seconds = skew;
    out.findings
        .extend(skew.and_then(|s| skew_finding(s, server)));
    out
}

/// A warning when this host's clock is more than `MAX_SKEW_SECONDS` off the CA's.
fn skew_finding(skew: i64, server: &ServerUrl) -> Option<Finding> {
    (skew.abs() > MAX_SKEW_SECONDS).then(|| {
        let side = if skew > 0 { "ahead of" } else { "behind" };
        Finding::warning(
            "clock",
            format!("this host's clock is {} s {side} the CA's (its Date header)", skew.abs()),
            server.to_string(),
            "synchronise the clock (systemd-timesyncd, chrony): renewal times and certificate checks depend on it".into(),
        )
    })
}

/// DNS and CAA for every name at once, then one publish-and-probe round for HTTP-01.
async fn check_group(
    ui: &Ui,
    store: &Store,
    group: &Group,
    lookup: &Lookup,
    caa: &dns::CaaContext<'_>,
    nginx_conf: Option<&crate::nginx::Config>,
) -> Vec<NameReport> {
    let is_dns = group.authenticator.is_dns();
    let challenge = if is_dns { "dns-01" } else { "http-01" };
    let per_name = group.names.iter().map(|name| async move {
        let mut r = NameReport {
            name: name.clone(),
            challenge,
            ..NameReport::default()
        };
        if !is_dns {
            let (resolution, findings) = dns::addresses(lookup, name).await;
            r.addresses = resolution.addresses;
            r.cname_chain = resolution.chain;
            r.findings.extend(findings);
        }
        r.findings.extend(dns::caa(lookup, name, caa).await);
        r
    });
    let mut reports = futures_util::future::join_all(per_name).await;
    if is_dns {
        let explicit = dns01::solver_resolvers(&group.authenticator);
        dns01::check(
            ui,
            store,
            &group.authenticator,
            lookup,
            &explicit,
            &mut reports,
        )
        .await;
    } else {
        probe_http(ui, store, group, &mut reports, nginx_conf).await;
    }
    reports
}

/// Publish, probe every address of every name, clean up; findings per name.
async fn probe_http(
    ui: &Ui,
    store: &Store,
    group: &Group,
    reports: &mut [NameReport],
    nginx_conf: Option<&crate::nginx::Config>,
) {
    let targets: Vec<http::Target> = reports
        .iter()
        .filter(|r| !r.addresses.is_empty())
        .map(|r| http::Target {
            name: r.name.clone(),
            addresses: r.addresses.clone(),
        })
        .collect();
    if targets.is_empty() {
        return;
    }
    let port = group.port;
    match http::probe_all(ui, store, &group.authenticator, port, &targets).await {
        Ok(all) => {
            for (target, probes) in targets.iter().zip(all) {
                let Some(r) = reports.iter_mut().find(|r| r.name == target.name) else {
                    continue;
                };
                let (probe_reports, findings) = http::findings(&r.name, port, &probes, nginx_conf);
                r.probes = probe_reports;
                r.findings.extend(findings);
            }
        }
        Err(reason) => {
            let first = &mut reports[0];
            first.findings.push(Finding::error(
                "solver",
                format!(
                    "the {} solver could not publish a test answer: {reason}",
                    group.authenticator.name()
                ),
                format!("{} (port {port})", group.authenticator.name()),
                "fix the solver's set-up; certonly/renew would fail the same way".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_off_by_more_than_a_minute_is_a_warning() {
        let server: ServerUrl = "https://ca.test/dir".parse().expect("url");
        assert!(skew_finding(60, &server).is_none());
        assert!(skew_finding(-60, &server).is_none());
        let ahead = skew_finding(300, &server).expect("finding");
        assert!(ahead.what.contains("300 s ahead of"), "{}", ahead.what);
        assert_eq!(ahead.severity, report::Severity::Warning);
        let behind = skew_finding(-90, &server).expect("finding");
        assert!(behind.what.contains("90 s behind"), "{}", behind.what);
    }
}
