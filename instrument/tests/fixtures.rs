//! `.wat` fixtures with their expected instrumented output. Refresh the
//! expectations with `INTERLACE_BLESS=1 cargo test -p interlace-instrument`.

use interlace_instrument::{instrument, AccessKind, Config, Granularity, SiteTable};
use std::path::Path;

fn check(name: &str, config: &Config, suffix: &str) -> SiteTable {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let input = wat::parse_file(dir.join(format!("{name}.wat"))).unwrap();
    let out = instrument(&input, config).unwrap();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out.wasm)
        .expect("valid output");
    let text = wasmprinter::print_bytes(&out.wasm).unwrap();
    let expected_path = dir.join(format!("{name}{suffix}.out.wat"));
    if std::env::var_os("INTERLACE_BLESS").is_some() {
        std::fs::write(&expected_path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
        panic!(
            "missing {}; run with INTERLACE_BLESS=1",
            expected_path.display()
        )
    });
    assert_eq!(
        text, expected,
        "{name}: instrumented output changed (INTERLACE_BLESS=1 to accept)"
    );
    // Deterministic: the same input gives the same bytes.
    assert_eq!(instrument(&input, config).unwrap().wasm, out.wasm);
    out.sites
}

fn kinds(t: &SiteTable) -> Vec<(AccessKind, u32, bool, u64)> {
    t.sites
        .iter()
        .map(|s| (s.kind, s.size, s.atomic, s.offset))
        .collect()
}

#[test]
fn loads_and_stores() {
    let t = check("loads_stores", &Config::default(), "");
    use AccessKind::*;
    // Only the shared memory's accesses in `f`, in order; not the start function's.
    assert_eq!(
        kinds(&t),
        [
            (Write, 4, false, 8),
            (Write, 8, false, 0),
            (Read, 2, false, 4)
        ]
    );
}

#[test]
fn atomics() {
    let t = check("atomics", &Config::default(), "");
    use AccessKind::*;
    assert_eq!(
        kinds(&t),
        [
            (CompareExchange, 4, true, 0),
            (Fence, 0, true, 0),
            (ReadModifyWrite, 4, true, 0),
            (Read, 1, true, 0),
            (Write, 8, true, 0),
            (ReadModifyWrite, 4, true, 0)
        ]
    );
}

#[test]
fn atomics_only_granularity_skips_plain_accesses() {
    let t = check(
        "loads_stores",
        &Config {
            granularity: Granularity::AtomicsOnly,
        },
        ".atomics",
    );
    assert!(t.sites.is_empty());
    let t = check(
        "atomics",
        &Config {
            granularity: Granularity::AtomicsOnly,
        },
        ".atomics",
    );
    assert_eq!(t.sites.len(), 6);
}

#[test]
fn wait_and_notify_become_host_calls() {
    let t = check("wait_notify", &Config::default(), "");
    use AccessKind::*;
    assert_eq!(
        kinds(&t),
        [(Wait, 4, true, 4), (Wait, 8, true, 0), (Notify, 4, true, 0)]
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("wait_notify.out.wat")).unwrap();
    assert!(
        !text.contains("memory.atomic.wait") && !text.contains("memory.atomic.notify"),
        "{text}"
    );
}

#[test]
fn bulk_operations_and_grow() {
    let t = check("bulk", &Config::default(), "");
    use AccessKind::*;
    assert_eq!(
        kinds(&t),
        [
            (Fill, 0, false, 0),
            (Copy, 0, false, 0),
            (Fill, 0, false, 0),
            (Grow, 0, false, 0)
        ]
    );
}

#[test]
fn the_memory_size_is_the_hosts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let input = wat::parse_file(dir.join("bulk.wat")).unwrap();
    for granularity in [Granularity::All, Granularity::AtomicsOnly] {
        let out = instrument(&input, &Config { granularity }).unwrap();
        let text = wasmprinter::print_bytes(&out.wasm).unwrap();
        // No size or growth but the host's; each bulk instruction is left
        // once, in its checked helper.
        assert!(!text.contains("memory.size") && !text.contains("memory.grow"));
        for bulk in ["memory.init", "memory.copy", "memory.fill"] {
            assert_eq!(text.matches(bulk).count(), 1, "{bulk} in {granularity:?}");
        }
        for import in ["memory_size", "memory_grow", "memory_bounds"] {
            assert!(text.contains(&format!("\"interlace\" \"{import}\"")));
        }
        assert!(text.contains("(export \"__interlace_checked_memory\""));
    }
}

#[test]
fn errors_say_what_is_wrong() {
    let plain = wat::parse_str(r#"(module (memory 1) (func (export "_start")))"#).unwrap();
    let e = instrument(&plain, &Config::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no shared memory") && e.contains("wasm32-wasip1-threads"),
        "{e}"
    );
    let e = instrument(b"hello", &Config::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a WebAssembly module"), "{e}");
    let e = instrument(b"\0asm\x01\0\0\0\x05\xff", &Config::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("malformed"), "{e}");
    let shared = wat::parse_str(r#"(module (memory 1 1 shared))"#).unwrap();
    let once = instrument(&shared, &Config::default()).unwrap().wasm;
    let e = instrument(&once, &Config::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("already instrumented"), "{e}");
}

#[test]
fn std_mutex_contended_path_becomes_one_host_lock() {
    let t = check("std_mutex", &Config::default(), "");
    use AccessKind::*;
    // lock()'s compare-exchange; try_lock's; lock_contended's body is one
    // site, the mutex word taken; the same name with another type keeps its
    // load.
    assert_eq!(
        kinds(&t),
        [
            (CompareExchange, 4, true, 8),
            (CompareExchange, 4, true, 8),
            (ReadModifyWrite, 4, true, 0),
            (Read, 4, true, 0)
        ]
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("std_mutex.out.wat")).unwrap();
    assert!(text.contains(r#"(import "interlace" "lock""#));
    // lock() asks the host to wait for the mutex; try_lock() does not.
    let body = |f: &str| {
        let at = text.find(&format!("(func ${f} ")).unwrap();
        text[at..at + text[at..].find("\n  )").unwrap()].to_string()
    };
    let import = r#"(import "interlace" "lock" (func (;"#;
    let at = text.find(import).unwrap() + import.len();
    let lock = &text[at..at + text[at..].find(';').unwrap()];
    assert!(
        body("lock").contains(&format!("call {lock}\n")),
        "{}",
        body("lock")
    );
    assert!(body("try_lock").contains("call $__interlace_access_cas"));
    // No spin, swap or wait is left of the contended path.
    assert!(!text.contains("i32.atomic.rmw.xchg"));
    assert!(!text.contains("memory.atomic.wait32"));
}

#[test]
fn allocation_functions_announce_what_they_hand_out() {
    check("allocation", &Config::default(), "");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("allocation.out.wat")).unwrap();
    assert!(
        text.contains(r#"(import "interlace" "allocated" (func"#),
        "{text}"
    );
    // malloc, calloc, realloc and aligned_alloc each call it once; the
    // return inside malloc and realloc's tail call are gone.
    let import = text
        .lines()
        .find(|l| l.contains(r#""interlace" "allocated""#))
        .and_then(|l| l.split("(func (;").nth(1))
        .and_then(|l| l.split(';').next())
        .expect("the import's index")
        .to_string();
    let calls = text
        .lines()
        .filter(|l| l.trim() == format!("call {import}"))
        .count();
    assert_eq!(calls, 4, "{text}");
    let body = |name: &str| {
        let start = text.find(&format!("(func ${name} ")).expect("the function");
        let rest = &text[start + 1..];
        rest[..rest.find("\n  (func").unwrap_or(rest.len())].to_string()
    };
    for name in ["malloc", "realloc"] {
        let f = body(name);
        assert!(!f.contains("return"), "{f}");
        assert!(f.contains(&format!("call {import}")), "{f}");
    }
    assert!(!body("other").contains("call "));
    // free and realloc give the block back first: `freed(ptr)` on entry.
    let freed = text
        .lines()
        .find(|l| l.contains(r#""interlace" "freed""#))
        .and_then(|l| l.split("(func (;").nth(1))
        .and_then(|l| l.split(';').next())
        .expect("the freed import")
        .to_string();
    for name in ["free", "realloc"] {
        let f = body(name);
        let first: Vec<&str> = f
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.starts_with("(local"))
            .take(2)
            .collect();
        assert_eq!(first, ["local.get 0", &format!("call {freed}")], "{f}");
    }
    assert!(!body("malloc").contains(&format!("call {freed}")));
}

#[test]
fn pthread_blocking_calls_become_host_primitives() {
    check("pthread_models", &Config::default(), "");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let text = std::fs::read_to_string(dir.join("pthread_models.out.wat")).unwrap();
    let index = |name: &str| {
        text.lines()
            .find(|l| l.contains(&format!(r#""interlace" "{name}""#)))
            .and_then(|l| l.split("(func (;").nth(1))
            .and_then(|l| l.split(';').next())
            .unwrap_or_else(|| panic!("no {name} import: {text}"))
            .to_string()
    };
    let (lock, acquire, barrier) = (index("lock"), index("acquire"), index("barrier"));
    let body = |name: &str| {
        let start = text.find(&format!("(func ${name} ")).expect("the function");
        let rest = &text[start + 1..];
        rest[..rest.find("\n  (func").unwrap_or(rest.len())].to_string()
    };
    let calls = |name: &str, import: &str| {
        body(name)
            .lines()
            .filter(|l| l.trim() == format!("call {import}"))
            .count()
    };
    assert_eq!(calls("pthread_mutex_lock", &lock), 1);
    // The acquire kinds: exclusive 0, shared 1, count 2, right before the call.
    for (name, kind) in [
        ("__pthread_rwlock_wrlock", 0),
        ("__pthread_rwlock_rdlock", 1),
        ("sem_wait", 2),
    ] {
        let b = body(name);
        let call = format!("call {acquire}");
        assert_eq!(calls(name, &acquire), 1, "{b}");
        let before = b[..b.find(&call).unwrap()].trim_end();
        assert!(before.ends_with(&format!("i32.const {kind}")), "{b}");
    }
    assert_eq!(calls("pthread_barrier_wait", &barrier), 1);
    // The original body stays, after the model's block (musl's barrier
    // of one or process-shared barrier).
    assert!(body("pthread_barrier_wait").contains("i32.const -1"));
    // Another type under a modelled name is left alone.
    let other = body("pthread_rwlock_rdlock");
    assert!(!other.contains(&format!("call {acquire}")), "{other}");
}

#[test]
fn own_stack_filter() {
    let t = check("stack_filter", &Config::default(), "");
    use AccessKind::*;
    // The same sites as without the filter: it only decides, at run time,
    // which of them ask the host.
    assert_eq!(
        kinds(&t),
        [
            (Write, 4, false, 8),
            (Write, 8, false, 0),
            (Write, 8, false, 0),
            (Write, 1, false, 0),
            (ReadModifyWrite, 4, true, 0),
            (CompareExchange, 4, true, 0),
            (Copy, 0, false, 0),
            (Read, 2, false, 4),
            (Read, 4, false, 0),
        ]
    );
    // Only where a stack pointer can be found.
    let atomics = Config {
        granularity: Granularity::AtomicsOnly,
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let input = wat::parse_file(dir.join("stack_filter.wat")).unwrap();
    let text = wasmprinter::print_bytes(&instrument(&input, &atomics).unwrap().wasm).unwrap();
    assert!(!text.contains("__interlace_stack_top"));
}
