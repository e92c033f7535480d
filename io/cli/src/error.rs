//! Why a command could not run at all: inputs that do not open, a
//! configuration that cannot work, a pipeline that fails, output that cannot
//! be written, a filter that does not compile.

use flowscope_io::OpenError;
use flowscope_shards::PipelineError;
use std::io;

/// Why a run (`replay`, `capture` or `streams`) could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Inputs that could not be opened (nothing was processed).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Open(Vec<OpenError>),
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] flowscope_engine::ConfigError),
    /// The pipeline could not start or its ingest failed.
    #[error(transparent)]
    Pipeline(PipelineError),
    /// Writing the output failed (other than the reader going away).
    #[error("writing output")]
    Output(#[source] io::Error),
    /// The filter expression does not compile, or this build has no
    /// libpcap to compile it.
    #[error("{0}")]
    Filter(String),
    /// The IPFIX export cannot start (`--ipfix`, `[ipfix]`).
    #[error("{0}")]
    Ipfix(String),
    /// The stop flag was set before the run started, while it was
    /// `.0` (compiling the filter): nothing was read.
    #[error("stopped while {0}; nothing was read")]
    Interrupted(&'static str),
}

impl RunError {
    /// A pipeline that could not start: a configuration error is the
    /// user's, anything else the pipeline's.
    pub fn from_pipeline(e: PipelineError) -> Self {
        match e {
            PipelineError::Config(c) => RunError::Config(c),
            other => RunError::Pipeline(other),
        }
    }
}
