//! How a failure is shown: verdict, guest output, the interleaving.

use interlace_wasm::{format_columns, ColumnStyle, Execution, Program};
use std::fmt::Write;
use std::io::IsTerminal;

/// The failure report of `execution` (which must have failed).
pub fn failure_report(program: &Program, execution: &Execution) -> String {
    let mut out = String::new();
    if let Some(f) = &execution.failure {
        let _ = writeln!(out, "FAILURE: {f}");
    }
    let _ = writeln!(
        out,
        "{} threads, {} scheduling points, {} decisions",
        execution.threads,
        execution.steps,
        execution.decisions.len()
    );
    for (name, bytes) in [("stdout", &execution.stdout), ("stderr", &execution.stderr)] {
        if !bytes.is_empty() {
            let _ = writeln!(out, "--- guest {name} ---");
            let text = String::from_utf8_lossy(bytes);
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    if execution.trace.is_none() {
        let _ = writeln!(
            out,
            "(no interleaving recorded for an execution cut by a bound; `replay` the schedule to see it)"
        );
    }
    if let Some(trace) = &execution.trace {
        let _ = writeln!(out, "--- interleaving ---");
        if interlace_wasm::lacks_line_info(trace, program.sites()) {
            let _ = writeln!(out, "({})", interlace_wasm::LINE_INFO_HINT);
        }
        let style = ColumnStyle {
            color: std::io::stdout().is_terminal(),
            ..ColumnStyle::default()
        };
        out.push_str(&format_columns(
            trace,
            program.sites(),
            execution.failure.as_ref(),
            style,
        ));
    }
    out
}
