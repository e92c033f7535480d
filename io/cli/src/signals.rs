//! SIGINT/SIGTERM/SIGHUP handling: the first signal sets the stop flag
//! (the run drains, flushes every flow and finishes its output — a closed
//! terminal ends a run as cleanly as Ctrl-C); a second one exits at once.
//! When the records go to a file or socket (`-o`), SIGHUP instead sets the
//! reopen flag ([`crate::sink::Sink`] reopens before its next write, as
//! logrotate's `postrotate` expects) and never stops the run. Work that
//! cannot look at the flag (libpcap compiling a filter) runs through
//! [`crate::run::unless_stopped`], which stops waiting for it.

use crate::exit::{EXIT_SIGHUP, EXIT_SIGINT, EXIT_SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The stop flag the signals set, and which signal it was.
#[derive(Debug)]
pub struct Signals {
    /// Set by the first SIGINT, SIGTERM or SIGHUP.
    pub stop: Arc<AtomicBool>,
    /// With `hup_reopens`: set by SIGHUP, taken by the sink.
    pub reopen: Option<Arc<AtomicBool>>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Installs the handlers; with `hup_reopens`, SIGHUP asks the output
    /// to reopen instead of stopping the run.
    pub fn install(hup_reopens: bool) -> std::io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::flag;
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        let mut stopping = vec![(SIGINT, EXIT_SIGINT), (SIGTERM, EXIT_SIGTERM)];
        let reopen = if hup_reopens {
            let reopen = Arc::new(AtomicBool::new(false));
            flag::register(SIGHUP, reopen.clone())?;
            Some(reopen)
        } else {
            stopping.push((SIGHUP, EXIT_SIGHUP));
            None
        };
        for (sig, code) in stopping {
            // Registered before the flag, so it sees the flag as the
            // previous signal left it: set means "second signal".
            flag::register_conditional_shutdown(sig, i32::from(code), stop.clone())?;
            flag::register_usize(sig, which.clone(), usize::from(code))?;
            flag::register(sig, stop.clone())?;
        }
        Ok(Signals {
            stop,
            reopen,
            which,
        })
    }

    /// The signal that stopped the run and its exit status.
    pub fn received(&self) -> (&'static str, u8) {
        match self.which.load(Ordering::SeqCst) {
            x if x == usize::from(EXIT_SIGTERM) => ("SIGTERM", EXIT_SIGTERM),
            x if x == usize::from(EXIT_SIGHUP) => ("SIGHUP", EXIT_SIGHUP),
            _ => ("SIGINT", EXIT_SIGINT),
        }
    }
}
