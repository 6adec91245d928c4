//! The shape of the source: in each library crate of the workspace, the
//! modules depend on each other without a cycle (read from their `crate::`
//! paths), and no source file holds more than 500 lines before its tests.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, skipping build output and test folders.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if ![
                "target",
                ".git",
                "tests",
                "benches",
                "examples",
                "ui",
                "migrations",
            ]
            .contains(&name.as_str())
            {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The text before the file's `#[cfg(test)] mod ...` (a line of its own,
/// followed by the module).
fn before_tests(text: &str) -> &str {
    let mut at = 0;
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod "))
        {
            return &text[..at];
        }
        at += line.len();
    }
    text
}

/// The code before the file's tests, without line comments.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = before_tests(&text);
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find("//") {
            // A `//` inside a string (a URL) ends nothing.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The first segment of each path after `prefix` (`crate::`, or the
/// `super::` that reaches the crate root), `use crate::{a, b::c}` giving `a`
/// and `b`.
fn crate_targets(code: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        // `super::super::` is not `super::` twice from here.
        let before = &rest[..at];
        rest = &rest[at + prefix.len()..];
        if prefix.starts_with("super")
            && (before.ends_with("super::") || rest.starts_with("super::"))
        {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut part = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    _ => {}
                }
                if c == ',' && depth == 0 {
                    found.push(first_word(&part));
                    part.clear();
                } else {
                    part.push(c);
                }
            }
            found.push(first_word(&part));
        } else {
            found.push(first_word(rest));
        }
    }
    found.retain(|w| !w.is_empty());
    found
}

fn first_word(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// `pub use module::{Name, ...}` in `lib.rs`: which module a root name
/// comes from.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for statement in lib.split(';') {
        // Attributes (`#[cfg(...)]`, `#[doc(inline)]`) before the item.
        let mut statement = statement.trim();
        while let Some(rest) = statement.strip_prefix("#[") {
            statement = rest
                .split_once(']')
                .map_or("", |(_, after)| after)
                .trim_start();
        }
        let Some(path) = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("pub(crate) use "))
        else {
            continue;
        };
        let path = path
            .trim_start_matches("crate::")
            .trim_start_matches("self::");
        let Some((module, names)) = path.split_once("::") else {
            continue;
        };
        for name in names.trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.trim();
            let shown = name.rsplit(" as ").next().unwrap_or(name);
            let shown = shown.rsplit("::").next().unwrap_or(shown).trim();
            if !shown.is_empty() {
                map.insert(shown.to_owned(), module.trim().to_owned());
            }
        }
    }
    map
}

/// The modules of the crate whose root is `src/lib.rs`, each with the
/// modules it names.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    // Each module's files, with how many `super::` reach the crate root
    // from each (1 for `a.rs` and `a/mod.rs`, 2 for `a/b.rs`...).
    let mut modules: BTreeMap<String, Vec<(PathBuf, usize)>> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "lib.rs" || name == "main.rs" {
            continue;
        }
        if let Some(module) = name.strip_suffix(".rs") {
            modules
                .entry(module.to_owned())
                .or_default()
                .push((path, 1));
        } else if path.is_dir() {
            let mut files = Vec::new();
            rust_files(&path, &mut files);
            let depth = |file: &Path| {
                let inner = file.strip_prefix(src).unwrap().components().count();
                if file.ends_with("mod.rs") {
                    inner - 1
                } else {
                    inner
                }
            };
            let files = files.into_iter().map(|f| {
                let d = depth(&f);
                (f, d)
            });
            modules.entry(name).or_default().extend(files);
        }
    }
    let names = reexports(&code(&src.join("lib.rs")));
    let mut graph = BTreeMap::new();
    for (module, files) in &modules {
        let mut edges = BTreeSet::new();
        for (file, depth) in files {
            let code = code(file);
            let to_root = "super::".repeat(*depth);
            let targets = crate_targets(&code, "crate::")
                .into_iter()
                .chain(crate_targets(&code, &to_root));
            for target in targets {
                let target = if modules.contains_key(&target) {
                    Some(target)
                } else {
                    names.get(&target).cloned()
                };
                if let Some(target) = target.filter(|t| t != module && modules.contains_key(t)) {
                    edges.insert(target);
                }
            }
        }
        graph.insert(module.clone(), edges);
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in &graph[&node] {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start.to_owned());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

fn library_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for dir in [".", "source", "runtime", "macros"] {
        let src = root().join(dir).join("src");
        if src.join("lib.rs").exists() {
            roots.push(src);
        }
    }
    roots
}

#[test]
fn the_modules_of_each_library_crate_form_no_cycle() {
    let roots = library_roots();
    assert_eq!(roots.len(), 4, "{roots:?}");
    let mut cycles = Vec::new();
    for src in roots {
        let graph = graph(&src);
        for module in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, module) {
                cycles.push(format!("{}: {}", src.display(), cycle.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_check_finds_a_cycle_where_there_is_one() {
    // The reader and the search on a made-up crate, so that the test above
    // cannot pass by reading nothing.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::write(
        src.join("lib.rs"),
        "mod a;\nmod b;\nmod c;\nmod d;\n#[doc(inline)]\npub use a::Thing;\npub use c::{Other, More as Renamed};\n",
    )
    .unwrap();
    fs::write(
        src.join("a.rs"),
        "use crate::b::helper;\npub struct Thing;\n",
    )
    .unwrap();
    fs::write(
        src.join("b.rs"),
        "// crate::d in a comment\npub fn helper() -> crate::Thing { crate::Thing }\n",
    )
    .unwrap();
    // `super::` from a top-level file is the root; from a file of a folder
    // module, its own module until it reaches the root.
    fs::write(
        src.join("c.rs"),
        "use super::Renamed;\npub struct Other;\npub struct More;\n",
    )
    .unwrap();
    fs::create_dir(src.join("d")).unwrap();
    fs::write(src.join("d").join("mod.rs"), "mod inner;\n").unwrap();
    fs::write(
        src.join("d").join("inner.rs"),
        "use super::mod_item;\nuse super::super::Other;\n#[cfg(test)]\nmod tests { use crate::a::Thing; }\n",
    )
    .unwrap();
    let graph = graph(src);
    assert_eq!(graph["a"], BTreeSet::from(["b".to_owned()]));
    assert_eq!(graph["b"], BTreeSet::from(["a".to_owned()]));
    assert!(graph["c"].is_empty(), "{:?}", graph["c"]);
    assert_eq!(graph["d"], BTreeSet::from(["c".to_owned()]));
    assert!(cycle_from(&graph, "a").is_some());
    assert!(cycle_from(&graph, "d").is_none());
}

#[test]
fn no_source_file_is_longer_than_500_lines_before_its_tests() {
    let mut files = Vec::new();
    for dir in ["src", "source/src", "runtime/src", "macros/src", "cli/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 40, "{}", files.len());
    let mut long: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let text = fs::read_to_string(file).unwrap();
            let lines = before_tests(&text).lines().count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}
