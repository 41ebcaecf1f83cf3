//! EACCES / WSAEACCES (10013): a privileged port, a Windows excluded port
//! range, a Windows socket that refuses sharing, or a security policy.
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, f) = (c.req, c.facts);
    let p = req.port;
    if let Some(pp) = &f.privileged
        && pp.applies(p, req.addr.is_unspecified())
    {
        return privileged(c, pp);
    }
    if let Some(r) = f.excluded.iter().find(|r| r.contains(p)) {
        return system_excluded(c, *r);
    }
    // An administered block (`*`) only keeps the port out of automatic
    // assignment; an explicit bind to it works (Microsoft KB 812873), so it
    // is not the cause: say so, then look for the real one.
    let (cause, mut text, fixes) = access_denied_other(c);
    if f.os == OsKind::Windows
        && let Some(r) = f.reserved.iter().find(|r| r.contains(p))
    {
        text.push_str(&format!(
            " Port {p} lies in an administered excluded range ({r}, marked * by netsh): that \
             only keeps Windows from handing the port out automatically; an explicit bind to it \
             still works, so that range is not what refused this bind."
        ));
    }
    (cause, text, fixes)
}

/// Port `p` lies in an excluded range held by a Windows component (no `*`).
fn system_excluded(c: &Case<'_>, r: PortRange) -> Parts {
    let req = c.req;
    let p = req.port;
    let text = format!(
        "Port {p} lies in an excluded port range ({r}) that Windows holds for a component such \
         as Hyper-V, WinNAT, WSL2 or Docker (netsh lists it without the * mark). Binds inside \
         such a range fail with WSAEACCES even though nothing listens: no program can use port \
         {p} while the range exists."
    );
    let add = format!(
        "netsh int ipv4 add excludedportrange protocol={} startport={p} numberofports=1",
        req.proto
    );
    let fixes = vec![
        Fix::new(
            "See the excluded ranges",
            Some(format!(
                "netsh int ipv4 show excludedportrange protocol={}",
                req.proto
            )),
        ),
        fix_pick_other(),
        // Restarting WinNAT releasing its blocks is widely reported, not
        // documented by Microsoft: worded as "may".
        Fix::new(
            "Or free the range: stopping WinNAT may release the ranges it holds (Administrator \
             terminal; Docker, WSL2 and Hyper-V networking pause until it starts again)",
            Some("net stop winnat".into()),
        ),
        Fix::new(
            format!(
                "Then reserve port {p} for yourself while nothing uses it (netsh refuses a port \
                 in use); an explicit bind to a port you reserved still works"
            ),
            Some(add),
        ),
        Fix::new(
            "Then start WinNAT again (Docker, WSL2 and Hyper-V networking need it)",
            Some("net start winnat".into()),
        ),
    ];
    (Cause::ExcludedRange, text, fixes)
}

/// EACCES that no excluded range explains.
fn access_denied_other(c: &Case<'_>) -> Parts {
    let (req, found, holders, f) = (c.req, &c.found, &c.holders[..], c.facts);
    let p = req.port;
    if f.os == OsKind::Windows
        && let Some((_, s)) = found.listeners.first()
    {
        // learn.microsoft.com "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE",
        // Enhanced Socket Security (Server 2003 / XP SP2 and later): a bind
        // on a port in use fails with WSAEACCES when the new socket set
        // SO_REUSEADDR but the first one did not, when the first one set
        // SO_EXCLUSIVEADDRUSE, or when the first socket belongs to another
        // user account (even with no options). Elsewhere a listener does not
        // cause EACCES: fall through.
        let mut text = format!(
            "{} holds {}. On Windows a bind on a port in use fails with WSAEACCES (10013) when \
             the new socket set SO_REUSEADDR but the first one did not (sharing needs both), when \
             the first socket set SO_EXCLUSIVEADDRUSE, or when it belongs to another user \
             account, even with no options.",
            who(s, f),
            sock(s.local_addr, p)
        );
        if req.reuseaddr {
            text.push_str(
                " This bind set SO_REUSEADDR, so the first of these fits unless both sockets run \
                 as different users. Without SO_REUSEADDR the bind would get WSAEADDRINUSE \
                 instead: the port is simply in use.",
            );
        }
        let mut fixes = fixes_stop(holders, req, f);
        fixes.push(fix_pick_other());
        return (Cause::Listener, text, fixes);
    }
    match f.os {
        // selinux_socket_bind() checks name_bind on the port's type and
        // fails with EACCES (linux security/selinux/hooks.c); AppArmor's
        // network rules likewise. Where auditd runs (RHEL, Fedora) AVC
        // denials go to /var/log/audit/audit.log, read with ausearch(8)
        // (`-m avc -ts recent`), not to the kernel log; without auditd they
        // reach the kernel log (Red Hat SELinux guide, "Troubleshooting
        // problems related to SELinux"; audit daemon: auditd(8)).
        OsKind::Linux => {
            let text = format!(
                "The OS refused port {p} with EACCES although it is not a privileged port here: a \
                 security module such as SELinux or AppArmor may deny this program that port. \
                 With auditd running (RHEL, Fedora) SELinux denials are logged in \
                 /var/log/audit/audit.log, not in the kernel log."
            );
            let fixes = vec![
                Fix::new(
                    "SELinux with auditd: list recent denials",
                    Some("sudo ausearch -m avc -ts recent".into()),
                ),
                Fix::new(
                    "Without auditd (and for AppArmor): look in the kernel log",
                    Some("sudo dmesg | grep -i -e avc -e apparmor | tail".into()),
                ),
                fix_pick_other(),
            ];
            (Cause::PermissionPolicy, text, fixes)
        }
        _ => other::diagnose(c),
    }
}

fn privileged(c: &Case<'_>, pp: &PrivilegedPorts) -> Parts {
    let (req, f) = (c.req, c.facts);
    let p = req.port;
    let n = pp.first_unprivileged;
    match f.os {
        OsKind::Macos => {
            let wildcard = if req.addr.is_ipv4() { "0.0.0.0" } else { "::" };
            let text = format!(
                "On macOS, ports below {n} need root when binding a specific address such as {}; \
                 the wildcard {wildcard} is open to every user (since macOS Mojave).",
                req.addr
            );
            let wild_req = BindRequest {
                addr: wildcard.parse().unwrap_or(req.addr),
                ..req.clone()
            };
            let fixes = vec![
                Fix::new(
                    format!("Bind the wildcard {wildcard} instead"),
                    Some(retest(&wild_req, "")),
                )
                .acting(FixAction::TestAddress(wild_req.addr)),
                fix_pick_other(),
                Fix::new("Or run it as root", Some(elevated(f.os, &retest(req, "")))),
            ];
            (Cause::PrivilegedPort, text, fixes)
        }
        _ => {
            let mut text = format!(
                "Ports below {n} are privileged: binding one needs CAP_NET_BIND_SERVICE (root has \
                 it), and this process lacks it."
            );
            match (pp.setting, pp.read_from_system) {
                (Some(key), true) => text.push_str(&format!(" The limit {n} is {key}.")),
                (Some(key), false) => {
                    text.push_str(&format!(" ({n} is the default; {key} could not be read.)"))
                }
                (None, _) => {}
            }
            let mut fixes = vec![
                fix_pick_other(),
                Fix::new(
                    "Give your server binary the capability (replace BINARY with its path)",
                    Some("sudo setcap cap_net_bind_service=+ep BINARY".into()),
                ),
            ];
            if let Some(key) = pp.setting {
                fixes.push(Fix::new(
                    format!(
                        "Or lower the limit to {p} for this network namespace (persist it in \
                         /etc/sysctl.d/)"
                    ),
                    Some(format!("sudo sysctl -w {key}={p}")),
                ));
            }
            (Cause::PrivilegedPort, text, fixes)
        }
    }
}
