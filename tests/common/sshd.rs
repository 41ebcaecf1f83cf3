//! A real OpenSSH server for the tests of other machines: Debian's sshd on
//! 127.0.0.1 on a random port, with throwaway host and user keys, and an
//! ssh_config to hand portwise through PORTWISE_SSH_COMMAND="ssh -F ...".
//! The remote is this machine; its HOME (sshd's SetEnv) is a temporary
//! directory, so a copy of portwise lands there, not in ~root.
//!
//! Aliases: `pw-test` and `pw-test-*` (good), `pw-changed` (known_hosts
//! holds another key), `pw-noauth` (a key sshd does not accept),
//! `pw-dead` (a port nobody listens on).

use std::io::Read as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    pub fn ssh_command(&self) -> String {
        format!("ssh -F {}", self.dir.path().join("ssh_config").display())
    }
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn keygen(path: &Path) -> bool {
    Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "portwise-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Start sshd, or say why not.
pub fn start_sshd() -> Result<Sshd, String> {
    // sshd refuses to start from a relative path, and wants its
    // privilege-separation directory.
    let sshd = Path::new("/usr/sbin/sshd");
    if !sshd.exists() {
        return Err("no /usr/sbin/sshd (apt-get install openssh-server)".into());
    }
    if Command::new("ssh").arg("-V").output().is_err() {
        return Err("no ssh client (apt-get install openssh-client)".into());
    }
    if unsafe { libc::geteuid() } != 0 {
        return Err("sshd on a test port needs root here".into());
    }
    std::fs::create_dir_all("/run/sshd").map_err(|e| format!("cannot create /run/sshd: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    std::fs::create_dir(d.join("home")).map_err(|e| e.to_string())?;
    if !keygen(&d.join("host_key")) || !keygen(&d.join("user_key")) || !keygen(&d.join("other_key"))
    {
        return Err("ssh-keygen failed".into());
    }
    std::fs::copy(d.join("user_key.pub"), d.join("authorized_keys")).map_err(|e| e.to_string())?;
    let host_pub = std::fs::read_to_string(d.join("host_key.pub")).map_err(|e| e.to_string())?;
    let other_pub = std::fs::read_to_string(d.join("other_key.pub")).map_err(|e| e.to_string())?;
    for attempt in 0..3 {
        let port = free_port();
        let dead = free_port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nSetEnv HOME={d}/home\nLogLevel ERROR\n",
                d = d.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {host_pub}"),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            d.join("known_hosts_changed"),
            format!("[127.0.0.1]:{port} {other_pub}"),
        )
        .map_err(|e| e.to_string())?;
        let common = "  HostName 127.0.0.1\n  User root\n  IdentitiesOnly yes\n  \
             GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n  \
             LogLevel ERROR\n";
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host pw-test pw-test-*\n  Port {port}\n  UserKnownHostsFile {d}/known_hosts\n  \
                 IdentityFile {d}/user_key\n{common}\
                 Host pw-changed\n  Port {port}\n  UserKnownHostsFile {d}/known_hosts_changed\n  \
                 IdentityFile {d}/user_key\n{common}\
                 Host pw-noauth\n  Port {port}\n  UserKnownHostsFile {d}/known_hosts\n  \
                 IdentityFile {d}/other_key\n{common}\
                 Host pw-dead\n  Port {dead}\n  UserKnownHostsFile {d}/known_hosts\n  \
                 IdentityFile {d}/user_key\n{common}",
                d = d.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let mut child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start sshd: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return Ok(Sshd { dir, child });
            }
            if let Ok(Some(_)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                if attempt == 2 {
                    return Err(format!("sshd exited: {}", err.trim()));
                }
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("sshd did not listen within 5 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err("sshd did not start".into())
}

impl Sshd {
    /// Put this build's portwise where the agent command looks first
    /// (~/.cache/portwise/portwise in the remote HOME), as `--yes` would.
    pub fn install_portwise(&self, exe: &Path) {
        let cache = self.home().join(".cache/portwise");
        std::fs::create_dir_all(&cache).unwrap();
        let to = cache.join("portwise");
        let _ = std::fs::remove_file(&to);
        if std::fs::hard_link(exe, &to).is_err() {
            std::fs::copy(exe, &to).unwrap();
        }
    }
}
