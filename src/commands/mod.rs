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
        dispatch(&ctx, cli.command, cli.webroots)
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

fn dispatch(ctx: &Ctx, command: Command, webroots: Vec<Option<usize>>) -> Result<(), Error> {
    match command {
        Command::Run(args) => run::run(ctx, args, &webroots),
        Command::Certonly(args) => certonly::run(ctx, args, &webroots),
        Command::Install(args) => install::run(ctx, args),
        Command::Rollback(args) => rollback::run(ctx, args),
        Command::Certificates(args) => certificates::run(ctx, args),
        Command::Renew(args) => renew::run(ctx, args),
        Command::Plan(args) => plan::run(ctx, args),
        Command::Daemon(args) => daemon::run(ctx, args),
        Command::Register(args) => account::run_register(ctx, args),
        Command::ShowAccount(args) => account::run_show(ctx, args),
        Command::UpdateAccount(args) => account::run_update(ctx, args),
        Command::Unregister(args) => account::run_unregister(ctx, args),
        Command::Revoke(args) => revoke::run(ctx, args),
        Command::Delete(args) => delete::run(ctx, args),
        Command::Reconfigure(args) => reconfigure::run(ctx, args),
        Command::ImportCertbot(args) => import_certbot::run(ctx, args),
        Command::Notify(args) => notify::run(ctx, args),
        Command::Verify(args) => verify::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args, &webroots),
        Command::Enhance(args) => enhance::run(ctx, args),
        Command::Plugins(args) => plugins::run(ctx, args),
    }
}
