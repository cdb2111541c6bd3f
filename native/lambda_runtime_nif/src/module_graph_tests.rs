//! The crate's modules build on each other in one direction: no two import
//! each other, directly or through others. An import is any `crate::name`
//! (or, inside `json/`, `super::name`) outside a comment; `#[cfg(test)]`
//! modules count like the rest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name -> the modules it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for (dir, prefix, marker) in [
        (src.clone(), "", "crate::"),
        (src.join("json"), "json::", "super::"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let name = match (prefix, stem) {
                (_, "lib") => continue,
                ("", "mod") => continue,
                ("json::", "mod") => "json".to_string(),
                _ => format!("{prefix}{stem}"),
            };
            let text = std::fs::read_to_string(&path).unwrap();
            let mut names = BTreeSet::new();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices(marker) {
                    let rest = &line[i + marker.len()..];
                    let ident: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // `super::*` / `super::name` inside a file's own test module
                    // refers to that file, not a sibling.
                    let target = if marker == "crate::" {
                        ident
                    } else if ident.is_empty() || !dir.join(format!("{ident}.rs")).exists() {
                        continue;
                    } else {
                        format!("json::{ident}")
                    };
                    if !target.is_empty() && target != name {
                        names.insert(target);
                    }
                }
            }
            graph.insert(name, names);
        }
    }
    graph
}

/// A loop through `from`, if there is one (depth-first search).
fn find_loop(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|n| n == node) {
        let mut cycle = path[i..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(cycle) = find_loop(graph, next, path, done) {
            return Some(cycle);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = imports();
    assert!(graph.contains_key("wire") && graph.contains_key("json::decode"));
    assert!(graph["client"].contains("post"), "the scan sees imports");
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = find_loop(&graph, node, &mut Vec::new(), &mut done) {
            panic!("modules import each other: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn wire_builds_on_nothing_but_address() {
    let graph = imports();
    let wire: Vec<&String> = graph["wire"].iter().collect();
    assert_eq!(wire, vec!["address"]);
}
