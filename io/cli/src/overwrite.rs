//! Output paths checked against the files a run reads before anything is
//! opened for writing: `-o` (or `capture -w`) naming an input capture, the
//! configuration file or the other output — directly, through a symlink or
//! through a hard link — is refused, so a typo cannot truncate a capture.

use crate::exit::Failure;
use std::path::Path;

/// A file the run reads (or writes elsewhere), and how to name it.
pub(crate) struct Guarded<'a> {
    /// What it is: "an input", "the configuration file"…
    pub(crate) what: &'static str,
    /// Its path.
    pub(crate) path: &'a Path,
}

/// `Err` when `output` (the value of option `flag`) is the same file as one
/// of `guarded`: the same path, or the same device and inode.
pub(crate) fn refuse_overwrite(
    flag: &str,
    output: &Path,
    guarded: &[Guarded<'_>],
) -> Result<(), Failure> {
    for g in guarded {
        if output == g.path || same_file(output, g.path) {
            return Err(Failure::Usage(format!(
                "{flag} {} is also {} ({}); refusing to overwrite it",
                output.display(),
                g.what,
                g.path.display()
            )));
        }
    }
    Ok(())
}

/// Whether both paths exist and are one file (links followed).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether both paths exist and are one file (links followed).
#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
