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
    StepBound(u64),
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
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Trap => "trap",
            FailureKind::Exit => "non-zero exit",
            FailureKind::Deadlock => "deadlock",
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
    /// Threads created, main included.
    pub threads: u32,
    /// Every step, when tracing was on.
    pub trace: Option<Vec<Step>>,
    /// The scheduler abandoned it part-way (a redundant DPOR execution): no verdict.
    pub abandoned: bool,
    /// Data races found (with `--races`), distinct by their pair of sites.
    pub races: Vec<crate::runtime::races::Race>,
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

pub(crate) fn failure_of(end: &End, stderr: &[u8]) -> Option<Failure> {
    let (kind, thread, message) = match end {
        End::Exit(0) | End::Abandoned => return None,
        End::Exit(code) => (FailureKind::Exit, None, format!("the program exited with status {code}")),
        End::Trap { thread, message } => match panic_message(stderr) {
            Some(p) => (FailureKind::Panic, Some(*thread), p),
            None => (FailureKind::Trap, Some(*thread), message.clone()),
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
        End::HostError(m) => (FailureKind::Trap, None, m.clone()),
    };
    Some(Failure {
        kind,
        thread,
        message,
    })
}
