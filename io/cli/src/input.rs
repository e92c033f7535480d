//! The inputs of `replay` and `streams`: capture files or the bundled demo,
//! all opened (and mapped) up front so a missing or unreadable file is
//! reported before any output. Inputs are mapped, so pipes, FIFOs and `-`
//! (standard input) are refused with a message that says so.

use crate::error::RunError;
use flowscope_io::{CaptureBytes, CaptureFile, DEMO_NAME, DEMO_PCAP, OpenError, not_a_file};
use std::path::PathBuf;

/// One input of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The bundled demo capture.
    Demo,
    /// A capture file.
    File(PathBuf),
}

/// Opens every input, or reports every one that does not open.
pub fn open_all(inputs: &[Input]) -> Result<Vec<CaptureFile>, RunError> {
    let mut files = Vec::with_capacity(inputs.len());
    let mut errors = Vec::new();
    for input in inputs {
        match input {
            Input::Demo => files.push(CaptureFile::from_bytes(
                DEMO_NAME,
                CaptureBytes::Static(DEMO_PCAP),
            )),
            // `-` is standard input by convention, never a file named `-`
            // (`./-` names that one).
            Input::File(p) if p.as_os_str() == "-" => errors.push(OpenError {
                path: p.clone(),
                source: not_a_file(),
            }),
            Input::File(p) => match CaptureFile::open(p) {
                Ok(f) => files.push(f),
                Err(e) => errors.push(e),
            },
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(RunError::Open(errors))
    }
}
