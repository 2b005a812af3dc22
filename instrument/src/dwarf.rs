//! Source locations of code offsets, from the module's DWARF, so that sites
//! can be shown by file and line and told apart as library or program code.
//!
//! Inlining matters: std's `AtomicU32::load` inlined into the program's own
//! function has core's `atomic.rs` as its innermost line, but the program's
//! line one frame out. A site is shown at its innermost frame in the
//! program's own code, and is library code only if no frame is.

use gimli::{EndianSlice, LittleEndian};
use interlace_guest_sdk::abi::{is_library_path, RawSection};

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// Where an instruction comes from.
pub(crate) struct SourceLoc {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// No frame of the inline chain is in the program's own code.
    pub library: bool,
}

/// Maps code offsets to source locations; knows nothing without DWARF.
pub(crate) struct Locator<'a> {
    ctx: Option<addr2line::Context<Slice<'a>>>,
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
            return Locator { ctx: None };
        }
        let dwarf = gimli::Dwarf::load(|id| -> Result<Slice<'a>, gimli::Error> {
            Ok(EndianSlice::new(find(id.name()), LittleEndian))
        });
        let ctx = dwarf
            .ok()
            .and_then(|d| addr2line::Context::from_dwarf(d).ok());
        Locator { ctx }
    }

    /// Whether the module has debug info at all.
    pub fn has_debug_info(&self) -> bool {
        self.ctx.is_some()
    }

    /// The location of the instruction at `offset` (code section relative).
    pub fn locate(&self, offset: u64) -> Option<SourceLoc> {
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
        let user = chain.iter().position(|(f, _, _)| !is_library_path(f));
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
