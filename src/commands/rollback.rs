//! `certwright rollback`: undo certwright's last nginx change(s), byte for byte. A file the
//! user edited since is reported and left alone.

use crate::cli::RollbackArgs;
use crate::error::Error;
use crate::ops::deploy::nginx_txn::rollback;
use crate::ops::output::print_stdout;
use crate::ops::Ctx;

pub(super) fn run(ctx: &Ctx, args: RollbackArgs) -> Result<(), Error> {
    let (store, _lock) = ctx.open_store()?;
    let nginx = &args.nginx_args;
    let report = rollback(
        &store,
        &nginx.nginx_server_root,
        &nginx.nginx_ctl,
        usize::from(args.checkpoints),
    )?;
    match report {
        Some(report) => print_stdout(&format!("{report}\n")),
        None => print_stdout("Nothing to roll back.\n"),
    }
    Ok(())
}
