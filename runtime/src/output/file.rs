//! `file_output`: alerts appended to a file, one per line.
//!
//! As in Falco: the file is opened in append mode (created if needed); with `keep_alive: false` (the
//! default) it is opened and closed around every alert, so an external log rotation is picked up
//! without a signal; with `keep_alive: true` it stays open.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use super::{Alert, Channel};

/// Alerts to a file.
#[derive(Debug)]
pub struct FileChannel {
    path: PathBuf,
    keep_alive: bool,
    buffered: bool,
    file: Option<BufWriter<File>>,
}

impl FileChannel {
    /// A file channel for `path` (`file_output.filename`), with `file_output.keep_alive` and
    /// `buffered_outputs`.
    pub fn new(path: impl Into<PathBuf>, keep_alive: bool, buffered: bool) -> FileChannel {
        FileChannel {
            path: path.into(),
            keep_alive,
            buffered,
            file: None,
        }
    }

    fn open(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot open {}: {e}", self.path.display()),
                    )
                })?;
            self.file = Some(BufWriter::new(f));
        }
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file not open"))
    }
}

impl Channel for FileChannel {
    fn send(&mut self, _alert: &Alert, line: &str) -> std::io::Result<()> {
        let buffered = self.buffered && self.keep_alive;
        let f = self.open()?;
        f.write_all(line.as_bytes())?;
        f.write_all(b"\n")?;
        if !buffered {
            f.flush()?;
        }
        if !self.keep_alive {
            self.file = None;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }

    fn name(&self) -> &'static str {
        "file"
    }
}
