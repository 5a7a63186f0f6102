//! The renewal set-up: what will renew (a timer, cron, a daemon), and warnings when nothing
//! will, when a cron entry only ever runs `renew --dry-run`, and when certbot's timer or
//! cron renews the same names.

use std::path::Path;

use crate::certbot;
use crate::renewers::{self, Client, Renewer};
use crate::store::inspect::inspect_chain;

use super::report::Finding;

/// What renews, and the warnings about it. `our_names`: the names of this host's lineages.
pub(crate) fn check(
    system_root: &Path,
    certbot_dir: &Path,
    our_names: &[String],
) -> (Vec<Renewer>, Vec<Finding>) {
    let found = renewers::find(system_root);
    let mut out = Vec::new();
    for r in found.iter().filter(|r| r.dry_run_only) {
        out.push(Finding::warning(
            "renewal",
            format!(
                "this {:?} entry only runs `renew --dry-run`, which renews nothing",
                r.client
            )
            .to_lowercase(),
            format!("{}: {}", r.place, r.text),
            "drop --dry-run from it (a dry run only tests the renewal against the staging CA)"
                .into(),
        ));
    }
    let active = |c: Client| {
        found
            .iter()
            .any(|r| r.client == c && r.inactive.is_none() && !r.dry_run_only)
    };
    if !super::renewal_active(system_root) {
        out.push(none_found(&found));
    }
    if active(Client::Certbot) {
        let overlap = certbot_overlap(certbot_dir, our_names);
        if !overlap.is_empty() {
            let places: Vec<String> = found
                .iter()
                .filter(|r| r.client == Client::Certbot && r.inactive.is_none() && !r.dry_run_only)
                .map(|r| r.place.clone())
                .collect();
            out.push(Finding::warning(
                "renewal",
                format!("certbot also renews {}, which certwright manages: both will order for them", overlap.join(", ")),
                places.join(", "),
                format!("remove the names from certbot (`certbot delete --cert-name NAME`) or disable its renewal (`systemctl disable --now certbot.timer`, the cron entry); {}", certbot_dir.display()),
            ));
        }
    }
    (found, out)
}

fn none_found(found: &[Renewer]) -> Finding {
    let mut seen: Vec<String> = found
        .iter()
        .filter(|r| r.client == Client::Certwright)
        .map(|r| {
            let why = r.inactive.clone().unwrap_or_else(|| "dry run only".into());
            format!("{} ({why})", r.place)
        })
        .collect();
    if seen.is_empty() {
        seen.push("no certwright-renew.timer enabled, no cron entry running `certwright renew`, no `certwright daemon` running".into());
    }
    Finding::warning(
        "renewal",
        "nothing will renew certwright's certificates on this machine".into(),
        seen.join(", "),
        "`systemctl enable --now certwright-renew.timer`, or a cron line `0 */12 * * * root certwright -q renew -n`, or run `certwright daemon`".into(),
    )
}

/// The names certbot's lineages hold that are also ours.
fn certbot_overlap(certbot_dir: &Path, our_names: &[String]) -> Vec<String> {
    let Ok(confs) = certbot::renewal_confs(certbot_dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in confs {
        let Some(name) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let Ok(text) = certbot::read_certbot_file(&path) else {
            continue;
        };
        let Ok(conf) = certbot::RenewalConf::parse(&text) else {
            continue;
        };
        let domains = certbot::read_lineage_pems(certbot_dir, &name, &conf)
            .ok()
            .and_then(|p| inspect_chain(p.cert.as_bytes()).ok())
            .map(|info| info.domains)
            .unwrap_or_else(|| vec![name.clone()]);
        for d in domains {
            if our_names.contains(&d) && !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}
