//! `program_output`: alerts piped to a shell command, one per line.
//!
//! As in Falco: the command runs under `sh -c`; with `keep_alive: false` (the default) a new process
//! is started for every alert and waited for after its line is written; with `keep_alive: true` one
//! process receives every alert and is closed (stdin EOF, then waited for) at the end.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use super::{Alert, Channel};

/// Alerts to a program's standard input.
#[derive(Debug)]
pub struct ProgramChannel {
    program: String,
    keep_alive: bool,
    buffered: bool,
    child: Option<Child>,
}

impl ProgramChannel {
    /// A program channel for `program_output.program`, with `keep_alive` and `buffered_outputs`.
    pub fn new(program: impl Into<String>, keep_alive: bool, buffered: bool) -> ProgramChannel {
        ProgramChannel {
            program: program.into(),
            keep_alive,
            buffered,
            child: None,
        }
    }

    fn spawn(&self) -> std::io::Result<Child> {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(&self.program)
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot run {:?}: {e}", self.program))
            })
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            child.wait()?;
        }
        Ok(())
    }
}

impl Channel for ProgramChannel {
    fn send(&mut self, _alert: &Alert, line: &str) -> std::io::Result<()> {
        if self.child.is_none() {
            self.child = Some(self.spawn()?);
        }
        if let Some(stdin) = self.child.as_mut().and_then(|c| c.stdin.as_mut()) {
            stdin.write_all(line.as_bytes())?;
            stdin.write_all(b"\n")?;
            if !self.buffered {
                stdin.flush()?;
            }
        }
        if !self.keep_alive {
            self.close()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.child.as_mut().and_then(|c| c.stdin.as_mut()) {
            Some(stdin) => stdin.flush(),
            None => Ok(()),
        }
    }

    fn close(&mut self) -> std::io::Result<()> {
        // The end of the run: a kept-alive program gets EOF and is waited for.
        ProgramChannel::close(self)
    }

    fn name(&self) -> &'static str {
        "program"
    }
}

impl Drop for ProgramChannel {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
