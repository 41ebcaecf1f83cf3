//! The deterministic socket order, fast.
//!
//! [`SocketEntry::sort_key`] (proto, local port, family, local address,
//! state, remote address, remote port, inode) is the contract. Comparing
//! that tuple of enums is slow on tables of tens of thousands of sockets, so
//! the order is computed on packed integer keys instead: IPv4 sockets (the
//! bulk of any TIME_WAIT pile) on one 128-bit word plus the inode, the rest
//! on three words, and the two sorted runs merged. Tests check the result
//! against the model's own sort.

use std::cmp::Ordering;
use std::net::IpAddr;

use super::model::{Family, SocketEntry};

/// Sort `sockets` into the order of [`SocketEntry::sort_key`].
pub fn sort_sockets(sockets: &mut [SocketEntry]) {
    // Narrow keys leave their low 23 bits free for the socket's index.
    const INDEX_BITS: u32 = 23;
    let fits = sockets.len() < 1 << INDEX_BITS;
    let mut narrow: Vec<u128> = Vec::with_capacity(if fits { sockets.len() } else { 0 });
    let mut wide: Vec<(WideKey, u32)> = Vec::new();
    for (i, s) in sockets.iter().enumerate() {
        match narrow_key(s).filter(|_| fits) {
            Some(k) => narrow.push(k | i as u128),
            None => wide.push((wide_key(s), i as u32)),
        }
    }
    narrow.sort_unstable();
    wide.sort_unstable();
    let index = |k: u128| (k & ((1 << INDEX_BITS) - 1)) as u32;
    // Equal narrow keys differ only in the inode: order those runs by it.
    let mut start = 0;
    while start < narrow.len() {
        let head = narrow[start] >> INDEX_BITS;
        let mut end = start + 1;
        while end < narrow.len() && narrow[end] >> INDEX_BITS == head {
            end += 1;
        }
        if end - start > 1 {
            narrow[start..end].sort_unstable_by_key(|k| sockets[index(*k) as usize].inode);
        }
        start = end;
    }

    // Merge the two runs. Both keys start with proto (1 bit) and local port
    // (16 bits); when those tie, compare the full keys.
    let mut order: Vec<u32> = Vec::with_capacity(sockets.len());
    let (mut a, mut b) = (0, 0);
    while a < narrow.len() && b < wide.len() {
        let (ia, ib) = (index(narrow[a]), wide[b].1);
        let a_first = match (narrow[a] >> 111).cmp(&(wide[b].0.0 >> 111)) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => wide_key(&sockets[ia as usize]) <= wide_key(&sockets[ib as usize]),
        };
        if a_first {
            order.push(ia);
            a += 1;
        } else {
            order.push(ib);
            b += 1;
        }
    }
    order.extend(narrow[a..].iter().map(|k| index(*k)));
    order.extend(wide[b..].iter().map(|k| k.1));
    permute(sockets, &mut order);
}

/// Rearrange `items` so that position `i` holds the item that was at
/// `order[i]`, in place (each item moves once along its cycle).
fn permute<T>(items: &mut [T], order: &mut [u32]) {
    for i in 0..items.len() {
        // Items before `i` are final; one that was asked for from there has
        // since moved to where its own slot's item came from.
        let mut src = order[i] as usize;
        while src < i {
            src = order[src] as usize;
        }
        order[i] = src as u32;
        items.swap(i, src);
    }
}

fn addr_bits(ip: &IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(*a)),
        IpAddr::V6(a) => u128::from(*a),
    }
}

/// `None` orders before every state; states in declaration order.
fn state_rank(s: &SocketEntry) -> u128 {
    s.state.map_or(0, |st| st as u128 + 1)
}

/// Option<IpAddr> orders None < V4 < V6, then by address.
fn remote_tag(s: &SocketEntry) -> u128 {
    match &s.remote_addr {
        None => 0,
        Some(IpAddr::V4(_)) => 1,
        Some(IpAddr::V6(_)) => 2,
    }
}

fn remote_port(s: &SocketEntry) -> u128 {
    s.remote_port.map_or(0, |p| 1 << 16 | u128::from(p))
}

/// An IPv4 socket (IPv4 or no remote) in one word, inode aside. Bits from
/// the top: proto 1, local port 16, family 1 (always 0 here), local address
/// 32, state 4, remote tag 2, remote address 32, remote port 17; the low 23
/// bits stay 0.
fn narrow_key(s: &SocketEntry) -> Option<u128> {
    let (IpAddr::V4(local), Family::Ipv4) = (s.local_addr, s.family) else {
        return None;
    };
    let remote = match s.remote_addr {
        None => 0,
        Some(IpAddr::V4(r)) => u128::from(u32::from(r)),
        Some(IpAddr::V6(_)) => return None,
    };
    Some(
        (s.proto as u128) << 127
            | u128::from(s.local_port) << 111
            | u128::from(u32::from(local)) << 78
            | state_rank(s) << 74
            | remote_tag(s) << 72
            | remote << 40
            | remote_port(s) << 23,
    )
}

/// Any socket, as a 384-bit big-endian string of three words. Bits: proto
/// 1, local port 16, family 1, local address 128, state 4, remote tag 2,
/// remote address 128, remote port 17, inode 64 (361 used).
type WideKey = (u128, u128, u128);

fn wide_key(s: &SocketEntry) -> WideKey {
    let local = addr_bits(&s.local_addr);
    let remote = s.remote_addr.as_ref().map_or(0, addr_bits);
    let w0 = (s.proto as u128) << 127
        | u128::from(s.local_port) << 111
        | (s.family as u128) << 110
        | local >> 18;
    let w1 = (local & 0x3_ffff) << 110 | state_rank(s) << 106 | remote_tag(s) << 104 | remote >> 24;
    let w2 = (remote & 0xff_ffff) << 104 | remote_port(s) << 87 | u128::from(s.inode) << 23;
    (w0, w1, w2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockets::model::{Proto, TcpState};

    fn all_kinds() -> Vec<SocketEntry> {
        let base = SocketEntry::new(Proto::Tcp, "127.0.0.1:80".parse().unwrap(), None, None);
        let mut all = Vec::new();
        let states = [
            None,
            Some(TcpState::Listen),
            Some(TcpState::Established),
            Some(TcpState::TimeWait),
            Some(TcpState::Closed),
        ];
        for proto in [Proto::Tcp, Proto::Udp] {
            for port in [0u16, 80, 256, 65535] {
                for local in [
                    "127.0.0.1",
                    "10.0.0.2",
                    "255.255.255.255",
                    "::1",
                    "::ffff:10.0.0.2",
                    "fe80::1",
                ] {
                    for state in states {
                        for remote in [
                            None,
                            Some(("127.0.0.1", 9)),
                            Some(("::1", 300)),
                            Some(("9.9.9.9", 0)),
                            Some(("ffff::", 65535)),
                        ] {
                            for inode in [0u64, 7, u64::MAX] {
                                let ip: IpAddr = local.parse().unwrap();
                                all.push(SocketEntry {
                                    proto,
                                    family: Family::of(&ip),
                                    local_addr: ip,
                                    local_port: port,
                                    state,
                                    remote_addr: remote.map(|(a, _)| a.parse().unwrap()),
                                    remote_port: remote.map(|(_, p)| p),
                                    inode,
                                    ..base.clone()
                                });
                            }
                        }
                    }
                }
            }
        }
        // Scramble deterministically.
        let n = all.len();
        for i in 0..n {
            all.swap(i, (i * 7919 + 13) % n);
        }
        all
    }

    #[test]
    fn orders_exactly_like_the_model() {
        let mut all = all_kinds();
        let mut by_model = all.clone();
        by_model.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        sort_sockets(&mut all);
        assert_eq!(all, by_model);
    }

    #[test]
    fn sockets_equal_but_for_the_inode_follow_the_inode() {
        let mut all = all_kinds();
        // SO_REUSEPORT listeners: same everything, different inodes.
        for (n, s) in all.iter_mut().enumerate() {
            s.inode = (n as u64 * 7919) % 13;
            s.remote_addr = None;
            s.remote_port = None;
        }
        let mut by_model = all.clone();
        by_model.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        sort_sockets(&mut all);
        assert_eq!(all, by_model);
    }

    #[test]
    fn wide_keys_order_like_the_model_on_their_own() {
        let mut all = all_kinds();
        let mut by_model = all.clone();
        by_model.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        all.sort_by_key(wide_key);
        assert_eq!(all, by_model);
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e'];
        let mut order = vec![3, 0, 4, 1, 2];
        permute(&mut items, &mut order);
        assert_eq!(items, vec!['d', 'a', 'e', 'b', 'c']);
        let mut empty: Vec<u8> = vec![];
        permute(&mut empty, &mut []);
    }
}
