//! The layering rules, checked on the source tree: the engine never imports
//! egui, and `#[cfg(target_os ...)]` appears only under src/platform/.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn engine_never_imports_egui() {
    let engine = [
        "sockets", "ports", "bind", "stop", "tuning", "platform", "util",
    ];
    let mut files = Vec::new();
    for m in engine {
        rust_files(&src().join(m), &mut files);
    }
    // A single-file module (e.g. src/sampler.rs) counts too if it exists.
    for single in ["sampler.rs", "state.rs"] {
        let p = src().join(single);
        if p.exists() {
            files.push(p);
        }
    }
    assert!(
        files.len() > 5,
        "engine sources not found under {:?}",
        src()
    );
    let offenders: Vec<_> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines().any(|l| {
                let l = l.trim_start();
                !l.starts_with("//")
                    && (l.contains("egui::") || l.contains("use egui") || l.contains("eframe"))
            })
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "engine files import egui/eframe: {offenders:?}"
    );
}

#[test]
fn os_differences_live_only_in_platform() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let platform = src().join("platform");
    let offenders: Vec<_> = files
        .iter()
        .filter(|p| !p.starts_with(&platform))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("target_os")
                || text.contains("cfg(windows)")
                || text.contains("cfg(unix)")
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "OS-specific code outside src/platform: {offenders:?}"
    );
}
