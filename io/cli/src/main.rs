//! The `flowscope` binary: parses the command line, runs the command
//! (flowscope-cli) and reports why one could not run.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser as _;
use flowscope_cli::say::line;
use flowscope_cli::{Cli, Failure, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(failure) => {
            let code = failure.exit_code();
            match failure {
                Failure::Config(e) => line(format_args!("flowscope: {e}")),
                Failure::Streams(e) => line(format_args!("flowscope: error: {e}")),
                // The error and every cause under it, one after another.
                other => line(format_args!(
                    "flowscope: error: {:#}",
                    anyhow::Error::from(other)
                )),
            }
            code
        }
    }
}
