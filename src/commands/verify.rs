//! `certwright verify`: does nginx serve each lineage's live certificate? (`ops::deploy::served`)

use crate::cli::VerifyArgs;
use crate::error::Error;
use crate::ops::deploy::served::{check_lineage, ServedReport};
use crate::ops::output::{print_json, print_stdout};
use crate::ops::renew::lineage::require_config;
use crate::ops::Ctx;
use crate::types::CertName;
use crate::verify::{Outcome, RetryOpts};

pub(super) async fn run(ctx: &Ctx, args: VerifyArgs) -> Result<(), Error> {
    let mut names = args
        .cert_name
        .iter()
        .map(|n| n.parse::<CertName>())
        .collect::<Result<Vec<_>, _>>()?;
    let store = ctx.store();
    if names.is_empty() {
        names = store.list_lineages()?.0;
    }
    let mut reports = Vec::new();
    for name in &names {
        let config = require_config(&store, name)?;
        reports.push(check_lineage(&store, &config, RetryOpts::default()).await?);
    }
    if args.json {
        print_json(
            &serde_json::json!({"schema": 1, "certificates": reports}),
            false,
        );
    } else {
        print_stdout(&render(&reports));
    }
    let failed = reports
        .iter()
        .filter(|r| r.all_match() == Some(false))
        .count();
    match failed {
        0 => Ok(()),
        failed => Err(Error::NotServed {
            failed,
            total: reports.len(),
        }),
    }
}

fn render(reports: &[ServedReport]) -> String {
    let mut out = String::new();
    for r in reports {
        if let Some(why) = &r.skipped {
            out.push_str(&format!("{}: not checked: {why}\n", r.name));
        }
        for p in &r.probes {
            let what = match &p.outcome {
                Outcome::Match => "serves the live certificate".to_string(),
                Outcome::Mismatch { served_sha256 } => {
                    format!("MISMATCH: serves another certificate (SHA-256 {served_sha256})")
                }
                Outcome::Unreachable { error } => format!("UNREACHABLE: {error}"),
                Outcome::NotCovered => {
                    "NOT COVERED: serves the live certificate, which does not cover this name"
                        .to_string()
                }
            };
            out.push_str(&format!(
                "{}: {} (SNI {}): {what}\n",
                r.name, p.probe.addr, p.probe.name
            ));
        }
    }
    out
}
