//! The layering ARCHITECTURE.md describes, checked on the source: a module
//! may use its own layer and the layers below it, never one above; `core`
//! uses neither clap nor the AWS SDK; only `aws` uses the AWS SDK; `aws` and
//! `scf` (the two platforms' provider layers) do not use each other and sit
//! above `platform`, the seam they implement.

use std::path::{Path, PathBuf};

/// Layers from the bottom: the rank of each top-level module.
fn rank(module: &str) -> Option<u8> {
    match module {
        "log" | "error" | "secrets" | "package" | "pace" => Some(0),
        "core" => Some(1),
        // The seam every command is written over; the providers implement it.
        "platform" => Some(2),
        // The two providers, side by side: neither uses the other.
        "aws" | "scf" => Some(3),
        "cli" | "report" => Some(4),
        "commands" => Some(5),
        _ => None,
    }
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The file a `crate::a::b::…` path leads to: the longest prefix that is a
/// module file (`a/b.rs` or `a/b/mod.rs`).
fn file_of(src: &Path, path: &[String]) -> Option<PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir = path[..n]
            .iter()
            .fold(src.to_path_buf(), |dir, part| dir.join(part));
        [dir.with_extension("rs"), dir.join("mod.rs")]
            .into_iter()
            .find(|file| file.is_file())
    })
}

/// Every `crate::…` path in `text`, split at `::` (a `{` ends it).
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    text.match_indices("crate::")
        .map(|(at, _)| {
            let rest = &text[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end]
                .split("::")
                .filter(|part| !part.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// The child modules a `mod.rs` (or `lib.rs`) uses by a relative path, such
/// as `pub use alias::AliasReport` or `deploy::run(…)`.
fn children_used(file: &Path, text: &str) -> Vec<PathBuf> {
    let dir = file.parent().unwrap();
    text.lines()
        .filter_map(|line| line.trim().trim_start_matches("pub ").strip_prefix("mod "))
        .map(|rest| rest.trim_end_matches(';').trim())
        .filter(|child| {
            let relative = format!("{child}::");
            text.match_indices(&relative).any(|(at, _)| {
                let before = text[..at].chars().next_back();
                !before.is_some_and(|c| c == ':' || c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .filter_map(|child| {
            [dir.join(format!("{child}.rs")), dir.join(child).join("mod.rs")]
                .into_iter()
                .find(|f| f.is_file())
        })
        .collect()
}

/// A cycle in `edges` (file → files it uses), if there is one.
fn find_cycle(edges: &[(PathBuf, Vec<PathBuf>)]) -> Option<Vec<PathBuf>> {
    fn visit(
        file: &PathBuf,
        edges: &[(PathBuf, Vec<PathBuf>)],
        stack: &mut Vec<PathBuf>,
        done: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(at) = stack.iter().position(|f| f == file) {
            return Some(stack[at..].to_vec());
        }
        if done.contains(file) {
            return None;
        }
        stack.push(file.clone());
        let next = edges
            .iter()
            .find(|(from, _)| from == file)
            .map(|(_, to)| to.clone());
        for to in next.unwrap_or_default() {
            if let Some(cycle) = visit(&to, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.push(file.clone());
        None
    }
    let (mut stack, mut done) = (Vec::new(), Vec::new());
    edges
        .iter()
        .find_map(|(file, _)| visit(file, edges, &mut stack, &mut done))
}

#[test]
fn no_source_file_is_part_of_an_import_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let edges: Vec<(PathBuf, Vec<PathBuf>)> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let mut used: Vec<PathBuf> = crate_paths(&text)
                .iter()
                .filter_map(|path| file_of(&src, path))
                .chain(children_used(file, &text))
                .filter(|used| used != file)
                .collect();
            used.sort();
            used.dedup();
            (file.clone(), used)
        })
        .collect();
    assert_eq!(find_cycle(&edges), None, "an import cycle among the source files");
}

/// The top-level modules a file names as `crate::<module>`.
fn used_modules(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(at, _)| {
            text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn every_module_uses_only_its_own_layer_and_those_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = top.trim_end_matches(".rs");
        let Some(own) = rank(module) else {
            continue; // lib.rs and main.rs sit above every layer
        };
        let text = std::fs::read_to_string(file).unwrap();
        for used in used_modules(&text) {
            let sideways = matches!((module, used.as_str()), ("aws", "scf") | ("scf", "aws"));
            if rank(&used).is_some_and(|r| r > own) || sideways {
                upward.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
        if module == "core" || own == 0 {
            for library in ["clap::", "aws_sdk_", "aws_config", "aws_smithy"] {
                assert!(!text.contains(library), "{} uses {library}", relative.display());
            }
        }
        if module != "aws" {
            assert!(
                !text.contains("aws_sdk_") && !text.contains("aws_config"),
                "{} uses the AWS SDK outside src/aws",
                relative.display()
            );
        }
    }
    assert!(upward.is_empty(), "imports pointing up: {upward:#?}");
    assert!(files.len() > 30, "the check saw only {} files", files.len());
}
