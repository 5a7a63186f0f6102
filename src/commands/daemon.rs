//! `certwright daemon`: sleep until the earliest due time or the next check, renew under the
//! same lock as the CLI, write a status file, stop promptly on SIGTERM/SIGINT (see
//! `ops::daemon`).

use crate::cli::{resolve, DaemonArgs};
use crate::error::Error;
use crate::ops::{daemon, Ctx};

pub(super) async fn run(ctx: &Ctx, args: DaemonArgs) -> Result<(), Error> {
    let request = resolve::daemon(&args)?;
    // A pass the daemon spawned has the same arguments: the daemon said it already.
    let note = resolve::ignored_certbot_flags(&args.certbot, &[]).filter(|_| !args.child_pass);
    if let Some(note) = note {
        ctx.ui.note(note);
    }
    daemon::run(ctx, request).await
}
