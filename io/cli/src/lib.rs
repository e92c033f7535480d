//! flowscope-cli: the `flowscope` command line over flowscope-io — `replay`
//! (capture files through the engine into EVE JSON Lines), `capture` (the
//! same from live interfaces, feature `live`) and `streams` (each TCP
//! connection's reassembled bytes into files) — with the TOML configuration
//! file they read ([`config::Config`]).
//!
//! The commands are library functions too: [`replay::replay`],
//! [`streams::streams`] and, with `live`, [`capture::capture`]. What they
//! share has modules of its own: the options common to runs
//! ([`run::RunOptions`]), their inputs ([`input`]), the run summary
//! ([`summary::Summary`]), the buffered EVE output and where it goes
//! ([`sink::Sink`]), why a run fails
//! ([`error::RunError`]) and stderr lines that never fail it ([`say`]). The binary is `src/main.rs`.
//!
//! A replay from a program, output into memory:
//!
//! ```
//! use flowscope_cli::config::Config;
//! use flowscope_cli::input::Input;
//! use flowscope_cli::replay::{ReplayOptions, replay};
//!
//! // `Input::File(path)` for a capture file; here the bundled demo.
//! let mut opts = ReplayOptions::new(vec![Input::Demo], Config::default());
//! opts.run.shards = Some(2);
//! let mut out = Vec::new();
//! let summary = replay(&opts, &mut out)?;
//! eprintln!("{}", summary.render());
//! let records = String::from_utf8(out)?;
//! assert!(records.lines().any(|l| l.contains(r#""event_type":"http""#)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod args;
#[cfg(feature = "live")]
pub mod capture;
pub mod commands;
pub mod config;
pub mod error;
pub mod exit;
pub mod input;
pub mod ipfix;
mod output;
mod overwrite;
mod progress;
pub mod rate;
pub mod replay;
pub mod run;
pub mod say;
pub mod signals;
pub mod sink;
pub mod streams;
pub mod summary;

pub use args::Cli;
pub use commands::run;
pub use exit::Failure;
