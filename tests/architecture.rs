//! The layering rules, checked on the source tree: the engine and the
//! window's state (src/state.rs, src/state/) never import egui,
//! `#[cfg(target_os ...)]` appears only under src/platform/, and every
//! thread is named (std::thread::Builder, not bare `thread::spawn`).

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
    // state/ is the window's model: egui-free by design so it is testable
    // without a window.
    let engine = [
        "sockets", "ports", "bind", "stop", "tuning", "handoff", "platform", "util", "state",
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

/// Threads show up by name in debuggers, `top -H` and panic messages, so
/// every thread is started through `std::thread::Builder::name`.
#[test]
fn threads_are_named() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    assert!(files.len() > 5, "sources not found under {:?}", src());
    let offenders: Vec<String> = files
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines()
                .enumerate()
                .filter(|(_, l)| {
                    let l = l.trim_start();
                    !l.starts_with("//")
                        && (l.contains("thread::spawn(")
                            || l.contains("use std::thread::spawn")
                            || (l.contains("use std::thread::{") && l.contains("spawn")))
                })
                .map(|(i, _)| format!("{}:{}", p.display(), i + 1))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "unnamed threads (use std::thread::Builder::new().name(..)): {offenders:?}"
    );
}
