//! The knowledge base: every tunable the guide covers, as data.
//!
//! Facts follow /work/shared/knowledge/ports-and-time-wait.md. Each entry's
//! `source` names where it was checked; the comment above an entry records
//! what was checked there when the fact is not already in that sheet.
//!
//! Keys are what each OS calls the setting: dotted sysctl names on Linux and
//! macOS; on Windows, `TcpTimedWaitDelay` (a registry value) and the `netsh`
//! objects `dynamicport tcp` and `excludedportrange tcp`. The platform layer
//! (`platform::*::sysctl::read`) understands the same keys.

use serde::Serialize;

use super::{Goal, Os};

/// A piece of common advice that is wrong, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The advice as it circulates.
    pub advice: &'static str,
    /// What is actually true.
    pub truth: &'static str,
    /// The value the wrong advice tells people to set, if it names one. A
    /// row that recommends this very value (for another, sound reason) does
    /// not show the warning beside it: its reason says what the value does
    /// and does not do ([`crate::tuning::SettingRow::warnings`]).
    #[serde(skip)]
    pub value: Option<&'static str>,
}

/// One tunable.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Tunable {
    /// The key as the OS names it.
    pub key: &'static str,
    pub os: Os,
    /// A short name for a table column or card.
    pub title: &'static str,
    /// The default as the OS prints it; `None` when it depends on the machine.
    pub default: Option<&'static str>,
    /// Qualifies the default ("scales with memory", "128 before Linux 5.4").
    pub default_note: &'static str,
    /// Linux: each network namespace (container) has its own value.
    pub per_namespace: bool,
    /// What it does, in plain words.
    pub explanation: &'static str,
    /// When changing it helps.
    pub when_to_change: &'static str,
    /// What can go wrong.
    pub risk: &'static str,
    /// Where the facts above can be checked.
    pub source: &'static str,
    /// What it means when the current value cannot be read.
    pub absent_means: &'static str,
    /// The goals for which this setting matters (shown, maybe not changed).
    pub goals: &'static [Goal],
    /// Wrong advice commonly given about it.
    pub warnings: &'static [Warning],
}

impl Tunable {
    /// The default as people read it: the value with its note, "(empty)",
    /// or only the note when the default depends on the machine.
    pub fn default_text(&self) -> String {
        match (self.default, self.default_note) {
            (Some(""), "") => "(empty)".to_string(),
            (Some(d), "") => d.to_string(),
            (Some(""), n) => n.to_string(),
            (Some(d), n) => format!("{d} ({n})"),
            (None, n) => n.to_string(),
        }
    }
}

const ABSENT_LINUX: &str = "this kernel has no such setting";
const ABSENT_MACOS: &str = "this macOS has no such setting";

/// tcp_tw_recycle is not a tunable we show (it no longer exists), but the
/// advice to enable it is everywhere: this is what the guide says about it.
/// Source: man7 tcp(7) (tcp_tw_recycle, "removed in Linux 4.12"); linux commit
/// 4396e46187ca ("tcp: remove tcp_tw_recycle").
pub const TW_RECYCLE: Warning = Warning {
    advice: "enable net.ipv4.tcp_tw_recycle to get rid of TIME_WAIT",
    truth: "tcp_tw_recycle was removed in Linux 4.12. While it existed it dropped connections \
            from clients behind NAT (it rejected SYNs with older timestamps from the same IP).",
    value: None,
};

pub const TW_REUSE_NOT_BIND: Warning = Warning {
    advice: "net.ipv4.tcp_tw_reuse = 1 fixes \"Address already in use\" when a server restarts",
    truth: "tcp_tw_reuse only lets an outgoing connect() reuse a TIME_WAIT 4-tuple. A server's \
            bind() never consults it; the server must set SO_REUSEADDR before bind().",
    value: Some("1"),
};

pub const FIN_TIMEOUT_NOT_TIME_WAIT: Warning = Warning {
    advice: "lower net.ipv4.tcp_fin_timeout (e.g. to 30) to shorten TIME_WAIT",
    truth: "tcp_fin_timeout only bounds how long an orphaned socket stays in FIN_WAIT_2. \
            TIME_WAIT on Linux lasts 60 s (TCP_TIMEWAIT_LEN) and no sysctl changes it.",
    value: Some("30"),
};

const MAX_TW_NOT_LOWER: Warning = Warning {
    advice: "lower net.ipv4.tcp_max_tw_buckets to get rid of TIME_WAIT sockets",
    truth: "The kernel documentation says the limit exists only against simple DoS attacks and \
            must not be lowered artificially: TIME_WAIT protects new connections from old segments.",
    value: None,
};

/// The Linux settings of this guide that Kubernetes' kubelet accepts in a
/// pod's `securityContext.sysctls` without node changes (its "safe" set), and
/// the Kubernetes version that added each (`None`: long-standing). Any other
/// sysctl must be allowed on the node (kubelet `--allowed-unsafe-sysctls`).
/// Sources: kubernetes pkg/kubelet/sysctl/safe_sysctls.go (v1.26:
/// ip_local_port_range, ip_unprivileged_port_start among five);
/// kubernetes.io/docs/reference/node/kernel-version-requirements
/// ("net.ipv4.ip_local_reserved_ports (since Kubernetes 1.27 ...)",
/// "net.ipv4.tcp_fin_timeout (since Kubernetes 1.29 ...)"). tcp_tw_reuse,
/// tcp_timestamps, somaxconn and tcp_max_syn_backlog are not in it
/// (tcp_max_syn_backlog was removed from it: kubernetes PR #32072).
pub const K8S_SAFE_SYSCTLS: &[(&str, Option<&str>)] = &[
    ("net.ipv4.ip_local_port_range", None),
    ("net.ipv4.ip_unprivileged_port_start", None),
    ("net.ipv4.ip_local_reserved_ports", Some("1.27")),
    ("net.ipv4.tcp_fin_timeout", Some("1.29")),
];

/// Every tunable, in the order the guide shows them.
pub static TUNABLES: &[Tunable] = &[
    // ---------------------------------------------------------------- Linux
    Tunable {
        key: "net.ipv4.tcp_tw_reuse",
        os: Os::Linux,
        title: "Reuse TIME_WAIT for outgoing connections",
        default: Some("2"),
        default_note: "2 = loopback only, the default since Linux 4.18",
        per_namespace: true,
        explanation: "Lets an outgoing connect() reuse a local port whose earlier connection to the \
                      same peer is still in TIME_WAIT, when TCP timestamps show it is safe. \
                      0 = off, 1 = all traffic, 2 = loopback only. Needs tcp_timestamps on both \
                      ends. A server's bind() never consults it.",
        when_to_change: "A client or proxy opens many short connections to the same peers and \
                         runs out of local ports (connect() fails with EADDRNOTAVAIL): set 1.",
        risk: "Low when both ends send TCP timestamps; without them it does nothing. The kernel \
               documentation asks for expert advice before changing it.",
        source: "Linux Documentation/networking/ip-sysctl.rst (tcp_tw_reuse); \
                 net/ipv4/tcp_ipv4.c tcp_twsk_unique()",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Outbound, Goal::Restart],
        warnings: &[TW_REUSE_NOT_BIND, TW_RECYCLE],
    },
    // ip-sysctl.rst (checked in the kernel tree): "tcp_tw_reuse_delay -
    // UNSIGNED INTEGER: The delay in milliseconds before a TIME-WAIT socket can
    // be reused by a new connection ... should not be set to a value lower than
    // the peer's clock tick for PAWS ... Default: 1000". Added in Linux 6.14
    // (net-next commits 19ce8cd30465, ca6a6f93867a); net/ipv4/sysctl_net_ipv4.c
    // registers it with proc_douintvec_minmax, extra1 = SYSCTL_ONE, extra2 =
    // tcp_tw_reuse_delay_max = TCP_PAWS_MSL * MSEC_PER_SEC (1..60000). Before
    // 6.14, net/ipv4/tcp_ipv4.c tcp_twsk_unique() compared whole seconds
    // (`ktime_get_seconds() > tcptw->tw_ts_recent_stamp`), so the delay was
    // about 1 s at one-second granularity.
    Tunable {
        key: "net.ipv4.tcp_tw_reuse_delay",
        os: Os::Linux,
        title: "Minimum TIME_WAIT age before reuse",
        default: Some("1000"),
        default_note: "milliseconds, 1-60000; Linux 6.14 and later",
        per_namespace: true,
        explanation: "How old (in milliseconds, 1 to 60000) a TIME_WAIT socket must be before \
                      tcp_tw_reuse may reuse its 4-tuple. Linux 6.14 added it; before that the \
                      delay was about 1 s, checked at one-second granularity.",
        when_to_change: "Rarely. Leave it unless you know the peers' timestamp clock.",
        risk: "Below the peer's timestamp tick, PAWS can no longer reject old duplicate segments \
               on the reused connection.",
        source: "Linux Documentation/networking/ip-sysctl.rst (tcp_tw_reuse_delay)",
        absent_means: "this kernel predates tcp_tw_reuse_delay (Linux 6.14): the delay is about \
                       1 s, checked at one-second granularity",
        goals: &[Goal::Outbound],
        warnings: &[],
    },
    // ip-sysctl.rst: "tcp_timestamps - INTEGER: 0 disabled; 1 enable timestamps
    // as defined in RFC1323 and use random offset for each connection; 2 like
    // 1, but without random offsets. Default: 1".
    Tunable {
        key: "net.ipv4.tcp_timestamps",
        os: Os::Linux,
        title: "TCP timestamps",
        default: Some("1"),
        default_note: "",
        per_namespace: true,
        explanation: "TCP timestamps (RFC 7323). 1 = on with a random offset per connection, \
                      2 = on without random offsets, 0 = off. tcp_tw_reuse relies on them to tell \
                      old segments from new ones.",
        when_to_change: "Keep it on (1). Turning it off silently disables tcp_tw_reuse.",
        risk: "Off: tcp_tw_reuse stops working and PAWS protection is lost.",
        source: "Linux Documentation/networking/ip-sysctl.rst (tcp_timestamps, tcp_tw_reuse)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Outbound],
        warnings: &[],
    },
    Tunable {
        key: "net.ipv4.tcp_fin_timeout",
        os: Os::Linux,
        title: "Orphaned FIN_WAIT_2 lifetime",
        default: Some("60"),
        default_note: "seconds",
        per_namespace: true,
        explanation: "How long a connection the application has already closed (an orphan) may \
                      wait in FIN_WAIT_2 for the peer's FIN before the kernel drops it. It does \
                      not touch TIME_WAIT, which lasts 60 s on Linux whatever this says.",
        when_to_change: "Orphaned sockets pile up in FIN_WAIT_2 because peers never close their \
                         side; a lower value frees them (and their local ports) sooner.",
        risk: "A peer that is slow to close has its connection aborted sooner.",
        source: "Linux Documentation/networking/ip-sysctl.rst (tcp_fin_timeout); \
                 include/net/tcp.h (TCP_TIMEWAIT_LEN)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Outbound, Goal::Restart],
        warnings: &[FIN_TIMEOUT_NOT_TIME_WAIT],
    },
    // ip-sysctl.rst: "tcp_max_tw_buckets - INTEGER: Maximal number of timewait
    // sockets held by system simultaneously. If this number is exceeded
    // time-wait socket is immediately destroyed and warning is printed ... you
    // _must_ not lower the limit artificially". The "warning is printed" part
    // is stale: net/ipv4/tcp_minisocks.c tcp_time_wait() only counts the
    // event, `__NET_INC_STATS(sock_net(sk), LINUX_MIB_TCPTIMEWAITOVERFLOW)`,
    // shown as TcpExt TCPTimeWaitOverflow (`nstat -az
    // TcpExtTCPTimeWaitOverflow`, /proc/net/netstat); it logs nothing.
    Tunable {
        key: "net.ipv4.tcp_max_tw_buckets",
        os: Os::Linux,
        title: "Most TIME_WAIT sockets kept",
        default: None,
        default_note: "depends on memory (half the established-connection hash size)",
        per_namespace: true,
        explanation: "The most TIME_WAIT sockets the system keeps at once. Past it, new TIME_WAIT \
                      sockets are destroyed at once; the kernel logs nothing, it only counts \
                      them in TcpExt TCPTimeWaitOverflow (`nstat -az \
                      TcpExtTCPTimeWaitOverflow`).",
        when_to_change: "Only when TcpExtTCPTimeWaitOverflow grows: raise it (it costs memory).",
        risk: "Lowering it removes the protection TIME_WAIT gives against old segments.",
        source: "Linux Documentation/networking/ip-sysctl.rst (tcp_max_tw_buckets); \
                 net/ipv4/tcp_minisocks.c tcp_time_wait() (LINUX_MIB_TCPTIMEWAITOVERFLOW)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Outbound],
        warnings: &[MAX_TW_NOT_LOWER],
    },
    // ip-sysctl.rst: "ip_local_port_range - 2 INTEGERS ... If possible, it is
    // better these numbers have different parity (one even and one odd value).
    // Must be greater than or equal to ip_unprivileged_port_start. The default
    // values are 32768 and 60999 respectively."
    // Parity: net/ipv4/inet_connection_sock.c inet_csk_find_open_port():
    // "__inet_hash_connect() favors ports having @low parity. We do the
    // opposite to not pollute connect() users." (offset |= 1 for bind;
    // __inet_hash_connect() in inet_hashtables.c uses offset &= ~1).
    Tunable {
        key: "net.ipv4.ip_local_port_range",
        os: Os::Linux,
        title: "Ephemeral port range",
        default: Some("32768 60999"),
        default_note: "",
        per_namespace: true,
        explanation: "The local ports the kernel picks by itself: for connect() on an unbound \
                      socket, bind() to port 0 and listen() on an unbound socket. Start and end \
                      should differ in parity (connect() prefers ports of the same parity as the \
                      range start, bind() the other parity), and the start must not be below \
                      ip_unprivileged_port_start.",
        when_to_change: "Many outgoing connections exhaust it (connect() gives EADDRNOTAVAIL): \
                         widen it. Or it covers a fixed port a service needs: reserve that port \
                         with ip_local_reserved_ports instead of shrinking the range.",
        risk: "A wider range may hand out a port some service expects to bind later; reserve such \
               ports with ip_local_reserved_ports.",
        source: "Linux Documentation/networking/ip-sysctl.rst (ip_local_port_range); \
                 net/ipv4/inet_connection_sock.c",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Outbound, Goal::Reserve, Goal::Restart],
        warnings: &[],
    },
    // ip-sysctl.rst: "ip_local_reserved_ports - list of comma separated ranges:
    // ... These ports will not be used by automatic port assignments (e.g. when
    // calling connect() or bind() with port number 0). Explicit port allocation
    // behavior is unchanged. ... "1,2-4,10-10" ... Writing to the file will
    // clear all previously reserved ports ... Default: Empty".
    Tunable {
        key: "net.ipv4.ip_local_reserved_ports",
        os: Os::Linux,
        title: "Ports kept out of automatic assignment",
        default: Some(""),
        default_note: "empty",
        per_namespace: true,
        explanation: "Ports the kernel never hands out by itself (connect() on an unbound socket, \
                      bind() to port 0). Explicit binds to them still work, so a service can always \
                      take its own port. A comma list of ports and ranges with no blanks, e.g. \
                      8080,9000-9010 (the kernel rejects \"8080, 9000\"); \
                      writing it replaces the whole list.",
        when_to_change: "A service's fixed port lies inside ip_local_port_range, so an outgoing \
                         connection could take it before the service starts.",
        risk: "Low. Reserving large blocks shrinks the ephemeral pool.",
        source: "Linux Documentation/networking/ip-sysctl.rst (ip_local_reserved_ports)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Reserve, Goal::Restart],
        warnings: &[],
    },
    // ip-sysctl.rst: "ip_unprivileged_port_start - INTEGER: This is a
    // per-namespace sysctl. It defines the first unprivileged port in the
    // network namespace. Privileged ports require root or CAP_NET_BIND_SERVICE
    // ... They must not overlap with the ip_local_port_range. Default: 1024".
    // net/ipv4/sysctl_net_ipv4.c ipv4_privileged_ports() rejects a value
    // above the range start (`if (range[0] < pports) ret = -EINVAL`), so it
    // may equal the start.
    Tunable {
        key: "net.ipv4.ip_unprivileged_port_start",
        os: Os::Linux,
        title: "First port anyone may bind",
        default: Some("1024"),
        default_note: "",
        per_namespace: true,
        explanation: "Binding a port below this number needs root or CAP_NET_BIND_SERVICE, \
                      otherwise bind() fails with EACCES. It must not be above the start of \
                      ip_local_port_range (equal is allowed).",
        when_to_change: "Unprivileged programs (dev servers, rootless containers) need a port \
                         such as 80 or 443. Narrower: give one binary the capability with \
                         `setcap cap_net_bind_service=+ep BINARY`.",
        risk: "Every local user and program may then bind those ports, e.g. answer on port 80 \
               while the real web server is down.",
        source: "Linux Documentation/networking/ip-sysctl.rst (ip_unprivileged_port_start); \
                 man7 capabilities(7) (CAP_NET_BIND_SERVICE)",
        absent_means: "this kernel predates ip_unprivileged_port_start: ports below 1024 always \
                       need CAP_NET_BIND_SERVICE",
        goals: &[Goal::LowPorts],
        warnings: &[],
    },
    // ip-sysctl.rst, /proc/sys/net/core section: "somaxconn - INTEGER: Limit of
    // socket listen() backlog, known in userspace as SOMAXCONN. Defaults to
    // 4096. (Was 128 before linux-5.4) See also tcp_max_syn_backlog".
    // man7 listen(2): a larger backlog is silently truncated to somaxconn.
    Tunable {
        key: "net.core.somaxconn",
        os: Os::Linux,
        title: "Listen backlog cap",
        default: Some("4096"),
        default_note: "128 before Linux 5.4",
        per_namespace: true,
        explanation: "The upper limit on the backlog a server passes to listen(): the queue of \
                      connections that finished the handshake and wait for accept(). A larger \
                      backlog is silently cut to this.",
        when_to_change: "A server under connection bursts overflows its accept queue (nstat \
                         TcpExtListenOverflows grows) and asks listen() for a larger backlog.",
        risk: "Low. It only helps when the application passes a larger backlog to listen().",
        source: "Linux Documentation/networking/ip-sysctl.rst (somaxconn); man7 listen(2)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Backlog],
        warnings: &[],
    },
    // ip-sysctl.rst: "tcp_max_syn_backlog - INTEGER: Maximal number of
    // remembered connection requests (SYN_RECV), which have not received an
    // acknowledgment from connecting client. This is a per-listener limit. The
    // minimal value is 128 for low memory machines, and it will increase in
    // proportion to the memory of machine. If server suffers from overload,
    // try increasing this number. ... about 304 bytes of memory."
    // tcp_syncookies: "Send out syncookies when the syn backlog queue of a
    // socket overflows ... Default: 1".
    // The "per-listener limit" wording is stale. net/ipv4/tcp_input.c
    // tcp_conn_request(): a listener's SYN queue is full when
    // inet_csk_reqsk_queue_is_full() (include/net/inet_connection_sock.h:
    // queue length > sk_max_ack_backlog, i.e. the listen() backlog capped by
    // somaxconn); then syncookies answer or, with tcp_syncookies = 0, the SYN
    // is dropped. tcp_max_syn_backlog is read only in the `if (!syncookies &&
    // (max_syn_backlog - inet_csk_reqsk_queue_len(sk) < (max_syn_backlog >> 2))
    // && !tcp_peer_is_proven(...))` clause, so it matters only when
    // tcp_syncookies = 0.
    Tunable {
        key: "net.ipv4.tcp_max_syn_backlog",
        os: Os::Linux,
        title: "Half-open queue threshold without syncookies",
        default: None,
        default_note: "depends on memory, at least 128",
        per_namespace: true,
        explanation: "Not a per-listener queue size, whatever older documentation says. A \
                      listener's queue of half-open connections (SYN_RECV) is bounded by its \
                      listen() backlog, capped by net.core.somaxconn. This setting is read only \
                      when tcp_syncookies = 0: then, once a listener's queue is within a quarter \
                      of this number, SYNs from peers not seen before are dropped. With \
                      tcp_syncookies on (1, the default) it has no effect.",
        when_to_change: "Only on a host that turned tcp_syncookies off and drops SYNs under \
                         bursts. Otherwise raise the application's listen() backlog and \
                         net.core.somaxconn instead.",
        risk: "Low: each waiting request costs about 304 bytes.",
        source: "net/ipv4/tcp_input.c tcp_conn_request(); include/net/inet_connection_sock.h \
                 inet_csk_reqsk_queue_is_full(); Linux Documentation/networking/ip-sysctl.rst \
                 (tcp_max_syn_backlog, tcp_syncookies)",
        absent_means: ABSENT_LINUX,
        goals: &[Goal::Backlog],
        warnings: &[],
    },
    Tunable {
        key: "net.ipv6.bindv6only",
        os: Os::Linux,
        title: "IPv6 sockets are IPv6-only by default",
        default: Some("0"),
        default_note: "",
        per_namespace: true,
        explanation: "The default of IPV6_V6ONLY. With 0, a socket bound to [::]:P also takes \
                      0.0.0.0:P, so a separate IPv4 bind to the same port fails with EADDRINUSE.",
        when_to_change: "Rarely. Prefer setting IPV6_V6ONLY on the one socket that needs it.",
        risk: "Programs that expect dual-stack sockets stop receiving IPv4 connections.",
        source: "Linux Documentation/networking/ip-sysctl.rst (bindv6only); man7 ipv6(7) \
                 (IPV6_V6ONLY)",
        absent_means: "IPv6 is not available in this kernel or namespace",
        goals: &[Goal::Restart],
        warnings: &[],
    },
    // ---------------------------------------------------------------- macOS
    // xnu bsd/netinet/tcp_timer.h: `#define TCPTV_MSL (15*TCP_RETRANSHZ)`
    // (15 s, exposed in ms as net.inet.tcp.msl); TIME_WAIT is 2 * MSL.
    Tunable {
        key: "net.inet.tcp.msl",
        os: Os::Macos,
        title: "Maximum segment lifetime (TIME_WAIT is twice this)",
        default: Some("15000"),
        default_note: "milliseconds: TIME_WAIT lasts 30 s",
        per_namespace: false,
        explanation: "The maximum segment lifetime in milliseconds. TIME_WAIT lasts twice this: \
                      30 s by default. Unlike Linux, macOS lets you change it.",
        when_to_change: "Almost never: it shortens TIME_WAIT for every connection on the machine. \
                         A server should set SO_REUSEADDR instead.",
        risk: "Old duplicate segments may be accepted into a new connection that reuses the same \
               ports.",
        source: "xnu bsd/netinet/tcp_timer.h (TCPTV_MSL), bsd/netinet/tcp_timer.c",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Outbound, Goal::Restart],
        warnings: &[],
    },
    // xnu bsd/netinet/in_pcb.c: `ipport_firstauto = IPPORT_HIFIRSTAUTO /* 49152
    // */; ipport_lastauto = IPPORT_HILASTAUTO /* 65535 */`, exported as
    // net.inet.ip.portrange.first / .last and clamped to 1024..65535.
    Tunable {
        key: "net.inet.ip.portrange.first",
        os: Os::Macos,
        title: "Ephemeral range start",
        default: Some("49152"),
        default_note: "",
        per_namespace: false,
        explanation: "The first port macOS picks by itself for connect() on an unbound socket and \
                      bind() to port 0.",
        when_to_change: "Many outgoing connections exhaust the range: lower it (keep it above \
                         the fixed ports your services use; macOS has no reserved-ports list).",
        risk: "A wider range may hand out a port some service expects to bind later.",
        source: "xnu bsd/netinet/in_pcb.c (ipport_firstauto, net.inet.ip.portrange)",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Outbound, Goal::Reserve],
        warnings: &[],
    },
    Tunable {
        key: "net.inet.ip.portrange.last",
        os: Os::Macos,
        title: "Ephemeral range end",
        default: Some("65535"),
        default_note: "",
        per_namespace: false,
        explanation: "The last port of the range macOS picks from by itself.",
        when_to_change: "Rarely: it already ends at the top.",
        risk: "Lowering it shrinks the pool.",
        source: "xnu bsd/netinet/in_pcb.c (ipport_lastauto, net.inet.ip.portrange)",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Outbound],
        warnings: &[],
    },
    // xnu bsd/netinet/in_pcb.c: ipport_hifirstauto / ipport_hilastauto
    // (49152 / 65535), used for sockets that ask for IP_PORTRANGE_HIGH.
    Tunable {
        key: "net.inet.ip.portrange.hifirst",
        os: Os::Macos,
        title: "High range start",
        default: Some("49152"),
        default_note: "",
        per_namespace: false,
        explanation: "Start of the range used by sockets that ask for the high range \
                      (IP_PORTRANGE_HIGH).",
        when_to_change: "Rarely.",
        risk: "As for net.inet.ip.portrange.first.",
        source: "xnu bsd/netinet/in_pcb.c (ipport_hifirstauto)",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Outbound],
        warnings: &[],
    },
    Tunable {
        key: "net.inet.ip.portrange.hilast",
        os: Os::Macos,
        title: "High range end",
        default: Some("65535"),
        default_note: "",
        per_namespace: false,
        explanation: "End of the range used by sockets that ask for the high range \
                      (IP_PORTRANGE_HIGH).",
        when_to_change: "Rarely.",
        risk: "Lowering it shrinks the pool.",
        source: "xnu bsd/netinet/in_pcb.c (ipport_hilastauto)",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Outbound],
        warnings: &[],
    },
    // xnu bsd/kern/uipc_socket.c: `int somaxconn = SOMAXCONN;
    // SYSCTL_INT(_kern_ipc, KIPC_SOMAXCONN, somaxconn, ...)`; bsd/sys/socket.h:
    // `#define SOMAXCONN 128`.
    Tunable {
        key: "kern.ipc.somaxconn",
        os: Os::Macos,
        title: "Listen backlog cap",
        default: Some("128"),
        default_note: "",
        per_namespace: false,
        explanation: "The upper limit on the backlog a server passes to listen().",
        when_to_change: "A server under connection bursts asks listen() for a larger backlog.",
        risk: "Low. It only helps when the application passes a larger backlog to listen().",
        source: "xnu bsd/kern/uipc_socket.c (somaxconn), bsd/sys/socket.h (SOMAXCONN)",
        absent_means: ABSENT_MACOS,
        goals: &[Goal::Backlog],
        warnings: &[],
    },
    // -------------------------------------------------------------- Windows
    // Microsoft TechNet/Learn "TcpTimedWaitDelay" registry reference:
    // HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters, REG_DWORD,
    // Windows Server 2003: range 0-300 s, default 0x78 (120 s), not present in
    // the registry unless added; Windows 2000: range 30-300 s, default 240 s.
    Tunable {
        key: "TcpTimedWaitDelay",
        os: Os::Windows,
        title: "TIME_WAIT length",
        default: Some("120"),
        default_note: "seconds, used while the registry value is absent (240 on Windows 2000)",
        per_namespace: false,
        explanation: "How long, in seconds, a closed connection stays in TIME_WAIT. Registry \
                      value HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\\
                      TcpTimedWaitDelay (REG_DWORD); Windows does not create it by itself.",
        when_to_change: "Many short outgoing connections exhaust the dynamic port range.",
        risk: "A shorter TIME_WAIT weakens protection against old duplicate segments. The change \
               may need a reboot to take effect.",
        source: "Microsoft Learn/TechNet: TcpTimedWaitDelay registry entry (Windows Server 2003: \
                 0-300 s, default 120 s; Windows 2000: 30-300 s, default 240 s)",
        absent_means: "not set in the registry: the built-in default applies",
        goals: &[Goal::Outbound, Goal::Restart],
        warnings: &[],
    },
    // Microsoft Learn KB 929851 "The default dynamic port range for TCP/IP has
    // changed since Windows Vista": default start 49152, end 65535; shown with
    // `netsh int ipv4 show dynamicport tcp`, set with `netsh int <ipv4|ipv6>
    // set dynamic <tcp|udp> start=number num=range`; set separately for each
    // transport and IP version.
    Tunable {
        key: "dynamicport tcp",
        os: Os::Windows,
        title: "Dynamic (ephemeral) port range",
        default: Some("start=49152 num=16384"),
        default_note: "49152-65535 since Windows Vista",
        per_namespace: false,
        explanation: "The ports Windows picks by itself for outgoing connections and bind() to \
                      port 0, set separately per protocol and IP version \
                      (`netsh int ipv4 show dynamicport tcp`).",
        when_to_change: "Many outgoing connections exhaust it.",
        risk: "Hyper-V, WinNAT, WSL2 and Docker may reserve their excluded blocks inside this \
               range, so a lower start can let them take ports your services need.",
        source: "Microsoft Learn KB 929851: The default dynamic port range for TCP/IP has changed \
                 since Windows Vista",
        absent_means: "netsh could not be run or its output was not understood",
        goals: &[Goal::Outbound, Goal::Reserve],
        warnings: &[],
    },
    // Microsoft KB 812873 (reserving ports): "only a program or process that
    // specifically requests a port that is in the reserved range can use the
    // port"; KB 3039044 describes explicit binds to a port excluded with
    // `netsh int ipv4 add excludedportrange` succeeding. Ranges Hyper-V,
    // WinNAT, WSL2 and Docker take are listed without `*` and refuse binds
    // with WSAEACCES (ports-and-time-wait.md, Windows). netsh refuses to add
    // a port in use: learn.microsoft.com azure-sql/virtual-machines/windows/
    // hadr-cluster-best-practices ("configure the port exclusion when the port
    // is not in use"). Stock installs are not empty: `netsh int ipv4 show
    // excludedportrange protocol=tcp` on clean Windows 10/11 machines lists
    // e.g. 5357 and 50000-50059 * (learn.microsoft.com troubleshoot
    // windows-server/networking "Cannot bind to a port in the excluded port
    // range"; hosted CI runners list 80, 5986, 47001). Ranges without `*` come
    // from any component that reserves ports through the port reservation API
    // (CreatePersistentTcpPortReservation), not only Hyper-V/WinNAT/WSL2/Docker.
    Tunable {
        key: "excludedportrange tcp",
        os: Os::Windows,
        title: "Excluded port ranges",
        default: Some(""),
        default_note: "stock installs already list some (e.g. 5357, 50000-50059 *); Hyper-V, \
                       WinNAT, WSL2, Docker and other services add more",
        per_namespace: false,
        explanation: "Port ranges Windows does not hand out automatically. Ranges listed \
                      without * are held by Windows components and services (Hyper-V, WinNAT, \
                      WSL2 and Docker among others): \
                      binding inside one fails with WSAEACCES (10013) even though nothing \
                      listens, the most common \"mystery\" bind failure on Windows developer \
                      machines. Ranges marked * were added by an administrator (`netsh ... add \
                      excludedportrange`): they only keep the ports out of automatic \
                      assignment, and a program that asks for such a port explicitly can still \
                      bind it.",
        when_to_change: "Reserve a port your service needs before Hyper-V or WinNAT takes it: \
                         `netsh int ipv4 add excludedportrange protocol=tcp startport=P \
                         numberofports=1` in an elevated prompt. Run it while nothing uses port \
                         P (before the service starts); netsh refuses a port in use.",
        risk: "Low for single ports you own.",
        source: "Microsoft KB 812873 (reserved ports: only a program that requests the port \
                 explicitly can use it); KB 3039044; netsh int ipv4 show/add \
                 excludedportrange; ports-and-time-wait.md (Windows)",
        absent_means: "netsh could not be run or its output was not understood",
        goals: &[Goal::Reserve, Goal::Restart],
        warnings: &[],
    },
];

/// The entry for `key` on `os`.
pub fn tunable(os: Os, key: &str) -> Option<&'static Tunable> {
    TUNABLES.iter().find(|t| t.os == os && t.key == key)
}

/// Every entry for `os`, in guide order.
pub fn tunables_for(os: Os) -> impl Iterator<Item = &'static Tunable> {
    TUNABLES.iter().filter(move |t| t.os == os)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_entry_is_complete_and_unique() {
        let mut seen = BTreeSet::new();
        for t in TUNABLES {
            assert!(seen.insert((t.os, t.key)), "duplicate {}", t.key);
            for (name, text) in [
                ("title", t.title),
                ("explanation", t.explanation),
                ("when_to_change", t.when_to_change),
                ("risk", t.risk),
                ("source", t.source),
                ("absent_means", t.absent_means),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {name}", t.key);
            }
            assert!(!t.goals.is_empty(), "{}: no goal", t.key);
            if t.default.is_none() {
                assert!(!t.default_note.is_empty(), "{}: no default, no note", t.key);
            }
            // Only Linux has network namespaces.
            if t.os != Os::Linux {
                assert!(!t.per_namespace, "{}", t.key);
            }
        }
    }

    #[test]
    fn every_goal_has_settings_on_linux() {
        for g in super::super::Goal::ALL {
            assert!(
                tunables_for(Os::Linux).any(|t| t.goals.contains(&g)),
                "{g:?} has no Linux setting"
            );
        }
    }

    #[test]
    fn port_range_parity_is_relative_to_the_range_start() {
        // Odd/even only holds for an even start: the kernel picks by parity
        // relative to the start of the range.
        let t = tunable(Os::Linux, "net.ipv4.ip_local_port_range").unwrap();
        assert!(!t.explanation.contains("odd ports first"));
        assert!(t.explanation.contains("same parity as the range start"));
    }

    #[test]
    fn tw_recycle_is_never_a_tunable() {
        assert!(TUNABLES.iter().all(|t| !t.key.contains("tw_recycle")));
    }

    #[test]
    fn default_text_joins_the_value_and_its_note() {
        let reuse = tunable(Os::Linux, "net.ipv4.tcp_tw_reuse").unwrap();
        assert_eq!(
            reuse.default_text(),
            "2 (2 = loopback only, the default since Linux 4.18)"
        );
        let reserved = tunable(Os::Linux, "net.ipv4.ip_local_reserved_ports").unwrap();
        assert_eq!(reserved.default_text(), "empty");
        let t = Tunable {
            default: Some(""),
            default_note: "",
            ..*reuse
        };
        assert_eq!(t.default_text(), "(empty)");
        let t = Tunable {
            default: None,
            default_note: "scales with memory",
            ..*reuse
        };
        assert_eq!(t.default_text(), "scales with memory");
    }
}
