//! Build script: on Windows targets, compiles the icon and the version
//! information into the executables (an .rc resource script, compiled by
//! windres from mingw-w64 for `*-windows-gnu`, rc.exe/llvm-rc for `-msvc`).
//! Other targets need nothing, so the script only asks to rerun when its
//! inputs change.
//!
//! Resource script format: Microsoft Learn, "VERSIONINFO resource" and
//! "ICON resource" (Win32 > Menus and other resources > Resource-definition
//! statements).

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=packaging/windows/portwise.ico");
    // CARGO_CFG_TARGET_OS is the target's, not the host's: a cross build
    // from Linux gets "windows" here.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    if let Err(e) = windows_resource() {
        // An .exe without its icon and version must not ship unnoticed.
        eprintln!(
            "portwise build.rs: cannot compile the icon and version resource: {e}\n\
             (a cross build from Linux needs mingw-w64's windres: apt-get install binutils-mingw-w64-x86-64)"
        );
        std::process::exit(1);
    }
}

fn windows_resource() -> Result<(), String> {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let out_dir = env::var("OUT_DIR").map_err(|e| e.to_string())?;
    let icon = Path::new(&manifest_dir).join("packaging/windows/portwise.ico");
    let version = env::var("CARGO_PKG_VERSION").map_err(|e| e.to_string())?;
    let description = env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default();
    let rc = resource_script(&icon.to_string_lossy(), &version, &description);
    let rc_path = Path::new(&out_dir).join("portwise.rc");
    fs::write(&rc_path, rc).map_err(|e| format!("writing {}: {e}", rc_path.display()))?;
    embed_resource::compile(&rc_path, embed_resource::NONE)
        .manifest_required()
        .map_err(|e| e.to_string())
}

/// The numeric form of "1.2.3" (with any "-pre" suffix dropped): "1,2,3,0".
fn version_numbers(version: &str) -> String {
    let core = version.split(['-', '+']).next().unwrap_or("0");
    let mut parts: Vec<u16> = core
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .take(4)
        .collect();
    parts.resize(4, 0);
    parts
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Quotes a string for a resource script ("" escapes a quote; the path's
/// backslashes are doubled).
fn rc_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\"\""))
}

fn resource_script(icon: &str, version: &str, description: &str) -> String {
    let numbers = version_numbers(version);
    let version = rc_string(version);
    let description = rc_string(description);
    let icon = rc_string(icon);
    // Resource ids: 1 for the icon, so Explorer and the taskbar (which take
    // the lowest-numbered icon group) and winit's window icon find it.
    format!(
        r#"#pragma code_page(65001)
1 ICON {icon}

1 VERSIONINFO
FILEVERSION {numbers}
PRODUCTVERSION {numbers}
FILEOS 0x40004
FILETYPE 0x1
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "The portwise developers"
      VALUE "FileDescription", {description}
      VALUE "FileVersion", {version}
      VALUE "InternalName", "portwise"
      VALUE "LegalCopyright", "MIT License"
      VALUE "OriginalFilename", "portwise.exe"
      VALUE "ProductName", "portwise"
      VALUE "ProductVersion", {version}
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"#
    )
}
