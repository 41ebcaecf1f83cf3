//! `SystemSource` driven by fakes shaped like each OS's socket table
//! (`platform::fake`): owner matching, unattributed counting and the
//! memory of last known owners, for Linux, macOS and Windows, on any host.
//! The owners are this test process (a real pid with a real name) and a pid
//! no process has.

use super::system::SystemSource;
use super::{SocketSource, is_unattributed};
use crate::platform::fake::{FAKE_UID, FakeLinux, FakeMacos, FakeWindows};
use crate::platform::pcblist::tests::{ListBuilder, Pcb};
use crate::platform::pcblist::{SS_NOFDREF, TcpClock};
use crate::sockets::model::{Snapshot, SocketEntry, TcpState};

fn me() -> u32 {
    std::process::id()
}

/// A pid no process has (above every OS's pid limit).
const GONE: u32 = 0x3fff_fff0;

fn find<'a>(s: &'a Snapshot, local: &str, state: TcpState) -> &'a SocketEntry {
    let addr: std::net::SocketAddr = local.parse().unwrap();
    s.sockets
        .iter()
        .find(|e| {
            e.local_addr == addr.ip() && e.local_port == addr.port() && e.state == Some(state)
        })
        .unwrap_or_else(|| panic!("no {local} {state:?} in {:?}", s.sockets))
}

#[test]
fn linux_shape_inodes_resolved_by_the_owner_scan() {
    let fake = FakeLinux::default();
    fake.set(
        vec![
            FakeLinux::row("127.0.0.1:8080", None, TcpState::Listen, 11, FAKE_UID),
            // Another user's listener that no visible process holds.
            FakeLinux::row("127.0.0.1:8081", None, TcpState::Listen, 12, 0),
            FakeLinux::row(
                "127.0.0.1:8080",
                Some("127.0.0.1:50001"),
                TcpState::TimeWait,
                0,
                0,
            ),
            // Closed by its process, still finishing: an orphan (no inode).
            FakeLinux::row(
                "127.0.0.1:8082",
                Some("127.0.0.1:50002"),
                TcpState::FinWait2,
                0,
                FAKE_UID,
            ),
        ],
        &[(11, me())],
    );
    let mut src = SystemSource::with_platform(fake.clone());
    let snap = src.snapshot().unwrap();
    let l = find(&snap, "127.0.0.1:8080", TcpState::Listen);
    assert_eq!(l.processes.len(), 1);
    assert_eq!(l.processes[0].pid, me());
    assert!(!l.processes[0].name.is_empty(), "a real process has a name");
    assert!(is_unattributed(find(
        &snap,
        "127.0.0.1:8081",
        TcpState::Listen
    )));
    assert!(!is_unattributed(find(
        &snap,
        "127.0.0.1:8082",
        TcpState::FinWait2
    )));
    assert_eq!(snap.unattributed, 1);
    let why = snap.unattributed_reason.unwrap_or_default();
    assert!(why.starts_with("1 "), "{why}");
    // A second snapshot of the same inodes needs no new scan.
    let scans = fake.scans();
    src.snapshot().unwrap();
    assert_eq!(fake.scans(), scans);
}

#[test]
fn linux_shape_time_wait_names_the_owner_seen_before() {
    let fake = FakeLinux::default();
    let conn = |state, inode| {
        FakeLinux::row(
            "127.0.0.1:9000",
            Some("127.0.0.1:40000"),
            state,
            inode,
            FAKE_UID,
        )
    };
    fake.set(vec![conn(TcpState::Established, 21)], &[(21, me())]);
    let mut src = SystemSource::with_platform(fake.clone());
    src.snapshot().unwrap();
    fake.set(vec![conn(TcpState::TimeWait, 0)], &[]);
    let snap = src.snapshot().unwrap();
    let tw = find(&snap, "127.0.0.1:9000", TcpState::TimeWait);
    assert!(tw.processes.is_empty());
    assert_eq!(tw.last_known_owner.as_ref().map(|o| o.pid), Some(me()));
    assert_eq!(tw.time_wait_expires_in_ms, Some(42_000));
    assert_eq!(snap.unattributed, 0);
}

#[test]
fn macos_shape_pids_come_with_the_kernel_records() {
    let mut tw = Pcb::tcp("127.0.0.1:7000", Some("127.0.0.1:41000"), 10, me() as i32);
    tw.so_state = SS_NOFDREF;
    tw.timer_2msl = 1_000_000 + 12_000;
    // Held by a process whose pid the kernel did not record.
    let nobody = Pcb::tcp("127.0.0.1:7001", None, 1, 0);
    // Closed and finishing (SS_NOFDREF): no holder, and not "unattributed".
    let mut closing = Pcb::tcp("127.0.0.1:7002", Some("127.0.0.1:41001"), 9, 0);
    closing.so_state = SS_NOFDREF;
    let tcp = ListBuilder::list(
        &[
            Pcb::tcp("127.0.0.1:7000", None, 1, me() as i32),
            tw,
            nobody,
            closing,
        ],
        10,
    );
    let udp = ListBuilder::list(&[Pcb::udp("127.0.0.1:7003", me() as i32)], 10);
    let clock = TcpClock {
        now_init: 1_000_000,
        microuptime_init: 0,
        uptime_now_us: 2_000_000,
    };
    let fake = FakeMacos::default();
    fake.set(tcp, udp, Some(clock));
    let mut src = SystemSource::with_platform(fake.clone());
    let snap = src.snapshot().unwrap();
    assert_eq!(snap.sockets.len(), 5);
    let l = find(&snap, "127.0.0.1:7000", TcpState::Listen);
    assert_eq!(
        l.processes.iter().map(|p| p.pid).collect::<Vec<_>>(),
        vec![me()]
    );
    let t = find(&snap, "127.0.0.1:7000", TcpState::TimeWait);
    assert!(t.processes.is_empty());
    assert_eq!(t.last_known_owner.as_ref().map(|o| o.pid), Some(me()));
    assert!(!t.last_known_owner.as_ref().unwrap().name.is_empty());
    assert_eq!(t.time_wait_expires_in_ms, Some(10_000));
    assert!(is_unattributed(find(
        &snap,
        "127.0.0.1:7001",
        TcpState::Listen
    )));
    assert!(!is_unattributed(find(
        &snap,
        "127.0.0.1:7002",
        TcpState::FinWait2
    )));
    assert_eq!(snap.unattributed, 1);
    assert!(snap.unattributed_reason.is_some());
    let u = snap.sockets.iter().find(|s| s.state.is_none()).unwrap();
    assert_eq!(u.processes[0].pid, me());

    // The engine's own memory wins over the kernel's last pid: a
    // connection seen alive names its holder once in TIME_WAIT.
    let alive = Pcb::tcp("127.0.0.1:7100", Some("127.0.0.1:42000"), 4, me() as i32);
    fake.set(
        ListBuilder::list(&[alive], 10),
        ListBuilder::list(&[], 10),
        None,
    );
    src.snapshot().unwrap();
    let mut gone = Pcb::tcp("127.0.0.1:7100", Some("127.0.0.1:42000"), 10, GONE as i32);
    gone.so_state = SS_NOFDREF;
    fake.set(
        ListBuilder::list(&[gone], 10),
        ListBuilder::list(&[], 10),
        None,
    );
    let snap = src.snapshot().unwrap();
    let t = find(&snap, "127.0.0.1:7100", TcpState::TimeWait);
    assert_eq!(t.last_known_owner.as_ref().map(|o| o.pid), Some(me()));
    assert_eq!(t.time_wait_expires_in_ms, None, "no clock, no countdown");
}

#[test]
fn windows_shape_pid_zero_outside_time_wait_is_unattributed() {
    let fake = FakeWindows::default();
    fake.set(vec![
        FakeWindows::row("0.0.0.0:8500", Some("0.0.0.0:0"), TcpState::Listen, me()),
        FakeWindows::row("0.0.0.0:8501", Some("0.0.0.0:0"), TcpState::Listen, 0),
        FakeWindows::row(
            "127.0.0.1:8500",
            Some("127.0.0.1:43000"),
            TcpState::TimeWait,
            0,
        ),
        FakeWindows::row(
            "127.0.0.1:8502",
            Some("127.0.0.1:43001"),
            TcpState::Established,
            me(),
        ),
    ]);
    let mut src = SystemSource::with_platform(fake.clone());
    let snap = src.snapshot().unwrap();
    let l = find(&snap, "0.0.0.0:8500", TcpState::Listen);
    assert_eq!(l.processes[0].pid, me());
    assert_eq!(l.remote_addr, None);
    assert!(is_unattributed(find(
        &snap,
        "0.0.0.0:8501",
        TcpState::Listen
    )));
    assert!(!is_unattributed(find(
        &snap,
        "127.0.0.1:8500",
        TcpState::TimeWait
    )));
    assert_eq!(snap.unattributed, 1);
    let why = snap.unattributed_reason.unwrap_or_default();
    assert!(why.starts_with('1'), "{why}");

    // The connection closes: Windows lists its TIME_WAIT with pid 0, and
    // the engine names the holder it saw.
    fake.set(vec![FakeWindows::row(
        "127.0.0.1:8502",
        Some("127.0.0.1:43001"),
        TcpState::TimeWait,
        0,
    )]);
    let snap = src.snapshot().unwrap();
    let t = find(&snap, "127.0.0.1:8502", TcpState::TimeWait);
    assert_eq!(t.last_known_owner.as_ref().map(|o| o.pid), Some(me()));
    assert_eq!(snap.unattributed, 0);

    // Wine's shape: every socket with pid 0. All but TIME_WAIT count.
    fake.set(vec![
        FakeWindows::row("127.0.0.1:8600", None, TcpState::Listen, 0),
        FakeWindows::row(
            "127.0.0.1:8601",
            Some("127.0.0.1:1"),
            TcpState::Established,
            0,
        ),
        FakeWindows::row("127.0.0.1:8602", Some("127.0.0.1:2"), TcpState::TimeWait, 0),
    ]);
    let snap = src.snapshot().unwrap();
    assert_eq!(snap.unattributed, 2);
}
