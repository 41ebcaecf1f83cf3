//! linux: which container a process runs in, from its cgroup path, and the
//! container's name from the runtime's own files or CLI.
//!
//! A process's cgroup is in /proc/PID/cgroup, one "ID:controllers:path"
//! line per hierarchy (man7 cgroups(7)); seen from the host's cgroup
//! namespace the path names the container. The formats, innermost match
//! first (kind and minikube nest containerd inside Docker):
//!
//! - Docker (docs.docker.com/engine/containers/runmetrics/, "Find the cgroup
//!   for a given container"): `/system.slice/docker-<id>.scope` with the
//!   systemd cgroup driver, `/docker/<id>` with cgroupfs (v1 and v2).
//! - Podman (podman-run(1) `--cgroup-parent`: machine.slice with systemd,
//!   /libpod_parent with cgroupfs; the scope is `libpod-<id>.scope`,
//!   containers/podman libpod/container_internal_linux.go; rootless runs
//!   under user@UID.service). `libpod-conmon-<id>.scope` is the monitor,
//!   not the container.
//! - containerd through CRI (Kubernetes): runc names a systemd scope
//!   `<prefix>-<id>.scope` (opencontainers/runc libcontainer/cgroups/
//!   systemd/common.go `getUnitName()`), the prefix being `cri-containerd`
//!   (containerd's CRI "systemd_cgroup") or `crio` (CRI-O, conmon beside it
//!   as `crio-conmon-<id>.scope`); under the cgroupfs driver the path is
//!   `/kubepods/<qos>/pod<uid>/<id>` (kubernetes.io/docs "About cgroup v2",
//!   kubelet `--cgroup-driver`), which does not say the runtime.
//! - systemd-nspawn (systemd-nspawn(1), systemd.special(7) machine.slice):
//!   `/machine.slice/systemd-nspawn@<name>.service/payload`, or
//!   `/machine.slice/machine-<name>.scope` when registered with machined;
//!   unit names escape "-" as `\x2d` (systemd.unit(5) "String Escaping").
//! - LXC (lxc.container.conf(5) `lxc.cgroup.dir.container`, LXC 4.0 release
//!   notes): `/lxc.payload.<name>` (LXC 4+, also Incus/LXD), `/lxc/<name>`
//!   before; `lxc.monitor.<name>` is the monitor.

use std::collections::HashMap;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::sockets::model::Container;

/// The container process `pid` runs in, if any.
pub fn of_pid(pid: u32) -> Option<Container> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    parse_cgroup(&text)
}

/// The container a /proc/PID/cgroup text names, if any.
pub fn parse_cgroup(text: &str) -> Option<Container> {
    // The unified (v2) line "0::" first, then the v1 hierarchies; the
    // first that names a container wins.
    let mut unified = Vec::new();
    let mut legacy = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            unified.push(path);
        } else {
            legacy.push(path);
        }
    }
    unified.into_iter().chain(legacy).find_map(parse_path)
}

/// The innermost container a cgroup path names.
pub fn parse_path(path: &str) -> Option<Container> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate().rev() {
        let parent = if i > 0 { Some(parts[i - 1]) } else { None };
        if let Some(c) = parse_component(part, parent, &parts[..i]) {
            return Some(c);
        }
    }
    None
}

fn container(runtime: &str, id: &str, name: Option<String>) -> Option<Container> {
    Some(Container {
        runtime: runtime.to_string(),
        id: id.to_string(),
        name,
    })
}

fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn scoped_id<'a>(part: &'a str, prefix: &str) -> Option<&'a str> {
    let id = part.strip_prefix(prefix)?;
    let id = id.strip_suffix(".scope").unwrap_or(id);
    is_container_id(id).then_some(id)
}

/// Undo systemd's unit-name escaping (`\x2d` -> `-`).
fn unescape_unit(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\\x") {
        out.push_str(&rest[..at]);
        let hex = rest.get(at + 2..at + 4);
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if b.is_ascii() => {
                out.push(char::from(b));
                rest = &rest[at + 4..];
            }
            _ => {
                out.push_str("\\x");
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_component(part: &str, parent: Option<&str>, above: &[&str]) -> Option<Container> {
    if let Some(id) = scoped_id(part, "docker-") {
        return container("docker", id, None);
    }
    if parent == Some("docker") && is_container_id(part) {
        return container("docker", part, None);
    }
    if !part.starts_with("libpod-conmon-")
        && let Some(id) = scoped_id(part, "libpod-")
    {
        return container("podman", id, None);
    }
    if let Some(id) = scoped_id(part, "cri-containerd-") {
        return container("containerd", id, None);
    }
    if !part.starts_with("crio-conmon-")
        && let Some(id) = scoped_id(part, "crio-")
    {
        return container("cri-o", id, None);
    }
    if is_container_id(part) && above.iter().any(|p| p.starts_with("kubepods")) {
        return container("kubernetes", part, None);
    }
    if let Some(name) = part
        .strip_prefix("systemd-nspawn@")
        .and_then(|s| s.strip_suffix(".service"))
        .filter(|s| !s.is_empty())
    {
        let name = unescape_unit(name);
        return container("nspawn", &name, Some(name.clone()));
    }
    if parent == Some("machine.slice")
        && let Some(name) = part
            .strip_prefix("machine-")
            .and_then(|s| s.strip_suffix(".scope"))
            .filter(|s| !s.is_empty())
    {
        let name = unescape_unit(name);
        return container("nspawn", &name, Some(name.clone()));
    }
    if let Some(name) = part.strip_prefix("lxc.payload.").filter(|s| !s.is_empty()) {
        return container("lxc", name, Some(name.to_string()));
    }
    if parent == Some("lxc") && !part.starts_with("lxc.monitor") {
        return container("lxc", part, Some(part.to_string()));
    }
    None
}

/// How long a runtime's CLI may take to answer before portwise gives up on
/// it: a client without its engine (a `docker` with no daemon) fails fast,
/// a hung one must not hold up a snapshot.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(1);

/// Names of the containers with these ids, for one runtime: from the
/// runtime's own state files (root can read them, no daemon needed), then
/// from its CLI if it answers within [`CLI_TIMEOUT`]. Returns id -> name for
/// those found, and whether the CLI was asked and failed.
pub fn names(runtime: &str, ids: &[String]) -> (HashMap<String, String>, Option<String>) {
    let mut found = HashMap::new();
    match runtime {
        "docker" => {
            for id in ids {
                // moby daemon/container: <data-root>/containers/<id>/
                // config.v2.json holds "Name": "/web".
                let path = format!("/var/lib/docker/containers/{id}/config.v2.json");
                if let Some(name) = std::fs::read(&path)
                    .ok()
                    .and_then(|b| docker_config_name(&b))
                {
                    found.insert(id.clone(), name);
                }
            }
        }
        "podman" => {
            // containers/storage keeps every container's names in this file.
            if let Ok(b) =
                std::fs::read("/var/lib/containers/storage/overlay-containers/containers.json")
            {
                for (id, name) in podman_storage_names(&b) {
                    if ids.contains(&id) {
                        found.insert(id, name);
                    }
                }
            }
        }
        _ => {}
    }
    if ids.iter().all(|id| found.contains_key(id)) {
        return (found, None);
    }
    let (program, args): (&str, &[&str]) = match runtime {
        "docker" => ("docker", &["ps", "--no-trunc", "--format", "{{json .}}"]),
        "podman" => ("podman", &["ps", "--no-trunc", "--format", "json"]),
        "containerd" | "cri-o" | "kubernetes" => ("crictl", &["ps", "-o", "json"]),
        _ => return (found, None),
    };
    match run_with_timeout(program, args, CLI_TIMEOUT) {
        Ok(out) => {
            let listed = match runtime {
                "docker" => docker_ps_names(&out),
                "podman" => podman_ps_names(&out),
                _ => crictl_ps_names(&out),
            };
            for (id, name) in listed {
                // `docker ps` may print short ids: match on the prefix.
                if let Some(full) = ids.iter().find(|i| i.starts_with(&id) && !id.is_empty()) {
                    found.entry(full.clone()).or_insert(name);
                }
            }
            (found, None)
        }
        Err(e) => (found, Some(e)),
    }
}

/// Run `program args`, give up after `limit`. Its stdout, or why not.
pub fn run_with_timeout(program: &str, args: &[&str], limit: Duration) -> Result<Vec<u8>, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| format!("cannot read {program}'s output"))?;
    let reader = std::thread::Builder::new()
        .name("portwise-runtime-cli".into())
        .spawn(move || {
            let mut out = Vec::new();
            // Bounded: a runtime's list is small; stop at 16 MiB.
            let _ = (&mut stdout).take(16 << 20).read_to_end(&mut out);
            out
        })
        .map_err(|e| format!("cannot start a reader thread: {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                return Err(format!(
                    "{program} did not answer within {} s",
                    limit.as_secs_f64()
                ));
            }
            Err(e) => return Err(format!("cannot wait for {program}: {e}")),
        }
    };
    let out = reader
        .join()
        .map_err(|_| format!("reading {program}'s output failed"))?;
    if !status.success() {
        return Err(format!("{program} failed ({status})"));
    }
    Ok(out)
}

fn docker_config_name(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let name = v.get("Name")?.as_str()?;
    let name = name.strip_prefix('/').unwrap_or(name);
    (!name.is_empty()).then(|| name.to_string())
}

fn podman_storage_names(bytes: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(bytes) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|c| {
            let id = c.get("id")?.as_str()?;
            let name = c.get("names")?.as_array()?.first()?.as_str()?;
            Some((id.to_string(), name.to_string()))
        })
        .collect()
}

/// `docker ps --format '{{json .}}'`: one object per line, "ID" and
/// "Names" (comma-separated).
fn docker_ps_names(out: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            let id = v.get("ID")?.as_str()?;
            let names = v.get("Names")?.as_str()?;
            let first = names.split(',').next()?.trim();
            (!first.is_empty()).then(|| (id.to_string(), first.to_string()))
        })
        .collect()
}

/// `podman ps --format json`: an array of objects with "Id" and "Names".
fn podman_ps_names(out: &[u8]) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_slice(out) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|c| {
            let id = c.get("Id")?.as_str()?;
            let name = c.get("Names")?.as_array()?.first()?.as_str()?;
            Some((id.to_string(), name.to_string()))
        })
        .collect()
}

/// `crictl ps -o json`: {"containers": [{"id", "metadata": {"name"},
/// "labels": {"io.kubernetes.pod.name"}}]}; named "pod/container".
fn crictl_ps_names(out: &[u8]) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(out) else {
        return Vec::new();
    };
    let Some(items) = v.get("containers").and_then(|c| c.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|c| {
            let id = c.get("id")?.as_str()?;
            let name = c.get("metadata")?.get("name")?.as_str()?;
            let pod = c
                .get("labels")
                .and_then(|l| l.get("io.kubernetes.pod.name"))
                .and_then(|p| p.as_str());
            let full = match pod {
                Some(pod) => format!("{pod}/{name}"),
                None => name.to_string(),
            };
            Some((id.to_string(), full))
        })
        .collect()
}

/// The command line of process `pid`, split at NULs.
pub fn cmdline(pid: u32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// The pipe descriptor `fd` of process `pid` is, as its inode (the
/// `pipe:[N]` a /proc/PID/fd link shows, proc(5)); `None` if it is no pipe
/// or cannot be read (another user's process without root).
pub fn fd_pipe(pid: u32, fd: u32) -> Option<u64> {
    let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    target
        .to_str()?
        .strip_prefix("pipe:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The pipes process `pid` holds open: the inodes of its `pipe:[N]`
/// descriptors (proc(5), /proc/PID/fd). Empty when they cannot be read
/// (another user's process without root, or the process is gone).
pub fn pipe_inodes(pid: u32) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let mut out: Vec<u64> = entries
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter_map(|target| {
            target
                .to_str()?
                .strip_prefix("pipe:[")?
                .strip_suffix(']')?
                .parse()
                .ok()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The processes named `comm` (their /proc/PID/comm) other than `except`
/// that hold one of `pipes` open, sorted by pid: how a Podman
/// `rootlessport` is tied to its container's `conmon`, which holds the
/// other end of rootlessport's exit pipe.
pub fn pipe_peers(pipes: &[u64], comm: &str, except: u32) -> Vec<u32> {
    if pipes.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != except)
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end_matches('\n') == comm)
        })
        .filter(|&pid| pipe_inodes(pid).iter().any(|i| pipes.contains(i)))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2a9c1b7d0e4f5a8b6c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a";

    fn c(runtime: &str, id: &str, name: Option<&str>) -> Option<Container> {
        Some(Container {
            runtime: runtime.into(),
            id: id.into(),
            name: name.map(String::from),
        })
    }

    #[test]
    fn docker_paths_from_the_runmetrics_page() {
        // cgroup v2, systemd driver / cgroupfs driver.
        assert_eq!(
            parse_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")),
            c("docker", ID, None)
        );
        assert_eq!(
            parse_cgroup(&format!("0::/docker/{ID}\n")),
            c("docker", ID, None)
        );
        // cgroup v1, both drivers, several hierarchies.
        let v1 = format!(
            "12:memory:/docker/{ID}\n11:cpu,cpuacct:/docker/{ID}\n1:name=systemd:/docker/{ID}\n0::/\n"
        );
        assert_eq!(parse_cgroup(&v1), c("docker", ID, None));
        let v1 = format!("4:memory:/system.slice/docker-{ID}.scope\n");
        assert_eq!(parse_cgroup(&v1), c("docker", ID, None));
    }

    #[test]
    fn podman_paths_rootful_rootless_and_cgroupfs() {
        assert_eq!(
            parse_cgroup(&format!("0::/machine.slice/libpod-{ID}.scope\n")),
            c("podman", ID, None)
        );
        assert_eq!(
            parse_cgroup(&format!(
                "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope/container\n"
            )),
            c("podman", ID, None)
        );
        assert_eq!(
            parse_cgroup(&format!("0::/libpod_parent/libpod-{ID}\n")),
            c("podman", ID, None)
        );
        // conmon, the monitor, is not in the container.
        assert_eq!(
            parse_cgroup(&format!("0::/machine.slice/libpod-conmon-{ID}.scope\n")),
            None
        );
    }

    #[test]
    fn kubernetes_paths_name_the_innermost_runtime() {
        let systemd = format!(
            "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0d4e8f1a_2b3c_4d5e_6f70_8192a3b4c5d6.slice/cri-containerd-{ID}.scope\n"
        );
        assert_eq!(parse_cgroup(&systemd), c("containerd", ID, None));
        let crio = format!(
            "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice/crio-{ID}.scope\n"
        );
        assert_eq!(parse_cgroup(&crio), c("cri-o", ID, None));
        assert_eq!(
            parse_cgroup(&format!(
                "0::/kubepods.slice/kubepods-podx.slice/crio-conmon-{ID}.scope\n"
            )),
            None
        );
        let cgroupfs = format!("0::/kubepods/besteffort/pod0d4e8f1a-2b3c/{ID}\n");
        assert_eq!(parse_cgroup(&cgroupfs), c("kubernetes", ID, None));
        // kind: a node container (Docker) running containerd inside.
        let node = "a".repeat(64);
        let kind = format!(
            "0::/system.slice/docker-{node}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-podq.slice/cri-containerd-{ID}.scope\n"
        );
        assert_eq!(parse_cgroup(&kind), c("containerd", ID, None));
        // The node's own processes belong to the node container.
        let kubelet = format!("0::/system.slice/docker-{node}.scope/kubelet.slice\n");
        assert_eq!(parse_cgroup(&kubelet), c("docker", &node, None));
    }

    #[test]
    fn nspawn_and_lxc_paths_carry_the_name() {
        assert_eq!(
            parse_cgroup(
                "0::/machine.slice/systemd-nspawn@web\\x2d1.service/payload/system.slice/nginx.service\n"
            ),
            c("nspawn", "web-1", Some("web-1"))
        );
        assert_eq!(
            parse_cgroup("0::/machine.slice/machine-db.scope/payload\n"),
            c("nspawn", "db", Some("db"))
        );
        assert_eq!(
            parse_cgroup("0::/lxc.payload.web/system.slice/nginx.service\n"),
            c("lxc", "web", Some("web"))
        );
        assert_eq!(
            parse_cgroup("4:memory:/lxc/web\n"),
            c("lxc", "web", Some("web"))
        );
        assert_eq!(parse_cgroup("0::/lxc.monitor.web\n"), None);
    }

    #[test]
    fn host_paths_are_no_container() {
        for text in [
            "0::/\n",
            "0::/init.scope\n",
            "0::/system.slice/sshd.service\n",
            "0::/user.slice/user-1000.slice/session-2.scope\n",
            "0::/system.slice/docker.service\n",
            "0::/system.slice/docker-notanid.scope\n",
            "4:memory:/process_api/a188f4607deeb70d69b856446ab15464\n",
            "",
            "garbage without colons",
        ] {
            assert_eq!(parse_cgroup(text), None, "{text:?}");
        }
        assert_eq!(unescape_unit("a\\x2db\\xzz"), "a-b\\xzz");
    }

    #[test]
    fn runtime_outputs_parse() {
        assert_eq!(
            docker_config_name(br#"{"ID":"x","Name":"/web","State":{}}"#),
            Some("web".into())
        );
        assert_eq!(docker_config_name(b"{}"), None);
        let ps = br#"{"Command":"\"nginx\"","ID":"3f2a9c1b7d0e","Names":"web,alias","Ports":"0.0.0.0:8080->80/tcp"}
not json
{"ID":"bbbbbbbbbbbb","Names":"db"}"#;
        assert_eq!(
            docker_ps_names(ps),
            vec![
                ("3f2a9c1b7d0e".into(), "web".into()),
                ("bbbbbbbbbbbb".into(), "db".into())
            ]
        );
        let podman = format!(r#"[{{"Id":"{ID}","Names":["web"],"Ports":[]}}]"#);
        assert_eq!(
            podman_ps_names(podman.as_bytes()),
            vec![(ID.to_string(), "web".to_string())]
        );
        let storage = format!(r#"[{{"id":"{ID}","names":["api"],"image":"x"}}]"#);
        assert_eq!(
            podman_storage_names(storage.as_bytes()),
            vec![(ID.to_string(), "api".to_string())]
        );
        let crictl = format!(
            r#"{{"containers":[{{"id":"{ID}","metadata":{{"name":"nginx"}},"labels":{{"io.kubernetes.pod.name":"web-7d9"}}}}]}}"#
        );
        assert_eq!(
            crictl_ps_names(crictl.as_bytes()),
            vec![(ID.to_string(), "web-7d9/nginx".to_string())]
        );
    }

    #[test]
    fn a_cli_that_hangs_is_cut_off_and_a_missing_one_fails() {
        let start = Instant::now();
        let e = run_with_timeout("sleep", &["5"], Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("did not answer"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2));
        let e = run_with_timeout("portwise-no-such-runtime", &[], CLI_TIMEOUT).unwrap_err();
        assert!(e.starts_with("cannot run"), "{e}");
        assert_eq!(
            run_with_timeout("echo", &["hi"], CLI_TIMEOUT).unwrap(),
            b"hi\n"
        );
        assert!(run_with_timeout("false", &[], CLI_TIMEOUT).is_err());
    }

    #[test]
    fn this_process_has_a_readable_command_line() {
        let args = cmdline(std::process::id()).unwrap();
        assert!(!args.is_empty());
    }
}
