//! The layering rules, checked on the source tree: the engine and the
//! window's state (each src/window/<feature>/mod.rs) never import egui,
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
    // The window's state is checked feature by feature below.
    let engine = [
        "sockets", "ports", "bind", "stop", "tuning", "handoff", "platform", "util",
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

/// The platform layer sits at the bottom: it may use the plain socket model
/// (`sockets::model`, `sockets::raw`) and its own types, never the engine
/// above it, the window or the CLI (no `crate::bind`, `crate::ports`, ...).
#[test]
fn platform_imports_nothing_from_above() {
    let mut files = Vec::new();
    rust_files(&src().join("platform"), &mut files);
    assert!(files.len() > 10, "platform sources not found");
    let above = [
        "bind", "ports", "tuning", "stop", "cli", "window", "state", "ui", "app", "sampler",
    ];
    let mut offenders = Vec::new();
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for m in above {
                let needle = format!("crate::{m}");
                let hit = code.match_indices(&needle).any(|(i, _)| {
                    let next = code[i + needle.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if hit {
                    offenders.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "platform/ imports from the layers above it:\n{}",
        offenders.join("\n")
    );
    // One OS enum: no other `enum Os` / `enum OsKind` anywhere.
    let mut all = Vec::new();
    rust_files(&src(), &mut all);
    let dupes: Vec<_> = all
        .iter()
        .filter(|p| !p.ends_with("platform/types.rs"))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("enum Os ") || text.contains("enum OsKind ")
        })
        .collect();
    assert!(dupes.is_empty(), "a second OS enum: {dupes:?}");
}

/// The window's features keep state, messages and update in `mod.rs`
/// (testable without a window) and drawing in `view.rs`; the shared leaves
/// `ctx.rs` (egui-free) and `widgets.rs` name no feature and no shell.
/// Every folder of src/window/ is checked, including ones added later.
#[test]
fn window_features_state_is_egui_free_and_leaves_stay_leaves() {
    let window = src().join("window");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&window)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("mod.rs").is_file())
        .collect();
    folders.sort();
    let names: Vec<String> = folders
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for must in [
        "shell",
        "sockets",
        "free_port",
        "bind_test",
        "tuning",
        "stop",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "src/window/{must}/mod.rs is missing"
        );
    }
    let egui_free: Vec<PathBuf> = folders
        .iter()
        .map(|f| f.join("mod.rs"))
        .chain(
            ["ctx.rs", "tasks.rs", "shell/settings.rs"]
                .iter()
                .map(|f| window.join(f)),
        )
        .collect();
    for p in &egui_free {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let bad = text.lines().any(|l| {
            let l = l.trim_start();
            !l.starts_with("//")
                && (l.contains("egui::") || l.contains("use egui") || l.contains("eframe"))
        });
        assert!(!bad, "{} imports egui/eframe", p.display());
    }
    // A feature's messages are its own: its mod.rs never names the shell
    // (the shell wraps them in its Action and routes them).
    for f in folders.iter().filter(|f| !f.ends_with("shell")) {
        let p = f.join("mod.rs");
        let text = std::fs::read_to_string(&p).unwrap();
        let bad = text
            .lines()
            .any(|l| !l.trim_start().starts_with("//") && l.contains("window::shell"));
        assert!(!bad, "{} names the shell", p.display());
    }
    for (leaf, allowed) in [("ctx.rs", &["tasks"][..]), ("widgets.rs", &["ctx"][..])] {
        let text = std::fs::read_to_string(window.join(leaf)).unwrap();
        for l in text.lines().filter(|l| l.contains("crate::window::")) {
            let module = l
                .split("crate::window::")
                .nth(1)
                .and_then(|r| r.split(|c: char| !c.is_alphanumeric() && c != '_').next())
                .unwrap_or_default();
            assert!(
                allowed.contains(&module),
                "{leaf} is a leaf but uses crate::window::{module}"
            );
        }
    }
}
