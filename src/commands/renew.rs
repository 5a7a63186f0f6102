//! `certwright renew`: renew every lineage that is due (see `ops::renew`), from cron,
//! a timer or by hand; `--dry-run` proves renewal works and changes nothing.

use std::io::IsTerminal;
use std::time::Duration;

use time::OffsetDateTime;

use crate::cli::{resolve, RenewArgs};
use crate::error::Error;
use crate::ops::deploy::alerts::{after_pass, send_outbox};
use crate::ops::fleet::Fleet;
use crate::ops::output::{print_json, print_stdout};
use crate::ops::privileges::bind_then_drop;
use crate::ops::renew::{
    anything_due, lineage_ports, pass_error, renew_pass, LineageResult, Outcome, RenewRequest,
};
use crate::ops::{doctor, Ctx};

pub(super) async fn run(ctx: &Ctx, args: RenewArgs) -> Result<(), Error> {
    let mut request = resolve::renew(&args)?;
    if let Some(note) = resolve::ignored_certbot_flags(&args.certbot, &[]) {
        ctx.ui.note(note);
    }
    let fleet = Fleet::prepare(ctx.global.fleet.as_ref())?;
    let store = ctx.store();
    request.prebound = bind_then_drop(&ctx.global, &lineage_ports(&store, &request.names))?;
    request.fleet = Fleet::check(fleet).await?;
    if args.dry_run {
        store.prepare_read_only()?;
    } else {
        store.prepare()?;
    }
    // From cron, spread a fleet's requests over 8 minutes, before taking the lock so a
    // manual run meanwhile is not refused; only when something will be renewed (a no-op
    // run returns at once). Not for dry runs: those are CI checks.
    let from_cron = !args.no_random_sleep_on_renew && !args.dry_run;
    if from_cron
        && !std::io::stdin().is_terminal()
        && anything_due(&store, &request, OffsetDateTime::now_utc())
    {
        let secs = rand::random_range(0..480u64);
        ctx.ui.note(format!(
            "Waiting {secs} s before renewing (--no-random-sleep-on-renew skips this)"
        ));
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
    let (store, _lock) = if args.dry_run {
        ctx.open_store_read_only()?
    } else {
        ctx.open_store()?
    };
    let now = OffsetDateTime::now_utc();
    let results = renew_pass(&ctx.ui, &store, &request, now).await?;
    let mut not_served = 0;
    if !request.dry_run {
        let outbox;
        (not_served, outbox) = after_pass(&ctx.ui, &store, &request.alerts, &results, now).await;
        drop(_lock);
        send_outbox(&ctx.ui, &store, &request.alerts, outbox).await;
    }
    report(ctx, &request, &results, args.json);
    if request.dry_run && !args.json && !results.is_empty() {
        print_stdout(&dry_run_last_line(&args.system_root));
    }
    match pass_error(&request, &results) {
        Some(e) => Err(e),
        // A renewal nginx does not serve is not done (issue 13): exit 1.
        None if not_served > 0 => Err(Error::NotServed {
            failed: not_served,
            total: results.len(),
        }),
        None => Ok(()),
    }
}

/// A dry run's last word: it renewed nothing, and whether anything will for real.
fn dry_run_last_line(system_root: &std::path::Path) -> String {
    let mut line =
        String::from("(dry run) A dry run renews nothing: every certificate stays as it was.");
    if !doctor::renewal_active(system_root) {
        line.push_str(" Nothing on this machine renews them for real: no active certwright-renew.timer, cron entry or daemon (see `certwright doctor`).");
    }
    line.push('\n');
    line
}

fn report(ctx: &Ctx, req: &RenewRequest, results: &[LineageResult], json: bool) {
    if json {
        let out = serde_json::json!({
            "schema": 1,
            "dry_run": req.dry_run,
            "certificates": results,
        });
        print_json(&out, false);
        return;
    }
    if results.is_empty() {
        print_stdout("No certificates found.\n");
        return;
    }
    let mut out = String::new();
    let prefix = if req.dry_run { "(dry run) " } else { "" };
    for r in results {
        let line = match &r.outcome {
            Outcome::Renewed {
                version,
                not_after,
                fallback_ca,
            } => match fallback_ca {
                Some(ca) => format!(
                    "renewed (version {version}, expires {not_after}) by the fallback CA {ca}"
                ),
                None => format!("renewed (version {version}, expires {not_after})"),
            },
            Outcome::WouldRenew => "renewal would succeed".into(),
            Outcome::NotDue { decision } => format!("not due: {decision}"),
            Outcome::BackingOff { until, last_error } => {
                format!("skipped: backing off until {until} after: {last_error}")
            }
            Outcome::Failed { error } => format!("FAILED: {error}"),
            Outcome::Synced { version } => {
                format!("installed version {version}, renewed by another node of the fleet")
            }
            Outcome::Elsewhere => "another node of the fleet is renewing it".into(),
        };
        out.push_str(&format!("{prefix}{}: {line}\n", r.name));
        if let Some(h) = &r.hook_error {
            out.push_str(&format!("{prefix}{}: hook FAILED: {h}\n", r.name));
        }
    }
    let failed = results.iter().filter(|r| r.failed()).count();
    if failed == 0 {
        out.push_str(&format!(
            "{prefix}All {} certificate(s) OK.\n",
            results.len()
        ));
    }
    if !ctx.global.quiet || failed > 0 {
        print_stdout(&out);
    }
}
