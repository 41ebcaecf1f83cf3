//! The Bind test view: the port, address and options of a bind, "Test",
//! "Watch until free", and the result card: green when it binds, else the
//! error, its cause in plain words, the holders, the TIME_WAIT countdown
//! and the fixes with their commands.

use egui::{RichText, Sense};

use crate::bind::{BindReport, Cause, Diagnosis, Fix, FixAction, OsKind, SockOption, option_help};
use crate::notify::PortStatus;
use crate::sockets::Proto;
use crate::window::bind_test::{BindResult, BindState, parse_addrs, parse_port};
use crate::window::shell::{Action, AppState, BindAction};
use crate::window::sockets as s;
use crate::window::widgets;

/// A green that reads on both themes.
fn ok_color(ui: &egui::Ui) -> egui::Color32 {
    if ui.visuals().dark_mode {
        egui::Color32::from_rgb(90, 200, 120)
    } else {
        egui::Color32::from_rgb(20, 130, 60)
    }
}

pub fn show(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let b = &state.bind;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.heading("Bind test");
            ui.label(
                RichText::new(
                    "Try a bind exactly as your server would: same address, port, protocol and \
                     options. The socket is closed at once. A failure is explained from the \
                     latest socket snapshot.",
                )
                .weak(),
            );
            ui.add_space(8.0);
            form(ui, b, out);
            ui.add_space(6.0);
            buttons(ui, state, out);
            ui.add_space(10.0);
            if let Some(m) = &b.unsupported {
                ui.label(RichText::new(m).color(widgets::error_color(ui)));
            }
            if b.is_stale() {
                stale_banner(ui, b, out);
            }
            if let (Some(_), Some(_)) = (&b.result, &b.also) {
                ui.label(
                    RichText::new(
                        "localhost is 127.0.0.1 and ::1: a server that binds the name may get \
                         either, so both were tested.",
                    )
                    .weak(),
                );
            }
            for (i, r) in b.results().enumerate() {
                ui.push_id(("bind.card", i), |ui| card(ui, state, r, out));
                ui.add_space(6.0);
            }
            ui.add_space(10.0);
            watched(ui, b, out);
        });
}

fn form(ui: &mut egui::Ui, b: &BindState, out: &mut Vec<Action>) {
    let os = OsKind::current();
    egui::Grid::new("bind.form")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            let label = ui.label("Port");
            ui.vertical(|ui| {
                let mut t = b.port_text.clone();
                let r = ui
                    .add(
                        egui::TextEdit::singleline(&mut t)
                            .hint_text("e.g. 8080")
                            .desired_width(90.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("0 to 65535; 0 lets the OS pick one");
                if r.changed() {
                    out.push(Action::Bind(BindAction::SetPort(t)));
                }
                if let Err(e) = parse_port(&b.port_text)
                    && !b.port_text.is_empty()
                {
                    ui.label(RichText::new(e).color(widgets::error_color(ui)));
                }
            });
            ui.end_row();

            let label = ui.label("Address");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    let mut t = b.addr_text.clone();
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(&mut t)
                                .hint_text("0.0.0.0, ::, 127.0.0.1, ::1 …")
                                .desired_width(220.0),
                        )
                        .labelled_by(label.id)
                        .on_hover_text("Type any address, or choose one from the list");
                    if r.changed() {
                        out.push(Action::Bind(BindAction::SetAddr(t)));
                    }
                    let mut chosen = None;
                    let combo = egui::ComboBox::from_id_salt("bind.addr_list")
                        .selected_text("Choose")
                        .width(90.0)
                        .show_ui(ui, |ui| {
                            for a in b.offered_addrs() {
                                let note = addr_note(&a);
                                let text = if note.is_empty() {
                                    a.clone()
                                } else {
                                    format!("{a}  ({note})")
                                };
                                if ui.selectable_label(b.addr_text == a, text).clicked() {
                                    chosen = Some(a);
                                }
                            }
                        });
                    let pick = ui.label(RichText::new("wildcards, loopback, this machine").weak());
                    combo.response.labelled_by(pick.id);
                    if let Some(a) = chosen {
                        out.push(Action::Bind(BindAction::SetAddr(a)));
                    }
                });
                if let Err(e) = parse_addrs(&b.addr_text) {
                    ui.label(RichText::new(e).color(widgets::error_color(ui)));
                }
            });
            ui.end_row();

            ui.label("Protocol");
            ui.horizontal(|ui| {
                for (p, name, tip) in [
                    (Proto::Tcp, "TCP", "bind() then listen(), as a server does"),
                    (Proto::Udp, "UDP", "bind() a datagram socket"),
                ] {
                    if ui.radio(b.proto == p, name).on_hover_text(tip).clicked() && b.proto != p {
                        out.push(Action::Bind(BindAction::SetProto(p)));
                    }
                }
            });
            ui.end_row();

            ui.label("Options");
            ui.horizontal_wrapped(|ui| {
                let mut on = b.reuseaddr;
                if ui
                    .checkbox(&mut on, "SO_REUSEADDR")
                    .on_hover_text(option_help(os, SockOption::ReuseAddr))
                    .changed()
                {
                    out.push(Action::Bind(BindAction::SetReuseAddr(on)));
                }
                if os != OsKind::Windows {
                    let mut on = b.reuseport;
                    if ui
                        .checkbox(&mut on, "SO_REUSEPORT")
                        .on_hover_text(option_help(os, SockOption::ReusePort))
                        .changed()
                    {
                        out.push(Action::Bind(BindAction::SetReusePort(on)));
                    }
                }
                let v6 = parse_addrs(&b.addr_text).is_ok_and(|a| a.iter().any(|a| a.is_ipv6()));
                let mut on = b.v6only && v6;
                let r = ui
                    .add_enabled(v6, egui::Checkbox::new(&mut on, "IPV6_V6ONLY"))
                    .on_hover_text(option_help(os, SockOption::V6Only))
                    .on_disabled_hover_text("Applies to IPv6 addresses only (e.g. :: or ::1)");
                if r.changed() {
                    out.push(Action::Bind(BindAction::SetV6Only(on)));
                }
            });
            ui.end_row();
        });
}

/// The watched ports, each with its status and a Remove button.
fn watched(ui: &mut egui::Ui, b: &BindState, out: &mut Vec<Action>) {
    ui.strong("Watched ports");
    if b.watched.is_empty() {
        ui.label(
            RichText::new(
                "None. \"Add to watched ports\" keeps an eye on the form's port: a desktop \
                 notification when it becomes bindable, and when it is taken (naming who took it).",
            )
            .weak(),
        );
        return;
    }
    ui.label(
        RichText::new(
            "A desktop notification when one becomes bindable or is taken, while portwise runs \
             (sampling not paused).",
        )
        .weak(),
    );
    egui::Grid::new("bind.watched")
        .num_columns(3)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for w in &b.watched {
                let label = w.label();
                ui.monospace(&label);
                let status = match b.watcher.status(w) {
                    None => "not looked at yet".to_string(),
                    Some(PortStatus::Bindable) => "bindable now".to_string(),
                    Some(PortStatus::Taken { by }) => format!("held by {by}"),
                    Some(PortStatus::Busy { why }) => format!("not bindable yet: {why}"),
                };
                ui.label(format!("{label}: {}", sys(&status)));
                if ui
                    .small_button(format!("Remove {label}"))
                    .on_hover_text("Stop watching this port")
                    .clicked()
                {
                    out.push(Action::Bind(BindAction::RemoveWatched(*w)));
                }
                ui.end_row();
            }
        });
}

/// The fields changed after the test: the card below is for the old ones.
fn stale_banner(ui: &mut egui::Ui, b: &BindState, out: &mut Vec<Action>) {
    let Some(r) = &b.result else { return };
    let old = &r.inputs;
    let mut what = format!(
        "{} {} port {}",
        old.proto.as_str().to_uppercase(),
        old.addr_text,
        old.port_text
    );
    let options: Vec<&str> = [
        (old.reuseaddr, "SO_REUSEADDR"),
        (old.reuseport, "SO_REUSEPORT"),
        (old.v6only, "IPV6_V6ONLY"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    // Said even when none was set: ticking one is a change of inputs.
    if options.is_empty() {
        what.push_str(", no socket options");
    } else {
        what.push_str(&format!(", {}", options.join(", ")));
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "Out of date: this result is for the old inputs ({what}); the fields have \
                 changed since."
            ))
            .color(widgets::warn_color(ui)),
        );
        if b.request().is_ok() && ui.button("Test the new inputs").clicked() {
            out.push(Action::Bind(BindAction::Test));
        }
    });
}

/// What an offered address is.
fn addr_note(a: &str) -> &'static str {
    match a {
        "0.0.0.0" => "every IPv4 address",
        "::" => "every IPv6 address, and IPv4 unless v6-only",
        "127.0.0.1" | "::1" => "loopback",
        _ => "",
    }
}

fn buttons(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let b = &state.bind;
    let req = b.request();
    // Wraps in a narrow window (the command line is long).
    ui.horizontal_wrapped(|ui| {
        let r = ui.add_enabled(
            req.is_ok(),
            egui::Button::new(RichText::new("Test").strong()).min_size(egui::vec2(90.0, 28.0)),
        );
        let r = match &req {
            Ok(_) => r.on_hover_text("Bind once now, then close the socket"),
            Err(e) => r.on_disabled_hover_text(e),
        };
        if r.clicked() {
            out.push(Action::Bind(BindAction::Test));
        }
        if b.watch.is_some() {
            if ui
                .button("Stop watching")
                .on_hover_text("Stop re-testing")
                .clicked()
            {
                out.push(Action::Bind(BindAction::Watch(false)));
            }
        } else {
            let r = ui
                .add_enabled(req.is_ok(), egui::Button::new("Watch until free"))
                .on_hover_text("Re-test every second and say when the port binds");
            if r.clicked() {
                out.push(Action::Bind(BindAction::Watch(true)));
            }
        }
        let w = b.watchable();
        let already = w.is_some_and(|w| b.watched.contains(&w));
        let r = ui
            .add_enabled(
                w.is_some() && !already,
                egui::Button::new("Add to watched ports"),
            )
            .on_hover_text(
                "Keep watching this port (across runs): a desktop notification when it becomes \
                 bindable or is taken",
            )
            .on_disabled_hover_text(if already {
                "Already watched"
            } else {
                "Enter a port from 1 to 65535"
            });
        if r.clicked() {
            out.push(Action::Bind(BindAction::AddWatched));
        }
        if let Ok(cmd) = b.command() {
            ui.separator();
            ui.label(RichText::new("Command line:").weak());
            ui.add(egui::Label::new(RichText::new(&cmd).monospace()).wrap());
            if ui.small_button("Copy command").clicked() {
                out.push(Action::CopyText {
                    text: cmd,
                    notice: "Copied the command".into(),
                });
            }
        }
    });
    if let Some(w) = b.watch {
        // No spinner: it repaints every frame, for as long as the watch
        // lasts (minutes: 150% of a core with software GL). Each attempt's
        // result wakes the window once a second, which updates this line.
        ui.horizontal(|ui| {
            ui.label(format!(
                "Watching: re-testing every second (attempt {}, {} s so far). Portwise says so \
                 here as soon as the port binds.",
                w.attempts,
                state.now_ms.saturating_sub(w.started_ms) / 1000
            ));
        });
    }
}

/// Text that carries what the system said (process names, users: a
/// process names itself) with its control characters escaped (`\x1b`,
/// `\x0a`), as the command line prints it. One paragraph each.
fn sys(s: &str) -> std::borrow::Cow<'_, str> {
    crate::util::text::escape_control(s)
}

/// The cause in a few plain words (the explanation says the rest).
fn cause_title(c: Cause) -> &'static str {
    match c {
        Cause::Listener => "Another socket is bound to this port",
        Cause::InUseByConnection => "A connection uses this port as its local port",
        Cause::TimeWait => "Old connections on this port are in TIME_WAIT",
        Cause::Orphaned => "Closed connections the kernel is still finishing (no process)",
        Cause::DualStackConflict => "An IPv6 socket holds the IPv4 side too (dual stack)",
        Cause::PrivilegedPort => "A privileged port",
        Cause::AddressNotLocal => "The address is not on this machine",
        Cause::ExcludedRange => "The port is in a range Windows keeps for itself",
        Cause::PermissionPolicy => "A security policy refused the bind",
        Cause::Exhausted => "No free port left for the OS to assign",
        Cause::Unknown => "No socket in the latest snapshot explains it",
    }
}

fn card(ui: &mut egui::Ui, state: &AppState, r: &BindResult, out: &mut Vec<Action>) {
    let rep = &r.report;
    let stale = state.bind.is_stale();
    let color = if stale {
        ui.visuals().weak_text_color()
    } else if rep.ok {
        ok_color(ui)
    } else {
        widgets::error_color(ui)
    };
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(2.0, color))
        .inner_margin(12.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width().min(900.0));
            match (&rep.error, &rep.diagnosis) {
                (None, _) => bindable(ui, rep, r, color),
                (Some(e), d) => {
                    ui.label(
                        RichText::new(format!("{}: {}", e.code, e.message))
                            .size(18.0)
                            .strong()
                            .color(color),
                    );
                    ui.label(RichText::new(verdict_line(rep)).weak());
                    match d {
                        Some(d) => diagnosis(ui, state, r, d, out),
                        // The system facts are being read on a worker.
                        None => {
                            ui.horizontal(|ui| {
                                ui.spinner();
                                ui.label("Diagnosing…");
                            });
                        }
                    }
                }
            }
            elsewhere(ui, state, rep);
        });
}

/// Servers on the same port in other network namespaces (containers, `ip
/// netns`), from the Sockets view's snapshot when "All namespaces" is on:
/// named, and said not to conflict with a bind here.
fn elsewhere(ui: &mut egui::Ui, state: &AppState, rep: &BindReport) {
    let own = state.sockets.own_netns();
    let found = crate::sockets::namespaces::listeners_elsewhere(
        &state.sockets.snapshot,
        own,
        rep.proto,
        rep.port,
    );
    if !found.is_empty() {
        ui.add_space(6.0);
        ui.label(RichText::new("In other network namespaces").strong());
        for l in &found {
            ui.add(egui::Label::new(format!("• {}", sys(&l.note))).wrap());
        }
    }
    // A port a container runtime's proxy holds: stop the container, not
    // the proxy (killing docker-proxy or conmon leaves it publishing).
    if rep.ok {
        return;
    }
    let published =
        crate::sockets::namespaces::published_on(&state.sockets.host, own, rep.proto, rep.port);
    if published.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Published port").strong());
    for (text, command) in &published {
        ui.add(egui::Label::new(format!("• {text}")).wrap());
        if let Some(c) = command {
            ui.horizontal_wrapped(|ui| {
                ui.label("Stop the container, not its proxy.");
                ui.label(RichText::new(TERMINAL).weak());
                ui.add(egui::Label::new(RichText::new(c).monospace()).sense(Sense::hover()));
            });
        }
    }
}

fn verdict_line(rep: &BindReport) -> String {
    format!(
        "{} {}",
        rep.proto.as_str().to_uppercase(),
        s::socket_addr(rep.addr, rep.port)
    )
}

fn bindable(ui: &mut egui::Ui, rep: &BindReport, r: &BindResult, color: egui::Color32) {
    ui.label(RichText::new("Bindable").size(22.0).strong().color(color));
    let mut line = format!("{} binds now", verdict_line(rep));
    if r.request.port == 0 {
        line = format!(
            "{} binds: the OS picked port {}",
            verdict_line(rep),
            rep.port
        );
    }
    if let Some(ms) = r.freed_after_ms {
        line.push_str(&format!(
            " (freed after {} s of watching)",
            ms.div_ceil(1000)
        ));
    }
    line.push('.');
    ui.label(line);
    for n in &rep.notes {
        ui.add(egui::Label::new(n.as_str()).wrap());
    }
    ui.label(
        RichText::new(
            "Only at this moment: another process may still take the port before your server \
             binds it.",
        )
        .weak(),
    );
}

fn diagnosis(
    ui: &mut egui::Ui,
    state: &AppState,
    r: &BindResult,
    d: &Diagnosis,
    out: &mut Vec<Action>,
) {
    ui.add_space(6.0);
    ui.label(RichText::new(cause_title(d.cause)).size(16.0).strong());
    ui.add(egui::Label::new(sys(&d.explanation)).wrap());
    let port = r.request.port;
    if !d.holders.is_empty() {
        ui.add_space(6.0);
        ui.strong("Held by");
        ui.horizontal_wrapped(|ui| {
            for h in &d.holders {
                let user = h
                    .user
                    .as_deref()
                    .map(|u| format!(", user {u}"))
                    .unwrap_or_default();
                let r = ui
                    .button(format!("{} (pid {}){user}", sys(&h.name), h.pid))
                    .on_hover_text(format!(
                        "Show every socket on port {port} in the Sockets view"
                    ));
                if r.clicked() {
                    out.push(Action::Sockets(s::SocketsMsg::ShowPort(port)));
                }
            }
        });
    }
    if let Some(tw) = d.time_wait {
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let n = tw.count;
            let what = if n == 1 {
                "1 socket in TIME_WAIT".to_string()
            } else {
                format!("{n} sockets in TIME_WAIT")
            };
            match r.time_wait_left_ms(widgets::countdown_clock(state.now_ms)) {
                Some(left) => {
                    ui.label(format!("{what}; the last one frees in"));
                    widgets::countdown(ui, left, 80.0, state.now_ms);
                }
                None => {
                    ui.label(format!(
                        "{what}; this OS does not report how long they have left"
                    ));
                }
            }
        });
    }
    if !d.hidden_owners.is_empty() {
        ui.add_space(6.0);
        let owners: Vec<String> = d
            .hidden_owners
            .iter()
            .map(|h| {
                let who = match &h.user {
                    Some(u) => format!("user {u} (uid {})", h.uid),
                    None => format!("uid {}", h.uid),
                };
                format!(
                    "{who}: {} socket{}",
                    h.sockets,
                    if h.sockets == 1 { "" } else { "s" }
                )
            })
            .collect();
        ui.label(format!("Hidden process, owned by {}", owners.join("; ")));
    }
    if BindState::looks_free_now(r, &state.sockets.snapshot)
        && state.bind.watch.is_none()
        && !state.bind.is_stale()
    {
        ui.label(
            RichText::new("The latest snapshot shows nothing on this port any more: test again.")
                .color(widgets::warn_color(ui)),
        );
    }
    if !d.fixes.is_empty() {
        ui.add_space(6.0);
        ui.strong("What to do");
        for (i, f) in d.fixes.iter().enumerate() {
            ui.push_id(i, |ui| fix(ui, state, r, f, out));
        }
    }
}

/// One fix: in the window's words, with the window's own button for it
/// (the form, Watch until free, Stop process…, Show in Sockets, Free
/// port); a step only a terminal can do shows its command to copy,
/// labelled as such.
fn fix(ui: &mut egui::Ui, state: &AppState, r: &BindResult, f: &Fix, out: &mut Vec<Action>) {
    ui.add(egui::Label::new(format!("• {}", sys(f.window_text()))).wrap());
    let port = r.request.port;
    if let Some(a) = &f.action {
        let (label, tip, action) = match a {
            FixAction::TestAgain => (
                "Test again".to_string(),
                "Bind once more with the same fields".to_string(),
                Action::Bind(BindAction::TestFix(a.clone())),
            ),
            FixAction::TestWithReuseAddr => (
                "Tick SO_REUSEADDR and test again".to_string(),
                "Set SO_REUSEADDR in the form, then bind once more".to_string(),
                Action::Bind(BindAction::TestFix(a.clone())),
            ),
            FixAction::TestWithV6Only => (
                "Tick IPV6_V6ONLY and test again".to_string(),
                "Set IPV6_V6ONLY in the form, then bind once more".to_string(),
                Action::Bind(BindAction::TestFix(a.clone())),
            ),
            FixAction::TestAddress(addr) => {
                let text = crate::bind::address_text(addr);
                (
                    format!("Test {text}"),
                    format!("Put {text} in the Address field, then bind once more"),
                    Action::Bind(BindAction::TestFix(a.clone())),
                )
            }
            FixAction::WatchUntilFree => (
                "Watch until free".to_string(),
                "Re-test every second and say when the port binds".to_string(),
                Action::Bind(BindAction::Watch(true)),
            ),
            FixAction::StopProcess { pid } => (
                "Stop process…".to_string(),
                "Show what would be stopped, and confirm".to_string(),
                Action::Stop(crate::window::stop::StopMsg::Plan {
                    port,
                    pids: vec![*pid],
                }),
            ),
            FixAction::ShowPort => (
                "Show in Sockets".to_string(),
                format!("Every socket on port {port}, in the Sockets view"),
                Action::Sockets(s::SocketsMsg::ShowPort(port)),
            ),
            FixAction::ShowAllSockets => (
                "Show in Sockets".to_string(),
                "Every socket, in the Sockets view (tick All states)".to_string(),
                Action::ShowView(crate::window::shell::View::Sockets),
            ),
            FixAction::GrabFreePort => (
                "Open Free port".to_string(),
                "Grab a free port in the Free port view".to_string(),
                Action::ShowView(crate::window::shell::View::FreePort),
            ),
        };
        // A watch already running needs no second start; a holder that has
        // gone since the test has nothing left to stop.
        let watching = matches!(a, FixAction::WatchUntilFree) && state.bind.watch.is_some();
        let gone = matches!(a, FixAction::StopProcess { .. })
            && BindState::looks_free_now(r, &state.sockets.snapshot);
        ui.horizontal(|ui| {
            ui.add_space(14.0);
            let b = ui
                .add_enabled(!watching && !gone, egui::Button::new(label))
                .on_hover_text(tip)
                .on_disabled_hover_text(if gone {
                    "It no longer holds the port: test again"
                } else {
                    "Already watching"
                });
            if b.clicked() {
                out.push(action);
            }
        });
        return;
    }
    if let Some(c) = &f.command {
        ui.horizontal_wrapped(|ui| {
            ui.add_space(14.0);
            ui.label(RichText::new(TERMINAL).weak());
            ui.add(egui::Label::new(RichText::new(c).monospace()).sense(Sense::hover()));
            if ui
                .small_button("Copy")
                .on_hover_text(format!("Copy: {c}"))
                .clicked()
            {
                out.push(Action::CopyText {
                    text: c.clone(),
                    notice: "Copied the command".into(),
                });
            }
        });
    }
}

/// The label before a command the window cannot run for the user.
pub const TERMINAL: &str = "In a terminal:";
