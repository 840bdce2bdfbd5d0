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

/// mimalloc instead of the system allocator: under intake load glibc's
/// malloc and free were about 15 % of the server's CPU (BENCHMARKS.md c).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
