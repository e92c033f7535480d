//! The inputs of `replay` and `streams`: capture files, standard input
//! (`-`) or the bundled demo, all opened up front so a missing or
//! unreadable file is reported before any output. Regular files are
//! memory-mapped, or read through a buffer when one thread reads them
//! once ([`FileReading`]); standard input, pipes, FIFOs and devices are
//! read as streams through a bounded buffer ([`CaptureStream`]). Opening
//! a FIFO does not wait for its writer: reading does, and a stop request
//! (Ctrl-C) still ends that wait.

use crate::error::RunError;
use flowscope_io::{
    CaptureBytes, CaptureFile, CaptureInput, CaptureStream, DEMO_NAME, DEMO_PCAP, OpenError,
    STDIN_NAME,
};
use std::path::{Path, PathBuf};

/// One input of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The bundled demo capture.
    Demo,
    /// A capture file, or a FIFO or device read as a stream.
    File(PathBuf),
    /// Standard input, read as a stream (at most once in a run).
    Stdin,
}

impl Input {
    /// The input a command-line argument names: `-` is standard input by
    /// convention, never a file named `-` (`./-` names that one).
    pub fn from_arg(arg: &Path) -> Self {
        if arg.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::File(arg.to_owned())
        }
    }

    /// Its name in records (`pcap_filename`) and messages.
    pub fn name(&self) -> String {
        match self {
            Input::Demo => DEMO_NAME.to_owned(),
            Input::File(p) => p.display().to_string(),
            Input::Stdin => STDIN_NAME.to_owned(),
        }
    }
}

/// Why standard input cannot be read twice.
const STDIN_TWICE: &str = "standard input is named more than once; it can be read only once";

/// `Err` (a usage error's message) when the inputs cannot be read as
/// given: standard input named more than once.
pub fn check_inputs(inputs: &[Input]) -> Result<(), String> {
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        return Err(
            "`-` (standard input) is given more than once; it can be read only once".into(),
        );
    }
    Ok(())
}

/// How regular files are read: the packets, their order and every error
/// are the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileReading {
    /// Mapped: the bytes are shared with the threads packets are handed
    /// to, never copied.
    Mapped,
    /// Mapped or read through a buffer, whichever costs less on this system
    /// for one pass on one thread (the inline engine, `--shards 0`):
    /// [`CaptureInput::open_one_pass`].
    OnePass,
}

/// Opens every input, or reports every one that does not open.
pub fn open_all(inputs: &[Input], files: FileReading) -> Result<Vec<CaptureInput>, RunError> {
    let mut opened = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    let mut stdin_taken = false;
    for input in inputs {
        let result = match input {
            Input::Demo => {
                Ok(CaptureFile::from_bytes(DEMO_NAME, CaptureBytes::Static(DEMO_PCAP)).into())
            }
            Input::Stdin if stdin_taken => Err(OpenError {
                path: STDIN_NAME.into(),
                source: std::io::Error::other(STDIN_TWICE),
            }),
            Input::Stdin => {
                stdin_taken = true;
                CaptureStream::stdin().map(CaptureInput::from)
            }
            Input::File(p) => match files {
                FileReading::Mapped => CaptureInput::open(p),
                FileReading::OnePass => CaptureInput::open_one_pass(p),
            },
        };
        match result {
            Ok(i) => opened.push(i),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(opened)
    } else {
        Err(RunError::Open(errors))
    }
}
