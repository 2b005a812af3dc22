//! Follows a recorded decision list exactly; any mismatch is a divergence.

use super::{Choice, Divergence, Finish, Scheduler};
use crate::op::ThreadId;

/// Replays the decisions of a schedule file.
pub struct ReplayScheduler {
    decisions: Vec<ThreadId>,
    next: usize,
    started: bool,
    divergence: Option<String>,
}

impl ReplayScheduler {
    /// One execution that takes `decisions` in order.
    pub fn new(decisions: Vec<ThreadId>) -> ReplayScheduler {
        ReplayScheduler {
            decisions,
            next: 0,
            started: false,
            divergence: None,
        }
    }

    fn pick(&mut self, choice: &Choice<'_>) -> ThreadId {
        let fallback = choice.current.unwrap_or(choice.runnable[0]);
        if self.divergence.is_some() {
            return fallback;
        }
        let Some(&want) = self.decisions.get(self.next) else {
            self.divergence = Some(format!(
                "the schedule ends after {} decisions but the execution needs more (at step {})",
                self.decisions.len(),
                choice.step
            ));
            return fallback;
        };
        self.next += 1;
        if !choice.runnable.contains(&want) {
            let names: Vec<String> = choice.runnable.iter().map(|t| t.to_string()).collect();
            self.divergence = Some(format!(
                "decision {} names thread {want}, which cannot run at step {} (runnable: {})",
                self.next,
                choice.step,
                names.join(", ")
            ));
            return fallback;
        }
        want
    }
}

impl Scheduler for ReplayScheduler {
    fn next_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.started, true)
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        Some(self.pick(choice))
    }

    fn finish_execution(&mut self, _end: &Finish<'_>) -> Result<(), Divergence> {
        if let Some(d) = self.divergence.take() {
            return Err(Divergence(d));
        }
        if self.next < self.decisions.len() {
            return Err(Divergence(format!(
                "the execution ended after {} of the schedule's {} decisions",
                self.next,
                self.decisions.len()
            )));
        }
        Ok(())
    }

    fn name(&self) -> &'static str {
        "replay"
    }
}
