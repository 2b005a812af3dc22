//! Follows a schedule of Steps, as the interlace seed's `Schedule([Step(...)])`:
//! threads run freely (non-preemptively) between markers; a thread at a marker
//! waits until the next step names it and that marker; after the last step,
//! everything runs to completion, non-preemptively.

use super::{Choice, Finish, FinishKind, Scheduler};
use crate::op::ThreadId;
use serde::{Deserialize, Serialize};

/// One step: `thread` passes `marker`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkerStep {
    /// A thread's given name, or `main`, `t1`, `t2`... in spawn order.
    pub thread: String,
    /// A marker's name.
    pub marker: String,
}

/// Follows marker steps; says which step could not happen, and why.
pub struct MarkerScheduler {
    steps: Vec<MarkerStep>,
    next: usize,
    started: bool,
    /// Why the schedule could not be followed.
    unsatisfied: Option<String>,
    /// Where each runnable thread stood at the last choice.
    last_positions: String,
}

impl MarkerScheduler {
    /// One execution that follows `steps`.
    pub fn new(steps: Vec<MarkerStep>) -> MarkerScheduler {
        MarkerScheduler {
            steps,
            next: 0,
            started: false,
            unsatisfied: None,
            last_positions: String::new(),
        }
    }

    fn is(choice: &Choice<'_>, t: ThreadId, name: &str) -> bool {
        t.to_string() == name || choice.thread_name(t) == Some(name)
    }

    fn label(choice: &Choice<'_>, t: ThreadId) -> String {
        match choice.thread_name(t) {
            Some(n) => format!("{t} ({n})"),
            None => t.to_string(),
        }
    }

    fn positions(choice: &Choice<'_>) -> String {
        let mut parts: Vec<String> = choice
            .runnable
            .iter()
            .map(|&t| match choice.marker(t) {
                Some(m) => format!("{} waits at marker `{m}`", Self::label(choice, t)),
                None => format!(
                    "{} is about to {}",
                    Self::label(choice, t),
                    choice.pending(t).kind.name()
                ),
            })
            .collect();
        parts.push("every other thread is blocked or finished".to_string());
        parts.join("; ")
    }

    fn step_text(&self) -> String {
        let s = &self.steps[self.next];
        format!(
            "step {} (thread `{}`, marker `{}`)",
            self.next + 1,
            s.thread,
            s.marker
        )
    }
}

impl Scheduler for MarkerScheduler {
    fn next_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.started, true)
    }

    fn choose_always(&self) -> bool {
        // A lone thread at a marker must still wait for its step.
        true
    }

    fn unsatisfied(&self) -> Option<String> {
        self.unsatisfied.clone()
    }

    fn unsatisfied_step(&self) -> Option<usize> {
        self.unsatisfied.as_ref().map(|_| self.next)
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        self.last_positions = Self::positions(choice);
        let free: Vec<ThreadId> = choice
            .runnable
            .iter()
            .copied()
            .filter(|&t| choice.marker(t).is_none())
            .collect();
        let keep = |ts: &[ThreadId]| {
            choice
                .current
                .filter(|c| ts.contains(c))
                .or_else(|| ts.first().copied())
        };
        if self.next >= self.steps.len() {
            return keep(choice.runnable);
        }
        // A granted thread runs its gated code up to its next marker before
        // the next step: the current thread goes on while it is free.
        if let Some(c) = choice.current.filter(|c| free.contains(c)) {
            return Some(c);
        }
        let step = &self.steps[self.next];
        let granted = choice.runnable.iter().copied().find(|&t| {
            Self::is(choice, t, &step.thread) && choice.marker(t) == Some(step.marker.as_str())
        });
        if let Some(t) = granted {
            self.next += 1;
            return Some(t);
        }
        if let Some(t) = keep(&free) {
            return Some(t);
        }
        let named = choice
            .runnable
            .iter()
            .any(|&t| Self::is(choice, t, &step.thread));
        let why = if named {
            format!("`{}` waits at another marker", step.thread)
        } else {
            format!(
                "no runnable thread is named `{}` (it ended, is blocked, or does not exist; threads are named by set_thread_name, or main, t1, t2... in spawn order)",
                step.thread
            )
        };
        self.unsatisfied = Some(format!(
            "{} could not happen: {why}, and every runnable thread waits at a marker ({})",
            self.step_text(),
            self.last_positions
        ));
        None
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), super::Divergence> {
        if self.unsatisfied.is_none() && self.next < self.steps.len() {
            let why = match end.kind {
                FinishKind::Deadlock => "the program deadlocked first",
                FinishKind::Failed => "the program failed first",
                _ => "the program ended first (is the thread name or marker right?)",
            };
            let at = if self.last_positions.is_empty() {
                String::new()
            } else {
                format!("; at the last choice: {}", self.last_positions)
            };
            self.unsatisfied = Some(format!("{} never happened: {why}{at}", self.step_text()));
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "schedule"
    }
}
