//! Lines on stderr that cannot fail a run: a summary, progress or error
//! line that cannot be written (stderr on a full disk, a pipe whose reader
//! is gone) is dropped — never a panic — and the exit status stays the one
//! the run earned. The records go to stdout or `-o` regardless.

use std::io::Write;

/// Writes `args` and a newline to stderr in one write; an error is
/// ignored (there is nowhere left to report it).
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut line = args.to_string();
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// [`line()`] with `format!` arguments.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say::line(format_args!($($arg)*))
    };
}
pub(crate) use say;
