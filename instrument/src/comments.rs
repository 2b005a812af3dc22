//! Comment markers: `// interlace: read_balance` in the guest's source gates a
//! statement with no call in the code, as in the interlace seed. Inline after
//! a statement it gates that line; on its own line, the next line with code.
//! The instrumenter finds the sources through the DWARF line table and puts a
//! marker before the first instruction of each run of the gated line.

use crate::Error;
use gimli::{EndianSlice, LittleEndian};
use interlace_guest_sdk::abi::{is_library_path, RawSection};
use std::collections::{HashMap, HashSet};

type Slice<'a> = EndianSlice<'a, LittleEndian>;

/// A marker comment found in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommentMarker {
    pub file: String,
    /// The gated line (1-based).
    pub line: u32,
    /// Where the comment is (1-based), for errors.
    pub comment_line: u32,
    pub name: String,
}

/// Finds `// interlace: name` comments in `text`.
pub(crate) fn scan(file: &str, text: &str) -> Vec<CommentMarker> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![];
    for (i, line) in lines.iter().enumerate() {
        let Some(pos) = line.find("// interlace:") else {
            continue;
        };
        let name: String = line[pos + "// interlace:".len()..]
            .trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect();
        if name.is_empty() {
            continue;
        }
        let code_before = !line[..pos].trim().is_empty();
        let gated = if code_before {
            Some(i)
        } else {
            (i + 1..lines.len()).find(|&j| {
                let t = lines[j].trim();
                !t.is_empty() && !t.starts_with("//")
            })
        };
        let line = gated.map_or(0, |g| g as u32 + 1);
        out.push(CommentMarker {
            file: file.to_string(),
            line,
            comment_line: i as u32 + 1,
            name,
        });
    }
    out
}

/// Every (file, line) -> code offsets where a run of that line starts, from
/// the DWARF line programs.
fn line_starts(
    sections: &[RawSection<'_>],
) -> Result<HashMap<(String, u32), Vec<u64>>, gimli::Error> {
    let find = |name: &str| -> &[u8] {
        sections
            .iter()
            .find(|s| s.name == Some(name))
            .map(|s| s.data)
            .unwrap_or(&[])
    };
    let dwarf = gimli::Dwarf::load(|id| -> Result<Slice<'_>, gimli::Error> {
        Ok(EndianSlice::new(find(id.name()), LittleEndian))
    })?;
    let mut out: HashMap<(String, u32), Vec<u64>> = HashMap::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let unit = dwarf.unit(header)?;
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let comp_dir = unit
            .comp_dir
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut names: HashMap<u64, String> = HashMap::new();
        let mut rows = program.rows();
        let mut previous: Option<(u64, u32)> = None;
        while let Some((header, row)) = rows.next_row()? {
            if row.end_sequence() {
                previous = None;
                continue;
            }
            let index = row.file_index();
            if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(index) {
                let Some(entry) = row.file(header) else {
                    continue;
                };
                let mut dir = String::new();
                if let Some(d) = entry.directory(header) {
                    dir = dwarf.attr_string(&unit, d)?.to_string_lossy().into_owned();
                }
                let name = dwarf
                    .attr_string(&unit, entry.path_name())?
                    .to_string_lossy()
                    .into_owned();
                slot.insert(join(&comp_dir, &join(&dir, &name)));
            }
            let line = row.line().map_or(0, |l| l.get() as u32);
            if previous != Some((index, line)) {
                out.entry((names[&index].clone(), line))
                    .or_default()
                    .push(row.address());
            }
            previous = Some((index, line));
        }
    }
    Ok(out)
}

fn join(dir: &str, name: &str) -> String {
    if name.starts_with('/') || dir.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", dir.trim_end_matches('/'))
    }
}

/// The comment markers in the program's own sources (those the line table
/// names, library sources skipped), and their names by id.
pub(crate) fn find(sections: &[RawSection<'_>]) -> (Vec<CommentMarker>, Vec<String>) {
    let starts = line_starts(sections).unwrap_or_default();
    let mut files: Vec<&String> = starts.keys().map(|(f, _)| f).collect();
    files.sort();
    files.dedup();
    let mut markers = vec![];
    for file in files {
        if is_library_path(file) {
            continue;
        }
        // Sources that are not on this machine hold no markers we can read.
        if let Ok(text) = std::fs::read_to_string(file) {
            markers.extend(scan(file, &text));
        }
    }
    let mut names: Vec<String> = vec![];
    for m in &markers {
        if !names.contains(&m.name) {
            names.push(m.name.clone());
        }
    }
    (markers, names)
}

/// Where the markers go: before the first scheduling point of each gated
/// line (its program-level line, inline frames included), once per function.
pub(crate) struct MarkerLines {
    /// (file, gated line) -> marker id.
    lines: HashMap<(String, u32), u32>,
    markers: Vec<CommentMarker>,
}

impl MarkerLines {
    pub fn new(markers: Vec<CommentMarker>, names: &[String]) -> MarkerLines {
        let lines = markers
            .iter()
            .map(|m| {
                (
                    (m.file.clone(), m.line),
                    names.iter().position(|n| *n == m.name).unwrap() as u32,
                )
            })
            .collect();
        MarkerLines { lines, markers }
    }

    pub fn is_empty(&self) -> bool {
        self.markers.is_empty()
    }

    /// The marker gating source line `(file, line)`, if any.
    pub fn at(&self, file: &str, line: u32) -> Option<u32> {
        self.lines.get(&(file.to_string(), line)).copied()
    }

    /// Errors for the first marker that was never placed.
    pub fn check_placed(&self, placed: &HashSet<(String, u32)>) -> Result<(), Error> {
        for m in &self.markers {
            if m.line == 0 || !placed.contains(&(m.file.clone(), m.line)) {
                return Err(Error::MarkerNotPlaced {
                    file: m.file.clone(),
                    line: m.comment_line,
                    name: m.name.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_own_line_markers() {
        let src = "fn f() {\n    let a = x; // interlace: read_x\n    // interlace: write_x\n\n    x = a + 1;\n}\n// interlace: nowhere\n";
        let m = scan("f.rs", src);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].name.as_str(), m[0].line), ("read_x", 2));
        assert_eq!((m[1].name.as_str(), m[1].line), ("write_x", 5));
        assert_eq!(
            (m[2].name.as_str(), m[2].line, m[2].comment_line),
            ("nowhere", 0, 7)
        );
    }
}
