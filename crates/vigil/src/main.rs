//! The `vigil` binary: parse the command line, load the configuration,
//! wire the service, run one command, map the outcome to an exit code.

mod cli;
mod commands;
mod config;
mod exit;
mod logging;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::status_for(&err))
        }
    }
}
