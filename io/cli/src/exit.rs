//! How `flowscope` ends: its exit statuses, and [`Failure`], why a command
//! could not run, with the status each cause exits with.

#[cfg(feature = "live")]
use crate::capture::CaptureError;
use crate::config::ConfigFileError;
use crate::error::RunError;
use crate::streams::StreamsError;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status: everything worked.
pub const EXIT_OK: u8 = 0;
/// Exit status: an input could not be opened or was damaged.
pub const EXIT_INPUT: u8 = 1;
/// Exit status: bad usage or configuration (clap also exits 2 on usage).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: a shard thread failed (a bug); the other shards' records
/// were written.
pub const EXIT_INTERNAL: u8 = 3;
/// Exit status after SIGHUP (128 + 1): the terminal went away.
pub const EXIT_SIGHUP: u8 = 129;
/// Exit status after SIGINT (128 + 2), as shells report it.
pub const EXIT_SIGINT: u8 = 130;
/// Exit status after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// Why a command could not run (or stopped on an error).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The configuration file cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigFileError),
    /// Options that do not go together or out of range.
    #[error("{0}")]
    Usage(String),
    /// The signal handlers could not be installed.
    #[error("cannot install signal handlers")]
    Signals(#[source] std::io::Error),
    /// The output file could not be created.
    #[error("cannot create {}", path.display())]
    CreateOutput {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `replay` failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// `streams` failed.
    #[error(transparent)]
    Streams(#[from] StreamsError),
    /// `capture` failed.
    #[cfg(feature = "live")]
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

impl Failure {
    /// The exit status it ends the process with.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Config(_) | Failure::Usage(_) => EXIT_USAGE,
            Failure::Signals(_) => EXIT_INTERNAL,
            Failure::CreateOutput { .. } => EXIT_INPUT,
            Failure::Run(RunError::Config(_) | RunError::Filter(_)) => EXIT_USAGE,
            Failure::Streams(
                StreamsError::Run(RunError::Config(_)) | StreamsError::OutDir { .. },
            ) => EXIT_USAGE,
            #[cfg(feature = "live")]
            Failure::Capture(
                CaptureError::Live(
                    flowscope_io::LiveError::Filter { .. }
                    | flowscope_io::LiveError::FilterTooLong { .. }
                    | flowscope_io::LiveError::NoInterface,
                )
                | CaptureError::Run(RunError::Config(_)),
            ) => EXIT_USAGE,
            _ => EXIT_INPUT,
        })
    }
}
