//! `stdout_output`: one alert per line on standard output.
//!
//! With `buffered_outputs: false` (the default) every alert is flushed at once, so a reader of a pipe
//! sees it immediately; with `true` lines are flushed when the buffer fills and at the end.

use std::io::Write;

use super::{Alert, Channel};

/// Alerts to standard output.
#[derive(Debug)]
pub struct StdoutChannel {
    out: std::io::BufWriter<std::io::Stdout>,
    buffered: bool,
}

impl StdoutChannel {
    /// A stdout channel; `buffered` is `buffered_outputs`.
    pub fn new(buffered: bool) -> StdoutChannel {
        StdoutChannel {
            out: std::io::BufWriter::new(std::io::stdout()),
            buffered,
        }
    }
}

impl Channel for StdoutChannel {
    fn send(&mut self, _alert: &Alert, line: &str) -> std::io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        if !self.buffered {
            self.out.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    fn name(&self) -> &'static str {
        "stdout"
    }
}
