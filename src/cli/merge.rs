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
    if v["format"] != REPORT_FORMAT || v["command"] != "explore" {
        bail!(
            "{} is not an explore report ({REPORT_FORMAT}); pass the output of `explore --shard k/N --json`",
            path.display()
        );
    }
    Ok(v)
}

impl MergeCmd {
    pub fn execute(self) -> Result<ExitCode> {
        let reports: Vec<Value> = self.reports.iter().map(load).collect::<Result<_>>()?;
        let first = &reports[0];
        for (v, path) in reports.iter().zip(&self.reports).skip(1) {
            for key in ["module_sha256", "strategy", "seed", "iterations"] {
                if v[key] != first[key] {
                    bail!(
                        "{} differs from {} in `{key}` ({} vs {}): merge only shards of one exploration",
                        path.display(),
                        self.reports[0].display(),
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
        for (v, path) in reports.iter().zip(&self.reports) {
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
        for v in &reports {
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
        if self.json {
            let merged = json!({
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
            });
            emit(&format!("{merged:#}\n"));
        } else {
            let mut out = String::new();
            let coverage = if all_shards {
                format!("all {count} shards")
            } else {
                format!(
                    "{} of {count} shards: NOT the whole exploration",
                    seen.len()
                )
            };
            match failure {
                Some(f) => {
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
                }
                None => {
                    let _ = writeln!(
                        out,
                        "no failing interleaving: {executions} executions (strategy {strategy}, seed {seed}; {coverage})"
                    );
                    let _ = writeln!(
                        out,
                        "{} distinct outcomes (exit status, stdout)",
                        outcomes.len()
                    );
                    for ((code, stdout), n) in &outcomes {
                        let _ = writeln!(out, "  exit {code}, stdout {stdout}: {n} executions");
                    }
                }
            }
            emit(&out);
        }
        Ok(ExitCode::from(failure.is_some() as u8))
    }
}
