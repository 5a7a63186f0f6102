//! `certwright daemon`: sleep until the earliest due time or the next check, renew under the
//! same lock as the CLI, write a status file, stop promptly on SIGTERM/SIGINT (see
//! `ops::daemon`).

use crate::cli::{resolve, DaemonArgs};
use crate::error::Error;
use crate::ops::{daemon, Ctx};

pub fn run(ctx: &Ctx, args: DaemonArgs) -> Result<(), Error> {
    daemon::run(ctx, resolve::daemon(&args)?)
}
