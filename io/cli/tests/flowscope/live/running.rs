//! A `flowscope capture` run by the live test: started, waited for until
//! it captures, and stopped as a user would, its standard error kept.

use super::interrupt;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A capture started, its standard error read on a thread.
pub(super) struct Running {
    child: Child,
    reader: std::thread::JoinHandle<()>,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Spawns the capture and waits until it says it is capturing.
    pub(super) fn start(cmd: &mut Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let started = Instant::now();
        let mut seen = Vec::new();
        loop {
            match lines.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    let ready = line.contains("capturing on");
                    seen.push(line);
                    if ready {
                        break;
                    }
                }
                Err(_) => panic!(
                    "capture did not start within {:?}: {seen:?}",
                    started.elapsed()
                ),
            }
        }
        Running {
            child,
            reader,
            lines,
            seen,
        }
    }

    /// Stops the capture as a user would (SIGINT); its standard error,
    /// once it exited successfully.
    pub(super) fn stop(mut self) -> String {
        interrupt(&self.child);
        let status = self.child.wait().unwrap();
        // Every line, the summary included: the reader thread ends at the
        // end of stderr, after the last one has been sent.
        self.reader.join().unwrap();
        self.seen.extend(self.lines.iter());
        assert!(
            status.success(),
            "capture exited {status}: {:#?}",
            self.seen
        );
        self.seen.join("\n")
    }
}
