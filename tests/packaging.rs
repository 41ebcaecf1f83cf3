//! The packaging files under packaging/: the macOS bundle script run for
//! real (with this build's binary standing in for a macOS one) and its
//! Info.plist parsed; the Linux desktop entry, AppStream metadata and icons
//! checked against each other, against the window's app id, and against
//! their validators when those are installed; the .deb asset list and the
//! Windows icon checked for what they claim to contain.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 24 || &data[..8] != b"\x89PNG\r\n\x1a\n" || &data[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(data[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(data[20..24].try_into().ok()?);
    Some((w, h))
}

/// The value of `key=` in the [Desktop Entry] group.
fn desktop_value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_owned)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The app id the window code passes to `with_app_id("...")`.
fn window_app_ids() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut ids = Vec::new();
    for f in files {
        let text = read(&f);
        for part in text.split("with_app_id(\"").skip(1) {
            if let Some(end) = part.find('"') {
                ids.push(part[..end].to_owned());
            }
        }
    }
    ids
}

/// Runs `program args` if it is installed: Some((success, stdout+stderr)).
fn run_if_installed(program: &str, args: &[&str]) -> Option<(bool, String)> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

#[test]
fn macos_bundle_script_builds_a_well_formed_bundle() {
    let script = root().join("packaging/macos/make-app.sh");
    let out = tempfile::tempdir().expect("tempdir");
    let binary = env!("CARGO_BIN_EXE_portwise");
    let Some(run) = Command::new("bash")
        .arg(&script)
        .arg(binary)
        .arg(out.path())
        .output()
        .map_err(|e| eprintln!("SKIPPED: cannot run bash ({e})"))
        .ok()
    else {
        return;
    };
    assert!(
        run.status.success(),
        "make-app.sh failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let app = out.path().join("portwise.app");
    let contents = app.join("Contents");
    // Info.plist, parsed by a real plist parser.
    let plist = plist::Value::from_file(contents.join("Info.plist")).expect("Info.plist parses");
    let dict = plist.as_dictionary().expect("Info.plist is a dictionary");
    let string = |key: &str| -> String {
        dict.get(key)
            .and_then(plist::Value::as_string)
            .unwrap_or_else(|| panic!("Info.plist has no string {key}"))
            .to_owned()
    };
    assert_eq!(string("CFBundleIdentifier"), "io.github.portwise.portwise");
    assert_eq!(string("CFBundlePackageType"), "APPL");
    assert_eq!(string("CFBundleInfoDictionaryVersion"), "6.0");
    assert_eq!(string("CFBundleName"), "portwise");
    let version = env!("CARGO_PKG_VERSION");
    let numeric = version.split(['-', '+']).next().unwrap_or(version);
    assert_eq!(string("CFBundleShortVersionString"), numeric);
    assert_eq!(string("CFBundleVersion"), numeric);
    assert_eq!(
        dict.get("NSHighResolutionCapable")
            .and_then(plist::Value::as_boolean),
        Some(true)
    );

    // The executable the plist names is the binary we passed, executable.
    let exe = contents.join("MacOS").join(string("CFBundleExecutable"));
    let copied = std::fs::read(&exe).expect("the bundle's executable exists");
    assert_eq!(copied, std::fs::read(binary).expect("read the binary"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&exe)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "{} is not executable", exe.display());
    }
    assert_eq!(
        std::fs::read(contents.join("PkgInfo")).expect("PkgInfo"),
        b"APPL????"
    );

    // The icon the plist names is a well-formed .icns of PNG entries.
    let icns_path = contents
        .join("Resources")
        .join(format!("{}.icns", string("CFBundleIconFile")));
    let icns = std::fs::read(&icns_path).expect("the .icns exists");
    assert_eq!(&icns[..4], b"icns");
    let total = u32::from_be_bytes(icns[4..8].try_into().expect("4 bytes")) as usize;
    assert_eq!(total, icns.len(), "the .icns header's length");
    let mut at = 8;
    let mut sizes = Vec::new();
    while at < icns.len() {
        assert!(at + 8 <= icns.len(), "truncated .icns entry at {at}");
        let kind = String::from_utf8_lossy(&icns[at..at + 4]).into_owned();
        let len = u32::from_be_bytes(icns[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        assert!(len > 8 && at + len <= icns.len(), "bad length of {kind}");
        let (w, h) = png_size(&icns[at + 8..at + len])
            .unwrap_or_else(|| panic!("{kind} does not hold a PNG"));
        // Apple's type codes, by pixel size (iconutil writes the same).
        let want = match kind.as_str() {
            "icp4" => 16,
            "icp5" | "ic11" => 32,
            "ic12" => 64,
            "ic07" => 128,
            "ic08" | "ic13" => 256,
            "ic09" | "ic14" => 512,
            "ic10" => 1024,
            other => panic!("unexpected .icns entry {other}"),
        };
        assert_eq!((w, h), (want, want), "{kind}");
        sizes.push(want);
        at += len;
    }
    for needed in [16, 32, 128, 256, 512, 1024] {
        assert!(sizes.contains(&needed), "no {needed} px icon in {sizes:?}");
    }

    // Bad input: a usage error, not a half-made bundle.
    let bad = Command::new("bash")
        .arg(&script)
        .arg(out.path().join("no-such-binary"))
        .arg(out.path().join("elsewhere"))
        .output()
        .expect("run bash");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such binary"));
    assert!(!out.path().join("elsewhere").exists());
}

#[test]
fn desktop_entry_matches_the_window_and_the_metainfo() {
    let desktop = read(&root().join("packaging/linux/portwise.desktop"));
    // Desktops match a window to its entry by WM_CLASS (X11) or app id
    // (Wayland, where the entry's file name must be the app id).
    let wm_class = desktop_value(&desktop, "StartupWMClass").expect("StartupWMClass");
    let ids = window_app_ids();
    assert_eq!(ids, vec![wm_class.clone()], "with_app_id(...) in src/");
    assert_eq!(format!("{wm_class}.desktop"), "portwise.desktop");
    assert_eq!(desktop_value(&desktop, "Exec").as_deref(), Some("portwise"));

    let icon = desktop_value(&desktop, "Icon").expect("Icon");
    let hicolor = root().join("packaging/icons/hicolor");
    for n in [16, 24, 32, 48, 64, 128, 256, 512] {
        let path = hicolor.join(format!("{n}x{n}/apps/{icon}.png"));
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(png_size(&data), Some((n, n)), "{}", path.display());
    }
    let svg = read(&hicolor.join(format!("scalable/apps/{icon}.svg")));
    assert!(svg.contains("<svg") && svg.contains("viewBox=\"0 0 256 256\""));

    let metainfo = read(&root().join("packaging/linux/io.github.portwise.portwise.metainfo.xml"));
    assert!(metainfo.contains("<id>io.github.portwise.portwise</id>"));
    assert!(metainfo.contains("<launchable type=\"desktop-id\">portwise.desktop</launchable>"));
    assert!(metainfo.contains("<binary>portwise</binary>"));
    assert!(metainfo.contains(&format!(
        "<release version=\"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
    // Every screenshot it names is one in docs/screenshots.
    let shots: Vec<&str> = metainfo
        .split("/docs/screenshots/")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    assert!(shots.len() >= 3, "screenshots: {shots:?}");
    for shot in shots {
        assert!(
            root().join("docs/screenshots").join(shot).is_file(),
            "metainfo names a missing screenshot {shot}"
        );
    }
}

#[test]
fn linux_files_pass_their_validators() {
    let desktop = root().join("packaging/linux/portwise.desktop");
    let metainfo = root().join("packaging/linux/io.github.portwise.portwise.metainfo.xml");
    let desktop = desktop.to_string_lossy();
    let metainfo = metainfo.to_string_lossy();
    match run_if_installed("desktop-file-validate", &[&desktop]) {
        // It prints hints even when valid; any line at all is worth fixing.
        Some((ok, out)) => assert!(ok && out.trim().is_empty(), "desktop-file-validate: {out}"),
        None => eprintln!("SKIPPED: desktop-file-validate is not installed (desktop-file-utils)"),
    }
    match run_if_installed("appstreamcli", &["validate", "--no-net", &metainfo]) {
        Some((ok, out)) => assert!(ok, "appstreamcli validate: {out}"),
        None => eprintln!("SKIPPED: appstreamcli is not installed (appstream)"),
    }
}

#[test]
fn deb_assets_exist() {
    let manifest = read(&root().join("Cargo.toml"));
    let deb = manifest
        .split("[package.metadata.deb]")
        .nth(1)
        .expect("[package.metadata.deb] in Cargo.toml");
    let assets = deb
        .split("assets = [")
        .nth(1)
        .expect("assets in [package.metadata.deb]");
    let mut sources = Vec::new();
    for line in assets.lines() {
        let line = line.trim();
        if line == "]" {
            break;
        }
        if let Some(rest) = line.strip_prefix("[\"") {
            let source = rest.split('"').next().expect("a quoted source");
            sources.push(source.to_owned());
        }
    }
    assert!(sources.contains(&"target/release/portwise".to_owned()));
    for s in sources.iter().filter(|s| !s.starts_with("target/")) {
        assert!(root().join(s).is_file(), "deb asset {s} is missing");
    }
    for n in [48, 64, 128, 256, 512] {
        let icon = format!("packaging/icons/hicolor/{n}x{n}/apps/portwise.png");
        assert!(sources.contains(&icon), "the .deb lacks {icon}");
    }
}

#[test]
fn windows_icon_holds_the_usual_sizes() {
    let ico = std::fs::read(root().join("packaging/windows/portwise.ico")).expect("portwise.ico");
    assert_eq!(
        &ico[..4],
        &[0, 0, 1, 0],
        "ICONDIR: reserved 0, type 1 (icon)"
    );
    let count = u16::from_le_bytes([ico[4], ico[5]]) as usize;
    let mut sizes = Vec::new();
    for i in 0..count {
        let e = &ico[6 + 16 * i..6 + 16 * (i + 1)];
        let len = u32::from_le_bytes(e[8..12].try_into().expect("4 bytes")) as usize;
        let offset = u32::from_le_bytes(e[12..16].try_into().expect("4 bytes")) as usize;
        let (w, h) = png_size(&ico[offset..offset + len]).expect("a PNG entry");
        // The directory stores 256 as 0.
        assert_eq!(u32::from(e[0]), w % 256);
        assert_eq!(w, h);
        sizes.push(w);
    }
    for needed in [16, 32, 48, 256] {
        assert!(sizes.contains(&needed), "no {needed} px image in {sizes:?}");
    }
}
