//! The diagnosis over constructed snapshots: every cause, on every OS where
//! the words differ.

use super::*;
use crate::bind::{BindErrorInfo, Stage};
use crate::sockets::{OwnerRef, ProcessInfo, TcpState, port_use};

fn proc_(pid: u32, name: &str) -> ProcessInfo {
    ProcessInfo {
        pid,
        name: name.into(),
        user: Some("alice".into()),
        exe: None,
        cmdline: None,
    }
}

fn entry(
    proto: Proto,
    local: &str,
    remote: Option<&str>,
    state: Option<TcpState>,
    procs: Vec<ProcessInfo>,
) -> SocketEntry {
    let l: SocketAddr = local.parse().unwrap();
    let r: Option<SocketAddr> = remote.map(|r| r.parse().unwrap());
    SocketEntry {
        processes: procs,
        ..SocketEntry::new(proto, l, r, state)
    }
}

fn listener(local: &str, procs: Vec<ProcessInfo>) -> SocketEntry {
    entry(Proto::Tcp, local, None, Some(TcpState::Listen), procs)
}

fn tw(local: &str, remote: &str, left_ms: Option<u64>) -> SocketEntry {
    let mut e = entry(
        Proto::Tcp,
        local,
        Some(remote),
        Some(TcpState::TimeWait),
        vec![],
    );
    e.time_wait_expires_in_ms = left_ms;
    e
}

fn snap(sockets: Vec<SocketEntry>) -> Snapshot {
    let mut s = Snapshot {
        taken_at_unix_ms: 1,
        sockets,
        ..Default::default()
    };
    s.sort();
    s
}

fn facts(os: OsKind) -> SystemFacts {
    SystemFacts {
        os,
        privileged: match os {
            OsKind::Linux => Some(PrivilegedPorts {
                first_unprivileged: 1024,
                wildcard_exempt: false,
                setting: Some("net.ipv4.ip_unprivileged_port_start"),
                read_from_system: true,
            }),
            OsKind::Macos => Some(PrivilegedPorts {
                first_unprivileged: 1024,
                wildcard_exempt: true,
                setting: None,
                read_from_system: false,
            }),
            OsKind::Windows => None,
        },
        ephemeral: vec![PortRange::new(32768, 60999).unwrap()],
        reserved: vec![PortRange::single(9999)],
        excluded: vec![],
        local_addrs: vec!["127.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap()],
        time_wait_ms: Some(60_000),
        socket_units: vec![],
        elevated: false,
        fin_timeout_s: Some(60),
        user_names: vec![(0, "root".into())],
        alternatives: vec![],
    }
}

fn failure(class: ErrorClass, code: &str, errno: i32) -> ProbeFailure {
    ProbeFailure {
        stage: Stage::Bind,
        error: BindErrorInfo {
            code: code.into(),
            errno,
            message: "bind() failed: x".into(),
            class,
        },
        v6only: None,
    }
}

fn in_use_err() -> ProbeFailure {
    failure(ErrorClass::AddrInUse, "EADDRINUSE", 98)
}

fn req(addr: &str, port: u16) -> BindRequest {
    BindRequest::new(addr.parse().unwrap(), port, Proto::Tcp)
}

fn commands(d: &Diagnosis) -> Vec<String> {
    d.fixes.iter().filter_map(|f| f.command.clone()).collect()
}

#[test]
fn listener_on_the_same_address() {
    let s = snap(vec![listener(
        "127.0.0.1:8080",
        vec![proc_(4242, "python3")],
    )]);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert!(
        d.explanation
            .contains("python3 (pid 4242) already listens on 127.0.0.1:8080")
    );
    assert!(d.explanation.contains("SO_REUSEADDR does not help"));
    assert_eq!(
        d.holders,
        vec![Holder {
            pid: 4242,
            name: "python3".into(),
            user: Some("alice".into())
        }]
    );
    assert_eq!(d.time_wait, None);
    let c = commands(&d);
    assert!(c.contains(&"portwise stop --pid 4242".to_string()), "{c:?}");
    assert!(c.contains(&"portwise free".to_string()));
    assert!(c.contains(&"portwise bind-test 8080 --addr 127.0.0.1 --wait 60".to_string()));
}

#[test]
fn listener_on_the_wildcard_covers_a_specific_address() {
    let s = snap(vec![listener("0.0.0.0:8080", vec![proc_(7, "nginx")])]);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert!(
        d.explanation.contains("0.0.0.0:8080, the wildcard address"),
        "{}",
        d.explanation
    );
}

#[test]
fn listener_on_another_address_blocks_the_wildcard() {
    let s = snap(vec![listener("127.0.0.1:8080", vec![proc_(7, "nginx")])]);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert!(
        d.explanation
            .contains("needs port 8080 free on every address"),
        "{}",
        d.explanation
    );
    // A listener on an unrelated specific address does not count.
    let s = snap(vec![listener("10.0.0.5:8080", vec![proc_(7, "nginx")])]);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Unknown);
}

#[test]
fn dual_stack_listener_counts_for_ipv4() {
    let s = snap(vec![listener("[::]:8080", vec![proc_(9, "node")])]);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::DualStackConflict);
    assert!(d.explanation.contains("IPV6_V6ONLY"));
    assert!(commands(&d).contains(&"portwise stop --pid 9".to_string()));
}

#[test]
fn our_dual_stack_socket_conflicts_with_an_ipv4_holder() {
    let s = snap(vec![listener("0.0.0.0:8080", vec![proc_(9, "node")])]);
    let mut f = in_use_err();
    f.v6only = Some(false);
    let d = diagnose(&req("::", 8080), &f, &s, &facts(OsKind::Linux));
    assert_eq!(d.cause, Cause::DualStackConflict);
    assert_eq!(
        d.fixes[0].command.as_deref(),
        Some("portwise bind-test 8080 --addr :: --v6only")
    );
    // With v6only on, the IPv4 listener is no conflict at all.
    f.v6only = Some(true);
    let d = diagnose(&req("::", 8080), &f, &s, &facts(OsKind::Linux));
    assert_eq!(d.cause, Cause::Unknown);
}

#[test]
fn v4_mapped_addresses_are_ipv4() {
    let s = snap(vec![listener(
        "[::ffff:127.0.0.1]:8080",
        vec![proc_(3, "java")],
    )]);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert!(d.explanation.contains("already listens"));
}

#[test]
fn connection_using_the_port_inside_the_ephemeral_range() {
    let s = snap(vec![entry(
        Proto::Tcp,
        "10.0.0.5:40000",
        Some("93.184.216.34:443"),
        Some(TcpState::Established),
        vec![proc_(55, "curl")],
    )]);
    let d = diagnose(
        &req("0.0.0.0", 40000),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::InUseByConnection);
    assert!(
        d.explanation.contains("-> 93.184.216.34:443, ESTABLISHED"),
        "{}",
        d.explanation
    );
    assert!(
        d.explanation
            .contains("inside the ephemeral range (32768-60999)")
    );
    let c = commands(&d);
    assert!(
        c.contains(&"sudo sysctl -w net.ipv4.ip_local_reserved_ports=9999,40000".to_string()),
        "{c:?}"
    );
    let d = diagnose(
        &req("0.0.0.0", 40000),
        &in_use_err(),
        &s,
        &facts(OsKind::Windows),
    );
    assert!(
        commands(&d)
            .iter()
            .any(|c| c.contains("add excludedportrange"))
    );
    // netsh refuses to exclude a port in use: the fix must say when to run it.
    let reserve = d
        .fixes
        .iter()
        .find(|f| {
            f.command
                .as_deref()
                .is_some_and(|c| c.contains("add excludedportrange"))
        })
        .unwrap();
    assert!(
        reserve.text.contains("while nothing uses port 40000"),
        "{}",
        reserve.text
    );
    assert!(reserve.text.contains("netsh refuses a port in use"));
}

#[test]
fn time_wait_with_count_remaining_and_remembered_owner() {
    let mut a = tw("127.0.0.1:8080", "127.0.0.1:50000", Some(41_200));
    a.last_known_owner = Some(OwnerRef {
        pid: 77,
        name: "server".into(),
    });
    let b = tw("127.0.0.1:8080", "127.0.0.1:50001", Some(12_000));
    let s = snap(vec![a, b]);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::TimeWait);
    assert_eq!(
        d.time_wait,
        Some(TimeWaitInfo {
            count: 2,
            longest_remaining_ms: Some(41_200)
        })
    );
    assert!(d.holders.is_empty());
    assert!(
        d.explanation
            .contains("2 TCP connections on port 8080 are in TIME_WAIT")
    );
    assert!(d.explanation.contains("42 s left"));
    assert!(d.explanation.contains("both the old"));
    assert!(d.explanation.contains("server (pid 77)"));
    assert!(d.explanation.contains("tcp_tw_reuse does not help"));
    let c = commands(&d);
    assert!(
        c.contains(&"portwise bind-test 8080 --reuseaddr".to_string()),
        "{c:?}"
    );
    assert!(
        c.contains(&"portwise bind-test 8080 --wait 43".to_string()),
        "{c:?}"
    );
    // Already asked with SO_REUSEADDR: the old sockets lacked it.
    let mut r = req("0.0.0.0", 8080);
    r.reuseaddr = true;
    let d = diagnose(&r, &in_use_err(), &s, &facts(OsKind::Linux));
    assert!(d.explanation.contains("so the old ones did not"));
    assert!(commands(&d).contains(&"portwise bind-test 8080 --reuseaddr --wait 43".to_string()));
    // macOS: only the new socket needs it, and no Linux sysctl talk.
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Macos),
    );
    assert!(
        d.explanation
            .contains("unless the new socket sets SO_REUSEADDR")
    );
    assert!(!d.explanation.contains("tcp_tw_reuse"));
}

#[test]
fn time_wait_without_reported_expiry_waits_the_os_length() {
    let s = snap(vec![tw("127.0.0.1:8080", "127.0.0.1:50000", None)]);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Windows),
    );
    assert_eq!(d.cause, Cause::TimeWait);
    assert_eq!(d.time_wait.unwrap().longest_remaining_ms, None);
    assert!(
        d.explanation
            .contains("1 TCP connection on port 8080 is in TIME_WAIT.")
    );
    assert!(
        commands(&d).contains(&"portwise bind-test 8080 --addr 127.0.0.1 --wait 60".to_string())
    );
    // Windows: a restart needs no SO_REUSEADDR and it would make the port
    // sharable with a first socket that also set it; it is never suggested there, and SO_EXCLUSIVEADDRUSE is named as the case
    // where TIME_WAIT does block.
    assert!(
        d.fixes.iter().all(|f| !f.text.contains("SO_REUSEADDR")),
        "{:?}",
        d.fixes
    );
    assert!(!commands(&d).iter().any(|c| c.contains("--reuseaddr")));
    assert!(
        d.explanation.contains("SO_EXCLUSIVEADDRUSE"),
        "{}",
        d.explanation
    );
}

#[test]
fn a_listener_wins_over_time_wait() {
    let s = snap(vec![
        tw("127.0.0.1:8080", "127.0.0.1:50000", Some(1000)),
        listener("0.0.0.0:8080", vec![proc_(1, "x")]),
    ]);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert_eq!(d.time_wait.unwrap().count, 1);
}

#[test]
fn docker_proxy_and_systemd_get_their_own_fixes() {
    let s = snap(vec![
        listener("0.0.0.0:5432", vec![proc_(3000, "docker-proxy")]),
        listener("[::]:5432", vec![proc_(1, "systemd")]),
    ]);
    let mut f = facts(OsKind::Linux);
    let d = diagnose(&req("0.0.0.0", 5432), &in_use_err(), &s, &f);
    let c = commands(&d);
    assert!(
        c.contains(&"docker stop $(docker ps -q --filter publish=5432)".to_string()),
        "{c:?}"
    );
    assert!(
        c.iter().any(|c| c.contains("systemctl list-sockets")),
        "{c:?}"
    );
    assert!(!c.contains(&"portwise stop --pid 3000".to_string()));
    // Only what is sourced: the container still publishes the port.
    let docker = d
        .fixes
        .iter()
        .find(|f| f.text.contains("docker-proxy"))
        .unwrap();
    assert!(
        docker.text.contains("still publishes it"),
        "{}",
        docker.text
    );
    assert!(!docker.text.contains("for good"), "{}", docker.text);
    f.socket_units = vec!["pg.socket".into()];
    let d = diagnose(&req("0.0.0.0", 5432), &in_use_err(), &s, &f);
    assert!(commands(&d).contains(&"sudo systemctl stop pg.socket".to_string()));
}

#[test]
fn hidden_owner_suggests_running_elevated() {
    let mut s = snap(vec![listener("0.0.0.0:8080", vec![])]);
    s.unattributed = 1;
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Listener);
    assert!(d.explanation.contains("a process this user cannot see"));
    assert!(commands(&d).contains(&"sudo portwise bind-test 8080".to_string()));
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &in_use_err(),
        &s,
        &facts(OsKind::Windows),
    );
    assert!(d.fixes.iter().any(|f| f.text.contains("Administrator")));
}

#[test]
fn udp_sockets_are_holders_and_never_time_wait() {
    let mut e = entry(
        Proto::Udp,
        "0.0.0.0:5353",
        None,
        None,
        vec![proc_(8, "avahi")],
    );
    e.uid = Some(0);
    let s = snap(vec![e]);
    let mut r = req("0.0.0.0", 5353);
    r.proto = Proto::Udp;
    let d = diagnose(&r, &in_use_err(), &s, &facts(OsKind::Linux));
    assert_eq!(d.cause, Cause::Listener);
    assert!(
        d.explanation
            .contains("has a UDP socket bound to 0.0.0.0:5353")
    );
    assert_eq!(d.time_wait, None);
    // A TCP socket on the same number is not a UDP holder.
    let s = snap(vec![listener("0.0.0.0:5353", vec![proc_(8, "x")])]);
    let d = diagnose(&r, &in_use_err(), &s, &facts(OsKind::Linux));
    assert_eq!(d.cause, Cause::Unknown);
    assert!(d.holders.is_empty());
}

#[test]
fn port_zero_in_use_is_exhaustion() {
    let d = diagnose(
        &req("0.0.0.0", 0),
        &in_use_err(),
        &snap(vec![]),
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Exhausted);
    assert!(d.explanation.contains("32768-60999"));
    // Derived from the current range by the tuning guide: wider, ending at
    // the top, start and end of different parity.
    assert!(
        commands(&d)
            .iter()
            .any(|c| c.contains("ip_local_port_range=\"16384 65535\"")),
        "{:?}",
        commands(&d)
    );
    // Never below ip_unprivileged_port_start, never narrower.
    let mut f = facts(OsKind::Linux);
    if let Some(p) = f.privileged.as_mut() {
        p.first_unprivileged = 20001;
    }
    let d = diagnose(&req("0.0.0.0", 0), &in_use_err(), &snap(vec![]), &f);
    assert!(
        commands(&d)
            .iter()
            .any(|c| c.contains("ip_local_port_range=\"20002 65535\"")),
        "{:?}",
        commands(&d)
    );
    let mut f = facts(OsKind::Linux);
    f.ephemeral = vec![PortRange::new(2000, 65535).unwrap()];
    let d = diagnose(&req("0.0.0.0", 0), &in_use_err(), &snap(vec![]), &f);
    assert!(
        !commands(&d)
            .iter()
            .any(|c| c.contains("ip_local_port_range"))
    );
    assert!(d.explanation.contains("already as wide"));
}

#[test]
fn port_zero_exhausted_on_windows_widens_the_bound_family() {
    let mut f = facts(OsKind::Windows);
    f.ephemeral = vec![PortRange::new(49152, 65535).unwrap()];
    let d = diagnose(&req("0.0.0.0", 0), &in_use_err(), &snap(vec![]), &f);
    let c = commands(&d);
    assert!(
        c.contains(&"netsh int ipv4 set dynamicport tcp start=16384 num=49152".to_string()),
        "{c:?}"
    );
    assert!(!c.iter().any(|c| c.contains("ipv6")), "{c:?}");
    // An IPv6 bind draws from the IPv6 dynamic range.
    let d = diagnose(&req("::", 0), &in_use_err(), &snap(vec![]), &f);
    let c = commands(&d);
    assert!(
        c.contains(&"netsh int ipv6 set dynamicport tcp start=16384 num=49152".to_string()),
        "{c:?}"
    );
}

#[test]
fn privileged_port_linux_reads_the_limit() {
    let e = failure(ErrorClass::AccessDenied, "EACCES", 13);
    let mut f = facts(OsKind::Linux);
    if let Some(p) = f.privileged.as_mut() {
        p.first_unprivileged = 2000;
    }
    let d = diagnose(&req("0.0.0.0", 1500), &e, &snap(vec![]), &f);
    assert_eq!(d.cause, Cause::PrivilegedPort);
    assert!(d.explanation.contains("below 2000"), "{}", d.explanation);
    assert!(
        d.explanation
            .contains("net.ipv4.ip_unprivileged_port_start")
    );
    let c = commands(&d);
    assert!(c.contains(&"sudo setcap cap_net_bind_service=+ep BINARY".to_string()));
    assert!(c.contains(&"sudo sysctl -w net.ipv4.ip_unprivileged_port_start=1500".to_string()));
    // Above the limit, EACCES is a policy, not a privileged port.
    let d = diagnose(&req("0.0.0.0", 2500), &e, &snap(vec![]), &f);
    assert_eq!(d.cause, Cause::PermissionPolicy);
    // SELinux denials are in the audit log where auditd runs.
    assert!(d.explanation.contains("/var/log/audit/audit.log"));
    assert!(commands(&d).contains(&"sudo ausearch -m avc -ts recent".to_string()));
    // A listener on the port does not make it a Windows-only
    // SO_EXCLUSIVEADDRUSE case on Linux or macOS.
    let s = snap(vec![listener("0.0.0.0:2500", vec![proc_(4, "svc")])]);
    let d = diagnose(&req("0.0.0.0", 2500), &e, &s, &f);
    assert_eq!(d.cause, Cause::PermissionPolicy);
    assert!(!d.explanation.contains("SO_EXCLUSIVEADDRUSE"));
    let d = diagnose(&req("0.0.0.0", 2500), &e, &s, &facts(OsKind::Macos));
    assert!(!d.explanation.contains("SO_EXCLUSIVEADDRUSE"));
}

#[test]
fn privileged_port_macos_only_for_specific_addresses() {
    let e = failure(ErrorClass::AccessDenied, "EACCES", 13);
    let d = diagnose(
        &req("127.0.0.1", 80),
        &e,
        &snap(vec![]),
        &facts(OsKind::Macos),
    );
    assert_eq!(d.cause, Cause::PrivilegedPort);
    assert!(d.explanation.contains("specific address"));
    assert_eq!(d.fixes[0].command.as_deref(), Some("portwise bind-test 80"));
    let d = diagnose(
        &req("0.0.0.0", 80),
        &e,
        &snap(vec![]),
        &facts(OsKind::Macos),
    );
    assert_eq!(d.cause, Cause::Unknown);
}

#[test]
fn windows_excluded_range_and_exclusive_use() {
    let e = failure(ErrorClass::AccessDenied, "WSAEACCES", 10013);
    let mut f = facts(OsKind::Windows);
    f.excluded = vec![PortRange::new(50000, 50059).unwrap()];
    f.reserved = f.excluded.clone();
    let d = diagnose(&req("0.0.0.0", 50010), &e, &snap(vec![]), &f);
    assert_eq!(d.cause, Cause::ExcludedRange);
    assert!(d.explanation.contains("50000-50059"));
    assert!(d.explanation.contains("Hyper-V"), "{}", d.explanation);
    let c = commands(&d);
    assert!(
        c.iter()
            .any(|c| c.contains("show excludedportrange protocol=tcp"))
    );
    // A system range can only be freed (WinNAT), then the port reserved.
    assert!(c.contains(&"net stop winnat".to_string()), "{c:?}");
    assert!(c.contains(&"net start winnat".to_string()), "{c:?}");
    let s = snap(vec![listener("0.0.0.0:8080", vec![proc_(4, "svc")])]);
    let d = diagnose(&req("0.0.0.0", 8080), &e, &s, &f);
    assert_eq!(d.cause, Cause::Listener);
    assert!(d.explanation.contains("SO_EXCLUSIVEADDRUSE"));
    // All of Enhanced Socket Security's WSAEACCES causes are named, and
    // `bind-test --reuseaddr` is explained by the first socket's lack of it.
    assert!(
        d.explanation.contains("the first one did not"),
        "{}",
        d.explanation
    );
    assert!(
        d.explanation.contains("another user account"),
        "{}",
        d.explanation
    );
    let mut with_reuse = req("0.0.0.0", 8080);
    with_reuse.reuseaddr = true;
    let d = diagnose(&with_reuse, &e, &s, &f);
    assert_eq!(d.cause, Cause::Listener);
    assert!(
        d.explanation.contains("This bind set SO_REUSEADDR"),
        "{}",
        d.explanation
    );
    let d = diagnose(&req("0.0.0.0", 8081), &e, &snap(vec![]), &f);
    assert_eq!(d.cause, Cause::Unknown);
    assert!(d.explanation.contains("excluded range"));
}

#[test]
fn windows_administered_range_is_not_blamed() {
    // 50000-50059 was added by an administrator (`*`): it is reserved but an
    // explicit bind to it works, so it is not in `excluded`.
    let e = failure(ErrorClass::AccessDenied, "WSAEACCES", 10013);
    let mut f = facts(OsKind::Windows);
    f.reserved = vec![PortRange::new(50000, 50059).unwrap()];
    f.excluded = vec![];
    let d = diagnose(&req("0.0.0.0", 50010), &e, &snap(vec![]), &f);
    assert_ne!(d.cause, Cause::ExcludedRange);
    assert!(
        d.explanation
            .contains("administered excluded range (50000-50059"),
        "{}",
        d.explanation
    );
    assert!(d.explanation.contains("explicit bind to it still works"));
    assert!(!commands(&d).contains(&"net stop winnat".to_string()));
    // A listener holding it with SO_EXCLUSIVEADDRUSE is then the cause.
    let s = snap(vec![listener("0.0.0.0:50010", vec![proc_(4, "svc")])]);
    let d = diagnose(&req("0.0.0.0", 50010), &e, &s, &f);
    assert_eq!(d.cause, Cause::Listener);
    assert!(d.explanation.contains("administered excluded range"));
}

#[test]
fn eperm_is_a_permission_policy_on_linux() {
    let e = failure(ErrorClass::NotPermitted, "EPERM", 1);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &e,
        &snap(vec![]),
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::PermissionPolicy);
    assert!(d.explanation.contains("cgroup BPF"));
    assert!(d.explanation.contains("seccomp"), "{}", d.explanation);
    assert!(
        d.explanation
            .contains("IPAddressDeny= filters packets, not binds"),
        "{}",
        d.explanation
    );
}

#[test]
fn address_not_local_lists_the_machines_addresses() {
    let e = failure(ErrorClass::AddrNotAvailable, "EADDRNOTAVAIL", 99);
    let d = diagnose(
        &req("192.0.2.1", 8080),
        &e,
        &snap(vec![]),
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::AddressNotLocal);
    assert!(
        d.explanation
            .contains("192.0.2.1 is not an address of this machine")
    );
    assert!(d.explanation.contains("127.0.0.1, 10.0.0.5"));
    // Nowhere did the same bind succeed: no address is offered.
    let c = commands(&d);
    assert_eq!(c, vec!["portwise free", "ip -brief address"]);
}

/// A holder of the port on another address is unrelated to EADDRNOTAVAIL:
/// not listed; only addresses where the bind was tried and succeeded are
/// offered (here 0.0.0.0 is taken, 127.0.0.1 binds).
#[test]
fn address_not_local_lists_no_holders_and_offers_only_checked_addresses() {
    let e = failure(ErrorClass::AddrNotAvailable, "EADDRNOTAVAIL", 99);
    let s = snap(vec![listener("10.0.0.5:8080", vec![proc_(7, "nginx")])]);
    let mut f = facts(OsKind::Linux);
    f.alternatives = vec!["127.0.0.1".parse().unwrap()];
    let d = diagnose(&req("192.0.2.1", 8080), &e, &s, &f);
    assert_eq!(d.cause, Cause::AddressNotLocal);
    assert!(d.holders.is_empty(), "{:?}", d.holders);
    assert!(d.time_wait.is_none());
    assert!(!d.explanation.contains("nginx"), "{}", d.explanation);
    assert!(
        d.explanation.contains("binds on: 127.0.0.1"),
        "{}",
        d.explanation
    );
    let c = commands(&d);
    assert_eq!(
        c,
        vec![
            "portwise bind-test 8080 --addr 127.0.0.1",
            "ip -brief address"
        ]
    );
}

fn orphan(local: &str, remote: &str, state: TcpState, uid: u32) -> SocketEntry {
    let mut e = entry(Proto::Tcp, local, Some(remote), Some(state), vec![]);
    e.orphan = true;
    e.uid = Some(uid);
    e
}

/// A closed connection the kernel still finishes is the kernel's: no
/// "hidden process", no elevation, its lifetime and SO_REUSEADDR said.
#[test]
fn orphaned_fin_wait_2_is_a_kernel_leftover() {
    let s = snap(vec![orphan(
        "127.0.0.1:8080",
        "127.0.0.1:50000",
        TcpState::FinWait2,
        0,
    )]);
    for elevated in [false, true] {
        let mut f = facts(OsKind::Linux);
        f.elevated = elevated;
        f.fin_timeout_s = Some(30);
        let d = diagnose(&req("127.0.0.1", 8080), &in_use_err(), &s, &f);
        assert_eq!(d.cause, Cause::Orphaned);
        let t = &d.explanation;
        assert!(t.contains("FIN_WAIT_2"), "{t}");
        assert!(t.contains("to the kernel, like TIME_WAIT"), "{t}");
        assert!(t.contains("net.ipv4.tcp_fin_timeout (30 s here)"), "{t}");
        assert!(
            t.contains("both the old socket and the new one set SO_REUSEADDR"),
            "{t}"
        );
        assert!(!t.contains("cannot see"), "{t}");
        let c = commands(&d);
        assert!(c.iter().all(|c| !c.starts_with("sudo")), "{c:?}");
        assert!(c.contains(&"portwise bind-test 8080 --addr 127.0.0.1 --reuseaddr".to_string()));
        assert!(c.contains(&"portwise bind-test 8080 --addr 127.0.0.1 --wait 31".to_string()));
        assert!(d.hidden_owners.is_empty());
        assert!(!t.contains("timer"), "no timer reported, none said: {t}");
    }
}

/// Where the kernel reports an orphan's timer (Linux, a FIN_WAIT_2 kept as
/// a timewait socket), the explanation and the wait use the longest one
/// instead of the tcp_fin_timeout bound; one orphan without a timer
/// brings the bound back.
#[test]
fn orphans_with_the_kernels_timer_say_when_they_go() {
    let mut a = orphan("127.0.0.1:8080", "127.0.0.1:50000", TcpState::FinWait2, 0);
    a.time_wait_expires_in_ms = Some(12_300);
    let mut b = orphan("127.0.0.1:8080", "127.0.0.1:50001", TcpState::FinWait2, 0);
    b.time_wait_expires_in_ms = Some(4_000);
    let f = facts(OsKind::Linux);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &snap(vec![a.clone(), b]),
        &f,
    );
    assert!(
        d.explanation
            .contains("The kernel's timer frees them all within 13 s."),
        "{}",
        d.explanation
    );
    assert!(
        commands(&d).contains(&"portwise bind-test 8080 --addr 127.0.0.1 --wait 14".to_string()),
        "{:?}",
        commands(&d)
    );
    let c = orphan("127.0.0.1:8080", "127.0.0.1:50002", TcpState::LastAck, 0);
    let d = diagnose(
        &req("127.0.0.1", 8080),
        &in_use_err(),
        &snap(vec![a, c]),
        &f,
    );
    assert!(!d.explanation.contains("timer"), "{}", d.explanation);
    assert!(
        commands(&d).contains(&"portwise bind-test 8080 --addr 127.0.0.1 --wait 61".to_string())
    );
}

/// A live socket whose process is hidden: its uid (and user name) is
/// shown; elevation is suggested only when not already elevated.
#[test]
fn a_hidden_owner_shows_its_uid_and_elevation_only_when_not_elevated() {
    let mut e = listener("127.0.0.1:8080", vec![]);
    e.uid = Some(0);
    e.inode = 77;
    let s = snap(vec![e]);
    let mut f = facts(OsKind::Linux);
    let d = diagnose(&req("127.0.0.1", 8080), &in_use_err(), &s, &f);
    assert!(
        d.explanation
            .starts_with("a process of user root (uid 0) that this user cannot see"),
        "{}",
        d.explanation
    );
    assert_eq!(d.hidden_owners.len(), 1);
    assert_eq!(d.hidden_owners[0].user.as_deref(), Some("root"));
    assert!(
        commands(&d)
            .iter()
            .any(|c| c.starts_with("sudo portwise bind-test"))
    );
    f.elevated = true;
    let d = diagnose(&req("127.0.0.1", 8080), &in_use_err(), &s, &f);
    let c = commands(&d);
    assert!(c.iter().all(|c| !c.starts_with("sudo")), "{c:?}");
    assert!(
        c.contains(&"portwise list --all --port 8080".to_string()),
        "{c:?}"
    );
    assert!(
        d.explanation
            .starts_with("a process of user root (uid 0) that even this elevated run cannot see"),
        "{}",
        d.explanation
    );
}

#[test]
fn other_errors_are_unknown_with_the_message() {
    let e = failure(ErrorClass::Other, "EINVAL", 22);
    let d = diagnose(
        &req("0.0.0.0", 8080),
        &e,
        &snap(vec![]),
        &facts(OsKind::Linux),
    );
    assert_eq!(d.cause, Cause::Unknown);
    assert!(
        d.explanation
            .starts_with("bind() failed: x for 0.0.0.0:8080")
    );
}

#[test]
fn holders_are_sorted_and_deduplicated() {
    let s = snap(vec![
        listener("0.0.0.0:8080", vec![proc_(9, "b"), proc_(3, "a")]),
        listener("[::]:8080", vec![proc_(9, "b")]),
        entry(Proto::Udp, "0.0.0.0:8080", None, None, vec![proc_(5, "u")]),
    ]);
    let pids: Vec<u32> = holders_on(&s, 8080, Some(Proto::Tcp))
        .iter()
        .map(|h| h.pid)
        .collect();
    assert_eq!(pids, vec![3, 9]);
    assert_eq!(holders_on(&s, 8080, None).len(), 3);
}

#[test]
fn port_use_counts_holders_hidden_owners_and_time_wait() {
    let mut left = tw("127.0.0.1:8080", "127.0.0.1:50000", Some(4_000));
    left.last_known_owner = Some(OwnerRef {
        pid: 3,
        name: "a".into(),
    });
    let s = snap(vec![
        listener("0.0.0.0:8080", vec![proc_(3, "a")]),
        listener("[::]:8080", vec![]),
        left,
        tw("127.0.0.1:8080", "127.0.0.1:50001", Some(9_000)),
        entry(Proto::Udp, "0.0.0.0:9090", None, None, vec![]),
    ]);
    let u = port_use(&s, 8080, None);
    assert_eq!(u.holders.iter().map(|h| h.pid).collect::<Vec<_>>(), vec![3]);
    assert_eq!(u.hidden, 1);
    assert_eq!(
        u.time_wait,
        Some(TimeWaitInfo {
            count: 2,
            longest_remaining_ms: Some(9_000)
        })
    );
    assert!(!u.is_free());
    // UDP has no TIME_WAIT; the hidden UDP socket still counts as in use.
    let u = port_use(&s, 8080, Some(Proto::Udp));
    assert!(u.is_free(), "{u:?}");
    let u = port_use(&s, 9090, Some(Proto::Udp));
    assert_eq!((u.hidden, u.time_wait), (1, None));
    assert!(!u.is_free());
    assert!(port_use(&s, 7000, None).is_free());
}

#[test]
fn on_port_finds_exactly_the_local_port_sockets_of_a_sorted_snapshot() {
    let mut all = Vec::new();
    for port in [1u16, 79, 80, 81, 8080, 65535] {
        all.push(listener(&format!("0.0.0.0:{port}"), vec![proc_(9, "a")]));
        all.push(listener(&format!("[::]:{port}"), vec![]));
        all.push(entry(
            Proto::Udp,
            &format!("0.0.0.0:{port}"),
            None,
            None,
            vec![],
        ));
        // Remote port 80 from another local port: not "on" port 80.
        all.push(tw(
            &format!("127.0.0.1:{}", port.wrapping_add(7)),
            "127.0.0.1:80",
            None,
        ));
    }
    let s = snap(all);
    for proto in [Proto::Tcp, Proto::Udp] {
        for port in [0u16, 1, 2, 79, 80, 81, 87, 8080, 8087, 65535] {
            let want: Vec<&SocketEntry> = s
                .sockets
                .iter()
                .filter(|e| e.proto == proto && e.local_port == port)
                .collect();
            let got: Vec<&SocketEntry> = s.on_port(proto, port).iter().collect();
            assert_eq!(got, want, "{proto:?} {port}");
        }
    }
    assert_eq!(s.on_port(Proto::Tcp, 80).len(), 2);
    assert_eq!(s.on_port(Proto::Udp, 80).len(), 1);
    assert!(Snapshot::default().on_port(Proto::Tcp, 80).is_empty());
}
