//! The search tree: one node per scheduling point of the current execution,
//! with what was explored there, what is left, and the sleep set; backtracking
//! to the deepest point with work left, and planting the reversals races ask for.

use super::*;

/// One scheduling point of the current path.
#[derive(Clone)]
pub(super) struct Node {
    /// Identifies the point across workers: a hash of the choices before it.
    pub(super) key: u64,
    pub(super) enabled: Threads,
    /// Pending operation of each enabled thread.
    pub(super) pending: SmallVec<[Op; 4]>,
    /// The thread that reached this point, if it could go on.
    pub(super) current: Option<ThreadId>,
    pub(super) chosen: ThreadId,
    pub(super) backtrack: Threads,
    pub(super) done: Threads,
    /// The steps each explored thread ran in its block from here.
    pub(super) done_blocks: Vec<(ThreadId, Block)>,
    /// The steps the chosen thread runs in its block from here.
    pub(super) block: Vec<Op>,
    /// The point where the block this step belongs to began (itself when
    /// a thread may be chosen here).
    pub(super) start: usize,
    pub(super) sleep: Sleepers,
    /// Preemptions on the path before this point.
    pub(super) preemptions: u32,
    /// The current thread yields here (sched_yield, sleep) or spins (reads
    /// again what nobody changed): switching away is not a preemption.
    pub(super) voluntary: bool,
}

/// The key of the point after `prev` (see [`Node::key`]).
pub(super) fn key_after(prev: Option<&Node>, depth: usize) -> u64 {
    let (k, t) = prev.map_or((0, 0), |p| (p.key, u64::from(p.chosen.0) + 1));
    let mut h = k ^ (depth as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ t).wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

impl Node {
    /// What explored thread `t` did from here, for sleep sets.
    pub(super) fn block_of(&self, t: ThreadId) -> Block {
        if let Some((_, b)) = self.done_blocks.iter().find(|(d, _)| *d == t) {
            return b.clone();
        }
        let i = self
            .enabled
            .iter()
            .position(|&e| e == t)
            .expect("thread enabled here");
        Arc::from(&self.pending[i..=i])
    }

    pub(super) fn is_preemption(&self, t: ThreadId) -> bool {
        !self.voluntary
            && self
                .current
                .is_some_and(|c| c != t && self.enabled.contains(&c))
    }

    pub(super) fn asleep(&self, t: ThreadId) -> bool {
        self.sleep.iter().any(|&(s, _)| s == t)
    }
}

impl DporScheduler {
    pub(super) fn within_bound(&self, node: &Node, t: ThreadId) -> bool {
        match self.bound {
            None => true,
            Some(k) => node.preemptions + node.is_preemption(t) as u32 <= k,
        }
    }

    /// Finds the deepest point with an unexplored, awake, in-bound thread.
    pub(super) fn backtrack(&mut self) -> bool {
        while let Some(mut node) = self.nodes.pop() {
            let depth = self.nodes.len();
            if depth < self.floor {
                // The root of this worker's subtree: its other choices are
                // someone else's.
                return false;
            }
            if !node.done.contains(&node.chosen) {
                node.done.push(node.chosen);
            }
            let shared = self.donated.is_some_and(|d| depth <= d);
            let candidate = loop {
                let c = node.backtrack.iter().copied().find(|&t| {
                    !node.done.contains(&t) && !node.asleep(t) && node.enabled.contains(&t)
                });
                match (c, &self.pool) {
                    (Some(t), Some(pool)) if shared && !pool.claim(node.key, t) => {
                        node.done.push(t);
                    }
                    _ => break c,
                }
            };
            // Only a point that stays needs what its thread ran (for sleep sets).
            if candidate.is_some() {
                let block: Block = Arc::from(std::mem::take(&mut node.block));
                if !block.is_empty() && !node.done_blocks.iter().any(|(d, _)| *d == node.chosen) {
                    node.done_blocks.push((node.chosen, block));
                }
            }
            match candidate {
                Some(t) if self.within_bound(&node, t) => {
                    node.chosen = t;
                    self.nodes.push(node);
                    return true;
                }
                Some(t) => {
                    // Over the bound: drop it (it was planted earlier too).
                    self.stats.bound_pruned = true;
                    node.done.push(t);
                    self.nodes.push(node);
                }
                None => {}
            }
        }
        false
    }

    /// Race between event `j` and the next event of `t` (whose clock without
    /// `j` is `excl`): make sure some initial of `notdep(j).t` is tried at `j`.
    pub(super) fn reverse(&mut self, j: usize, t: ThreadId, excl: &Clock) {
        let mut first: Vec<(ThreadId, u32)> = vec![];
        let mut initials: Vec<ThreadId> = vec![];
        for k in j + 1..self.events.len() {
            if self.hb(j, &self.events[k].clock) {
                continue;
            }
            let ek = &self.events[k];
            if first.iter().any(|&(th, _)| th == ek.thread) {
                continue;
            }
            let has_pred = first.iter().any(|&(th, f)| ek.clock.get(th) >= f);
            first.push((ek.thread, ek.local));
            if !has_pred {
                initials.push(ek.thread);
            }
        }
        if !first.iter().any(|&(th, _)| th == t) && !first.iter().any(|&(th, f)| excl.get(th) >= f)
        {
            initials.push(t);
        }
        if initials.is_empty() {
            return;
        }
        let j = self.nodes[j].start;
        let node = &self.nodes[j];
        if initials
            .iter()
            .any(|i| node.backtrack.contains(i) || node.done.contains(i) || node.asleep(*i))
        {
            return;
        }
        let q = if initials.contains(&t) {
            t
        } else {
            initials[0]
        };
        if !node.enabled.contains(&q) {
            return;
        }
        self.plant(j, q);
    }

    pub(super) fn plant(&mut self, j: usize, q: ThreadId) {
        let j = self.nodes[j].start;
        if j < self.floor {
            // Above this worker's subtree: a subtree of its own, unless
            // someone has it already.
            if let Some(pool) = &self.pool {
                if pool.claim(self.nodes[j].key, q) {
                    pool.push(self.task_at(j, q));
                }
            }
            return;
        }
        if self.within_bound(&self.nodes[j], q) {
            self.nodes[j].backtrack.push(q);
            return;
        }
        self.stats.bound_pruned = true;
        // Bounded POR: also where q runs without a preemption.
        for i in (0..j).rev() {
            let n = &self.nodes[i];
            if n.start == i && n.enabled.contains(&q) && !n.is_preemption(q) {
                if !n.backtrack.contains(&q)
                    && !n.done.contains(&q)
                    && !n.asleep(q)
                    && self.within_bound(n, q)
                {
                    self.nodes[i].backtrack.push(q);
                }
                return;
            }
        }
    }

    /// Whether replayed point `i` finds the state it recorded (same runnable
    /// threads, same pending operations); records a divergence otherwise.
    pub(super) fn replay_matches(&mut self, i: usize, choice: &Choice<'_>) -> bool {
        let node = &self.nodes[i];
        let same = node.enabled[..] == *choice.runnable
            && node
                .enabled
                .iter()
                .zip(&node.pending)
                .all(|(&t, op)| choice.pending(t) == op);
        if !same {
            self.divergence.get_or_insert_with(|| {
                format!(
                    "DPOR replay found a different state at step {} (nondeterministic guest?)",
                    i + 1
                )
            });
        }
        same
    }
}
