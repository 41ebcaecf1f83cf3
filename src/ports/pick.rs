//! Picking free ports: the three strategies, `count`, and `reserve`.

use socket2::Socket;

use super::facts::{PortFacts, time_wait_ms};
use super::probe::{bind_wildcard, is_free};
use super::range::{PortRange, PortSet, nth, total};
use super::reserve::reserve;
use super::rng::Rng;
use super::{FreeError, FreePort, FreeRequest, FreeResult, ProtoChoice, Strategy};
use crate::sockets::Proto;

/// Random tries before a pick falls back to scanning every candidate (so
/// "nothing free" is only said after every port was tried).
const RANDOM_TRIES: u32 = 32;

/// How many OS-assigned ports to look at before giving up on finding one
/// that is also free on the other family / protocol.
const OS_TRIES: usize = 64;

/// Picks ports. Keep one around to pick many: the facts are read once.
pub struct Picker {
    facts: PortFacts,
    rng: Rng,
}

impl Picker {
    pub fn new(facts: PortFacts) -> Picker {
        Picker {
            facts,
            rng: Rng::seeded(),
        }
    }

    pub fn facts(&self) -> &PortFacts {
        &self.facts
    }

    /// The ports a strategy picks from (`None` for [`Strategy::Os`]).
    pub fn candidates(&self, strategy: &Strategy) -> Option<Vec<PortRange>> {
        match strategy {
            Strategy::OutsideEphemeral => Some(self.facts.outside_ephemeral()),
            Strategy::Range(r) => Some(vec![*r]),
            Strategy::Os => None,
        }
    }

    /// One port from `candidates` that is free right now for every protocol
    /// in `protos`, skipping `taken`. Random first; after a few busy ports,
    /// a full scan from a random offset, so `None` means none is free.
    pub fn pick_from(
        &mut self,
        candidates: &[PortRange],
        protos: &[Proto],
        taken: &PortSet,
    ) -> Option<u16> {
        let n = total(candidates);
        if n == 0 {
            return None;
        }
        let ipv6 = self.facts.ipv6;
        let ok = |port: u16| !taken.contains(port) && is_free(port, protos, ipv6);
        for _ in 0..RANDOM_TRIES.min(n) {
            let port = nth(candidates, self.rng.below(n))?;
            if ok(port) {
                return Some(port);
            }
        }
        let start = self.rng.below(n);
        (0..n)
            .filter_map(|i| nth(candidates, (start + i) % n))
            .find(|&p| ok(p))
    }

    /// One port assigned by the OS (bind port 0 on 0.0.0.0, read it back)
    /// that is also free on `::` and for the other protocol. The bound
    /// socket is pushed to `held`, so the OS does not hand the same port
    /// out again until the caller drops them.
    pub fn pick_os(
        &mut self,
        protos: &[Proto],
        held: &mut Vec<Socket>,
    ) -> Result<Option<u16>, FreeError> {
        let Some((&first, rest)) = protos.split_first() else {
            return Ok(None);
        };
        for _ in 0..OS_TRIES {
            let s = bind_wildcard(false, first, 0)
                .map_err(|e| FreeError::Io(format!("cannot bind port 0: {e}")))?;
            let port = s
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket())
                .map(|a| a.port())
                .ok_or_else(|| FreeError::Io("cannot read the assigned port back".into()))?;
            held.push(s);
            let v6_ok = !self.facts.ipv6 || bind_wildcard(true, first, port).is_ok();
            if v6_ok && is_free(port, rest, self.facts.ipv6) {
                return Ok(Some(port));
            }
        }
        Ok(None)
    }

    /// Runs a whole request: validates it, picks `count` distinct ports,
    /// and reserves them when asked.
    pub fn run(&mut self, req: &FreeRequest) -> Result<FreeResult, FreeError> {
        if req.count == 0 {
            return Err(FreeError::Usage("count must be at least 1 (got 0)".into()));
        }
        if req.reserve && req.proto == ProtoChoice::Udp {
            return Err(FreeError::Usage(
                "--reserve works for TCP only (TIME_WAIT is a TCP state); use --proto tcp or both"
                    .into(),
            ));
        }
        let protos = req.proto.protos();
        let mut ports: Vec<u16> = Vec::with_capacity(req.count);
        let mut taken = PortSet::new();
        let candidates = self.candidates(&req.strategy);
        if let Some(c) = &candidates {
            let n = total(c);
            if req.count as u64 > u64::from(n) {
                return Err(FreeError::Usage(format!(
                    "{} holds only {n} candidate port(s); cannot return {}",
                    describe(&req.strategy),
                    req.count
                )));
            }
        }
        let tw = time_wait_ms();
        let mut reserve_notes = Vec::new();
        // OS-assigned ports stay bound until the end, so the OS does not
        // hand the same one out twice.
        let mut held = Vec::with_capacity(req.count);
        while ports.len() < req.count {
            let picked = match &candidates {
                Some(c) => self.pick_from(c, protos, &taken),
                None => self.pick_os(protos, &mut held)?,
            };
            let Some(p) = picked else {
                return Err(not_enough(&req.strategy, &ports, req.count));
            };
            taken.insert(p);
            if req.reserve {
                // Our own port-0 socket must not stand in the claim's way.
                held.retain(|s: &Socket| bound_port(s) != Some(p));
                match reserve(p, tw) {
                    Ok(r) if r.verified => reserve_notes.push((p, r.until_unix_ms, None)),
                    // `verified` means a plain bind of 127.0.0.1:port failed
                    // right after (ports::reserve::Reservation); that is the
                    // check, not a look for the TIME_WAIT socket.
                    Ok(_) => reserve_notes.push((
                        p,
                        None,
                        Some(format!(
                            "port {p}: a plain bind of 127.0.0.1:{p} still succeeded after the \
                             reservation, so nothing holds the port; it is not reserved"
                        )),
                    )),
                    // Claimed by another caller (or any socket) since the
                    // probe: not ours; pick another.
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                    Err(e) => reserve_notes.push((
                        p,
                        None,
                        Some(format!("port {p}: cannot reserve it: {e}")),
                    )),
                }
            }
            ports.push(p);
        }
        drop(held);

        let mut notes = Vec::new();
        if !self.facts.ephemeral_read && req.strategy == Strategy::OutsideEphemeral {
            notes.push(format!(
                "could not read the OS's ephemeral port range; assumed its default {}",
                join(&self.facts.ephemeral)
            ));
        }
        if !self.facts.ipv6 {
            notes.push("IPv6 is not available here: ports were checked on IPv4 only".into());
        }
        let mut out: Vec<FreePort> = ports
            .iter()
            .map(|&port| FreePort {
                port,
                proto: req.proto,
                reserved_until_unix_ms: None,
            })
            .collect();
        for (port, until, note) in reserve_notes {
            if let Some(fp) = out.iter_mut().find(|fp| fp.port == port) {
                fp.reserved_until_unix_ms = until;
            }
            notes.extend(note);
        }
        if req.reserve && req.proto == ProtoChoice::Both {
            notes.push("the reservation covers TCP only; UDP has no TIME_WAIT".into());
        }
        Ok(FreeResult {
            strategy: req.strategy,
            ports: out,
            notes,
        })
    }
}

/// The port a socket is bound to.
fn bound_port(s: &Socket) -> Option<u16> {
    s.local_addr().ok()?.as_socket().map(|a| a.port())
}

fn describe(strategy: &Strategy) -> String {
    match strategy {
        Strategy::OutsideEphemeral => "the space outside the ephemeral range".into(),
        Strategy::Range(r) => format!("range {r}"),
        Strategy::Os => "the OS-assigned range".into(),
    }
}

fn not_enough(strategy: &Strategy, found: &[u16], wanted: usize) -> FreeError {
    let what = match strategy {
        Strategy::Range(r) => format!("in range {r}"),
        Strategy::OutsideEphemeral => "outside the ephemeral range".into(),
        Strategy::Os => "among the ports the OS assigned".into(),
    };
    if found.is_empty() {
        FreeError::NoneFree(format!("no free port {what}"))
    } else {
        FreeError::NoneFree(format!(
            "only {} of {wanted} ports are free {what}",
            found.len()
        ))
    }
}

fn join(ranges: &[PortRange]) -> String {
    ranges
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::probe::ipv6_available;

    fn test_facts() -> PortFacts {
        PortFacts {
            ephemeral: vec![PortRange::new(32768, 60999).unwrap()],
            ephemeral_read: true,
            reserved: vec![],
            excluded: vec![],
            privileged: None,
            ipv6: ipv6_available(),
        }
    }

    /// A port that was free a moment ago (bound to port 0, then closed).
    fn recently_free() -> u16 {
        let s = bind_wildcard(false, Proto::Tcp, 0).unwrap();
        s.local_addr().unwrap().as_socket().unwrap().port()
    }

    #[test]
    fn picks_skip_taken_and_busy_ports() {
        // Candidates: one held (busy) port and two free ones, one of which is
        // already taken: the pick must be the other free one, every time.
        let held = bind_wildcard(false, Proto::Tcp, 0).unwrap();
        let busy = held.local_addr().unwrap().as_socket().unwrap().port();
        let a = recently_free();
        let b = loop {
            let b = recently_free();
            if b != a {
                break b;
            }
        };
        let candidates = super::super::range::normalize(vec![
            PortRange::single(busy),
            PortRange::single(a),
            PortRange::single(b),
        ]);
        let mut p = Picker::new(test_facts());
        let mut taken = PortSet::new();
        taken.insert(a);
        for _ in 0..20 {
            assert_eq!(p.pick_from(&candidates, &[Proto::Tcp], &taken), Some(b));
        }
        taken.insert(b);
        assert_eq!(p.pick_from(&candidates, &[Proto::Tcp], &taken), None);
        drop(held);
    }

    #[test]
    fn rejects_impossible_requests() {
        let mut p = Picker::new(test_facts());
        let req = FreeRequest {
            strategy: Strategy::Range(PortRange::new(40000, 40001).unwrap()),
            count: 3,
            proto: ProtoChoice::Tcp,
            reserve: false,
        };
        assert!(matches!(p.run(&req), Err(FreeError::Usage(m)) if m.contains("40000-40001")));
        let req = FreeRequest { count: 0, ..req };
        assert!(matches!(p.run(&req), Err(FreeError::Usage(_))));
        let req = FreeRequest {
            count: 1,
            proto: ProtoChoice::Udp,
            reserve: true,
            ..req
        };
        assert!(matches!(p.run(&req), Err(FreeError::Usage(m)) if m.contains("TCP")));
    }

    #[test]
    fn os_strategy_returns_distinct_ports() {
        let mut p = Picker::new(test_facts());
        let req = FreeRequest {
            strategy: Strategy::Os,
            count: 5,
            proto: ProtoChoice::Both,
            reserve: false,
        };
        let res = p.run(&req).unwrap();
        let mut ports: Vec<u16> = res.ports.iter().map(|p| p.port).collect();
        ports.sort();
        ports.dedup();
        assert_eq!(ports.len(), 5);
    }
}
