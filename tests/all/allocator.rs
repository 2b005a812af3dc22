//! The allocator (wasi-libc's dlmalloc) is no source of scheduling points
//! but for its lock word and the block `free` gives back.

use interlace_wasm::OpKind;

#[test]
fn only_the_allocators_lock_word_and_freed_blocks_are_points() {
    let p = crate::guests::load_guest("atomic_counter");
    let e = crate::runtime::traced(&p);
    assert_eq!(e.exit_code, Some(0), "{:?}", e.failure);
    let trace = e.trace.unwrap();
    let sites = p.sites();
    let in_malloc = |s: &&interlace_wasm::Step| {
        s.op.site
            .and_then(|i| sites.sites.get(i as usize))
            .and_then(|site| sites.file_of(site))
            .is_some_and(|f| f.ends_with("dlmalloc/src/malloc.c"))
    };
    let steps: Vec<_> = trace.iter().filter(in_malloc).collect();
    let lock_words: Vec<u64> = steps
        .iter()
        .filter(|s| s.op.atomic)
        .map(|s| s.op.addr)
        .collect();
    assert!(!lock_words.is_empty(), "the lock's atomics stay points");
    for s in &steps {
        assert!(
            s.op.atomic || lock_words.contains(&s.op.addr),
            "a plain allocator access that is no lock word: {s:?}"
        );
    }
    // Each thread's exit frees its blocks: a step over each block.
    let freed = trace
        .iter()
        .filter(|s| {
            s.op.allocator && s.op.kind == OpKind::Memory(interlace_instrument::AccessKind::Fill)
        })
        .count();
    assert!(freed >= 3, "{freed} blocks given back");
}

#[test]
fn the_allocators_spin_on_its_lock_word_stays_a_point() {
    // dlmalloc spins on plain reads of its lock's word; a spin with no
    // point would never let the holder run (and hid the order of the
    // lock's holders from DPOR). Those reads stay sites, and they are the
    // allocator's only plain ones.
    use interlace_instrument::AccessKind;
    let p = crate::guests::load_guest("atomic_counter");
    let sites = p.sites();
    let plain: Vec<_> = sites
        .sites
        .iter()
        .filter(|s| {
            sites
                .file_of(s)
                .is_some_and(|f| f.ends_with("dlmalloc/src/malloc.c"))
                && !s.atomic
        })
        .collect();
    assert!(
        plain.iter().any(|s| s.kind == AccessKind::Read),
        "no plain read of the lock word left: {plain:?}"
    );
    // realloc's copy of the old block stays a point (a stale write to the
    // block races with it).
    assert!(
        plain.iter().any(|s| s.kind == AccessKind::Copy),
        "{plain:?}"
    );
    // A dozen in this build (the spin read inlined in each entry point),
    // against hundreds when chunk accesses were points.
    assert!(
        plain.len() <= 16,
        "{} plain allocator sites: {plain:#?}",
        plain.len()
    );
}
