//! `certwright notify --test`: send a test event to every target given, print each
//! delivery (targets redacted), exit 1 if any failed.

use time::OffsetDateTime;

use crate::cli::{resolve, NotifyArgs};
use crate::error::{Error, InputError};
use crate::ops::deploy::alerts::send_test;
use crate::ops::output::print_stdout;
use crate::ops::Ctx;

pub(super) async fn run(_ctx: &Ctx, args: NotifyArgs) -> Result<(), Error> {
    let settings = resolve::alerts(&args.alerts)?;
    if settings.targets.is_empty() {
        return Err(InputError::Missing {
            what: "no alert target",
            fix: "give --notify-webhook, --notify-email or --failure-hook",
        }
        .into());
    }
    let deliveries = send_test(&settings, OffsetDateTime::now_utc()).await;
    let mut out = String::new();
    for d in &deliveries {
        match &d.error {
            None => out.push_str(&format!("{}: sent\n", d.target)),
            Some(e) => out.push_str(&format!("{}: FAILED: {e}\n", d.target)),
        }
    }
    print_stdout(&out);
    let failed = deliveries.iter().filter(|d| !d.delivered()).count();
    if failed > 0 {
        return Err(Error::AlertsFailed {
            failed,
            total: deliveries.len(),
        });
    }
    Ok(())
}
