//! Copy this portwise binary to `~/.cache/portwise/portwise` on a remote
//! machine over the same ssh, after the user's consent, when the remote's
//! `uname -sm` matches this machine, and only after its sha256 matches.

use std::io::Write;
use std::process::Stdio;

use sha2::{Digest, Sha256};

use super::client::{Dest, Mode, Ssh, last_words};

/// What `uname -sm` prints on a machine this binary runs on, or None where
/// portwise cannot copy itself (Windows has no uname).
pub fn local_uname() -> Option<String> {
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "freebsd" => "FreeBSD",
        _ => return None,
    };
    let arch = match (os, std::env::consts::ARCH) {
        ("Darwin", "aarch64") => "arm64",
        (_, a) => a,
    };
    Some(format!("{os} {arch}"))
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The fixed remote command that receives the binary on stdin, prints its
/// sha256 and moves it into place only if it equals `expected` (64 hex
/// digits this side computed: no user text).
fn receive_command(expected: &str) -> String {
    format!(
        "sh -c 'umask 077; d=\"$HOME/.cache/portwise\"; mkdir -p \"$d\" && \
cat > \"$d/portwise.part\" && chmod 700 \"$d/portwise.part\" && \
s=$( (sha256sum \"$d/portwise.part\" 2>/dev/null || shasum -a 256 \"$d/portwise.part\") | cut -d\" \" -f1) && \
echo \"$s\" && if [ \"$s\" = {expected} ]; then mv -f \"$d/portwise.part\" \"$d/portwise\"; \
else rm -f \"$d/portwise.part\"; exit 3; fi'"
    )
}

/// Copy the running binary to `dest`. Ok(message) on success.
pub fn install(ssh: &Ssh, dest: &Dest, mode: Mode) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    install_file(ssh, dest, mode, &exe)
}

/// Copy the portwise binary `exe` to `dest` (see [`install`]).
pub fn install_file(
    ssh: &Ssh,
    dest: &Dest,
    mode: Mode,
    exe: &std::path::Path,
) -> Result<String, String> {
    let here = local_uname().ok_or_else(|| {
        format!(
            "this portwise runs on {} and cannot copy itself to {dest}: install portwise there",
            std::env::consts::OS
        )
    })?;
    let out = ssh
        .command(dest, mode, "uname -sm")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot reach {dest}: {}",
            last_words(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    let there = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if there != here {
        return Err(format!(
            "{dest} is '{}', this portwise is built for '{here}': copy a portwise built for it \
             to ~/.cache/portwise/portwise there, or install it on PATH",
            super::shown(&there, 80)
        ));
    }
    let bytes = std::fs::read(exe).map_err(|e| format!("cannot read {}: {e}", exe.display()))?;
    let expected = sha256_hex(&bytes);
    let mut child = ssh
        .command(dest, mode, &receive_command(&expected))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ssh: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin for ssh")?;
    let writer = std::thread::Builder::new()
        .name("ssh-copy".into())
        .spawn(move || {
            let r = stdin.write_all(&bytes);
            drop(stdin);
            r
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("ssh failed: {e}"))?;
    let sent = writer
        .join()
        .map_err(|_| "copy thread failed".to_string())?;
    let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || sent.is_err() {
        let why = if got.len() == 64 && got != expected {
            format!(
                "sha256 mismatch: sent {expected}, {dest} has {}",
                super::shown(&got, 64)
            )
        } else {
            last_words(&String::from_utf8_lossy(&out.stderr))
        };
        return Err(format!("copying portwise to {dest} failed: {why}"));
    }
    if got != expected {
        return Err(format!(
            "copying portwise to {dest} failed: sha256 mismatch: sent {expected}, got '{}'",
            super::shown(&got, 80)
        ));
    }
    Ok(format!(
        "portwise: copied {} to {dest}:~/.cache/portwise/portwise (sha256 {expected} verified)",
        exe.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn receive_command_holds_only_the_hash() {
        let c = receive_command("ab12");
        assert!(c.contains("= ab12 ]"));
        assert!(c.starts_with("sh -c '") && c.ends_with('\''));
        // One quoted word for the remote shell: no inner single quotes.
        assert_eq!(c.matches('\'').count(), 2);
    }
}
