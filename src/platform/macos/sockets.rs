//! macos: the kernel's own socket lists, `net.inet.tcp.pcblist_n` and
//! `net.inet.udp.pcblist_n`, read with sysctlbyname(3) as macOS's netstat
//! does (network_cmds netstat.tproj/inet.c `protopr()`); no root needed.
//! The records are parsed by `platform::pcblist` (pure, tested everywhere).
//!
//! Every socket is listed, TIME_WAIT included, with the pids xnu keeps in
//! each socket (`so_last_pid`, `so_e_pid`). A TIME_WAIT connection counts
//! down from its 2MSL deadline against the kernel's TCP clock
//! (`net.inet.tcp.now_init`, `net.inet.tcp.microuptime_init`).

use std::ffi::CString;

use crate::platform::pcblist::{self, TcpClock};
use crate::sockets::model::Proto;
use crate::sockets::raw::{RawSocket, Unattributed};

/// How often to retry when the list grew between sizing and reading.
const TRIES: usize = 4;

/// The bytes of a sysctl, by name. `ENOMEM` (the list grew between the
/// size query and the read) is retried with more room.
fn sysctl_bytes(name: &str) -> Result<Vec<u8>, String> {
    let c_name = CString::new(name).map_err(|_| format!("bad sysctl name {name}"))?;
    for _ in 0..TRIES {
        let mut len: libc::size_t = 0;
        // SAFETY: a size query: null old pointer, `len` is a valid out
        // pointer, no new value.
        let rc = unsafe {
            libc::sysctlbyname(
                c_name.as_ptr(),
                std::ptr::null_mut(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return Err(format!("{name}: {}", std::io::Error::last_os_error()));
        }
        // Room for sockets opened meanwhile (the kernel's own estimate
        // already adds n/8).
        let mut buf = vec![0u8; len + len / 4 + 4096];
        let mut got: libc::size_t = buf.len();
        // SAFETY: `buf` is writable for `got` bytes; the kernel writes at
        // most `got` bytes and stores the length written in `got`.
        let rc = unsafe {
            libc::sysctlbyname(
                c_name.as_ptr(),
                buf.as_mut_ptr().cast(),
                &mut got,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc == 0 {
            buf.truncate(got.min(buf.len()));
            return Ok(buf);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ENOMEM) {
            return Err(format!("{name}: {e}"));
        }
    }
    Err(format!("{name}: the list kept growing while it was read"))
}

/// A 32-bit sysctl value.
fn sysctl_u32(name: &str) -> Option<u32> {
    let b = sysctl_bytes(name).ok()?;
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// The kernel's TCP clock now; `None` when the sysctls are missing (older
/// macOS), then TIME_WAIT shows no countdown.
fn tcp_clock() -> Option<TcpClock> {
    let now_init = sysctl_u32("net.inet.tcp.now_init")?;
    let microuptime_init = sysctl_u32("net.inet.tcp.microuptime_init")?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer; CLOCK_UPTIME_RAW is the
    // mach_absolute_time clock the kernel's microuptime() counts.
    if unsafe { libc::clock_gettime(libc::CLOCK_UPTIME_RAW, &mut ts) } != 0 {
        return None;
    }
    let uptime_now_us =
        u64::try_from(ts.tv_sec).ok()? * 1_000_000 + u64::try_from(ts.tv_nsec).ok()? / 1000;
    Some(TcpClock {
        now_init,
        microuptime_init,
        uptime_now_us,
    })
}

/// Every TCP and UDP socket, IPv4 and IPv6, in every state, TIME_WAIT
/// included. `meanwhile` runs first (there is nothing to overlap with).
pub fn dump(each: &mut dyn FnMut(RawSocket), meanwhile: &mut dyn FnMut()) -> Result<(), String> {
    meanwhile();
    for (name, proto) in [
        ("net.inet.tcp.pcblist_n", Proto::Tcp),
        ("net.inet.udp.pcblist_n", Proto::Udp),
    ] {
        let buf = sysctl_bytes(name).map_err(|e| format!("cannot read the socket list: {e}"))?;
        let clock = if proto == Proto::Tcp {
            tcp_clock()
        } else {
            None
        };
        let records = pcblist::parse(&buf, proto)
            .map_err(|e| format!("cannot read the socket list {name}: {e}"))?;
        for r in records {
            each(pcblist::to_raw(r, clock));
        }
    }
    Ok(())
}

/// Sockets listed with no pid while some process holds them.
pub fn unattributed_reason(u: &Unattributed) -> String {
    format!(
        "{} {} listed by the kernel with no process id (xnu keeps the last process to use \
         each socket; these had none)",
        u.count,
        if u.count == 1 {
            "socket was"
        } else {
            "sockets were"
        }
    )
}
