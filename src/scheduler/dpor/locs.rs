//! Per byte, the last write and the reads since: what the next access
//! conflicts with. Kept per 8-byte granule, each entry with a mask of the
//! bytes it still stands for, so a 4- or 8-byte access is one lookup, not
//! one per byte (the per-byte map was a third of DPOR's bookkeeping). The
//! answers are exactly the per-byte ones: a byte's entries are those whose
//! mask holds its bit.

use super::AddrMap;

/// Bytes per granule (a mask is a `u8`).
const GRANULE: u64 = 8;

/// One event's stake in some bytes of a granule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    event: u32,
    /// The bytes of the granule it stands for (never empty in a list).
    mask: u8,
    /// A write (library list only).
    write: bool,
}

/// One granule: per byte, the last program write, the program reads since,
/// and the plain library accesses since (per thread its last write and its
/// last read after it; see `plain_library`).
#[derive(Clone, Default)]
struct Granule {
    writes: smallvec::SmallVec<[Mark; 2]>,
    reads: smallvec::SmallVec<[Mark; 2]>,
    library: smallvec::SmallVec<[Mark; 2]>,
}

impl Granule {
    /// Forgets bytes `m` in the marks that `pick` selects.
    fn clear(list: &mut smallvec::SmallVec<[Mark; 2]>, m: u8, pick: impl Fn(&Mark) -> bool) {
        list.retain(|k| {
            if pick(k) {
                k.mask &= !m;
            }
            k.mask != 0
        });
    }

    /// Forgets bytes `m` everywhere.
    fn forget(&mut self, m: u8) {
        Granule::clear(&mut self.writes, m, |_| true);
        Granule::clear(&mut self.reads, m, |_| true);
        Granule::clear(&mut self.library, m, |_| true);
    }

    fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.reads.is_empty() && self.library.is_empty()
    }
}

/// The granules a byte range covers, with the mask of its bytes in each.
/// An empty range stands for its first byte (a key, or a zero-length
/// access, is one byte for dependency).
fn granules(start: u64, len: u64) -> impl Iterator<Item = (u64, u8)> {
    let end = start + len.max(1);
    (start / GRANULE..=(end - 1) / GRANULE).map(move |g| (g, mask_in(g, start, end)))
}

/// The bytes of granule `g` inside `start..end`.
fn mask_in(g: u64, start: u64, end: u64) -> u8 {
    let lo = (g * GRANULE).max(start);
    let hi = ((g + 1) * GRANULE).min(end);
    if lo >= hi {
        return 0;
    }
    let width = hi - lo;
    let bits = if width == GRANULE {
        0xff
    } else {
        (1u8 << width) - 1
    };
    bits << (lo - g * GRANULE)
}

/// Per byte (or key above the memory), the events a new access conflicts
/// with; and a journal of every granule's value before each change, so the
/// next execution can take the state back to the point it branches at
/// instead of building it again (see `rewind`).
#[derive(Default)]
pub(super) struct Locs {
    map: AddrMap<Granule>,
    journal: Vec<Journaled>,
}

/// How to undo one change.
enum Journaled {
    /// The granule's whole old value (None: there was none).
    Old(u64, Option<Granule>),
    /// A program read's mark pushed onto the granule's reads: popped. (A
    /// copy of the reads list per read would cost the square of the reads
    /// between two writes.)
    Read(u64),
}

impl Locs {
    pub(super) fn clear(&mut self) {
        self.map.clear();
        self.journal.clear();
    }

    /// A point to [rewind](Self::rewind) to.
    pub(super) fn journal_len(&self) -> usize {
        self.journal.len()
    }

    /// Undoes every change made since the journal was `len` long.
    pub(super) fn rewind(&mut self, len: usize) {
        while self.journal.len() > len {
            match self.journal.pop() {
                Some(Journaled::Old(g, Some(gr))) => {
                    self.map.insert(g, gr);
                }
                Some(Journaled::Old(g, None)) => {
                    self.map.remove(&g);
                }
                Some(Journaled::Read(g)) => {
                    // Undone in reverse order: the mark is the last one.
                    if let Some(gr) = self.map.get_mut(&g) {
                        gr.reads.pop();
                    }
                }
                None => break,
            }
        }
    }

    /// Granule `g` for a change, its old value journaled.
    fn change(&mut self, g: u64) -> &mut Granule {
        use std::collections::hash_map::Entry;
        match self.map.entry(g) {
            Entry::Occupied(o) => {
                self.journal.push(Journaled::Old(g, Some(o.get().clone())));
                o.into_mut()
            }
            Entry::Vacant(v) => {
                self.journal.push(Journaled::Old(g, None));
                v.insert(Granule::default())
            }
        }
    }

    /// The events an access of `range` conflicts with directly, into `deps`:
    /// each byte's last write; if it writes, the reads since; unless it is a
    /// plain library access (`lib`), the plain library accesses since that
    /// write (only their writes, if it reads).
    pub(super) fn conflicts(
        &self,
        (start, len): (u64, u64),
        write: bool,
        lib: bool,
        deps: &mut impl Extend<usize>,
    ) {
        for (g, m) in granules(start, len) {
            let Some(gr) = self.map.get(&g) else {
                continue;
            };
            let hit = |k: &&Mark| k.mask & m != 0;
            deps.extend(gr.writes.iter().filter(hit).map(|k| k.event as usize));
            if write {
                deps.extend(gr.reads.iter().filter(hit).map(|k| k.event as usize));
            }
            if !lib {
                deps.extend(
                    gr.library
                        .iter()
                        .filter(|k| k.mask & m != 0 && (write || k.write))
                        .map(|k| k.event as usize),
                );
            }
        }
    }

    /// Whether every write to `range` since its last program write, and
    /// that write, satisfy `mine` (nobody else wrote it, for spins).
    pub(super) fn written_only_by(
        &self,
        (start, len): (u64, u64),
        mine: impl Fn(usize) -> bool,
    ) -> bool {
        granules(start, len).all(|(g, m)| {
            let Some(gr) = self.map.get(&g) else {
                return true;
            };
            gr.writes
                .iter()
                .all(|k| k.mask & m == 0 || mine(k.event as usize))
                && gr
                    .library
                    .iter()
                    .all(|k| k.mask & m == 0 || !k.write || mine(k.event as usize))
        })
    }

    /// Records event `i`'s write of `range`. A program write replaces
    /// everything on its bytes; a plain library write (`lib`) replaces only
    /// its own thread's library accesses there (`same_thread` tells which
    /// events are its thread's).
    pub(super) fn write(
        &mut self,
        (start, len): (u64, u64),
        i: usize,
        lib: bool,
        same_thread: impl Fn(usize) -> bool,
    ) {
        let event = event_index(i);
        for (g, m) in granules(start, len) {
            let gr = self.change(g);
            if lib {
                Granule::clear(&mut gr.library, m, |k| same_thread(k.event as usize));
                gr.library.push(Mark {
                    event,
                    mask: m,
                    write: true,
                });
            } else {
                gr.forget(m);
                gr.writes.push(Mark {
                    event,
                    mask: m,
                    write: true,
                });
            }
        }
    }

    /// Records event `i`'s read of `range`. A plain library read replaces
    /// its own thread's library reads there.
    pub(super) fn read(
        &mut self,
        (start, len): (u64, u64),
        i: usize,
        lib: bool,
        same_thread: impl Fn(usize) -> bool,
    ) {
        let event = event_index(i);
        for (g, m) in granules(start, len) {
            let mark = Mark {
                event,
                mask: m,
                write: false,
            };
            if !lib {
                if let Some(gr) = self.map.get_mut(&g) {
                    self.journal.push(Journaled::Read(g));
                    gr.reads.push(mark);
                    continue;
                }
            }
            let gr = self.change(g);
            if lib {
                Granule::clear(&mut gr.library, m, |k| {
                    !k.write && same_thread(k.event as usize)
                });
                gr.library.push(mark);
            } else {
                gr.reads.push(mark);
            }
        }
    }

    /// Forgets everything about the bytes of `block`, by whichever is
    /// shorter: its granules or the map.
    pub(super) fn forget(&mut self, block: &std::ops::Range<u64>) {
        if block.is_empty() {
            return;
        }
        let (start, end) = (block.start, block.end);
        let hit: Vec<u64> = if (end - start) / GRANULE > self.map.len() as u64 {
            self.map
                .keys()
                .copied()
                .filter(|&g| mask_in(g, start, end) != 0)
                .collect()
        } else {
            granules(start, end - start)
                .map(|(g, _)| g)
                .filter(|g| self.map.contains_key(g))
                .collect()
        };
        for g in hit {
            let Some(gr) = self.map.get_mut(&g) else {
                continue;
            };
            self.journal.push(Journaled::Old(g, Some(gr.clone())));
            gr.forget(mask_in(g, start, end));
            if gr.is_empty() {
                self.map.remove(&g);
            }
        }
    }
}

/// An event index as stored in a mark (an execution holds far fewer than
/// 2^32 events: the step bound stops it long before).
fn event_index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-byte model the granules must answer exactly like.
    #[derive(Default, Clone)]
    struct ByteLoc {
        write: Option<usize>,
        reads: Vec<usize>,
        library: Vec<(usize, bool)>,
    }

    #[test]
    fn masks_cover_exactly_the_range() {
        assert_eq!(granules(0, 8).collect::<Vec<_>>(), vec![(0, 0xff)]);
        assert_eq!(granules(4, 4).collect::<Vec<_>>(), vec![(0, 0xf0)]);
        assert_eq!(
            granules(6, 4).collect::<Vec<_>>(),
            vec![(0, 0xc0), (1, 0x03)]
        );
        assert_eq!(granules(9, 0).collect::<Vec<_>>(), vec![(1, 0x02)]);
        assert_eq!(
            granules(7, 10).collect::<Vec<_>>(),
            vec![(0, 0x80), (1, 0xff), (2, 0x01)]
        );
    }

    /// Random operations on a few granules, with rewinds to earlier
    /// points: the granule map answers every conflict and spin query as the
    /// per-byte map does.
    #[test]
    fn granules_answer_as_bytes_do() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _round in 0..200 {
            let mut locs = Locs::default();
            let mut bytes: std::collections::HashMap<u64, ByteLoc> = Default::default();
            let threads = 3;
            let mut thread_of: Vec<usize> = vec![];
            let mut saved = vec![];
            for _ in 0..60 {
                let i = thread_of.len();
                let t = rng.random_range(0..threads);
                thread_of.push(t);
                let start = rng.random_range(0..28u64);
                let len = [0u64, 1, 2, 4, 8, 13][rng.random_range(0..6)];
                let range = (start, len);
                let lib = rng.random_bool(0.4);
                let write = rng.random_bool(0.5);
                // Queries first, as the scheduler asks them.
                let mut got = vec![];
                locs.conflicts(range, write, lib, &mut got);
                got.sort_unstable();
                got.dedup();
                let mut want = vec![];
                for b in start..start + len.max(1) {
                    if let Some(loc) = bytes.get(&b) {
                        want.extend(loc.write);
                        if write {
                            want.extend(loc.reads.iter().copied());
                        }
                        if !lib {
                            want.extend(
                                loc.library
                                    .iter()
                                    .filter(|&&(_, w)| write || w)
                                    .map(|&(e, _)| e),
                            );
                        }
                    }
                }
                want.sort_unstable();
                want.dedup();
                assert_eq!(got, want, "conflicts of event {i}");
                let prev = rng.random_range(0..=i);
                let mine = |e: usize| e <= prev || thread_of[e] == t;
                let want_mine = (start..start + len.max(1)).all(|b| {
                    bytes.get(&b).is_none_or(|loc| {
                        loc.write.is_none_or(mine)
                            && loc.library.iter().all(|&(e, w)| !w || mine(e))
                    })
                });
                assert_eq!(locs.written_only_by(range, mine), want_mine);
                if rng.random_bool(0.2) {
                    saved.push((locs.journal_len(), bytes.clone(), i));
                }
                let same = |e: usize| thread_of[e] == t;
                if write {
                    locs.write(range, i, lib, same);
                    for b in start..start + len.max(1) {
                        let loc = bytes.entry(b).or_default();
                        if lib {
                            loc.library.retain(|&(e, _)| thread_of[e] != t);
                            loc.library.push((i, true));
                        } else {
                            *loc = ByteLoc {
                                write: Some(i),
                                ..ByteLoc::default()
                            };
                        }
                    }
                } else {
                    locs.read(range, i, lib, same);
                    for b in start..start + len.max(1) {
                        let loc = bytes.entry(b).or_default();
                        if lib {
                            loc.library.retain(|&(e, w)| w || thread_of[e] != t);
                            loc.library.push((i, false));
                        } else {
                            loc.reads.push(i);
                        }
                    }
                }
                if rng.random_bool(0.05) {
                    let a = rng.random_range(0..30u64);
                    let b = a + rng.random_range(0..20u64);
                    locs.forget(&(a..b));
                    bytes.retain(|k, _| !(a..b).contains(k));
                }
                if rng.random_bool(0.1) {
                    if let Some((len, old, events)) = saved.pop() {
                        // Back to before event `events`: later events are gone.
                        locs.rewind(len);
                        bytes = old;
                        thread_of.truncate(events);
                    }
                }
            }
        }
    }
}
