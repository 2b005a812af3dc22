//! The library-block rules and spins: a run of library steps is one step
//! of the search, and a spin loop's re-reads race only in its first round.

use super::*;

/// Steps a lone spinning thread may take while every other runnable thread is
/// asleep before the execution is abandoned as sleep-set blocked.
pub const MAX_STUCK_SPINS: u32 = 1_000;

/// Longest run of library steps merged into one block; a longer run is cut
/// (the cut only adds scheduling points, never hides one).
pub const MAX_BLOCK: usize = 4_096;

impl DporScheduler {
    /// Whether `t`, about to do `op`, makes no progress: it yields, sleeps,
    /// or accesses again an address nobody else wrote since its last access
    /// (a spin loop). Switching away from it is then no preemption, and the
    /// default is to switch, so spin loops let the others run.
    pub(super) fn voluntary(&self, t: ThreadId, op: &Op) -> bool {
        match op.kind {
            OpKind::Yield | OpKind::Sleep => true,
            OpKind::Memory(
                AccessKind::Read | AccessKind::CompareExchange | AccessKind::ReadModifyWrite,
            ) => {
                let Some(prev) = self
                    .touched
                    .get(t.0 as usize)
                    .and_then(|m| m.get(&op.addr))
                    .map(|e| e.0)
                else {
                    return false;
                };
                // Nobody else wrote any of its bytes since.
                let mine = |w: usize| w <= prev || self.events[w].thread == t;
                self.locs.written_only_by((op.addr, op.len), mine)
            }
            _ => false,
        }
    }

    /// Whether `t`'s read `op` is a spin loop's re-read, which races with
    /// nothing (see [`DporScheduler::choose`]): it is [voluntary](Self::voluntary)
    /// (nobody else wrote the address since `t` last touched it), and the
    /// same instruction already read it since `t` last wrote it: the loop
    /// came round (a compiler that unrolled it reads through several
    /// instructions in turn: wasi-libc's barrier spins 200 rounds, unrolled
    /// four times, with a scratch write in each). Where another thread's
    /// write lands among such re-reads changes only how often the loop went
    /// round. A second read at another instruction (`a = x; b = x`) is a
    /// different program point: it races like any read, or the order with a
    /// write between the two reads is lost.
    pub(super) fn spin_reread(&self, t: ThreadId, op: &Op) -> bool {
        let (OpKind::Memory(AccessKind::Read), Some(site)) = (op.kind, op.site) else {
            return false;
        };
        let ti = t.0 as usize;
        let Some((_, sites)) = self.touched.get(ti).and_then(|m| m.get(&op.addr)) else {
            return false;
        };
        sites.contains(&site) && self.voluntary(t, op)
    }

    /// The thread that must go on at new point `i` because it is inside a
    /// block of library steps: it ran the previous step, that step and this
    /// one are library memory accesses, and the block is not over-long (a
    /// library loop re-reads its own data, so a spin is only told apart by
    /// the length: std and wasi-libc spin at most ~100 rounds, then wait).
    pub(super) fn continues_block(&self, i: usize, choice: &Choice<'_>) -> Option<ThreadId> {
        if !self.library_blocks || i == 0 {
            return None;
        }
        let c = choice.current?;
        let prev = self.last_op?;
        let op = choice.pending(c);
        let library_memory = |o: &Op| o.library && matches!(o.kind, OpKind::Memory(_));
        let start = self.nodes[i - 1].start;
        let second_visible = visible(op) && self.nodes[start].block.iter().any(visible);
        (self.nodes[i - 1].chosen == c
            && library_memory(&prev)
            && library_memory(op)
            && !matches!(op.kind, OpKind::Memory(AccessKind::Grow))
            // Taking a mutex is a step of its own: whether it can be taken
            // depends on the other threads, so a block that ran on into it
            // would be longer or shorter by their state, and the search
            // takes a thread's next step to be what its own state says (a
            // block fused with the lock hid every order in which another
            // thread takes the mutex between the two, see `every_schedule`).
            && !op.lock
            && !second_visible
            && i - start < MAX_BLOCK)
            .then_some(c)
    }
}
