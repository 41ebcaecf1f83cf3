//! Any other error, and the classes above when nothing explains them here.
use super::*;

pub(super) fn diagnose(c: &Case<'_>) -> Parts {
    let (req, failure, f) = (c.req, c.failure, c.facts);
    let e = &failure.error;
    let mut text = format!(
        "{} for {}: portwise has no explanation for this error here.",
        e.message,
        sock(req.addr, req.port)
    );
    if f.os == OsKind::Windows && e.class == ErrorClass::AccessDenied {
        text.push_str(
            " On Windows, WSAEACCES usually means the port lies in an excluded range that Windows \
             holds (for Hyper-V, WinNAT, WSL2, Docker or another service; none was seen covering \
             it: the list may have changed, or could not be read), or a socket portwise could \
             not see holds the port: one that did not set SO_REUSEADDR while this bind did, one \
             that set SO_EXCLUSIVEADDRUSE, or one of another user account.",
        );
    }
    let mut fixes = vec![Fix::new("Try again", Some(retest(req, ""))).acting(FixAction::TestAgain)];
    if f.os == OsKind::Windows {
        fixes.push(Fix::new(
            "See the excluded port ranges",
            Some(format!(
                "netsh int ipv4 show excludedportrange protocol={}",
                req.proto
            )),
        ));
    }
    fixes.push(fix_pick_other());
    (Cause::Unknown, text, fixes)
}
