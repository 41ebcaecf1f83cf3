//! EADDRNOTAVAIL: the address is not assigned to any local interface.
//! Nothing on the port matters here (a holder of the port on another
//! address is unrelated), so no holders are listed; the addresses offered
//! instead are ones where the same bind was just tried and succeeded
//! ([`SystemFacts::check_alternatives`]).
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, f) = (c.req, c.facts);
    let mut text = format!(
        "{} is not an address of this machine: no interface has it (a stale IP, an interface \
         that is down, or a typo). What holds port {} on other addresses has nothing to do with \
         this.",
        req.addr, req.port
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
    let what = if req.port == 0 {
        format!("a {} port", req.proto)
    } else {
        format!("{} port {}", req.proto, req.port)
    };
    if f.alternatives.is_empty() {
        text.push_str(&format!(
            " The same bind was tried on this machine's addresses and did not succeed on any: \
             {what} is taken there too."
        ));
    } else {
        let list: Vec<String> = f.alternatives.iter().map(|a| a.to_string()).collect();
        text.push_str(&format!(
            " Tried just now, {what} binds on: {}.",
            list.join(", ")
        ));
    }
    let mut fixes: Vec<Fix> = f
        .alternatives
        .iter()
        .take(4)
        .map(|a| {
            let alt = BindRequest {
                addr: *a,
                scope_id: 0,
                ..req.clone()
            };
            let what = if a.is_unspecified() {
                format!("Bind the wildcard {a} (every address; it binds now)")
            } else if a.is_loopback() {
                format!("Bind {a}, this machine's loopback (it binds now)")
            } else {
                format!("Bind {a}, an address of this machine (it binds now)")
            };
            Fix::new(what, Some(retest(&alt, ""))).acting(FixAction::TestAddress(*a))
        })
        .collect();
    if f.alternatives.is_empty() {
        fixes.push(fix_pick_other());
    }
    fixes.push(Fix::new(
        "List this machine's addresses",
        Some(f.os.list_addresses_command().into()),
    ));
    (Cause::AddressNotLocal, text, fixes)
}
