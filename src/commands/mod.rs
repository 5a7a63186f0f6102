//! One file per subcommand: turn its arguments into a validated request (`cli::resolve`),
//! call the workflows in `ops`, print the result. A command never imports another command.

mod account;
mod certificates;
mod certonly;
mod daemon;
mod delete;
mod doctor;
mod enhance;
mod import_certbot;
mod install;
mod notify;
mod plan;
mod plugins;
mod reconfigure;
mod renew;
mod revoke;
mod rollback;
mod run;
mod verify;

use std::process::ExitCode;

use crate::cli::{resolve, Cli, Command};
use crate::error::Error;
use crate::ops::Ctx;

/// Run a parsed command line and turn the outcome into an exit code, printing an error once.
pub fn main(cli: Cli) -> ExitCode {
    let result = resolve::settings(&cli.global).and_then(|settings| {
        let ctx = Ctx::new(settings);
        for note in &cli.notes {
            ctx.ui.note(note);
        }
        runtime()?.block_on(dispatch(&ctx, cli.command, cli.webroots))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!(
                "error: {}",
                crate::safe::text::sanitize_lines(&crate::error::error_chain(&err))
            );
            ExitCode::from(err.exit_code())
        }
    }
}

/// The one async runtime of the process, on this thread alone: an issuance is a handful of
/// sequential requests and one thread keeps the resident set small. `--user` drops root
/// inside it: no other thread exists until a blocking task needs one, and
/// `ops::privileges` refuses to switch if one does.
fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

async fn dispatch(ctx: &Ctx, command: Command, webroots: Vec<Option<usize>>) -> Result<(), Error> {
    match command {
        Command::Run(args) => run::run(ctx, args, &webroots).await,
        Command::Certonly(args) => certonly::run(ctx, args, &webroots).await,
        Command::Install(args) => install::run(ctx, args).await,
        Command::Rollback(args) => rollback::run(ctx, args),
        Command::Certificates(args) => certificates::run(ctx, args).await,
        Command::Renew(args) => renew::run(ctx, args).await,
        Command::Plan(args) => plan::run(ctx, args).await,
        Command::Daemon(args) => daemon::run(ctx, args).await,
        Command::Register(args) => account::run_register(ctx, args).await,
        Command::ShowAccount(args) => account::run_show(ctx, args).await,
        Command::UpdateAccount(args) => account::run_update(ctx, args).await,
        Command::Unregister(args) => account::run_unregister(ctx, args).await,
        Command::Revoke(args) => revoke::run(ctx, args).await,
        Command::Delete(args) => delete::run(ctx, args).await,
        Command::Reconfigure(args) => reconfigure::run(ctx, args).await,
        Command::ImportCertbot(args) => import_certbot::run(ctx, args),
        Command::Notify(args) => notify::run(ctx, args).await,
        Command::Verify(args) => verify::run(ctx, args).await,
        Command::Doctor(args) => doctor::run(ctx, args, &webroots).await,
        Command::Enhance(args) => enhance::run(ctx, args),
        Command::Plugins(args) => plugins::run(ctx, args),
    }
}
