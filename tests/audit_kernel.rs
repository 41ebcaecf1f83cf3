//! The audit's contract, checked against the running kernel: `tuning audit`
//! reports an error exactly when `sysctl -p` rejects the file. Each case is
//! applied with `sysctl -p` inside a throwaway network namespace
//! (`unshare -n`), so the host's settings are never touched; every key used
//! here is per network namespace (they all live under /proc/sys/net/ipv4,
//! net/core and net/ipv6 in a fresh namespace). The second test applies
//! every export portwise writes, from unusual starting values.
//!
//! Needs root (unshare -n) and procps sysctl; elsewhere each test prints
//! SKIPPED with the reason.

use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_portwise")
}

/// Why this machine cannot run the comparison, if it cannot.
fn unavailable() -> Option<String> {
    if !std::path::Path::new("/proc/sys/net/ipv4").is_dir() {
        return Some("no /proc/sys/net/ipv4 (not Linux)".into());
    }
    match Command::new("unshare").args(["-n", "true"]).output() {
        Err(e) => return Some(format!("cannot run unshare: {e}")),
        Ok(o) if !o.status.success() => {
            return Some(format!(
                "`unshare -n` is not permitted (needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(_) => {}
    }
    match Command::new("sysctl").arg("--version").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("sysctl (procps) is not installed".into()),
    }
}

/// Run `script` with `sh -c` in a new network namespace.
fn in_netns(script: &str, args: &[&str]) -> Output {
    Command::new("unshare")
        .args(["-n", "sh", "-c", script, "sh"])
        .args(args)
        .output()
        .expect("run unshare")
}

/// (values set first with sysctl -w, the file's text).
const CASES: &[(&[&str], &str)] = &[
    // The issue's examples.
    (&[], "net.ipv4.ip_local_reserved_ports = 8080, 9000-9010"),
    (&[], "net.ipv4.ip_local_reserved_ports = 0,8080"),
    (&[], "net.ipv4.tcp_fin_timeout = 30 # note"),
    (&[], "net.ipv4.tcp_fin_timeout = -5"),
    (&[], "net.ipv4.tcp_tw_reuse_delay = 0"),
    (&[], "net.ipv4.tcp_tw_reuse_delay = 60001"),
    (&[], "net.ipv4.tcp_tw_reuse_delay = 60000"),
    (&[], "net.ipv4.tcp_tw_reuse_delay = 1"),
    // proc_get_long and __do_proc_dointvec.
    (&[], "net.ipv4.tcp_fin_timeout = 30x"),
    (&[], "net.ipv4.tcp_fin_timeout = +30"),
    (&[], "net.ipv4.tcp_fin_timeout = \"30\""),
    (&[], "net.ipv4.tcp_fin_timeout = 30 40"),
    (&[], "net.ipv4.tcp_fin_timeout = 0x10"),
    (&[], "net.ipv4.tcp_fin_timeout = 010"),
    (&[], "net.ipv4.tcp_fin_timeout = 08"),
    (&[], "net.ipv4.tcp_fin_timeout =   7   "),
    (&[], "net.ipv4.tcp_fin_timeout = 30\t40"),
    (&[], "net.ipv4.tcp_fin_timeout ="),
    (&[], "net.ipv4.tcp_fin_timeout = 1e3"),
    (&[], "net.ipv4.tcp_fin_timeout = 123456789012345678901"),
    (&[], "net.ipv4.tcp_fin_timeout = 2147483"),
    (&[], "net.ipv4.tcp_fin_timeout = 21474837"),
    (&[], "net.ipv4.tcp_max_tw_buckets = 2147483648"),
    (
        &[],
        "# raised: TcpExtTCPTimeWaitOverflow\nnet.ipv4.tcp_max_tw_buckets = -1",
    ),
    (&[], "net.ipv4.tcp_max_syn_backlog = -2147483648"),
    (&[], "net.ipv4.tcp_max_syn_backlog = -2147483649"),
    (&[], "net.core.somaxconn = -1"),
    (&[], "net.core.somaxconn = 0"),
    (&[], "net.core.somaxconn = 2147483647"),
    (&[], "net.core.somaxconn = 2147483648"),
    // proc_dou8vec_minmax / proc_douintvec_minmax.
    (&[], "net.ipv4.tcp_tw_reuse = 2"),
    (&[], "net.ipv4.tcp_tw_reuse = 3"),
    (&[], "net.ipv4.tcp_tw_reuse = -1"),
    (&[], "net.ipv4.tcp_timestamps = 255"),
    (&[], "net.ipv4.tcp_timestamps = 256"),
    (&[], "net.ipv6.bindv6only = 2"),
    (&[], "net.ipv6.bindv6only = -1"),
    // proc_do_large_bitmap.
    (&[], "net.ipv4.ip_local_reserved_ports = 8080,"),
    (&[], "net.ipv4.ip_local_reserved_ports = ,8080"),
    (&[], "net.ipv4.ip_local_reserved_ports = 65535"),
    (&[], "net.ipv4.ip_local_reserved_ports = 65536"),
    (&[], "net.ipv4.ip_local_reserved_ports = 9010-9000"),
    (&[], "net.ipv4.ip_local_reserved_ports = 1-3,5"),
    (&[], "net.ipv4.ip_local_reserved_ports = 8080 9000"),
    (&[], "net.ipv4.ip_local_reserved_ports = 8080;9000"),
    (&[], "net.ipv4.ip_local_reserved_ports = 8080,,9000"),
    (&[], "net.ipv4.ip_local_reserved_ports = 08080"),
    (&[], "net.ipv4.ip_local_reserved_ports = 0x50"),
    (&[], "net.ipv4.ip_local_reserved_ports = 8080-"),
    (&[], "net.ipv4.ip_local_reserved_ports = -5"),
    (&[], "net.ipv4.ip_local_reserved_ports = 8080,9000 # c"),
    (&[], "net.ipv4.ip_local_reserved_ports ="),
    (&[], "net.ipv4.ip_local_reserved_ports = 1-65535"),
    // ipv4_local_port_range / ipv4_privileged_ports.
    (&[], "net.ipv4.ip_local_port_range = 1 65535"),
    (&[], "net.ipv4.ip_local_port_range = 1024 65535"),
    (&[], "net.ipv4.ip_local_port_range = 2000 1999"),
    (&[], "net.ipv4.ip_local_port_range = 1025"),
    (&[], "net.ipv4.ip_local_port_range = 1025 65536"),
    (&[], "net.ipv4.ip_local_port_range = 1025,2000"),
    (&[], "net.ipv4.ip_local_port_range = 40000 50000 60000"),
    (&[], "net.ipv4.ip_local_port_range = 1024 1024"),
    (&[], "net.ipv4.ip_unprivileged_port_start = 32768"),
    (&[], "net.ipv4.ip_unprivileged_port_start = 32769"),
    (&[], "net.ipv4.ip_unprivileged_port_start = 65536"),
    (&[], "net.ipv4.ip_unprivileged_port_start = -1"),
    (
        &[
            "net.ipv4.ip_local_port_range=40000 60999",
            "net.ipv4.ip_unprivileged_port_start=20000",
        ],
        "net.ipv4.ip_local_port_range = 16384 65535",
    ),
    (
        &[
            "net.ipv4.ip_local_port_range=40000 60999",
            "net.ipv4.ip_unprivileged_port_start=20000",
        ],
        "net.ipv4.ip_unprivileged_port_start = 80\nnet.ipv4.ip_local_port_range = 16384 65535",
    ),
    (
        &[],
        "net.ipv4.ip_local_port_range = 900 65535\nnet.ipv4.ip_unprivileged_port_start = 800",
    ),
    (
        &[],
        "net.ipv4.ip_unprivileged_port_start = 800\nnet.ipv4.ip_local_port_range = 900 65535",
    ),
    (
        &[],
        "net.ipv4.ip_unprivileged_port_start = 70000\nnet.ipv4.ip_local_port_range = 1024 65535",
    ),
    // File syntax and keys (procps parse_setting_line, WriteSetting).
    (&[], "this line is not a setting"),
    (&[], "net.ipv4.portwise_no_such_key = 1"),
    (&[], "-net.ipv4.portwise_no_such_key = 1"),
    (&[], "net.ipv4.tcp_tw_recycle = 1"),
    (&[], " = 5"),
    (&[], "net.ipv4..tcp_fin_timeout = 30"),
    (&[], "net/ipv4//tcp_fin_timeout = 30"),
    (&[], "net/ipv4/../ipv4/tcp_fin_timeout = 30"),
    (&[], "net/ipv4/../../../portwise_no_such = 1"),
    (&[], "net.ipv4.tcp_fin_timeout == 30"),
    (&[], "net.ipv4.tcp_fin_timeout = 30 = 40"),
    (&[], "net.ipv4.conf.*.rp_filter = 2"),
];

#[test]
fn audit_errors_exactly_when_sysctl_p_rejects() {
    if let Some(why) = unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Set the starting values, audit the file with the namespace's values,
    // then apply it; print the audit's exit code and sysctl's.
    let script = r#"pw=$1; f=$2; shift 2
for kv; do sysctl -q -w "$kv" >/dev/null || exit 99; done
"$pw" tuning audit "$f"; echo "audit-exit=$?"
sysctl -p "$f" >/dev/null 2>"$f.err"; echo "sysctl-exit=$?"
"#;
    let mut disagree = Vec::new();
    let (mut rejected, mut accepted) = (0, 0);
    for (i, (setup, text)) in CASES.iter().enumerate() {
        let f = dir.path().join(format!("{i}.conf"));
        std::fs::write(&f, format!("{text}\n")).expect("write case");
        let fs = f.display().to_string();
        let mut args = vec![bin(), fs.as_str()];
        args.extend_from_slice(setup);
        let out = in_netns(script, &args);
        let so = String::from_utf8_lossy(&out.stdout).into_owned();
        let kernel_rejects = !so.contains("sysctl-exit=0");
        assert!(
            so.contains("sysctl-exit=") && so.contains("audit-exit="),
            "case {text:?} did not run: {so}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let audit_errors = so.lines().any(|l| l.contains(": error: "));
        if kernel_rejects {
            rejected += 1;
        } else {
            accepted += 1;
        }
        if kernel_rejects != audit_errors {
            let err = std::fs::read_to_string(format!("{fs}.err")).unwrap_or_default();
            disagree.push(format!(
                "{text:?} (setup {setup:?}): sysctl -p {} ({}), audit {}:\n{so}",
                if kernel_rejects { "rejects" } else { "accepts" },
                err.trim(),
                if audit_errors {
                    "reports an error"
                } else {
                    "reports no error"
                }
            ));
        }
    }
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
    // The table exercises both verdicts.
    assert!(rejected >= 20 && accepted >= 20, "{rejected} {accepted}");
}

/// Every combination of goals, exported for the namespace's own values and
/// applied there, from the kernel defaults and from unusual starting values;
/// the export also passes portwise's own audit with no finding at all.
#[test]
fn every_export_applies_from_unusual_starting_values() {
    if let Some(why) = unavailable() {
        eprintln!("SKIPPED: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let starts: &[&[&str]] = &[
        &[],
        // A high first unprivileged port (the issue's failing host).
        &[
            "net.ipv4.ip_local_port_range=40000 60999",
            "net.ipv4.ip_unprivileged_port_start=20000",
        ],
        // Everything unprivileged, a low narrow range.
        &[
            "net.ipv4.ip_unprivileged_port_start=0",
            "net.ipv4.ip_local_port_range=1024 1025",
        ],
        // A range that starts exactly at the unprivileged start, reserved
        // ports already set, timestamps off.
        &[
            "net.ipv4.ip_local_port_range=30000 30999",
            "net.ipv4.ip_unprivileged_port_start=30000",
            "net.ipv4.ip_local_reserved_ports=30001-30010",
            "net.ipv4.tcp_timestamps=0",
            "net.core.somaxconn=100000",
        ],
    ];
    let script = r#"pw=$1; f=$2; goals=$3; ports=$4; shift 4
for kv; do sysctl -q -w "$kv" >/dev/null || { echo "setup failed: $kv"; exit 99; }; done
if [ -n "$ports" ]; then set -- --reserve-ports "$ports"; else set --; fi
"$pw" tuning export --os linux --goal "$goals" "$@" --out "$f" --force >/dev/null || exit 98
"$pw" tuning audit "$f" || exit 97
sysctl -q -p "$f" || exit 96
"#;
    let mut runs = 0;
    for (si, start) in starts.iter().enumerate() {
        for mask in 1u32..32 {
            let goals: Vec<&str> = ["restart", "outbound", "reserve", "backlog", "low-ports"]
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, g)| *g)
                .collect();
            let g = goals.join(",");
            let ports = if goals.contains(&"reserve") {
                "80,8080"
            } else {
                ""
            };
            let f = dir.path().join(format!("{si}-{mask}.conf"));
            let fs = f.display().to_string();
            let mut args = vec![bin(), fs.as_str(), g.as_str(), ports];
            args.extend_from_slice(start);
            let out = in_netns(script, &args);
            assert!(
                out.status.success(),
                "start {start:?}, --goal {g} {ports}: exit {:?}\n{}{}\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&f).unwrap_or_default()
            );
            runs += 1;
        }
    }
    assert_eq!(runs, starts.len() * 31);
}

/// Issue 11, item 2: an export that would reserve (nearly) the whole
/// ephemeral range is refused with how many ports would remain; the audit
/// warns on such a line in an existing file, using the range in force.
#[test]
fn lockout_reservations_are_refused_and_flagged() {
    let out = Command::new(bin())
        .args([
            "tuning",
            "export",
            "--os",
            "linux",
            "--goal",
            "reserve",
            "--reserve-ports",
            "1-65535",
        ])
        .output()
        .expect("run portwise");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("leaving only 0") && err.contains("Reserve fewer ports"),
        "{err}"
    );
    // A few ports pass.
    let out = Command::new(bin())
        .args([
            "tuning",
            "export",
            "--os",
            "linux",
            "--goal",
            "reserve",
            "--reserve-ports",
            "40000-40100",
        ])
        .output()
        .expect("run portwise");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    if let Some(why) = unavailable() {
        eprintln!("SKIPPED (audit against a namespace's range): {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("lockout.conf");
    std::fs::write(&f, "net.ipv4.ip_local_reserved_ports = 1-65535\n").expect("write");
    let fs = f.display().to_string();
    let out = in_netns(
        r#"sysctl -q -w net.ipv4.ip_local_port_range="40000 40999" && "$1" tuning audit "$2""#,
        &[bin(), &fs],
    );
    let so = String::from_utf8_lossy(&out.stdout);
    assert!(
        so.contains("warning:")
            && so.contains("reserves 1000 of the 1000 ports of the ephemeral range 40000-40999")
            && so.contains("leaving 0"),
        "{so}"
    );
}
