//! `certwright rollback`: undo certwright's last nginx change(s), byte for byte. A file the
//! user edited since is reported and left alone.

use crate::cli::RollbackArgs;
use crate::error::Error;
use crate::nginx::{self, Ctl};

use super::install::checkpoint_root;
use super::ui::print_stdout;
use super::{init_logging, Ctx};

pub fn run(ctx: &Ctx, args: RollbackArgs) -> Result<(), Error> {
    let store = ctx.store();
    store.prepare()?;
    let _lock = store.lock()?;
    init_logging(ctx);
    let ctl = Ctl {
        binary: args.nginx_args.nginx_ctl.clone(),
        conf: args.nginx_args.nginx_server_root.join("nginx.conf"),
    };
    let report = nginx::rollback(
        &checkpoint_root(store.work_dir()),
        &ctl.conf,
        usize::from(args.checkpoints),
    )?;
    if report.checkpoints.is_empty() {
        print_stdout("Nothing to roll back.\n");
        return Ok(());
    }
    ctl.test()?;
    if ctl.is_running() {
        ctl.reload()?;
    }
    print_stdout(&format!("{report}\n"));
    Ok(())
}
