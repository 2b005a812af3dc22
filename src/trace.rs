//! Steps of an execution and their readable form.

use crate::op::{Op, OpKind, ThreadId};
use interlace_guest_sdk::abi::SiteTable;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// One executed scheduling point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Who ran.
    pub thread: ThreadId,
    /// What it did.
    pub op: Op,
    /// Scheduling point number (1-based).
    pub step: u64,
    /// Whether a context switch happened right before this step.
    pub switch: bool,
    /// The thread's name, if the guest gave it one.
    pub thread_name: Option<Arc<str>>,
    /// For an async task's thread: the executor thread it runs on (see
    /// `abi::TASK`).
    pub executor: Option<ThreadId>,
    /// The marker's name, for a marker step.
    pub marker: Option<Arc<str>>,
    /// For a memory access of up to 8 bytes: the value a read saw, or the
    /// value in memory right after a write (read-modify-write, exchange).
    pub value: Option<u64>,
}

/// The (demangled) function a site belongs to, `?` without a name, `-` without a site.
pub fn site_function(sites: &SiteTable, site: Option<u32>) -> String {
    let Some(f) = site
        .and_then(|s| sites.sites.get(s as usize))
        .and_then(|s| sites.funcs.get(s.func as usize))
    else {
        return "-".to_string();
    };
    if f.name.is_empty() {
        return "?".to_string();
    }
    format!("{:#}", rustc_demangle::demangle(&f.name))
}

/// The source of a site: file path, line and column (0 when unknown), if
/// the module has line info for it.
pub fn site_source(sites: &SiteTable, site: Option<u32>) -> Option<(&str, u32, u32)> {
    let s = sites.sites.get(site? as usize)?;
    Some((sites.file_of(s)?, s.line, s.column))
}

/// `file:line:column` of a site with the path cut to its last `parts`
/// components, or `function+offset` when the module has no line info for it
/// (`-` without a site).
pub fn site_location_in(sites: &SiteTable, site: Option<u32>, parts: usize) -> String {
    let Some(s) = site.and_then(|s| sites.sites.get(s as usize)) else {
        return "-".to_string();
    };
    match site_source(sites, site) {
        Some((path, line, column)) => {
            let short: Vec<&str> = path.rsplit('/').take(parts).collect();
            let short: Vec<&str> = short.into_iter().rev().collect();
            format!("{}:{line}:{column}", short.join("/"))
        }
        None => format!("{}+{:#x}", site_function(sites, site), s.code_offset),
    }
}

/// `file:line:column` of a site, the path shortened to its last three parts,
/// or `function+offset` when the module has no line info for it.
pub fn site_location(sites: &SiteTable, site: Option<u32>) -> String {
    site_location_in(sites, site, 3)
}

/// The distinct functions of `steps`, in order, for a one-line summary of
/// steps not shown.
pub fn step_functions(steps: &[&Step], sites: &SiteTable) -> Vec<String> {
    let mut funcs: Vec<String> = vec![];
    for s in steps {
        let f = site_function(sites, s.op.site);
        if f != "-" && !funcs.contains(&f) {
            funcs.push(f);
        }
    }
    funcs
}

/// The hint shown once when steps of the program's code have no line info.
pub const LINE_INFO_HINT: &str = "no source lines in this module: build the guest with `debug = \"line-tables-only\"` (or more) in its Cargo profile, or `-g` for C, to see file:line instead of function+offset";

/// Whether some program (non-library) step of `trace` has no line info.
pub fn lacks_line_info(trace: &[Step], sites: &SiteTable) -> bool {
    trace.iter().any(|s| {
        !s.op.library
            && s.op.site.is_some_and(|i| (i as usize) < sites.sites.len())
            && site_source(sites, s.op.site).is_none()
    })
}

/// `t1`, or `t1:worker` for a named thread (the name cut to 10 characters).
fn thread_label(step: &Step) -> String {
    match &step.thread_name {
        Some(name) => format!(
            "{}:{}",
            step.thread,
            name.chars().take(10).collect::<String>()
        ),
        None => step.thread.to_string(),
    }
}

fn describe(step: &Step, sites: &SiteTable) -> String {
    let op = &step.op;
    let what = match op.kind {
        OpKind::Memory(k) => {
            let site = op.site.map(|s| format!("site {s}")).unwrap_or_default();
            let range = match k {
                interlace_guest_sdk::abi::AccessKind::Copy => {
                    format!("{:#x} <- {:#x} ({} bytes)", op.addr, op.src, op.len)
                }
                interlace_guest_sdk::abi::AccessKind::Fence
                | interlace_guest_sdk::abi::AccessKind::Grow => String::new(),
                _ => format!("{:#x} ({} bytes)", op.addr, op.len),
            };
            format!(
                "{:<8} {:<24} {} [{}]",
                k.name(),
                range,
                site_location(sites, op.site),
                site
            )
        }
        OpKind::Resume | OpKind::Arrive | OpKind::Depart => {
            format!("{:<8} {:#x}", op.kind.name(), op.addr)
        }
        OpKind::Marker => format!("{:<8} {}", "marker", step.marker.as_deref().unwrap_or("?")),
        k => k.name().to_string(),
    };
    format!("{:>7}  {:<5} {}", step.step, thread_label(step), what)
}

/// Renders a trace as runs of consecutive steps per thread, context switches
/// marked, long runs elided, and only the last `max_runs` runs in full.
///
/// Inside an elided run, the steps that matter stay visible: accesses of the
/// program's own code to memory another thread also touches in this trace.
pub fn format_trace(trace: &[Step], sites: &SiteTable, max_runs: usize) -> String {
    format_trace_with(trace, sites, max_runs, 6)
}

fn words(op: &Op) -> std::ops::Range<u64> {
    let first = op.addr >> 3;
    first..((op.addr + op.len.max(1) - 1) >> 3) + 1
}

/// Which steps of a trace matter to a reader: markers, and the program's
/// own accesses to memory (8-byte words) that another thread of the trace
/// also touched.
pub(crate) struct Notable {
    owner: HashMap<u64, Option<ThreadId>>,
}

impl Notable {
    pub(crate) fn of(trace: &[Step]) -> Notable {
        let mut owner: HashMap<u64, Option<ThreadId>> = HashMap::new();
        for s in trace
            .iter()
            .filter(|s| matches!(s.op.kind, OpKind::Memory(_)) && s.op.len > 0)
        {
            for w in words(&s.op).take(64) {
                let e = owner.entry(w).or_insert(Some(s.thread));
                if *e != Some(s.thread) {
                    *e = None;
                }
            }
        }
        Notable { owner }
    }

    /// A program access to memory more than one thread touched.
    pub(crate) fn shared_access(&self, s: &Step) -> bool {
        matches!(s.op.kind, OpKind::Memory(_))
            && !s.op.library
            && s.op.len > 0
            && words(&s.op)
                .take(64)
                .any(|w| self.owner.get(&w) == Some(&None))
    }

    /// A marker or a shared program access.
    pub(crate) fn is(&self, s: &Step) -> bool {
        s.op.kind == OpKind::Marker || self.shared_access(s)
    }
}

/// Like [`format_trace`], showing runs of up to `run_lines` steps in full.
pub fn format_trace_with(
    trace: &[Step],
    sites: &SiteTable,
    max_runs: usize,
    run_lines: usize,
) -> String {
    let notable = Notable::of(trace);
    let notable = |s: &Step| notable.is(s);
    let mut runs: Vec<&[Step]> = vec![];
    let mut start = 0;
    for i in 1..=trace.len() {
        if i == trace.len() || trace[i].thread != trace[start].thread {
            runs.push(&trace[start..i]);
            start = i;
        }
    }
    let switches = runs.len().saturating_sub(1);
    let mut out = String::new();
    let steps = trace.last().map_or(0, |s| s.step).max(trace.len() as u64);
    let alone = steps - trace.len() as u64;
    let alone = if alone > 0 {
        format!(" ({alone} of them accesses of the main thread alone)")
    } else {
        String::new()
    };
    let _ = writeln!(out, "{steps} steps{alone}, {switches} context switches");
    let skip = runs.len().saturating_sub(max_runs);
    if skip > 0 {
        let steps: usize = runs[..skip].iter().map(|r| r.len()).sum();
        let _ = writeln!(out, "  ... {skip} earlier runs ({steps} steps) not shown");
    }
    for run in &runs[skip..] {
        let _ = writeln!(out, "  -- {} runs --", thread_label(&run[0]));
        let n = run.len();
        let show = |i: usize| n <= run_lines || i < 2 || i >= n - 2 || notable(&run[i]);
        let mut hidden: Vec<&Step> = vec![];
        for (i, s) in run.iter().enumerate() {
            // Step numbers skip only the accesses of the main thread while
            // it was the only thread (abi::SOLO_EXPORT).
            let skipped = i
                .checked_sub(1)
                .map_or(0, |p| s.step.saturating_sub(run[p].step + 1));
            if skipped > 0 {
                flush_hidden(&mut out, &mut hidden, sites);
                let _ = writeln!(
                    out,
                    "  {:>7}  ... {skipped} accesses while it was the only thread (no scheduling points)",
                    ""
                );
            }
            if show(i) {
                flush_hidden(&mut out, &mut hidden, sites);
                let _ = writeln!(out, "  {}", describe(s, sites));
            } else {
                hidden.push(s);
            }
        }
        flush_hidden(&mut out, &mut hidden, sites);
    }
    out
}

fn flush_hidden(out: &mut String, hidden: &mut Vec<&Step>, sites: &SiteTable) {
    if hidden.is_empty() {
        return;
    }
    let mut funcs = step_functions(hidden, sites);
    let more = if funcs.len() > 3 {
        format!(" and {} more", funcs.len() - 3)
    } else {
        String::new()
    };
    funcs.truncate(3);
    let _ = writeln!(
        out,
        "  {:>7}  ... {} steps in {}{}",
        "",
        hidden.len(),
        funcs.join(", "),
        more
    );
    hidden.clear();
}
