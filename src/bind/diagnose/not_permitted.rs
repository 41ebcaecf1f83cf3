//! EPERM: on Linux a policy (a cgroup BPF bind hook or a seccomp filter).
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, f) = (c.req, c.facts);
    if f.os != OsKind::Linux {
        return other::diagnose(c);
    }
    // A cgroup BPF bind program that rejects a bind makes it fail with EPERM
    // (linux kernel/bpf/cgroup.c __cgroup_bpf_run_filter_sock_addr(), tested
    // in tools/testing/selftests/bpf/prog_tests/bind_perm.c). systemd's
    // SocketBindAllow=/SocketBindDeny= are such programs
    // (systemd.resource-control(5)); IPAddressDeny= is a packet filter on
    // ingress/egress traffic, not a bind hook. A seccomp filter can also
    // return EPERM for bind() (seccomp(2), SECCOMP_RET_ERRNO; e.g. systemd's
    // SystemCallFilter=, container runtimes' seccomp profiles).
    let text = format!(
        "The OS refused the bind of port {} with EPERM. On Linux that comes from a policy: a \
         cgroup BPF bind hook (systemd's SocketBindAllow=/SocketBindDeny=, container runtimes) \
         or a seccomp filter that forbids bind() (systemd's SystemCallFilter=, a container's \
         seccomp profile). systemd's IPAddressDeny= filters packets, not binds.",
        req.port
    );
    let fixes = vec![
        Fix::new(
            "See which cgroup (service or container) this runs in",
            Some("cat /proc/self/cgroup".into()),
        ),
        Fix::new(
            "Check the service's bind rules (replace UNIT with its name)",
            Some("systemctl show -p SocketBindAllow -p SocketBindDeny UNIT".into()),
        ),
        Fix::new(
            "See whether a seccomp filter applies to this process (Seccomp: 2 means filtered)",
            Some("grep Seccomp /proc/self/status".into()),
        ),
        fix_pick_other(),
    ];
    (Cause::PermissionPolicy, text, fixes)
}
