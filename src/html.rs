//! `--html out.html`: the failing interleaving as a self-contained page
//! (inline CSS and script, nothing fetched): one swimlane per thread, the
//! rows of the column view, the source line of each step on hover, and the
//! accesses that conflict (same bytes, another thread, one writes) linked
//! to each other; data races found by `--races` are marked.

use crate::columns::{select_rows, Row};
use crate::op::OpKind;
use crate::outcome::Execution;
use crate::trace::{site_function, site_source, step_functions, Step};
use interlace_guest_sdk::abi::{AccessKind, SiteTable};
use std::fmt::Write;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn location(sites: &SiteTable, step: &Step) -> String {
    let func = site_function(sites, step.op.site);
    match site_source(sites, step.op.site) {
        Some((path, line, column)) if line > 0 => format!("{path}:{line}:{column} in {func}"),
        _ if step.op.site.is_none() => String::new(),
        _ => func,
    }
}

fn writes(step: &Step) -> bool {
    matches!(
        step.op.kind,
        OpKind::Memory(
            AccessKind::Write
                | AccessKind::ReadModifyWrite
                | AccessKind::CompareExchange
                | AccessKind::Copy
                | AccessKind::Fill
        )
    )
}

fn label(step: &Step) -> String {
    let op = &step.op;
    let value = step.value.map(|v| format!(" = {v}")).unwrap_or_default();
    match op.kind {
        OpKind::Memory(k) => format!("{} {:#x}{value}", k.name(), op.addr),
        OpKind::Marker => format!("marker {}", step.marker.as_deref().unwrap_or("?")),
        OpKind::Join => format!("join t{}", op.addr),
        OpKind::Resume => "wakes up".to_string(),
        OpKind::Arrive => format!("arrives at barrier {:#x}", op.addr),
        OpKind::Depart => "leaves the barrier".to_string(),
        k => k.name().to_string(),
    }
}

/// The page for `execution` (its trace must have been recorded).
pub fn render_html(title: &str, execution: &Execution, sites: &SiteTable) -> String {
    let trace: &[Step] = execution.trace.as_deref().unwrap_or(&[]);
    let (rows, threads, failing) = select_rows(trace, execution.failure.as_ref());
    let failing_step = failing.map(|i| trace[i].step);
    // Shown memory steps, for the conflict links.
    let shown: Vec<&Step> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Step(s) if matches!(s.op.kind, OpKind::Memory(_)) && s.op.len > 0 => Some(*s),
            _ => None,
        })
        .collect();
    let conflicts = |s: &Step| -> Vec<u64> {
        shown
            .iter()
            .filter(|o| {
                o.thread != s.thread
                    && (writes(o) || writes(s))
                    && o.op.addr < s.op.addr + s.op.len
                    && s.op.addr < o.op.addr + o.op.len
            })
            .map(|o| o.step)
            .collect()
    };
    let race_steps: Vec<u64> = execution
        .races
        .iter()
        .flat_map(|r| [r.first.step, r.second.step])
        .collect();

    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>interlace-wasm: {title}</title>
<style>
body {{ font: 13px/1.4 ui-monospace, Menlo, Consolas, monospace; margin: 16px; color: #222; background: #fff; }}
h1 {{ font-size: 16px; margin: 0 0 4px; }}
.failure {{ color: #b00020; white-space: pre-wrap; margin: 0 0 12px; }}
.legend span {{ margin-right: 16px; }}
.lanes {{ display: grid; grid-template-columns: 64px repeat({threads}, minmax(180px, 1fr)); border-top: 1px solid #ccc; }}
.lanes > div {{ padding: 2px 6px; border-bottom: 1px solid #eee; min-height: 18px; }}
.head {{ font-weight: bold; background: #f3f3f3; position: sticky; top: 0; }}
.stepno {{ color: #888; text-align: right; }}
.lane {{ border-left: 3px solid #e5e5e5; }}
.op {{ border-radius: 3px; padding: 0 4px; cursor: default; }}
.op.program {{ background: #e8f0fe; }}
.op.conflict {{ background: #fff3cd; border: 1px solid #e0a800; }}
.op.race {{ background: #f8d7da; border: 1px solid #b00020; }}
.op.fails {{ background: #b00020; color: #fff; }}
.op.hidden {{ color: #999; font-style: italic; }}
.op.hl {{ outline: 2px solid #1a73e8; }}
.switch {{ border-top: 2px solid #1a73e8 !important; }}
.src {{ color: #666; font-size: 11px; }}
a.link {{ color: #1a73e8; font-size: 11px; margin-left: 4px; }}
</style></head><body>
<h1>interlace-wasm: {title}</h1>
"#,
        title = escape(title),
        threads = threads
    );
    if let Some(f) = &execution.failure {
        let _ = writeln!(out, r#"<p class="failure">{}</p>"#, escape(&f.to_string()));
    }
    let _ = writeln!(
        out,
        r#"<p class="legend">{} steps, {} threads. <span style="background:#e8f0fe">program access</span><span style="background:#fff3cd">conflicting access (hover: its partners light up)</span><span style="background:#f8d7da">data race</span><span style="background:#b00020;color:#fff">failing step</span><span style="border-top:2px solid #1a73e8">context switch</span></p>"#,
        trace.len(),
        threads
    );
    out.push_str("<div class=\"lanes\">\n<div class=\"head\">step</div>");
    for t in 0..threads {
        let mine = || trace.iter().filter(|s| s.thread.0 as usize == t);
        let name = mine()
            .find_map(|s| s.thread_name.as_deref())
            .map(|n| format!("{} ({n})", crate::op::ThreadId(t as u32)))
            .unwrap_or_else(|| crate::op::ThreadId(t as u32).to_string());
        // A task's lane says which executor thread it runs on.
        let name = match mine().find_map(|s| s.executor) {
            Some(e) => format!("{name} on {e}"),
            None => name,
        };
        let _ = write!(out, "<div class=\"head\">{}</div>", escape(&name));
    }
    out.push('\n');
    for row in &rows {
        let (thread, switch, step_no, cell) = match row {
            Row::Step(s) => {
                let mut classes = vec!["op"];
                if !s.op.library && matches!(s.op.kind, OpKind::Memory(_)) {
                    classes.push("program");
                }
                let partners = conflicts(s);
                if !partners.is_empty() {
                    classes.push("conflict");
                }
                if race_steps.contains(&s.step) {
                    classes.push("race");
                }
                if Some(s.step) == failing_step {
                    classes.push("fails");
                }
                let links: String = partners
                    .iter()
                    .map(|p| format!(r##"<a class="link" href="#s{p}">&harr;{p}</a>"##))
                    .collect();
                let loc = location(sites, s);
                let cell = format!(
                    r#"<span id="s{}" class="{}" data-addr="{}" data-partners="{}" title="{}">{}</span>{}<div class="src">{}</div>"#,
                    s.step,
                    classes.join(" "),
                    s.op.addr,
                    partners
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    escape(&loc),
                    escape(&label(s)),
                    links,
                    escape(
                        loc.split(" in ")
                            .next()
                            .unwrap_or_default()
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                    )
                );
                (s.thread, s.switch, s.step.to_string(), cell)
            }
            Row::Hidden {
                thread,
                count,
                steps,
            } => {
                let funcs = step_functions(steps, sites);
                let cell = format!(
                    r#"<span class="op hidden" title="{}">{count} steps</span>"#,
                    escape(&funcs.join(", "))
                );
                (*thread, false, String::new(), cell)
            }
        };
        let sw = if switch { " switch" } else { "" };
        let _ = write!(out, "<div class=\"stepno{sw}\">{step_no}</div>");
        for t in 0..threads {
            if t == thread.0 as usize {
                let _ = write!(out, "<div class=\"lane{sw}\">{cell}</div>");
            } else {
                let _ = write!(out, "<div class=\"lane{sw}\"></div>");
            }
        }
        out.push('\n');
    }
    out.push_str(
        r#"</div>
<script>
// Hovering an access lights up the accesses it conflicts with.
document.querySelectorAll('.op[data-partners]').forEach(function (el) {
  var partners = el.dataset.partners.split(' ').filter(Boolean);
  el.addEventListener('mouseenter', function () {
    el.classList.add('hl');
    partners.forEach(function (p) { var o = document.getElementById('s' + p); if (o) o.classList.add('hl'); });
  });
  el.addEventListener('mouseleave', function () {
    document.querySelectorAll('.hl').forEach(function (o) { o.classList.remove('hl'); });
  });
});
</script>
</body></html>
"#,
    );
    out
}
