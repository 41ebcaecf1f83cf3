//! EADDRNOTAVAIL: the address is not assigned to any local interface.
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, f) = (c.req, c.facts);
    let mut text = format!(
        "{} is not an address of this machine: no interface has it (a stale IP, an interface \
         that is down, or a typo).",
        req.addr
    );
    let same_family: Vec<String> = f
        .local_addrs
        .iter()
        .filter(|a| a.is_ipv4() == req.addr.is_ipv4())
        .take(10)
        .map(|a| a.to_string())
        .collect();
    if !same_family.is_empty() {
        text.push_str(&format!(" This machine has: {}.", same_family.join(", ")));
    }
    let wildcard = if req.addr.is_ipv4() { "0.0.0.0" } else { "::" };
    let wild_req = BindRequest {
        addr: wildcard.parse().unwrap_or(req.addr),
        ..req.clone()
    };
    let fixes = vec![
        Fix::new(
            format!("Bind the wildcard {wildcard} to accept on every address"),
            Some(retest(&wild_req, "")),
        ),
        Fix::new(
            "List this machine's addresses",
            Some(f.os.list_addresses_command().into()),
        ),
    ];
    (Cause::AddressNotLocal, text, fixes)
}
