//! Source locations of code offsets, from the module's DWARF, so that sites
//! can be shown by file and line and told apart as library or program code.
//!
//! Inlining matters: std's `AtomicU32::load` inlined into the program's own
//! function has core's `atomic.rs` as its innermost line, but the program's
//! line one frame out. A site is shown at its innermost frame in the
//! program's own code, and is library code only if no frame is.

use gimli::{EndianSlice, LittleEndian};
use interlace_guest_sdk::abi::{
    is_library_path, is_private_library_function, RawSection, PRIVATE_ALLOCATOR_FILES,
};

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// Where an instruction comes from.
pub(crate) struct SourceLoc {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// No frame of the inline chain is in the program's own code.
    pub library: bool,
}

/// Which plain accesses of an instruction touch only wasi-libc's own state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Private {
    No,
    /// Every plain access (a thread's own TSD).
    All,
    /// All but those to a constant address that is a synchronisation word
    /// (the allocator's: see `abi::PRIVATE_ALLOCATOR_FILES`).
    Allocator,
}

/// Maps code offsets to source locations; knows nothing without DWARF.
pub(crate) struct Locator<'a> {
    ctx: Option<addr2line::Context<Slice<'a>>>,
    /// The same sections for reading variables (the context keeps its own).
    dwarf: Option<gimli::Dwarf<Slice<'a>>>,
    /// Code ranges of library compile units, sorted (see [`library_unit`]).
    library_ranges: Vec<(u64, u64)>,
}

/// Whether a compile unit is library code, told by its name *or* its
/// compilation directory. File names alone do not tell: wasi-libc's units
/// name their files relative to `wasisdk://.../musl` (`src/thread/...`),
/// which a C guest's line table shows as they are; Rust's sysroot crates
/// (std, and libtest with its dependencies such as getopts) are all built
/// in `/rustc/<hash>`. A program's own dependencies from crates.io are
/// built in the program's directory: program code, as they should be.
fn library_unit(name: Option<&str>, comp_dir: Option<&str>) -> bool {
    name.is_some_and(is_library_path) || comp_dir.is_some_and(is_library_path)
}

fn library_ranges(dwarf: &gimli::Dwarf<Slice<'_>>) -> Vec<(u64, u64)> {
    let mut ranges = vec![];
    let mut headers = dwarf.units();
    while let Ok(Some(header)) = headers.next() {
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let name = unit.name.and_then(|n| n.to_string().ok());
        let comp_dir = unit.comp_dir.and_then(|n| n.to_string().ok());
        if !library_unit(name, comp_dir) {
            continue;
        }
        let Ok(mut it) = dwarf.unit_ranges(&unit) else {
            continue;
        };
        while let Ok(Some(r)) = it.next() {
            if r.begin < r.end {
                ranges.push((r.begin, r.end));
            }
        }
    }
    ranges.sort_unstable();
    ranges
}

impl<'a> Locator<'a> {
    /// Reads the DWARF sections among `sections`; never fails: a module
    /// without (readable) DWARF only loses file:line in traces.
    pub fn new(sections: &[RawSection<'a>]) -> Locator<'a> {
        let find = |name: &str| -> &'a [u8] {
            sections
                .iter()
                .find(|s| s.name == Some(name))
                .map(|s| s.data)
                .unwrap_or(&[])
        };
        if find(".debug_info").is_empty() {
            return Locator {
                ctx: None,
                dwarf: None,
                library_ranges: vec![],
            };
        }
        let load = || {
            gimli::Dwarf::load(|id| -> Result<Slice<'a>, gimli::Error> {
                Ok(EndianSlice::new(find(id.name()), LittleEndian))
            })
            .ok()
        };
        let ctx = load().and_then(|d| addr2line::Context::from_dwarf(d).ok());
        let dwarf = load();
        let library_ranges = dwarf.as_ref().map(library_ranges).unwrap_or_default();
        Locator {
            ctx,
            dwarf,
            library_ranges,
        }
    }

    /// Whether `offset` lies in a library compile unit.
    fn in_library_unit(&self, offset: u64) -> bool {
        let i = self
            .library_ranges
            .partition_point(|&(begin, _)| begin <= offset);
        self.library_ranges[..i]
            .iter()
            .rev()
            .take(4)
            .any(|&(begin, end)| begin <= offset && offset < end)
    }

    /// Which of the plain accesses of the instruction at `offset` are
    /// wasi-libc's private state (see `abi::PRIVATE_LIBRARY_FUNCTIONS` and
    /// `abi::PRIVATE_ALLOCATOR_FILES`): only in a library unit, by its
    /// innermost frame (what was inlined there, if anything).
    pub fn private_library(&self, offset: u64) -> Private {
        let Some(ctx) = &self.ctx else {
            return Private::No;
        };
        if !self.in_library_unit(offset) {
            return Private::No;
        }
        let Ok(mut frames) = ctx.find_frames(offset).skip_all_loads() else {
            return Private::No;
        };
        let Ok(Some(frame)) = frames.next() else {
            return Private::No;
        };
        let Some(file) = frame.location.and_then(|l| l.file) else {
            return Private::No;
        };
        let function = frame.function.as_ref().and_then(|f| f.raw_name().ok());
        if function.is_some_and(|f| is_private_library_function(file, &f)) {
            Private::All
        } else if PRIVATE_ALLOCATOR_FILES.iter().any(|f| file.ends_with(f)) {
            Private::Allocator
        } else {
            Private::No
        }
    }

    /// Whether the module has debug info at all.
    pub fn has_debug_info(&self) -> bool {
        self.ctx.is_some()
    }

    /// The inline frames of the instruction at `offset`, innermost first:
    /// (file, line, column).
    fn chain(&self, offset: u64) -> Option<Vec<(String, u32, u32)>> {
        let ctx = self.ctx.as_ref()?;
        let mut frames = ctx.find_frames(offset).skip_all_loads().ok()?;
        let mut chain: Vec<(String, u32, u32)> = vec![];
        while let Ok(Some(frame)) = frames.next() {
            if let Some(loc) = frame.location {
                if let Some(file) = loc.file {
                    chain.push((
                        file.to_string(),
                        loc.line.unwrap_or(0),
                        loc.column.unwrap_or(0),
                    ));
                }
            }
        }
        Some(chain)
    }

    /// The program's lines the instruction at `offset` runs on behalf of,
    /// innermost first: its own and those of the calls inlined into it (a
    /// comment marker gates what a line's inlined calls do too).
    pub fn program_lines(&self, offset: u64) -> Vec<(String, u32)> {
        if self.in_library_unit(offset) {
            return vec![];
        }
        self.chain(offset)
            .unwrap_or_default()
            .into_iter()
            .filter(|(f, _, _)| !is_library_path(f))
            .map(|(f, l, _)| (f, l))
            .collect()
    }

    /// Whether the instruction located at `loc` is library code: code
    /// without line info in a module that has some is prebuilt library code
    /// (wasi-libc's assembly, say).
    pub fn is_library(&self, loc: Option<&SourceLoc>) -> bool {
        loc.map_or(self.has_debug_info(), |l| l.library)
    }

    /// The location of the instruction at `offset` (code section relative).
    pub fn locate(&self, offset: u64) -> Option<SourceLoc> {
        let chain = self.chain(offset)?;
        // In a library unit (wasi-libc, Rust's sysroot) every frame is
        // library code, whatever its file is called; elsewhere a frame is
        // the program's unless its path says otherwise (std inlined into
        // the program's function).
        let user = if self.in_library_unit(offset) {
            None
        } else {
            chain.iter().position(|(f, _, _)| !is_library_path(f))
        };
        let (i, library) = match user {
            Some(i) => (i, false),
            None => (0, true),
        };
        let (file, line, column) = chain.into_iter().nth(i)?;
        Some(SourceLoc {
            file,
            line,
            column,
            library,
        })
    }
}

/// wasi-libc's private thread bookkeeping: (variable, a source file that
/// defines it; musl has moved some). Matching the file too keeps a
/// program's own `key_lock` out.
const BOOKKEEPING: &[(&str, &str)] = &[
    ("__thread_list_lock", "/__init_tls.c"),
    ("__thread_list_lock", "/pthread_create.c"),
    ("tl_lock_waiters", "/pthread_create.c"),
    ("key_lock", "/pthread_key_create.c"),
];

impl Locator<'_> {
    /// Addresses and sizes of wasi-libc's thread-list lock, its waiter
    /// count and the TLS-key lock, from their DWARF variables; empty without
    /// DWARF or when the libc is not wasi-libc.
    pub fn bookkeeping(&self) -> Vec<(u32, u32)> {
        let Some(dwarf) = self.dwarf.as_ref() else {
            return vec![];
        };
        let mut found = vec![];
        let mut headers = dwarf.units();
        while let Ok(Some(header)) = headers.next() {
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            let Some(cu_name) = unit.name.and_then(|n| n.to_string().ok()) else {
                continue;
            };
            let comp_dir = unit.comp_dir.and_then(|n| n.to_string().ok());
            if !library_unit(Some(cu_name), comp_dir) {
                continue;
            }
            let wanted: Vec<&str> = BOOKKEEPING
                .iter()
                .filter(|(_, file)| cu_name.ends_with(file))
                .map(|(name, _)| *name)
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let mut entries = unit.entries();
            while let Ok(Some((_, entry))) = entries.next_dfs() {
                if entry.tag() != gimli::DW_TAG_variable {
                    continue;
                }
                let name = entry
                    .attr_value(gimli::DW_AT_name)
                    .ok()
                    .flatten()
                    .and_then(|v| dwarf.attr_string(&unit, v).ok())
                    .and_then(|s| s.to_string().ok().map(str::to_owned));
                if !name.as_ref().is_some_and(|n| wanted.contains(&n.as_str())) {
                    continue;
                }

                let Some(addr) = variable_address(&unit, entry) else {
                    continue;
                };
                let size = type_size(&unit, entry).unwrap_or(4);
                found.push((addr, size));
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

type Unit<'a> = gimli::Unit<Slice<'a>>;
type Entry<'a, 'u> = gimli::DebuggingInformationEntry<'a, 'u, Slice<'a>>;

/// A static variable's address: a location that is exactly `DW_OP_addr`.
fn variable_address(unit: &Unit<'_>, entry: &Entry<'_, '_>) -> Option<u32> {
    let gimli::AttributeValue::Exprloc(expr) = entry.attr_value(gimli::DW_AT_location).ok()??
    else {
        return None;
    };
    let mut ops = expr.operations(unit.encoding());
    match ops.next().ok()?? {
        gimli::Operation::Address { address } => u32::try_from(address).ok(),
        _ => None,
    }
}

/// The byte size of a variable's type, through typedefs and qualifiers.
fn type_size(unit: &Unit<'_>, entry: &Entry<'_, '_>) -> Option<u32> {
    let mut attr = entry.attr_value(gimli::DW_AT_type).ok()??;
    for _ in 0..8 {
        let gimli::AttributeValue::UnitRef(offset) = attr else {
            return None;
        };
        let ty = unit.entry(offset).ok()?;
        if let Some(size) = ty.attr_value(gimli::DW_AT_byte_size).ok()? {
            return size.udata_value().and_then(|s| u32::try_from(s).ok());
        }
        attr = ty.attr_value(gimli::DW_AT_type).ok()??;
    }
    None
}
