//! What an execution did: a verdict is data, not an error.

use crate::op::ThreadId;
use crate::trace::Step;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How an execution ended (internal; becomes a [`Failure`] or an exit code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Exit(i32),
    Trap {
        thread: ThreadId,
        message: String,
    },
    Deadlock(Vec<(ThreadId, String)>),
    /// Every thread that can run spins on memory no thread will change.
    Livelock(Vec<(ThreadId, String)>),
    StepBound(u64),
    /// A limit of the tool (threads), not the program's failure: exit 2.
    ToolLimit(String),
    Timeout(u64),
    HostError(String),
    /// The scheduler gave up on the execution (e.g. DPOR: sleep-set blocked).
    Abandoned,
}

/// The kind of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A Rust panic (a trap with a panic message on stderr).
    Panic,
    /// Any other wasm trap.
    Trap,
    /// The program exited with a non-zero status.
    Exit,
    /// No thread can run and some wait forever.
    Deadlock,
    /// Every thread that can run spins, re-reading memory that no thread
    /// will change (fair schedules only: the others had their turns).
    Livelock,
    /// The execution passed `--max-steps` scheduling points.
    StepBound,
    /// The execution ran longer than `--timeout` in wall time without ending
    /// (a loop with no scheduling point).
    Timeout,
    /// Two conflicting accesses, one plain, not ordered by happens-before
    /// (`--races`).
    DataRace,
}

impl FailureKind {
    /// An execution cut by `--max-steps` or `--timeout`: possibly millions
    /// of steps, so it is reported as it ran (no traced replay, no
    /// minimising).
    pub fn cut_by_bound(self) -> bool {
        matches!(self, FailureKind::StepBound | FailureKind::Timeout)
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Trap => "trap",
            FailureKind::Exit => "non-zero exit",
            FailureKind::Deadlock => "deadlock",
            FailureKind::Livelock => "livelock",
            FailureKind::StepBound => "did not terminate",
            FailureKind::Timeout => "timeout",
            FailureKind::DataRace => "data race",
        }
    }
}

/// A failing execution's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The thread that failed, where one did.
    pub thread: Option<ThreadId>,
    /// Human-readable description (panic message, trap, who waits where).
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.thread {
            Some(t) => write!(f, "{} in thread {t}: {}", self.kind.name(), self.message),
            None => write!(f, "{}: {}", self.kind.name(), self.message),
        }
    }
}

/// Everything one execution produced.
#[derive(Clone, Debug)]
pub struct Execution {
    /// None when the program exited with status 0.
    pub failure: Option<Failure>,
    /// Exit status, when the program exited.
    pub exit_code: Option<i32>,
    /// Guest stdout.
    pub stdout: Vec<u8>,
    /// Guest stderr.
    pub stderr: Vec<u8>,
    /// The thread chosen at every scheduling point with more than one runnable thread.
    pub decisions: Vec<ThreadId>,
    /// Scheduling points passed.
    pub steps: u64,
    /// Accesses the guest decided without the host (a thread's own stack,
    /// library accesses left out), as far as it reported them (in chunks of
    /// `abi::PRIVATE_CHUNK`): with `steps`, what `--max-steps` bounds.
    pub unseen: u64,
    /// Threads created, main included.
    pub threads: u32,
    /// Every step, when tracing was on.
    pub trace: Option<Vec<Step>>,
    /// The scheduler abandoned it part-way (a redundant DPOR execution): no verdict.
    pub abandoned: bool,
    /// Data races found (with `--races`), distinct by their pair of sites.
    pub races: Vec<crate::runtime::races::Race>,
    /// Where the failure happened, as instrumentation sites, ascending: the
    /// failing thread's last scheduling point for a trap or panic, where
    /// each blocked thread waits for a deadlock, where each thread spins for
    /// a livelock or an execution cut by the step bound. A minimised
    /// schedule must fail at the same places.
    pub places: Vec<u32>,
}

/// The panic message a Rust guest printed to stderr, if any.
pub(crate) fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let start = text.rfind("panicked at")?;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[line_start..];
    let mut lines = vec![];
    for line in rest.lines() {
        if line.starts_with("note:")
            || line.starts_with("stack backtrace")
            || (lines.len() > 1 && line.is_empty())
        {
            break;
        }
        lines.push(line);
    }
    Some(lines.join("\n").trim_end().to_string())
}

/// The failed C `assert` wasi-libc printed to stderr before it aborted
/// (`Assertion failed: total == 2 (app.c: main: 31)`), as
/// `assertion failed: total == 2 at app.c:31 in main`.
pub(crate) fn c_assertion(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("Assertion failed: "))?;
    let body = line.strip_prefix("Assertion failed: ")?.trim_end();
    let open = body.rfind(" (")?;
    let (expr, place) = (&body[..open], body[open + 2..].strip_suffix(')')?);
    let mut parts = place.rsplitn(3, ": ");
    let (line_no, func, file) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!(
        "assertion failed: {expr} at {file}:{line_no} in {func}"
    ))
}

pub(crate) fn failure_of(end: &End, stderr: &[u8]) -> Option<Failure> {
    let (kind, thread, message) = match end {
        End::Exit(0) | End::Abandoned => return None,
        End::Exit(code) => (FailureKind::Exit, None, format!("the program exited with status {code}")),
        End::Trap { thread, message } => match panic_message(stderr) {
            Some(p) => (FailureKind::Panic, Some(*thread), p),
            None => match c_assertion(stderr) {
                Some(a) => (FailureKind::Trap, Some(*thread), a),
                None => (FailureKind::Trap, Some(*thread), message.clone()),
            },
        },
        End::Deadlock(waiting) => {
            let who: Vec<String> = waiting.iter().map(|(t, what)| format!("{t} {what}")).collect();
            let msg = if who.is_empty() {
                "no thread can run".to_string()
            } else {
                format!("no thread can run: {}", who.join(", "))
            };
            (FailureKind::Deadlock, None, msg)
        }
        End::Livelock(spinning) => {
            let who: Vec<String> = spinning.iter().map(|(t, what)| format!("{t} {what}")).collect();
            (
                FailureKind::Livelock,
                None,
                format!("{}; no other thread can run", who.join("; ")),
            )
        }
        End::StepBound(n) => (
            FailureKind::StepBound,
            None,
            format!("did not terminate within {n} steps (raise --max-steps if the program is just long)"),
        ),
        End::Timeout(s) => (
            FailureKind::Timeout,
            None,
            format!("ran for more than {s} s of wall time without finishing (a loop with no shared-memory access?)"),
        ),
        End::HostError(m) | End::ToolLimit(m) => (FailureKind::Trap, None, m.clone()),
    };
    Some(Failure {
        kind,
        thread,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_c_assert_becomes_the_headline() {
        let stderr = b"some output\nAssertion failed: total == 2 (app.c: main: 31)\n";
        assert_eq!(
            c_assertion(stderr).as_deref(),
            Some("assertion failed: total == 2 at app.c:31 in main")
        );
        // A colon in the expression or path does not confuse it.
        let stderr = b"Assertion failed: a ? b : c (dir/x.c: f: 7)\n";
        assert_eq!(
            c_assertion(stderr).as_deref(),
            Some("assertion failed: a ? b : c at dir/x.c:7 in f")
        );
        assert_eq!(c_assertion(b"no assertion here\n"), None);
    }
}
