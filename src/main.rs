//! Thin binary: parse the command line, hand it to the library, return its exit code.
use std::process::ExitCode;

fn main() -> ExitCode {
    match certwright::cli::parse(std::env::args_os().collect()) {
        Ok(cli) => certwright::commands::main(cli),
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(certwright::error::exit::USAGE))
        }
    }
}
