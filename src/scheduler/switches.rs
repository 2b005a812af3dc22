//! Schedules as lists of switches: where the thread that ran last is not
//! the one that runs next by default. The default keeps the running thread
//! (no preemption) and, when it cannot go on, takes the lowest runnable
//! thread; a switch names the thread, how many steps it had run, and who
//! runs instead. Removing a switch gives a nearby schedule, which is what
//! counterexample minimisation needs (a decision list shifts as a whole).

use super::{Choice, Divergence, Finish, ReplayScheduler, Scheduler};
use crate::op::{Op, ThreadId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// One departure from the default continuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    /// The thread that ran the step before.
    pub after: ThreadId,
    /// How many steps it had run by then.
    pub steps: u64,
    /// The thread that runs instead.
    pub to: ThreadId,
    /// Whether `after` could have gone on (a preemption).
    pub preemption: bool,
}

enum Plan {
    /// Follow a recorded decision list (to learn its switches).
    Decisions(ReplayScheduler),
    /// Follow switches; where none applies, the default. Indexed by
    /// (thread, its steps): a lookup per step, not a scan of the list (a
    /// long execution has many thousands of switches).
    Switches(HashMap<(ThreadId, u64), Vec<ThreadId>>),
}

/// Runs one execution by a switch list (or a decision list) and records the
/// switches it took.
pub struct SwitchScheduler {
    plan: Plan,
    started: bool,
    counts: Vec<u64>,
    last: ThreadId,
    taken: Rc<RefCell<Vec<Switch>>>,
}

impl SwitchScheduler {
    /// One execution that takes `decisions` exactly (as a replay does).
    pub fn from_decisions(decisions: Vec<ThreadId>) -> SwitchScheduler {
        SwitchScheduler::with(Plan::Decisions(ReplayScheduler::new(decisions)))
    }

    /// One execution that departs from the default only at `switches`.
    pub fn from_switches(switches: Vec<Switch>) -> SwitchScheduler {
        let mut index: HashMap<(ThreadId, u64), Vec<ThreadId>> = HashMap::new();
        for s in switches {
            index.entry((s.after, s.steps)).or_default().push(s.to);
        }
        SwitchScheduler::with(Plan::Switches(index))
    }

    fn with(plan: Plan) -> SwitchScheduler {
        SwitchScheduler {
            plan,
            started: false,
            counts: vec![],
            last: ThreadId::MAIN,
            taken: Rc::default(),
        }
    }

    /// The switches the execution takes, readable after the scheduler was
    /// handed to the runtime.
    pub fn taken(&self) -> Rc<RefCell<Vec<Switch>>> {
        Rc::clone(&self.taken)
    }

    fn steps_of(&self, t: ThreadId) -> u64 {
        self.counts.get(t.0 as usize).copied().unwrap_or(0)
    }
}

impl Scheduler for SwitchScheduler {
    fn next_execution(&mut self) -> bool {
        !std::mem::replace(&mut self.started, true)
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let can_go_on = choice.current.filter(|c| choice.runnable.contains(c));
        let default = can_go_on.unwrap_or(choice.runnable[0]);
        let (after, steps) = (self.last, self.steps_of(self.last));
        let pick = match &mut self.plan {
            Plan::Decisions(replay) => replay.choose(choice)?,
            Plan::Switches(index) => index
                .get(&(after, steps))
                .and_then(|to| to.iter().find(|t| choice.runnable.contains(t)))
                .map_or(default, |&t| t),
        };
        if pick != default {
            self.taken.borrow_mut().push(Switch {
                after,
                steps,
                to: pick,
                preemption: can_go_on.is_some(),
            });
        }
        Some(pick)
    }

    fn observe(&mut self, thread: ThreadId, _op: &Op) {
        let i = thread.0 as usize;
        if self.counts.len() <= i {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += 1;
        self.last = thread;
    }

    fn finish_execution(&mut self, end: &Finish<'_>) -> Result<(), Divergence> {
        match &mut self.plan {
            Plan::Decisions(replay) => replay.finish_execution(end),
            Plan::Switches(_) => Ok(()),
        }
    }

    fn name(&self) -> &'static str {
        "switches"
    }
}
