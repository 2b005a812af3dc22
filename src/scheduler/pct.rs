//! PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi,
//! Nagarakatte, ASPLOS 2010): threads get random distinct priorities, the
//! highest-priority runnable thread always runs, and at d−1 random steps the
//! running thread drops below every other. A bug of depth d is found with
//! probability at least 1/(n·k^(d−1)) per execution, for n threads and k
//! steps.
//!
//! k counts only the steps that can matter (see [`super::visible`]): with
//! every shared access instrumented, counting all points would make k the
//! thousands of private steps of thread start-up, and the bound useless. k is
//! estimated as the most visible steps any execution so far had. A thread
//! that yields, sleeps, or runs [`super::random::MAX_RUN`] points in a row
//! drops to the lowest priority, so spin loops cannot starve the thread they
//! wait for.

use super::random::MAX_RUN;
use super::visible::{start_sample, SharedWords, Visibility};
use super::{Choice, Divergence, Finish, Scheduler, WARMUP};
use crate::op::{Op, OpKind, ThreadId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The first execution's guess of k.
const INITIAL_STEPS: u64 = 100;
/// Initial priorities are above this; lowered ones below.
const HIGH: u64 = 1 << 32;

/// Seeded PCT with bug depth `depth`.
pub struct PctScheduler {
    seed: u64,
    depth: u32,
    limit: u64,
    executions: u64,
    rng: ChaCha8Rng,
    shared: SharedWords,
    priorities: Vec<Option<u64>>,
    /// Visible-step numbers where the running thread is lowered, ascending.
    change_points: Vec<u64>,
    steps: u64,
    max_steps: u64,
    /// Next priority for a thread sent to the bottom by a yield or a long run.
    bottom: u64,
    run: u32,
    last: Option<ThreadId>,
}

impl PctScheduler {
    /// `limit` executions from `seed`, for bugs of depth `depth` (≥ 1).
    pub fn new(seed: u64, depth: u32, limit: u64) -> PctScheduler {
        PctScheduler {
            seed,
            depth: depth.max(1),
            limit,
            executions: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            shared: SharedWords::default(),
            priorities: vec![],
            change_points: vec![],
            steps: 0,
            max_steps: INITIAL_STEPS,
            bottom: 0,
            run: 0,
            last: None,
        }
    }

    fn priority(&mut self, t: ThreadId) -> u64 {
        let i = t.0 as usize;
        if self.priorities.len() <= i {
            self.priorities.resize(i + 1, None);
        }
        if self.priorities[i].is_none() {
            // A random rank among the threads so far: a random permutation, built as threads appear.
            self.priorities[i] = Some(HIGH + self.rng.random_range(0..HIGH));
        }
        self.priorities[i].expect("set above")
    }

    fn set_priority(&mut self, t: ThreadId, p: u64) {
        self.priority(t);
        self.priorities[t.0 as usize] = Some(p);
    }

    /// Sends `t` below every thread, and below those sent down before it.
    fn send_to_bottom(&mut self, t: ThreadId) {
        self.bottom = self.bottom.saturating_sub(1);
        let p = self.bottom;
        self.set_priority(t, p);
    }
}

impl Scheduler for PctScheduler {
    fn next_execution(&mut self) -> bool {
        let Some(rng) = start_sample(
            self.seed,
            &mut self.executions,
            self.limit,
            &mut self.shared,
        ) else {
            return false;
        };
        self.rng = rng;
        self.priorities.clear();
        self.steps = 0;
        self.run = 0;
        self.last = None;
        // Lowered priorities count down from here: d−1 change points, then yields.
        self.bottom = HIGH / 2;
        let mut points: Vec<u64> = vec![];
        let want = (self.depth - 1) as usize;
        while points.len() < want.min(self.max_steps as usize) {
            let k = self.rng.random_range(1..=self.max_steps);
            if !points.contains(&k) {
                points.push(k);
            }
        }
        points.sort_unstable();
        self.change_points = points;
        true
    }

    fn choose(&mut self, choice: &Choice<'_>) -> Option<ThreadId> {
        let current = choice.current.filter(|c| choice.runnable.contains(c));
        let visible = match current {
            Some(c) => self.shared.visibility(choice.pending(c)) == Visibility::Program,
            None => true,
        };
        if let Some(c) = current {
            if matches!(choice.pending(c).kind, OpKind::Yield | OpKind::Sleep)
                || self.run >= MAX_RUN
            {
                self.send_to_bottom(c);
                self.run = 0;
            }
        }
        if visible {
            self.steps += 1;
            if let Some(i) = self.change_points.iter().position(|&k| k == self.steps) {
                // Lower the thread about to run: below all initial priorities,
                // and the i-th change point below the (i−1)-th.
                let running = current.unwrap_or_else(|| self.highest(choice.runnable));
                let p = HIGH / 2 + (self.depth as u64 - i as u64);
                self.set_priority(running, p);
            }
        }
        let pick = self.highest(choice.runnable);
        self.run = if Some(pick) == self.last {
            self.run + 1
        } else {
            0
        };
        self.last = Some(pick);
        Some(pick)
    }

    fn observe(&mut self, thread: ThreadId, op: &Op) {
        self.shared.observe(thread, op);
    }

    fn finish_execution(&mut self, _end: &Finish<'_>) -> Result<(), Divergence> {
        if self.executions <= WARMUP {
            self.max_steps = self.max_steps.max(self.steps);
        }
        if self.executions == WARMUP {
            // The warm-up is over: what it learned is what every later execution starts from.
            self.shared.freeze();
        }
        Ok(())
    }

    fn fork(&self, index: u64) -> Option<Box<dyn Scheduler + Send>> {
        (self.executions >= WARMUP).then(|| {
            let mut fork = PctScheduler::new(self.seed, self.depth, index + 1);
            fork.executions = index;
            fork.max_steps = self.max_steps;
            fork.shared = self.shared.snapshot();
            Box::new(fork) as Box<dyn Scheduler + Send>
        })
    }

    fn name(&self) -> &'static str {
        "pct"
    }
}

impl PctScheduler {
    fn highest(&mut self, runnable: &[ThreadId]) -> ThreadId {
        let mut best = runnable[0];
        let mut best_p = self.priority(best);
        for &t in &runnable[1..] {
            let p = self.priority(t);
            if p > best_p {
                best = t;
                best_p = p;
            }
        }
        best
    }
}
