//! Output paths checked against the files a run reads before anything is
//! opened for writing: `-o` (or `capture -w`) naming an input capture, the
//! configuration file or the other output — directly, through a symlink or
//! through a hard link — is refused, so a typo cannot truncate a capture.
//! Standard input (`-`) is compared by what it is: the file it is
//! redirected from (`replay -o x.pcap - < x.pcap`) is refused too.

use crate::exit::Failure;
use std::path::Path;

/// A file the run reads (or writes elsewhere), and how to name it.
pub(crate) struct Guarded<'a> {
    /// What it is: "an input", "the configuration file"…
    pub(crate) what: &'static str,
    /// Its path (`-` for standard input).
    pub(crate) path: &'a Path,
    /// It is standard input: compared by the file descriptor 0 is open on.
    pub(crate) stdin: bool,
}

/// `Err` when `output` (the value of option `flag`) is the same file as one
/// of `guarded`: the same path, or the same device and inode.
pub(crate) fn refuse_overwrite(
    flag: &str,
    output: &Path,
    guarded: &[Guarded<'_>],
) -> Result<(), Failure> {
    for g in guarded {
        let same = if g.stdin {
            is_stdin(output)
        } else {
            output == g.path || same_file(output, g.path)
        };
        if same {
            let name = if g.stdin {
                "standard input, redirected from it".to_owned()
            } else {
                g.path.display().to_string()
            };
            return Err(Failure::Usage(format!(
                "{flag} {} is also {} ({name}); refusing to overwrite it",
                output.display(),
                g.what,
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

/// Whether `path` exists and is the file standard input is open on.
#[cfg(unix)]
fn is_stdin(path: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let stdin = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata());
    match (std::fs::metadata(path), stdin) {
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

/// Standard input cannot be told apart from a file here.
#[cfg(not(unix))]
fn is_stdin(_: &Path) -> bool {
    false
}
