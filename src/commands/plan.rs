//! `certwright plan`: when each lineage renews and why. Offline: reads the store and the
//! cached renewal state, sends nothing, writes nothing. The daemon's status file is the same
//! report.

use serde::Serialize;
use time::OffsetDateTime;

use crate::cli::PlanArgs;
use crate::error::Error;
use crate::store::Store;

use super::certonly::rfc3339;
use super::renew::{load_lineage, RenewRequest};
use super::ui::{print_stdout, Ui};
use super::Ctx;

#[derive(Debug, Serialize)]
pub struct PlanEntry {
    pub name: String,
    pub domains: Vec<String>,
    pub not_after: Option<String>,
    /// When the next renewal attempt happens (later than `due_at` while backing off).
    pub next_renewal: Option<String>,
    pub due_now: bool,
    pub reason: Option<String>,
    pub authenticator: Option<String>,
    pub installer: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub problem: Option<String>,
    /// Fleet mode: the fleet's version and which node holds which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fleet: Option<super::fleet::FleetReport>,
    #[serde(skip)]
    pub next_time: Option<OffsetDateTime>,
}

pub fn run(ctx: &Ctx, args: PlanArgs) -> Result<(), Error> {
    let store = ctx.store();
    let mut entries = plan(&ctx.ui, &store, OffsetDateTime::now_utc())?;
    // Fleet mode: read-only, as all of `plan` (nothing is installed here).
    if let Some(fleet) = super::fleet::Fleet::from_ctx(ctx)? {
        let view = super::block_on(fleet.view())??;
        for e in &mut entries {
            e.fleet = Some(view.report_for(&e.name));
        }
    }
    if args.json {
        let out = serde_json::json!({ "schema": 1, "certificates": entries });
        print_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&out).unwrap_or_default()
        ));
        return Ok(());
    }
    if entries.is_empty() {
        print_stdout("No certificates found.\n");
        return Ok(());
    }
    let mut out = String::new();
    for e in &entries {
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
        if let Some(err) = &e.last_error {
            out.push_str(&format!("  last error:     {err}\n"));
        }
        if let Some(f) = &e.fleet {
            out.push_str(&format!("  fleet:          {f}\n"));
        }
    }
    print_stdout(&out);
    Ok(())
}

/// The plan for every lineage at `now`.
pub fn plan(ui: &Ui, store: &Store, now: OffsetDateTime) -> Result<Vec<PlanEntry>, Error> {
    let (names, _) = store.list_lineages()?;
    let request = RenewRequest::default();
    let mut entries = Vec::new();
    for name in names {
        let entry = match load_lineage(ui, store, &name, &request, now) {
            Ok(l) => {
                let backoff = l.state.failure.as_ref().map(|f| f.next_attempt);
                let next_time = Some(match backoff {
                    Some(b) if b > l.decision.due_at => b,
                    _ => l.decision.due_at,
                });
                PlanEntry {
                    name: name.to_string(),
                    domains: l.config.domains.iter().map(|d| d.to_string()).collect(),
                    not_after: l.info.as_ref().map(|i| rfc3339(i.not_after)),
                    next_renewal: next_time.map(rfc3339),
                    due_now: l.decision.due_now && backoff.is_none_or(|b| b <= now),
                    reason: Some(l.decision.reason.to_string()),
                    authenticator: Some(l.config.authenticator.name().into()),
                    installer: l.config.installer.as_ref().map(|_| "nginx".into()),
                    last_success: l.state.last_success.map(rfc3339),
                    last_error: l.state.failure.as_ref().map(|f| {
                        format!(
                            "{} (attempt {}, at {})",
                            f.last_error,
                            f.consecutive,
                            rfc3339(f.last_failure)
                        )
                    }),
                    problem: None,
                    next_time,
                    fleet: None,
                }
            }
            Err(e) => PlanEntry {
                name: name.to_string(),
                domains: vec![],
                not_after: None,
                next_renewal: None,
                due_now: false,
                reason: None,
                authenticator: None,
                installer: None,
                last_success: None,
                last_error: None,
                problem: Some(e.to_string()),
                next_time: None,
                fleet: None,
            },
        };
        entries.push(entry);
    }
    Ok(entries)
}
