//! The crate's layering (see the crate docs, "Layers"), checked on its
//! source: a module never names a module of a higher layer (`crate::x`
//! outside comments), and the two tiers never name each other. Also keeps
//! every source file short, as STYLE.md asks.

use std::path::{Path, PathBuf};

/// The top-level modules, bottom layer first; modules on one line share a
/// layer.
const LAYERS: &[&[&str]] = &[
    &["abi"],
    &["plan"],
    &["code", "helpers"],
    &["cranelift", "baseline"],
    &["cache", "crosscheck"],
    &["worker"],
    &["engine"],
];

/// The longest a source file of the crate may be.
const MAX_LINES: usize = 620;

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`None` for `lib.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib").then_some(name)
}

/// The `crate::x` paths a line of code names (comments left out).
fn named_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(at, _)| code[at + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
        .collect()
}

#[test]
fn no_module_names_a_higher_layer_and_the_tiers_are_apart() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut bad = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        let own = layer(&module).unwrap_or_else(|| panic!("{module} is in no layer"));
        let text = std::fs::read_to_string(file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            for named in named_modules(line) {
                let Some(theirs) = layer(&named) else { continue };
                let tiers = own == theirs && named != module;
                if theirs > own || tiers {
                    bad.push(format!("{}:{}: {module} names {named}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
}

#[test]
fn no_source_file_is_long() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).expect("readable").lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{}: {n} lines", f.display()))
        .collect();
    assert!(long.is_empty(), "split these by topic:\n{}", long.join("\n"));
}
