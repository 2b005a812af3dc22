//! `interlace-wasm merge a.json b.json ...`: adds up the `--json` reports
//! of `explore --shard k/N` runs into the report of the whole exploration.

use super::emit;
use super::json::REPORT_FORMAT;
use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct MergeCmd {
    /// Reports written by `explore --shard k/N --json`.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Print the merged report as JSON.
    #[arg(long)]
    json: bool,
}

fn load(path: &PathBuf) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read report {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON; pass the output of `explore --shard k/N --json`",
            path.display()
        )
    })?;
    if v["format"] != REPORT_FORMAT
        || (v["command"] != "explore" && v["command"] != "cargo-interlace-test")
    {
        bail!(
            "{} is not an explore report ({REPORT_FORMAT}); pass the output of `explore --shard k/N --json` or `cargo interlace test --shard k/N --json`",
            path.display()
        );
    }
    Ok(v)
}

/// One explored test of a `cargo interlace test --json` report.
type TestKey = (String, String);

/// The shards of `cargo interlace test`: each test's reports merged as
/// `explore`'s are, then a summary in cargo test's shape.
fn merge_tests(reports: &[Value], paths: &[PathBuf], as_json: bool) -> Result<ExitCode> {
    if let Some((_, p)) = reports
        .iter()
        .zip(paths)
        .find(|(v, _)| v["command"] != "cargo-interlace-test")
    {
        bail!("{} is an explore report, the others come from `cargo interlace test`; merge one kind at a time", p.display());
    }
    let mut tests: BTreeMap<TestKey, (Vec<Value>, Vec<PathBuf>, Value)> = BTreeMap::new();
    for (v, path) in reports.iter().zip(paths) {
        for t in v["tests"].as_array().into_iter().flatten() {
            let key = (
                t["target"].as_str().unwrap_or("?").to_string(),
                t["test"].as_str().unwrap_or("?").to_string(),
            );
            let entry = tests
                .entry(key)
                .or_insert_with(|| (vec![], vec![], t.clone()));
            if !t["report"].is_null() {
                entry.0.push(t["report"].clone());
                entry.1.push(path.clone());
            }
        }
    }
    let mut out = String::new();
    let mut docs = vec![];
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    for ((target, test), (group, group_paths, first)) in &tests {
        let (result, merged) = if group.is_empty() {
            ignored += 1;
            (
                first["result"].as_str().unwrap_or("ignored").to_string(),
                Value::Null,
            )
        } else {
            let merged = merge_explore(group, group_paths)?;
            let result = if merged["verdict"] == "fail" {
                failed += 1;
                "failed"
            } else if first["result"] == "ignored" {
                ignored += 1;
                "ignored"
            } else {
                passed += 1;
                "ok"
            };
            (result.to_string(), merged)
        };
        let how = if merged.is_null() {
            String::new()
        } else if result == "failed" {
            format!(
                ": execution {} in shard {}, schedule {}",
                merged["failure"]["failing_execution"],
                merged["failure"]["shard"]["index"],
                merged["failure"]["schedule"].as_str().unwrap_or("?")
            )
        } else {
            let shards = if merged["all_shards"] == true {
                format!("all {} shards", merged["shards"])
            } else {
                format!(
                    "{} of {} shards: NOT the whole exploration",
                    merged["shards_merged"], merged["shards"]
                )
            };
            let n = merged["executions"].as_u64().unwrap_or(0);
            format!(
                ", {n} execution{} ({shards})",
                if n == 1 { "" } else { "s" }
            )
        };
        let _ = writeln!(out, "test {target} {test} ... {result}{how}");
        if let Some(m) = merged["failure"]["execution"]["failure"]["message"].as_str() {
            let _ = writeln!(out, "    FAILURE: {m}");
        }
        docs.push(json!({"target": target, "test": test, "result": result, "report": merged}));
    }
    if as_json {
        let v = json!({
            "format": REPORT_FORMAT,
            "command": "merge",
            "verdict": if failed > 0 { "fail" } else { "pass" },
            "passed": passed,
            "failed": failed,
            "ignored": ignored,
            "tests": docs,
        });
        emit(&format!("{v:#}\n"));
    } else {
        let _ = writeln!(
            out,
            "\ntest result: {}. {passed} passed; {failed} failed; {ignored} ignored (merged from {} reports)",
            if failed > 0 { "FAILED" } else { "ok" },
            reports.len()
        );
        emit(&out);
    }
    Ok(ExitCode::from((failed > 0) as u8))
}

impl MergeCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let reports: Vec<Value> = self.reports.iter().map(load).collect::<Result<_>>()?;
        if reports
            .iter()
            .any(|v| v["command"] == "cargo-interlace-test")
        {
            return merge_tests(&reports, &self.reports, self.json);
        }
        let merged = merge_explore(&reports, &self.reports)?;
        let failed = merged["verdict"] == "fail";
        if self.json {
            emit(&format!("{merged:#}\n"));
        } else {
            emit(&merged_text(&merged));
        }
        Ok(ExitCode::from(failed as u8))
    }
}

/// The shards of one exploration added up to what one run would have said.
fn merge_explore(reports: &[Value], paths: &[PathBuf]) -> Result<Value> {
    {
        let first = &reports[0];
        for (v, path) in reports.iter().zip(paths).skip(1) {
            for key in [
                "module_sha256",
                "strategy",
                "seed",
                "iterations",
                "library_points",
            ] {
                if v[key] != first[key] {
                    bail!(
                        "{} differs from {} in `{key}` ({} vs {}): merge only shards of one exploration",
                        path.display(),
                        paths[0].display(),
                        v[key],
                        first[key]
                    );
                }
            }
            if v["shard"]["count"] != first["shard"]["count"] {
                bail!(
                    "{} is from a split into a different number of shards",
                    path.display()
                );
            }
        }
        let count = first["shard"]["count"].as_u64().unwrap_or(1);
        let mut seen: Vec<u64> = vec![];
        for (v, path) in reports.iter().zip(paths) {
            let k = v["shard"]["index"].as_u64().unwrap_or(0);
            if seen.contains(&k) {
                bail!("shard {k}/{count} is given twice ({})", path.display());
            }
            seen.push(k);
        }
        let all_shards = seen.len() as u64 == count;
        let executions: u64 = reports
            .iter()
            .map(|v| v["executions"].as_u64().unwrap_or(0))
            .sum();
        let mut outcomes: BTreeMap<(String, String), u64> = BTreeMap::new();
        for v in reports {
            for o in v["outcomes"].as_array().into_iter().flatten() {
                *outcomes
                    .entry((o["exit_code"].to_string(), o["stdout"].to_string()))
                    .or_insert(0) += o["count"].as_u64().unwrap_or(0);
            }
        }
        // The failure a single run would have reported: the lowest execution index.
        let failure = reports
            .iter()
            .filter(|v| v["verdict"] == "fail")
            .min_by_key(|v| v["failing_execution"].as_u64().unwrap_or(u64::MAX));
        let strategy = first["strategy"].as_str().unwrap_or("?");
        let seed = &first["seed"];
        Ok(json!({
            "format": REPORT_FORMAT,
            "command": "merge",
            "module_sha256": first["module_sha256"],
            "strategy": strategy,
            "seed": seed,
            "iterations": first["iterations"],
            "shards": count,
            "shards_merged": seen.len(),
            "all_shards": all_shards,
            "verdict": if failure.is_some() { "fail" } else { "pass" },
            "executions": executions,
            "outcomes": outcomes.iter().map(|((code, out), n)| json!({
                "exit_code": serde_json::from_str::<Value>(code).unwrap_or(Value::Null),
                "stdout": serde_json::from_str::<Value>(out).unwrap_or(Value::Null),
                "count": n,
            })).collect::<Vec<_>>(),
            "failure": failure,
        }))
    }
}

/// The merged report as text.
fn merged_text(merged: &Value) -> String {
    let mut out = String::new();
    let count = &merged["shards"];
    let coverage = if merged["all_shards"] == true {
        format!("all {count} shards")
    } else {
        format!(
            "{} of {count} shards: NOT the whole exploration",
            merged["shards_merged"]
        )
    };
    let strategy = merged["strategy"].as_str().unwrap_or("?");
    let seed = &merged["seed"];
    let f = &merged["failure"];
    if !f.is_null() {
        let _ = writeln!(
            out,
            "found a failing interleaving in execution {} (strategy {strategy}, seed {seed}; shard {}/{count}; {coverage})",
            f["failing_execution"], f["shard"]["index"]
        );
        let _ = writeln!(
            out,
            "schedule saved to {}",
            f["schedule"].as_str().unwrap_or("?")
        );
        if let Some(m) = f["execution"]["failure"]["message"].as_str() {
            let _ = writeln!(out, "FAILURE: {m}");
        }
        return out;
    }
    let outcomes = merged["outcomes"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(
        out,
        "no failing interleaving: {} executions (strategy {strategy}, seed {seed}; {coverage})",
        merged["executions"]
    );
    let _ = writeln!(
        out,
        "{} distinct outcomes (exit status, stdout)",
        outcomes.len()
    );
    for o in &outcomes {
        let _ = writeln!(
            out,
            "  exit {}, stdout {}: {} executions",
            o["exit_code"], o["stdout"], o["count"]
        );
    }
    out
}
