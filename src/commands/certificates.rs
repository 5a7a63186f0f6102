//! `certwright certificates`: what is managed, when it expires, whether the files are sound.

use time::OffsetDateTime;

use crate::cli::CertificatesArgs;
use crate::error::{Error, StoreError};
use crate::ops::fleet::Fleet;
use crate::ops::output::{print_json, print_stdout};
use crate::ops::renew::report::{broken_configs, report, synced_fleet_view, LineageReport};
use crate::ops::Ctx;
use crate::types::{CertName, DomainName};

pub(super) async fn run(ctx: &Ctx, args: CertificatesArgs) -> Result<(), Error> {
    let store = ctx.store();
    let only: Option<CertName> = args.cert_name.as_deref().map(str::parse).transpose()?;
    let (mut names, odd) = store.list_lineages()?;
    if let Some(only) = &only {
        if !names.contains(only) {
            return Err(StoreError::NoSuchLineage(only.to_string()).into());
        }
        names.retain(|n| n == only);
    }
    let fleet = Fleet::open(ctx.global.fleet.as_ref()).await?;
    let fleet_view = match &fleet {
        Some(f) => Some(synced_fleet_view(f, &ctx.ui, &store).await?),
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
    // certbot's `certificates -d NAME`: the lineages holding every name given.
    let wanted: Vec<DomainName> = args
        .domains
        .iter()
        .map(|d| d.parse())
        .collect::<Result<_, _>>()?;
    reports.retain(|r| {
        wanted
            .iter()
            .all(|w| r.domains.iter().any(|d| d == w.as_str()))
    });
    if let Some(view) = &fleet_view {
        for r in &mut reports {
            r.fleet = Some(view.report_for(&r.name));
        }
    }
    if args.json {
        print_json(
            &serde_json::json!({ "schema": 1, "certificates": reports }),
            true,
        );
    } else {
        print_stdout(&render_text(&reports));
    }
    for path in odd {
        ctx.ui.warn(format!(
            "{} is not a renewal config certwright can read (bad file name)",
            path.display()
        ));
    }
    let broken = reports.iter().filter(|r| r.config_broken).count();
    if broken > 0 {
        return Err(broken_configs(broken));
    }
    Ok(())
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
        for t in r.deploy_targets.describe() {
            out.push_str(&format!("    Deploy Target: {t}\n"));
        }
        if let Some(p) = &r.problem {
            out.push_str(&format!("    Problem: {p}\n"));
        }
        if let Some(f) = &r.fleet {
            out.push_str(&format!("    Fleet: {f}\n"));
        }
        if let Some(served) = &r.served {
            out.push_str(&format!("    Served: {}\n", served.describe()));
        }
    }
    out
}
