//! `certwright plan`: when each lineage renews and why. Offline: reads the store and the
//! cached renewal state, sends nothing, writes nothing. The daemon's status file is the same
//! report.

use time::OffsetDateTime;

use crate::cli::PlanArgs;
use crate::error::Error;
use crate::ops::fleet::Fleet;
use crate::ops::output::{print_json, print_stdout};
use crate::ops::renew::report::{broken_configs, plan, PlanEntry};
use crate::ops::Ctx;

pub(super) async fn run(ctx: &Ctx, args: PlanArgs) -> Result<(), Error> {
    let store = ctx.store();
    let mut entries = plan(&ctx.ui, &store, OffsetDateTime::now_utc())?;
    // Fleet mode: read-only, as all of `plan` (nothing is installed here).
    if let Some(fleet) = Fleet::open(ctx.global.fleet.as_ref()).await? {
        let view = fleet.view().await?;
        for e in &mut entries {
            e.fleet = Some(view.report_for(&e.name));
        }
    }
    let broken = entries.iter().filter(|e| e.problem.is_some()).count();
    if args.json {
        print_json(
            &serde_json::json!({ "schema": 1, "certificates": entries }),
            true,
        );
    } else {
        print_stdout(&render_text(&entries));
    }
    if broken > 0 {
        return Err(broken_configs(broken));
    }
    Ok(())
}

fn render_text(entries: &[PlanEntry]) -> String {
    if entries.is_empty() {
        return "No certificates found.\n".into();
    }
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!("{}\n", e.name));
        if let Some(p) = &e.problem {
            out.push_str(&format!("  problem:        {p}\n"));
            continue;
        }
        out.push_str(&format!("  domains:        {}\n", e.domains.join(" ")));
        out.push_str(&format!(
            "  expires:        {}\n",
            e.not_after.as_deref().unwrap_or("unknown")
        ));
        out.push_str(&format!(
            "  next renewal:   {}{}\n",
            if e.due_now {
                "now"
            } else {
                e.next_renewal.as_deref().unwrap_or("unknown")
            },
            e.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
        out.push_str(&format!(
            "  authenticator:  {}, installer: {}\n",
            e.authenticator.as_deref().unwrap_or("-"),
            e.installer.as_deref().unwrap_or("none")
        ));
        out.push_str(&format!(
            "  last success:   {}\n",
            e.last_success.as_deref().unwrap_or("never")
        ));
        if let Some(next) = &e.ari_next_check {
            out.push_str(&format!(
                "  ARI:            fetched {}, asked again {}\n",
                e.ari_fetched.as_deref().unwrap_or("never"),
                if e.ari_next_time
                    .is_some_and(|t| t <= OffsetDateTime::now_utc())
                {
                    "at the next run"
                } else {
                    next
                }
            ));
        }
        if let Some(err) = &e.last_error {
            out.push_str(&format!("  last error:     {err}\n"));
        }
        if let Some(served) = &e.served {
            out.push_str(&format!("  served:         {}\n", served.describe()));
        }
        if let Some(f) = &e.fleet {
            out.push_str(&format!("  fleet:          {f}\n"));
        }
    }
    out
}
