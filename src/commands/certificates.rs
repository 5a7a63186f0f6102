//! `certwright certificates`: what is managed, when it expires, whether the files are sound.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::CertificatesArgs;
use crate::config::RenewalConfig;
use crate::error::Error;
use crate::store::{inspect, LivePaths, Store};
use crate::types::CertName;

use super::certonly::rfc3339;
use super::ui::print_stdout;
use super::Ctx;

/// One lineage as shown by `certificates --json` (schema 1, documented in README).
#[derive(Debug, Serialize)]
pub struct LineageReport {
    pub name: String,
    pub domains: Vec<String>,
    pub not_after: Option<String>,
    pub days_left: Option<i64>,
    pub key_type: Option<String>,
    pub serial: Option<String>,
    pub version: Option<u32>,
    pub paths: LivePaths,
    /// Files present, parsable and within their validity period.
    pub valid: bool,
    pub key_matches: bool,
    pub authenticator: Option<String>,
    pub installer: Option<String>,
    /// Why the lineage is not usable, if it is not.
    pub problem: Option<String>,
    /// Fleet mode: the fleet's version and which node holds which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<super::fleet::FleetReport>,
}

pub fn run(ctx: &Ctx, args: CertificatesArgs) -> Result<(), Error> {
    let store = ctx.store();
    let only: Option<CertName> = args.cert_name.as_deref().map(str::parse).transpose()?;
    let (mut names, odd) = store.list_lineages()?;
    if let Some(only) = &only {
        if !names.contains(only) {
            return Err(crate::error::StoreError::NoSuchLineage(only.to_string()).into());
        }
        names.retain(|n| n == only);
    }
    let fleet = super::fleet::Fleet::from_ctx(ctx)?;
    // Fleet mode: this node is brought up to date first (as every fleet command does),
    // unless another run holds the local lock (then it is listed as it is).
    let fleet_view = match &fleet {
        Some(f) => Some(super::block_on(async {
            match store.lock() {
                Ok(_lock) => {
                    store.prepare()?;
                    f.pull_and_deploy(&ctx.ui, &store, &super::renew::RenewRequest::default())
                        .await?;
                }
                Err(Error::Locked { .. }) => {}
                Err(e) => return Err(e),
            }
            f.view().await
        })??),
        None => None,
    };
    if let (Some(view), None) = (&fleet_view, &only) {
        // Lineages only the fleet has (not yet installed here) are listed too.
        for name in view
            .versions
            .keys()
            .filter_map(|n| n.parse::<CertName>().ok())
        {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names.sort();
    }
    let now = OffsetDateTime::now_utc();
    let mut reports: Vec<LineageReport> = names.iter().map(|n| report(&store, n, now)).collect();
    if let Some(view) = &fleet_view {
        for r in &mut reports {
            r.fleet = Some(view.report_for(&r.name));
        }
    }
    if args.json {
        let out = serde_json::json!({ "schema": 1, "certificates": reports });
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&out).unwrap_or_default()
        ));
    } else {
        print_stdout(&render_text(&reports));
    }
    for path in odd {
        ctx.ui.warn(format!(
            "{} is not a renewal config certwright can read (bad file name)",
            path.display()
        ));
    }
    Ok(())
}

pub fn report(store: &Store, name: &CertName, now: OffsetDateTime) -> LineageReport {
    let mut r = LineageReport {
        name: name.to_string(),
        domains: vec![],
        not_after: None,
        days_left: None,
        key_type: None,
        serial: None,
        version: None,
        paths: store.live_paths(name),
        valid: false,
        key_matches: false,
        authenticator: None,
        installer: None,
        problem: None,
        fleet: None,
    };
    match store.read_renewal(name) {
        Ok(Some(json)) => match RenewalConfig::parse(&json, &store.renewal_file(name)) {
            Ok(c) => {
                r.domains = c.domains.iter().map(|d| d.to_string()).collect();
                r.authenticator = Some(c.authenticator.name().into());
                r.installer = c.installer.as_ref().map(|_| "nginx".into());
            }
            Err(e) => r.problem = Some(e.to_string()),
        },
        Ok(None) => r.problem = Some("no renewal config".into()),
        Err(e) => r.problem = Some(e.to_string()),
    }
    r.version = match store.current_version(name) {
        Ok(v) => v,
        Err(e) => {
            r.problem.get_or_insert(e.to_string());
            None
        }
    };
    let live = match store.read_live(name) {
        Ok(Some(l)) => l,
        Ok(None) => {
            r.problem
                .get_or_insert("certificate files are missing".into());
            return r;
        }
        Err(e) => {
            r.problem.get_or_insert(e.to_string());
            return r;
        }
    };
    match inspect::inspect_chain(&live.0) {
        Ok(info) => {
            r.not_after = Some(rfc3339(info.not_after));
            r.days_left = Some((info.not_after - now).whole_days());
            r.key_type = Some(info.key_type.clone());
            r.serial = Some(info.serial.clone());
            if r.domains.is_empty() {
                r.domains = info.domains.clone();
            }
            r.key_matches =
                inspect::private_key_spki(&live.1).is_ok_and(|spki| spki == info.spki_der);
            let in_period = info.not_before <= now && now < info.not_after;
            r.valid = in_period && r.key_matches;
            if !r.key_matches {
                r.problem
                    .get_or_insert("private key does not match the certificate".into());
            } else if !in_period {
                r.problem.get_or_insert(if now >= info.not_after {
                    "expired".into()
                } else {
                    "not yet valid".into()
                });
            }
        }
        Err(e) => {
            r.problem.get_or_insert(format!("fullchain.pem: {e}"));
        }
    }
    r
}

fn render_text(reports: &[LineageReport]) -> String {
    if reports.is_empty() {
        return "No certificates found.\n".into();
    }
    let mut out = String::from("Found the following certificates:\n");
    for r in reports {
        out.push_str(&format!("  Certificate Name: {}\n", r.name));
        out.push_str(&format!("    Domains: {}\n", r.domains.join(" ")));
        match (&r.not_after, r.days_left) {
            (Some(na), Some(days)) => {
                let state = if r.valid { "VALID" } else { "INVALID" };
                out.push_str(&format!("    Expiry Date: {na} ({state}: {days} days)\n"));
            }
            _ => out.push_str("    Expiry Date: unknown\n"),
        }
        if let Some(k) = &r.key_type {
            out.push_str(&format!("    Key Type: {k}\n"));
        }
        if let Some(s) = &r.serial {
            out.push_str(&format!("    Serial Number: {s}\n"));
        }
        if let Some(v) = r.version {
            out.push_str(&format!("    Version: {v}\n"));
        }
        out.push_str(&format!(
            "    Certificate Path: {}\n",
            r.paths.fullchain.display()
        ));
        out.push_str(&format!(
            "    Private Key Path: {}\n",
            r.paths.privkey.display()
        ));
        if let Some(p) = &r.problem {
            out.push_str(&format!("    Problem: {p}\n"));
        }
        if let Some(f) = &r.fleet {
            out.push_str(&format!("    Fleet: {f}\n"));
        }
    }
    out
}
