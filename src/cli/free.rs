//! `portwise free`: print free port(s), outside the OS's ephemeral range by
//! default. Plain output is just the numbers, one per line
//! (`PORT=$(portwise free)`); notes go to stderr.

use std::process::ExitCode;

use super::args::parse_count;
use super::{CliError, CliResult, emit};
use crate::ports::{
    FreeError, FreeRequest, FreeResult, PortRange, ProtoChoice, Strategy, free_ports,
    reservation_note,
};

#[derive(Debug, clap::Args)]
#[command(after_help = crate::ports::RACE_EXPLANATION)]
pub struct FreeArgs {
    /// How many distinct ports to print.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub count: Option<String>,
    /// The protocol the port must be free for: tcp (default), udp or both.
    #[arg(long, value_name = "tcp|udp|both")]
    pub proto: Option<String>,
    /// Pick at random within LO-HI (1-65535) instead.
    #[arg(
        long,
        value_name = "LO-HI",
        conflicts_with = "os",
        allow_hyphen_values = true
    )]
    pub range: Option<String>,
    /// Let the OS assign the port: bind port 0, then read it back.
    #[arg(long)]
    pub os: bool,
    /// Leave each port in TIME_WAIT on 127.0.0.1 (TCP): for about 60 s on
    /// Linux (30 s on macOS) a bind without SO_REUSEADDR fails on it, while
    /// a server that sets SO_REUSEADDR can still bind it; with --os it also
    /// keeps port-0 binds from handing it out. The reservation is also the
    /// claim: concurrent `portwise free --reserve` calls never print the
    /// same port (plain `free` cannot promise that).
    #[arg(long)]
    pub reserve: bool,
    /// Print {"strategy": ..., "ports": [{"port", "proto", "reserved_until_unix_ms"}]}.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub remote: super::remote::RemoteArgs,
}

/// Turns the flags into a request, or a one-line usage error naming the bad
/// value.
pub fn request_from_args(args: &FreeArgs) -> Result<FreeRequest, CliError> {
    let count = match args.count.as_deref() {
        None => 1,
        Some(s) => parse_count(s)?,
    };
    let proto = match args.proto.as_deref() {
        None => ProtoChoice::Tcp,
        Some(p) => p.parse().map_err(CliError::Usage)?,
    };
    let strategy = match (&args.range, args.os) {
        (Some(r), _) => Strategy::Range(
            r.parse::<PortRange>()
                .map_err(|e| CliError::Usage(format!("invalid --range: {e}")))?,
        ),
        (None, true) => Strategy::Os,
        (None, false) => Strategy::OutsideEphemeral,
    };
    Ok(FreeRequest {
        strategy,
        count,
        proto,
        reserve: args.reserve,
    })
}

pub fn run(args: FreeArgs) -> CliResult {
    if let Some(h) = &args.remote.host {
        return super::remote::free(&args, h, args.remote.yes);
    }
    let req = request_from_args(&args)?;
    let result = free_ports(&req).map_err(|e| match e {
        FreeError::Usage(m) => CliError::Usage(m),
        FreeError::NoneFree(m) | FreeError::Io(m) => CliError::Failed(m),
    })?;
    for note in &result.notes {
        eprintln!("portwise: note: {note}");
    }
    if args.json {
        emit(&render_json(&result))?;
    } else {
        if req.reserve {
            eprintln!("{}", reservation_text(&result));
        }
        emit(&render_plain(&result))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The numbers, one per line.
pub fn render_plain(r: &FreeResult) -> String {
    r.ports.iter().map(|p| format!("{}\n", p.port)).collect()
}

pub fn render_json(r: &FreeResult) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Until when each reservation lasts, for stderr.
fn reservation_text(r: &FreeResult) -> String {
    let now = crate::util::time::now_unix_ms();
    let mut lines: Vec<String> = r
        .ports
        .iter()
        .filter_map(|p| {
            let until = p.reserved_until_unix_ms?;
            Some(format!(
                "portwise: port {} reserved for {} s (until {} UTC)",
                p.port,
                until.saturating_sub(now).div_ceil(1000),
                crate::util::time::utc_hms(until)
            ))
        })
        .collect();
    lines.push(format!("portwise: {}", reservation_note()));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::FreePort;

    fn args() -> FreeArgs {
        FreeArgs {
            count: None,
            proto: None,
            range: None,
            os: false,
            reserve: false,
            json: false,
            remote: Default::default(),
        }
    }

    fn usage_msg(a: FreeArgs) -> String {
        match request_from_args(&a) {
            Err(CliError::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_strategies() {
        let r = request_from_args(&args()).unwrap();
        assert_eq!(r, FreeRequest::default());
        let r = request_from_args(&FreeArgs { os: true, ..args() }).unwrap();
        assert_eq!(r.strategy, Strategy::Os);
        let r = request_from_args(&FreeArgs {
            range: Some("20000-20100".into()),
            count: Some("3".into()),
            proto: Some("both".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(
            r.strategy,
            Strategy::Range(PortRange::new(20000, 20100).unwrap())
        );
        assert_eq!((r.count, r.proto), (3, ProtoChoice::Both));
    }

    #[test]
    fn bad_values_name_themselves() {
        let m = usage_msg(FreeArgs {
            count: Some("0".into()),
            ..args()
        });
        assert!(m.contains("'0'"), "{m}");
        let m = usage_msg(FreeArgs {
            count: Some("many".into()),
            ..args()
        });
        assert!(m.contains("'many'"), "{m}");
        let m = usage_msg(FreeArgs {
            range: Some("9000-8000".into()),
            ..args()
        });
        assert!(m.contains("reversed"), "{m}");
        let m = usage_msg(FreeArgs {
            range: Some("0-10".into()),
            ..args()
        });
        assert!(m.contains("outside 1-65535"), "{m}");
        let m = usage_msg(FreeArgs {
            proto: Some("sctp".into()),
            ..args()
        });
        assert!(m.contains("'sctp'"), "{m}");
    }

    #[test]
    fn outputs() {
        let r = FreeResult {
            strategy: Strategy::OutsideEphemeral,
            ports: vec![
                FreePort {
                    port: 41234,
                    proto: ProtoChoice::Tcp,
                    reserved_until_unix_ms: None,
                },
                FreePort {
                    port: 41235,
                    proto: ProtoChoice::Tcp,
                    reserved_until_unix_ms: Some(1),
                },
            ],
            notes: vec![],
        };
        assert_eq!(render_plain(&r), "41234\n41235\n");
        let v: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(v["strategy"], "outside-ephemeral");
        assert_eq!(v["ports"][1]["reserved_until_unix_ms"], 1);
        assert_eq!(crate::util::time::utc_hms(3_723_000), "01:02:03");
    }
}
