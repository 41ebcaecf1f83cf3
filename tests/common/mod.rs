//! Helpers shared by the integration tests: real sockets on loopback,
//! bounded in count and time.

#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// How long any wait for the kernel may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Open `n` connections to `listener` and close each from the accepting
/// side first, so the TIME_WAIT sockets sit on the listener's port.
pub fn make_time_wait(listener: &TcpListener, n: usize) {
    let addr = listener.local_addr().unwrap();
    for _ in 0..n {
        let client = TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        drop(server);
        // Wait for the server's FIN, then close: the server side moves from
        // FIN_WAIT_2 to TIME_WAIT.
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0u8; 16];
        let n = (&client).read(&mut buf).unwrap();
        assert_eq!(n, 0, "expected EOF from the closed server side");
        drop(client);
    }
}

/// Poll `f` until it returns `Some`, or panic after [`PATIENCE`].
pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The process name the OS reports for this test binary: its file name,
/// cut to 15 bytes on Linux (the kernel's `comm`).
pub fn my_name_matches(name: &str) -> bool {
    let exe = std::env::current_exe().unwrap();
    let file = exe.file_name().unwrap().to_string_lossy().into_owned();
    !name.is_empty() && file.starts_with(name) && name.len() >= file.len().min(15)
}

/// A TCP listener on 127.0.0.1 at a port outside the ephemeral range (picked
/// by portwise's own `free`). Port-0 listeners share their numbers with every
/// client socket and TIME_WAIT remnant on the machine, which makes exact
/// counts by `--port` racy on a busy machine; these ports are not.
pub fn quiet_listener() -> TcpListener {
    for _ in 0..20 {
        let port = portwise::ports::free_ports(&portwise::ports::FreeRequest::default())
            .unwrap()
            .ports[0]
            .port;
        if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
            return l;
        }
    }
    panic!("no free port outside the ephemeral range in 20 tries");
}
