//! `--json` reports parse back and say what the text says.

use crate::guests::{cli, code, guest, scratch, stdout};
use serde_json::Value;

fn json(dir: &std::path::Path, args: &[&str]) -> (i32, Value) {
    let out = cli(dir, args);
    let text = stdout(&out);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["format"], "interlace-wasm-report/1");
    (code(&out), v)
}

#[test]
fn explore_and_replay_reports_parse_back() {
    let dir = scratch("json-explore");
    let module = guest("counter_lost_update");
    let m = module.to_str().unwrap();
    let (code, v) = json(&dir, &["explore", m, "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["command"], "explore");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["strategy"], "portfolio");
    assert!(v["found_by"].is_string(), "{v}");
    assert_eq!(v["members"].as_array().map(Vec::len), Some(4), "{v}");
    assert_eq!(v["failure"], Value::Null, "the failure lives in execution");
    let e = &v["execution"];
    assert_eq!(e["failure"]["kind"], "panic");
    assert!(e["failure"]["message"]
        .as_str()
        .unwrap()
        .contains("counter is 1"));
    assert_eq!(v["minimised"]["preemptions_after"], 1);
    let schedule = v["schedule"].as_str().unwrap();
    assert!(dir.join(schedule).exists());
    // Both spawned threads read the counter at line 10 of the example.
    let trace = e["trace"].as_array().unwrap();
    // Every step the scheduler saw; main's accesses before its first spawn
    // count as steps but are no scheduling points, so are not in the trace.
    let last = trace.last().unwrap()["step"].as_u64().unwrap();
    assert_eq!(last, e["steps"].as_u64().unwrap());
    assert!(trace.len() as u64 <= last);
    let mut readers: Vec<u64> = trace
        .iter()
        .filter(|s| {
            s["op"] == "read"
                && s["location"]["line"] == 10
                && s["location"]["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("counter_lost_update.rs"))
        })
        .map(|s| s["thread"].as_u64().unwrap())
        .collect();
    readers.dedup();
    readers.sort();
    readers.dedup();
    assert_eq!(readers, vec![1, 2]);

    let (code, r) = json(&dir, &["replay", m, schedule, "--json"]);
    assert_eq!(code, 1);
    assert_eq!(r["command"], "replay");
    assert_eq!(r["execution"]["failure"], e["failure"]);
    assert_eq!(r["execution"]["steps"], e["steps"]);
}

#[test]
fn a_passing_exploration_reports_its_outcomes() {
    let dir = scratch("json-pass");
    let module = guest("detached_read");
    let (code, v) = json(
        &dir,
        &[
            "explore",
            module.to_str().unwrap(),
            "--strategy",
            "dpor",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["execution"], Value::Null);
    assert_eq!(v["coverage"]["every_interleaving_covered"], true);
    assert_eq!(v["coverage"]["library"], "blocks");
    let total: u64 = v["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, v["coverage"]["complete"].as_u64().unwrap());
    let (code, r) = json(&dir, &["run", module.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    assert_eq!(r["command"], "run");
    assert_eq!(r["verdict"], "pass");
}

#[test]
fn test_reports_one_json_object_per_test() {
    let dir = scratch("json-test");
    let module = guest("tests_example");
    let (code, v) = json(&dir, &["test", module.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["command"], "test");
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["passed"], 2);
    assert_eq!(
        v["failed"],
        serde_json::json!(["interlace_test_load_then_store_loses_updates"])
    );
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    for t in tests {
        let failing = t["test"] == "interlace_test_load_then_store_loses_updates";
        let r = &t["report"];
        assert_eq!(r["verdict"], if failing { "fail" } else { "pass" });
        assert_eq!(r["execution"].is_null(), !failing);
    }
}
