//! The parallel pool: workers share the tree by handing each other subtrees.

use super::*;

/// A subtree for a worker of a parallel exploration: the path to its root,
/// the root's new choice included, and the depth below which it lies.
pub(super) struct Task {
    pub(super) nodes: Vec<Node>,
    pub(super) floor: usize,
}

/// What the workers of one parallel DPOR exploration share. Each worker
/// explores subtrees depth-first as the serial search does; an idle worker
/// gets the shallowest unexplored alternative of a busy one, and a race
/// whose reversal belongs above a worker's subtree becomes a subtree of its
/// own. Every alternative of a point two workers can reach is claimed here
/// first, so none is explored twice, and none is lost: a claim is only made
/// by whoever will explore it.
pub struct DporPool {
    jobs: usize,
    limit: u64,
    claims: Mutex<HashSet<(u64, u32)>>,
    tasks: Mutex<Vec<Task>>,
    idle: AtomicUsize,
    executions: AtomicU64,
    stop: AtomicBool,
    budget_hit: AtomicBool,
}

impl DporPool {
    /// A pool for `jobs` workers and `limit` executions in all, holding the
    /// whole tree as its one task.
    pub fn new(jobs: usize, limit: u64) -> Arc<DporPool> {
        Arc::new(DporPool {
            jobs,
            limit,
            claims: Mutex::new(HashSet::new()),
            tasks: Mutex::new(vec![Task {
                nodes: vec![],
                floor: 0,
            }]),
            idle: AtomicUsize::new(0),
            executions: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            budget_hit: AtomicBool::new(false),
        })
    }

    /// Ends the exploration (a failure was found).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether the budget of executions cut the exploration.
    pub fn budget_hit(&self) -> bool {
        self.budget_hit.load(Ordering::SeqCst)
    }

    pub(super) fn claim(&self, key: u64, t: ThreadId) -> bool {
        self.claims.lock().expect("not poisoned").insert((key, t.0))
    }

    pub(super) fn push(&self, task: Task) {
        self.tasks.lock().expect("not poisoned").push(task);
    }

    pub(super) fn hungry(&self) -> bool {
        self.idle.load(Ordering::SeqCst) > 0 && self.tasks.lock().expect("not poisoned").is_empty()
    }

    /// A subtree to explore; None when every worker is idle (the tree is
    /// done) or the exploration was stopped.
    pub(super) fn take(&self) -> Option<Task> {
        let mut idle = false;
        loop {
            {
                let mut tasks = self.tasks.lock().expect("not poisoned");
                if let Some(task) = tasks.pop() {
                    if idle {
                        self.idle.fetch_sub(1, Ordering::SeqCst);
                    }
                    return Some(task);
                }
                if !idle {
                    idle = true;
                    self.idle.fetch_add(1, Ordering::SeqCst);
                }
                if self.idle.load(Ordering::SeqCst) == self.jobs || self.stop.load(Ordering::SeqCst)
                {
                    return None;
                }
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

impl DporScheduler {
    /// [`Scheduler::next_execution`] as a worker of `pool`.
    pub(super) fn next_pooled(&mut self, pool: &DporPool) -> bool {
        loop {
            if pool.stop.load(Ordering::SeqCst) {
                return false;
            }
            if self.has_task {
                let resumed = self.started;
                let more = !self.started || self.backtrack();
                if more {
                    if pool.executions.fetch_add(1, Ordering::SeqCst) >= pool.limit {
                        pool.budget_hit.store(true, Ordering::SeqCst);
                        pool.stop();
                        return false;
                    }
                    self.started = true;
                    if pool.hungry() {
                        self.donate(pool);
                    }
                    self.reset_execution(resumed);
                    self.stats.executions += 1;
                    return true;
                }
                self.has_task = false;
            }
            let Some(task) = pool.take() else {
                return false;
            };
            self.nodes = task.nodes;
            self.floor = task.floor;
            self.donated = None;
            self.started = false;
            self.has_task = true;
        }
    }

    /// The subtree of `q` at point `j`: the path to `j`, with `q` chosen there
    /// and the current choice retired as explored.
    pub(super) fn task_at(&self, j: usize, q: ThreadId) -> Task {
        let mut nodes = self.nodes[..=j].to_vec();
        let node = &mut nodes[j];
        if !node.done.contains(&node.chosen) {
            node.done.push(node.chosen);
        }
        let block: Block = Arc::from(std::mem::take(&mut node.block));
        if !block.is_empty() && !node.done_blocks.iter().any(|(d, _)| *d == node.chosen) {
            node.done_blocks.push((node.chosen, block));
        }
        node.chosen = q;
        if !node.backtrack.contains(&q) {
            node.backtrack.push(q);
        }
        Task {
            nodes,
            floor: j + 1,
        }
    }

    /// Gives the shallowest unexplored alternative of this worker's subtree
    /// to the pool, first claiming what this worker explored or explores on
    /// the way there.
    pub(super) fn donate(&mut self, pool: &DporPool) {
        for i in self.floor..self.nodes.len() {
            if self.nodes[i].start != i {
                continue;
            }
            let node = &self.nodes[i];
            let alternatives: Threads = node
                .backtrack
                .iter()
                .copied()
                .filter(|&t| {
                    t != node.chosen
                        && !node.done.contains(&t)
                        && !node.asleep(t)
                        && node.enabled.contains(&t)
                })
                .collect();
            for t in alternatives {
                for k in self.floor..=i {
                    let n = &self.nodes[k];
                    if n.start == k {
                        pool.claim(n.key, n.chosen);
                        for &d in &n.done {
                            pool.claim(n.key, d);
                        }
                    }
                }
                if pool.claim(self.nodes[i].key, t) {
                    let task = self.task_at(i, t);
                    self.nodes[i].done.push(t);
                    self.donated = Some(self.donated.map_or(i, |d| d.max(i)));
                    pool.push(task);
                    return;
                }
                self.nodes[i].done.push(t);
            }
        }
    }
}
