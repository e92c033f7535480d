//! SIGINT/SIGTERM/SIGHUP handling: the first signal sets the stop flag
//! (the run drains, flushes every flow and finishes its output — a closed
//! terminal ends a run as cleanly as Ctrl-C); a second one exits at once. Work that cannot look at the flag (libpcap compiling a filter)
//! runs through [`crate::run::unless_stopped`], which stops waiting for it.

use crate::exit::{EXIT_SIGHUP, EXIT_SIGINT, EXIT_SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The stop flag the signals set, and which signal it was.
#[derive(Debug)]
pub struct Signals {
    /// Set by the first SIGINT, SIGTERM or SIGHUP.
    pub stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Signals {
    /// Installs the handlers.
    pub fn install() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::flag;
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for (sig, code) in [
            (SIGINT, EXIT_SIGINT),
            (SIGTERM, EXIT_SIGTERM),
            (SIGHUP, EXIT_SIGHUP),
        ] {
            // Registered before the flag, so it sees the flag as the
            // previous signal left it: set means "second signal".
            flag::register_conditional_shutdown(sig, i32::from(code), stop.clone())?;
            flag::register_usize(sig, which.clone(), usize::from(code))?;
            flag::register(sig, stop.clone())?;
        }
        Ok(Signals { stop, which })
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
