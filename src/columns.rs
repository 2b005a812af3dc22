//! The interleaving of a failure as one column per thread: a row per step
//! that matters (program code touching memory another thread touches,
//! markers, thread starts, spawns, joins, wake-ups, the end), context
//! switches marked, the value each shared access read or wrote, runs of a
//! thread's other steps collapsed into one row, the failing step flagged.

use crate::op::{OpKind, ThreadId};
use crate::outcome::Failure;
use crate::trace::{site_location_in, step_functions, Notable, Step};
use interlace_guest_sdk::abi::{AccessKind, SiteTable};
use std::fmt::Write;

/// How to draw the columns.
#[derive(Clone, Copy, Debug)]
pub struct ColumnStyle {
    /// Target width of a line (80 for a terminal).
    pub width: usize,
    /// Rows shown at most; earlier ones are summarised.
    pub max_rows: usize,
    /// ANSI colours (only for a terminal).
    pub color: bool,
}

impl Default for ColumnStyle {
    fn default() -> Self {
        ColumnStyle {
            width: 80,
            max_rows: 60,
            color: false,
        }
    }
}

/// A row of the view: a step, or a run of one thread's steps not shown.
pub(crate) enum Row<'a> {
    Step(&'a Step),
    Hidden {
        thread: ThreadId,
        count: usize,
        steps: Vec<&'a Step>,
    },
}

/// `file.rs:line:col` (the file name only) or `function+offset`; nothing
/// for a step without a site.
fn short_location(sites: &SiteTable, site: Option<u32>) -> String {
    match site {
        Some(_) => site_location_in(sites, site, 1),
        None => String::new(),
    }
}

fn cell(step: &Step) -> String {
    let op = &step.op;
    let value = |prefix: &str| {
        step.value
            .map(|v| format!("{prefix}{v}"))
            .unwrap_or_default()
    };
    match op.kind {
        OpKind::Memory(k) => {
            let (name, v) = match k {
                AccessKind::Read => ("rd", value("=")),
                AccessKind::Write => ("wr", value(":=")),
                AccessKind::ReadModifyWrite => ("rmw", value(":=")),
                AccessKind::CompareExchange => ("cas", value(":=")),
                AccessKind::Wait => ("wait", value("=")),
                AccessKind::Notify => ("notify", String::new()),
                AccessKind::Copy => ("copy", String::new()),
                AccessKind::Fill => ("fill", String::new()),
                AccessKind::Fence => ("fence", String::new()),
                AccessKind::Grow => ("grow", String::new()),
            };
            format!("{name} {:x}{v}", op.addr)
        }
        OpKind::Marker => format!("@{}", step.marker.as_deref().unwrap_or("?")),
        OpKind::Spawn => "spawn".to_string(),
        OpKind::Join => format!("join t{}", op.addr),
        OpKind::Resume => "wakes".to_string(),
        OpKind::Arrive => format!("barrier {:x}", op.addr),
        k => k.name().to_string(),
    }
}

fn fit(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        format!("{text:<width$}")
    } else {
        let mut t: String = text.chars().take(width.saturating_sub(1)).collect();
        t.push('~');
        t
    }
}

/// The rows worth showing of `trace`, the number of threads, and the index
/// of the failing step (its thread's last, or the last step).
pub(crate) fn select_rows<'a>(
    trace: &'a [Step],
    failure: Option<&Failure>,
) -> (Vec<Row<'a>>, usize, Option<usize>) {
    let notable = Notable::of(trace);
    let threads = trace.iter().map(|s| s.thread.0 + 1).max().unwrap_or(1) as usize;
    let mut last_of: Vec<Option<usize>> = vec![None; threads];
    for (i, s) in trace.iter().enumerate() {
        last_of[s.thread.0 as usize] = Some(i);
    }
    let failing = failure
        .map(|f| f.thread.unwrap_or(ThreadId::MAIN))
        .and_then(|t| last_of.get(t.0 as usize).copied().flatten())
        .or(trace.len().checked_sub(1));
    let shown = |i: usize, s: &Step| {
        Some(i) == failing
            || Some(i) == last_of[s.thread.0 as usize]
            || matches!(
                s.op.kind,
                OpKind::Marker
                    | OpKind::Start
                    | OpKind::Spawn
                    | OpKind::Join
                    | OpKind::Resume
                    | OpKind::Arrive
                    | OpKind::Depart
                    | OpKind::Stop
            )
            || notable.shared_access(s)
    };
    // Rows: shown steps, and between them one row per run of hidden steps of a thread.
    let mut rows: Vec<Row> = vec![];
    for (i, s) in trace.iter().enumerate() {
        if shown(i, s) {
            rows.push(Row::Step(s));
            continue;
        }
        match rows.last_mut() {
            Some(Row::Hidden {
                thread,
                count,
                steps,
            }) if *thread == s.thread => {
                *count += 1;
                steps.push(s);
            }
            _ => rows.push(Row::Hidden {
                thread: s.thread,
                count: 1,
                steps: vec![s],
            }),
        }
    }
    (rows, threads, failing)
}

/// Renders `trace` as per-thread columns; `failure` flags its thread's last step.
pub fn format_columns(
    trace: &[Step],
    sites: &SiteTable,
    failure: Option<&Failure>,
    style: ColumnStyle,
) -> String {
    let (rows, threads, failing) = select_rows(trace, failure);
    let location = |row: &Row| match row {
        Row::Step(s) => short_location(sites, s.op.site),
        Row::Hidden { steps, .. } => {
            let mut funcs = step_functions(steps, sites);
            let more = funcs.len().saturating_sub(2);
            funcs.truncate(2);
            let mut text = format!("in {}", funcs.join(", "));
            if more > 0 {
                let _ = write!(text, " +{more}");
            }
            text
        }
    };
    let skip = rows.len().saturating_sub(style.max_rows);
    let locs: Vec<String> = rows[skip..].iter().map(location).collect();
    let loc_width = locs.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let cell_width = (style.width.saturating_sub(8 + loc_width.min(28)) / threads).clamp(12, 22);
    let loc_room = style.width.saturating_sub(8 + cell_width * threads).max(20);
    let switches = trace.iter().filter(|s| s.switch).count();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} steps, {} context switches, {} threads; * context switch, ! failing step",
        trace.len(),
        switches,
        threads
    );
    let mut header = format!("{:>7} ", "step");
    for t in 0..threads {
        let mine = || trace.iter().filter(|s| s.thread.0 as usize == t);
        let name = mine()
            .find_map(|s| s.thread_name.as_deref())
            .map(|n| format!("{}:{n}", ThreadId(t as u32)))
            .unwrap_or_else(|| ThreadId(t as u32).to_string());
        // A task's lane says which executor thread it runs on.
        let name = match mine().find_map(|s| s.executor) {
            Some(e) => format!("{name}@{e}"),
            None => name,
        };
        header.push_str(&fit(&name, cell_width));
    }
    header.push_str("source");
    let _ = writeln!(out, "{}", header.trim_end());
    if skip > 0 {
        let steps: usize = rows[..skip]
            .iter()
            .map(|r| match r {
                Row::Step(_) => 1,
                Row::Hidden { count, .. } => *count,
            })
            .sum();
        let _ = writeln!(out, "{:>7} ... {steps} earlier steps not shown", "");
    }
    let (bold, red, dim, reset) = if style.color {
        ("\x1b[1m", "\x1b[1;31m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    for (row, loc) in rows[skip..].iter().zip(&locs) {
        let (thread, text, step_no, mark, fails) = match row {
            Row::Step(s) => {
                let fails = failing.map(|f| trace[f].step) == Some(s.step);
                (
                    s.thread,
                    cell(s),
                    s.step.to_string(),
                    if s.switch { '*' } else { ' ' },
                    fails,
                )
            }
            Row::Hidden { thread, count, .. } => (
                *thread,
                format!("({count} steps)"),
                String::new(),
                ' ',
                false,
            ),
        };
        let mark = if fails { '!' } else { mark };
        let mut line = format!("{step_no:>7}{mark}");
        for t in 0..threads {
            if t == thread.0 as usize {
                line.push_str(&fit(&text, cell_width));
            } else {
                line.push_str(&fit("|", cell_width));
            }
        }
        let loc = fit(loc, loc_room);
        let line = format!("{line}{loc}");
        let line = line.trim_end();
        let _ = match (row, fails) {
            (_, true) => writeln!(out, "{red}{line}{reset}"),
            (Row::Hidden { .. }, _) => writeln!(out, "{dim}{line}{reset}"),
            (Row::Step(s), _) if !s.op.library && matches!(s.op.kind, OpKind::Memory(_)) => {
                writeln!(out, "{bold}{line}{reset}")
            }
            _ => writeln!(out, "{line}"),
        };
    }
    out
}
