//! Thin binary: parse the command line, hand it to the library, return its exit code.
use std::process::ExitCode;

use certwright::cli::{webroot_assignments, with_default_subcommand, Cli};
use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    let args = with_default_subcommand(std::env::args_os().collect());
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let webroots = webroot_assignments(&matches);
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => certwright::commands::main(cli, webroots),
        Err(e) => {
            let _ = e.print();
            ExitCode::from(2)
        }
    }
}
