//! The documentation's examples stay true: every `$ interlace-wasm ...`
//! line in README.md and docs/*.md whose files are this repository's
//! examples is run through the built binary, and the output lines shown
//! under it (verdicts, headlines, errors; `...` elides) must appear in
//! what it prints, with the exit status they imply.

use crate::c_guests::c_guest;
use crate::guests::{cli, code, guest, scratch, stderr, stdout};
use std::path::{Path, PathBuf};

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One documented command and the output shown under it.
struct Example {
    at: String,
    args: Vec<String>,
    shown: Vec<String>,
}

/// Splits a command line as a POSIX shell would for the quoting the docs
/// use: single and double quotes, spaces between words.
fn words(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, ' ') => out.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    out
}

fn examples() -> Vec<Example> {
    let mut files = vec![workspace().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(workspace().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut found = vec![];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(command) = line.strip_prefix("$ interlace-wasm ") else {
                continue;
            };
            let command = command.split(" # ").next().unwrap();
            let shown = lines[i + 1..]
                .iter()
                .take_while(|l| !l.starts_with("```") && !l.starts_with("$ "))
                .map(|l| l.to_string())
                .collect();
            found.push(Example {
                at: format!("{}:{}", file.file_name().unwrap().to_string_lossy(), i + 1),
                args: words(command),
                shown,
            });
        }
    }
    found
}

/// The repository's file for a documented one (`x.wasm`: the example
/// guest or the C example `x.c`), or None for a user's file.
fn resolve(arg: &str) -> Option<Option<String>> {
    let file = arg.ends_with(".wasm") || arg.ends_with(".c") || arg.ends_with(".json");
    if !file || arg.starts_with('{') {
        return Some(None);
    }
    let stem = arg.rsplit('/').next()?.rsplit_once('.')?.0;
    let release = workspace().join(format!(
        "target/guests/wasm32-wasip1-threads/release/{stem}.wasm"
    ));
    if arg.ends_with(".wasm") && release.exists() {
        return Some(Some(guest(stem).to_string_lossy().into_owned()));
    }
    if workspace().join(format!("examples/c/{stem}.c")).exists() {
        return Some(Some(c_guest(stem).to_string_lossy().into_owned()));
    }
    None
}

/// Whether `line`, with `...` standing for anything, appears in `text`.
fn appears(line: &str, text: &str) -> bool {
    let mut rest = text;
    for part in line.split("...").map(str::trim).filter(|p| !p.is_empty()) {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[test]
fn documented_commands_print_what_the_docs_show() {
    guest("hello"); // the example guests are built
    let dir = scratch("docs");
    let mut ran = vec![];
    'examples: for ex in examples() {
        let mut args = vec![];
        for a in &ex.args {
            match resolve(a) {
                Some(Some(path)) => args.push(path),
                Some(None) => args.push(a.clone()),
                None => continue 'examples, // a user's file
            }
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cli(&dir, &refs);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        let checked: Vec<&String> = ex
            .shown
            .iter()
            .filter(|l| {
                [
                    "FAILURE:",
                    "error:",
                    "found a failing",
                    "no failing",
                    "test ",
                ]
                .iter()
                .any(|p| l.trim_start().starts_with(p))
            })
            .collect();
        for line in &checked {
            assert!(
                appears(line, &text),
                "{}: `{}` does not print\n{line}\nit printed:\n{text}",
                ex.at,
                ex.args.join(" ")
            );
        }
        let error = checked.iter().any(|l| l.starts_with("error:"));
        let failure = checked
            .iter()
            .any(|l| l.contains("FAILURE:") || l.starts_with("found a failing"));
        let want = if error {
            2
        } else if failure {
            1
        } else {
            code(&out).min(1)
        };
        assert_eq!(code(&out), want, "{}: {text}", ex.at);
        ran.push(ex.at);
    }
    // README's run, the C headline, the schedule error, reports, strategies.
    assert!(ran.len() >= 8, "only {ran:?} ran");
}
