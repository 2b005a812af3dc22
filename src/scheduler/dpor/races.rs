//! Happens-before and races: which earlier events the next step conflicts
//! with, the races among them (reversed through the tree), and recording
//! the step as an event.

use super::*;

impl DporScheduler {
    /// Whether `op` only synchronises: a join's read, or any access, wait or
    /// notify on a word a join read (see [`Op::join`]). It takes the
    /// happens-before of what it conflicts with but races with nothing.
    pub(super) fn sync_only(&self, op: &Op) -> bool {
        let OpKind::Memory(kind) = op.kind else {
            return false;
        };
        (op.join && kind == AccessKind::Read)
            || self
                .join_words
                .iter()
                .any(|&w| overlap(w, (op.addr, op.len)))
    }

    /// Like [`DporScheduler::races`] for a synchronisation-only step: every
    /// conflict orders it, none is reversed.
    pub(super) fn syncs_only(&mut self, t: ThreadId, op: &Op) -> (Clock, Events, Events) {
        let base = self.base_clock(t, op);
        let (deps, mut syncs) = self.candidates(op);
        syncs.extend(deps);
        (base, Events::new(), syncs)
    }

    /// The events `op` of `t` depends on directly (last writes, reads since).
    pub(super) fn candidates(&self, op: &Op) -> (Events, Events) {
        let f = footprint(op);
        let lib = plain_library(op);
        let mut deps = Events::new();
        let mut syncs = Events::new();
        if let Some(r) = f.reads {
            self.locs.conflicts(r, false, lib, &mut deps);
        }
        if let Some(w) = f.writes {
            self.locs.conflicts(w, true, lib, &mut deps);
        }
        if matches!(op.kind, OpKind::Resume | OpKind::Depart) && op.src != 0 {
            // Exactly the notify or arrival that woke it (whose clock holds
            // the earlier arrivals'), not the last step on the word since:
            // the waker may have gone on and notified again, and what it did
            // in between would be ordered before all this thread does next.
            if let Ok(k) = self.wakers.binary_search_by_key(&op.src, |&(s, _)| s) {
                syncs.push(self.wakers[k].1);
            }
        }
        if let Some(g) = self.last_global {
            deps.push(g);
        }
        if f.global {
            // Dependent with everything: each other thread's last event
            // (that is not independent of everything).
            for (i, &n) in self.counts.iter().enumerate() {
                if n > 0 {
                    if let Some(e) = self
                        .events
                        .iter()
                        .rposition(|e| e.thread.0 as usize == i && !e.independent && !e.notify)
                    {
                        deps.push(e);
                    }
                }
            }
        }
        deps.sort_unstable();
        deps.dedup();
        (deps, syncs)
    }

    /// Base clock of `t`'s next event: its previous event, or for a new
    /// thread its spawn.
    pub(super) fn base_clock(&self, t: ThreadId, op: &Op) -> Clock {
        let mut base = self.clock_of(t);
        if op.kind == OpKind::Start {
            if let Some(c) = self.spawn_clocks.get(t.0 as usize) {
                base.join(c);
            }
        }
        if op.kind == OpKind::Join {
            let child = ThreadId(op.addr as u32);
            base.join(&self.clock_of(child));
        }
        base
    }

    /// Plants backtrack points for every race of `op` by `t` as the next event.
    pub(super) fn races(&mut self, t: ThreadId, op: &Op) -> (Clock, Events, Events) {
        let base = self.base_clock(t, op);
        let (deps, syncs) = self.candidates(op);
        let deps: Events = deps
            .into_iter()
            .filter(|&d| self.events[d].thread != t)
            .collect();
        let mut races = vec![];
        for &j in &deps {
            if self.hb(j, &base) {
                continue;
            }
            if deps
                .iter()
                .any(|&k| k != j && self.hb(j, &self.events[k].clock))
            {
                continue;
            }
            races.push(j);
        }
        for &j in &races {
            let mut excl = base.clone();
            for &k in deps.iter().filter(|&&k| k != j) {
                excl.join(&self.events[k].clock);
            }
            self.reverse(j, t, &excl);
        }
        if op.lock && !independent(op) {
            // The previous taker of the mutex, unordered but for the unlock.
            let prev = self
                .acquired
                .iter()
                .find(|(a, _)| *a == op.addr)
                .map(|&(_, j)| j);
            if let Some(j) = prev.filter(|&j| self.events[j].thread != t && !self.hb(j, &base)) {
                self.reverse(j, t, &base);
            }
        }
        (base, deps, syncs)
    }

    /// Records a step that takes part in no race (a spin re-read).
    pub(super) fn execute_silent(&mut self, t: ThreadId, op: &Op, mut clock: Clock) {
        let ti = t.0 as usize;
        if self.counts.len() <= ti {
            self.counts.resize(ti + 1, 0);
            self.clocks.resize(ti + 1, Clock::default());
        }
        self.counts[ti] += 1;
        clock.set(t, self.counts[ti]);
        self.clocks[ti] = clock.clone();
        self.events.push(Event {
            thread: t,
            local: self.counts[ti],
            clock,
            independent: false,
            notify: false,
        });
        self.last_op = Some(*op);
    }

    /// Records the event `op` of `t` at index `i`, after its races were planted.
    pub(super) fn execute(
        &mut self,
        t: ThreadId,
        op: &Op,
        base: Clock,
        deps: &[usize],
        syncs: &[usize],
    ) {
        let i = self.events.len();
        let wakes = matches!(op.kind, OpKind::Memory(AccessKind::Notify) | OpKind::Arrive);
        if wakes && op.src != 0 && !independent(op) {
            self.wakers.push((op.src, i));
        }
        if op.lock {
            self.save_acquired();
            match self.acquired.iter_mut().find(|(a, _)| *a == op.addr) {
                Some(e) => e.1 = i,
                None => self.acquired.push((op.addr, i)),
            }
        }
        let ti = t.0 as usize;
        if self.counts.len() <= ti {
            self.counts.resize(ti + 1, 0);
            self.clocks.resize(ti + 1, Clock::default());
        }
        let mut clock = base;
        for &d in deps.iter().chain(syncs) {
            clock.join(&self.events[d].clock);
        }
        self.counts[ti] += 1;
        clock.set(t, self.counts[ti]);
        self.clocks[ti] = clock.clone();
        let f = footprint(op);
        let lib = plain_library(op);
        let events = &self.events;
        let of = |e: usize| events.get(e).map_or(t, |ev| ev.thread);
        if let Some(w) = f.writes {
            self.locs.write(w, i, lib, |e| of(e) == t);
        }
        if let Some(r) = f.reads {
            self.locs.read(r, i, lib, |e| of(e) == t);
        }
        if f.global {
            self.last_global = Some(i);
        }
        if op.kind == OpKind::Spawn {
            // Spawns are ordered (they write SPAWN_KEY): the k-th creates thread k.
            self.spawn_clocks.push(clock.clone());
        }
        if let OpKind::Memory(_) = op.kind {
            let (last, sites) = self.touch(ti, op.addr);
            *last = i;
            match (op.kind, op.site) {
                (OpKind::Memory(AccessKind::Read), Some(site)) if !sites.contains(&site) => {
                    sites.push(site)
                }
                (OpKind::Memory(AccessKind::Read), _) => {}
                _ => sites.clear(),
            }
        }
        self.events.push(Event {
            thread: t,
            local: self.counts[ti],
            clock,
            independent: independent(op),
            notify: op.kind == OpKind::Memory(AccessKind::Notify),
        });
        self.last_op = Some(*op);
    }
}
