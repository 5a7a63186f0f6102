//! `certwright doctor`: why names would fail validation, and whether anything renews.

use crate::cli::{resolve, DoctorArgs};
use crate::error::Error;
use crate::ops::{doctor, Ctx};

pub(super) async fn run(
    ctx: &Ctx,
    args: DoctorArgs,
    webroots: &[Option<usize>],
) -> Result<(), Error> {
    let request = resolve::doctor(&args, webroots)?;
    // The lock: a probe through nginx or a webroot must not meet a renewal's changes.
    let (store, _lock) = ctx.open_store()?;
    let report = doctor::run(&ctx.ui, &store, &request).await?;
    if request.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Internal(format!("cannot encode the report: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", report.text());
    }
    match report.errors {
        0 => Ok(()),
        errors => Err(Error::WouldFail { errors }),
    }
}
