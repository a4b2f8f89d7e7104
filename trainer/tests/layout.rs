//! The source layout stays a DAG: no two files of `trainer/src` (or of `runtime/src`) import
//! each other, directly or through others. A file imports another when it names a path
//! `crate::…` that resolves to that file (a module file, or the file defining the module
//! that holds the item); `mod` declarations and `super::` paths (a test module reaching its
//! own file) do not count, nor do the unit-test modules at the end of files (a test may use
//! a shared test helper that itself builds on the file under test).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The file of module path `segs` under `src` (`a/b.rs` or `a/b/mod.rs`), if it exists.
fn module_file(src: &Path, segs: &[&str]) -> Option<PathBuf> {
    if segs.is_empty() {
        return None;
    }
    let joined: PathBuf = segs.iter().collect();
    [
        src.join(&joined).with_extension("rs"),
        src.join(&joined).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The deepest file a path `crate::a::b::…` reaches.
fn resolve(src: &Path, path: &[&str]) -> Option<PathBuf> {
    (1..=path.len())
        .rev()
        .find_map(|n| module_file(src, &path[..n]))
}

/// The `crate::` paths in `code`, with one level of `{a, b::c}` groups expanded.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        // A path like `pse_trainer::crate::` does not occur; skip `$crate` in macros.
        if code[..i].ends_with('$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let head: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if rest[end..].starts_with('{') {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let first: Vec<String> = item
                    .trim()
                    .split("::")
                    .map(|s| s.trim_start_matches('{').trim().to_string())
                    .filter(|s| !s.is_empty() && s != "self")
                    .collect();
                out.push(head.iter().cloned().chain(first).collect());
            }
        } else {
            out.push(head);
        }
    }
    out
}

/// Code without comments (so doc links and prose do not count as imports) and without its
/// unit-test module.
fn strip_comments(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let tests = lines.iter().position(|l| {
        let l = l.trim_start().trim_start_matches("pub(crate) ");
        l.starts_with("mod tests {") || l.starts_with("mod tests;")
    });
    lines[..tests.unwrap_or(lines.len())]
        .iter()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => *l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The file-level import graph of the crate in `src`.
fn graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut g = BTreeMap::new();
    for f in sources(src) {
        let code = strip_comments(&std::fs::read_to_string(&f).unwrap());
        let mut deps = BTreeSet::new();
        for path in crate_paths(&code) {
            let segs: Vec<&str> = path.iter().map(String::as_str).collect();
            if let Some(target) = resolve(src, &segs)
                && target != f
            {
                deps.insert(target);
            }
        }
        g.insert(f, deps);
    }
    g
}

/// A cycle in `g`, if any, as the files along it.
fn find_cycle(g: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        n: &PathBuf,
        g: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        mark: &mut BTreeMap<PathBuf, Mark>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        mark.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for m in g.get(n).into_iter().flatten() {
            match mark.get(m).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let at = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(m, g, mark, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        mark.insert(n.clone(), Mark::Done);
        None
    }
    let mut mark = BTreeMap::new();
    for n in g.keys() {
        if mark.get(n).copied().unwrap_or(Mark::New) == Mark::New
            && let Some(c) = visit(n, g, &mut mark, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// Imports allowed to close a cycle, as `(importer, imported)` relative to `src`: the
/// runtime's `kernel.rs` entry points dispatch at run time to the target kernels of `simd/`,
/// which compile `kernel.rs`'s generic code with target features enabled (or reuse its
/// helpers) — one unit, split so that all `unsafe` stays in `simd/`.
const ALLOWED: [(&str, &str); 4] = [
    ("kernel.rs", "simd/mod.rs"),
    ("kernel.rs", "simd/x86.rs"),
    ("kernel.rs", "simd/arm.rs"),
    ("kernel.rs", "simd/mve.rs"),
];

fn check(crate_dir: &str, min_files: usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join("src");
    let mut g = graph(&src);
    for (from, to) in ALLOWED {
        if let Some(deps) = g.get_mut(&src.join(from)) {
            deps.remove(&src.join(to));
        }
    }
    assert!(
        g.len() >= min_files,
        "only {} files found in {}",
        g.len(),
        src.display()
    );
    let edges: usize = g.values().map(BTreeSet::len).sum();
    assert!(
        edges >= min_files,
        "only {edges} imports found: the parser is broken"
    );
    if let Some(cycle) = find_cycle(&g) {
        let names: Vec<String> = cycle
            .iter()
            .map(|p| p.strip_prefix(&src).unwrap().display().to_string())
            .collect();
        panic!("{crate_dir}: import cycle {}", names.join(" → "));
    }
}

#[test]
fn trainer_files_import_no_cycle() {
    check("trainer", 40);
}

#[test]
fn runtime_files_import_no_cycle() {
    check("runtime", 15);
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("a")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(src.join("a/mod.rs"), "pub mod c;\nuse crate::b::Thing;\n").unwrap();
    std::fs::write(
        src.join("b.rs"),
        "pub struct Thing;\nuse crate::a::{c::Other};\n",
    )
    .unwrap();
    std::fs::write(
        src.join("a/c.rs"),
        "pub struct Other;\n// crate::b in a comment\n",
    )
    .unwrap();
    let g = graph(src);
    assert!(find_cycle(&g).is_none(), "{g:?}");
    std::fs::write(
        src.join("a/c.rs"),
        "pub struct Other;\nfn f() { crate::b::Thing; }\n",
    )
    .unwrap();
    let cycle = find_cycle(&graph(src)).expect("b → a/c → b");
    assert!(cycle.len() == 3, "{cycle:?}");
}
