//! The host bar (a tab for this machine and one per host, "Add host…"),
//! the selected host's status line with Retry and the consented install,
//! the host picker, and the Free port, Bind test and Kernel tuning views as
//! they run on a host.

use egui::{Id, Modal, RichText};

use crate::remote::fleet::HostStatus;
use crate::remote::install::local_uname;
use crate::sockets::Proto;
use crate::window::hosts::{HostsMsg, HostsState, RemoteOutput, host_status_text};
use crate::window::shell::{Action, AppState, View};
use crate::window::tasks::Pending;
use crate::window::widgets;

fn msg(out: &mut Vec<Action>, m: HostsMsg) {
    out.push(Action::Hosts(m));
}

fn ok_color(ui: &egui::Ui) -> egui::Color32 {
    if ui.visuals().dark_mode {
        egui::Color32::from_rgb(90, 200, 120)
    } else {
        egui::Color32::from_rgb(20, 130, 60)
    }
}

/// The tab of a host: its name and status in a word or its latency.
pub fn tab_text(name: &str, status: &HostStatus) -> String {
    match status {
        HostStatus::Connecting => format!("{name} · connecting…"),
        HostStatus::Connected { latency, .. } => {
            format!("{name} · {} ms", latency.as_millis())
        }
        HostStatus::Failed { .. } => format!("{name} · not connected"),
    }
}

/// The row of machine tabs, and the selected host's status line.
pub fn bar(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) {
    let h = &state.hosts;
    ui.horizontal_wrapped(|ui| {
        ui.label("Machine:");
        let r = ui
            .selectable_label(h.selected.is_none(), "This machine")
            .on_hover_text("The sockets, ports and settings of the machine portwise runs on");
        if r.clicked() {
            msg(out, HostsMsg::Select(None));
        }
        for t in &h.tabs {
            let name = crate::remote::shown(t.dest.as_str(), 40);
            let selected = h.selected.as_ref() == Some(&t.dest);
            let r = ui
                .selectable_label(selected, tab_text(&name, &t.state.status))
                .on_hover_text(host_status_text(&t.state));
            if r.clicked() && !selected {
                msg(out, HostsMsg::Select(Some(t.dest.as_str().to_string())));
            }
            if ui
                .small_button("×")
                .on_hover_text(format!("Close {name}: end its ssh session"))
                .clicked()
            {
                msg(out, HostsMsg::Close(t.dest.as_str().to_string()));
            }
        }
        if ui
            .button("Add host…")
            .on_hover_text("Connect to another machine through your own ssh")
            .clicked()
        {
            msg(out, HostsMsg::OpenPicker);
        }
    });
    if let Some(t) = h.selected_tab() {
        status_line(ui, h, t, out);
    }
}

fn status_line(
    ui: &mut egui::Ui,
    h: &HostsState,
    t: &crate::window::hosts::Tab,
    out: &mut Vec<Action>,
) {
    let host = t.dest.as_str().to_string();
    let name = crate::remote::shown(&host, 60);
    ui.horizontal_wrapped(|ui| match &t.state.status {
        HostStatus::Connecting => {
            // No spinner: it repaints every frame; the worker wakes the
            // window when the status changes.
            ui.label(match &t.state.last_error {
                Some(_) => format!("{name}: {}", host_status_text(&t.state)),
                None => format!("Connecting to {name} with ssh…"),
            });
        }
        HostStatus::Connected { .. } => {
            ui.label(
                RichText::new(format!("{name}: {}", host_status_text(&t.state)))
                    .color(ok_color(ui)),
            );
        }
        HostStatus::Failed { .. } => {
            ui.label(
                RichText::new(format!("{name}: {}", host_status_text(&t.state)))
                    .color(widgets::error_color(ui)),
            );
            if ui
                .button("Retry now")
                .on_hover_text("Connect again without waiting")
                .clicked()
            {
                msg(out, HostsMsg::Retry(host.clone()));
            }
            if t.state.needs_install {
                let installing = h.installing.contains(&t.dest);
                let what = local_uname().unwrap_or_else(|| "this OS".into());
                let r = ui
                    .add_enabled(
                        !installing,
                        egui::Button::new(if installing {
                            "Installing…".to_string()
                        } else {
                            format!("Install portwise on {name}")
                        }),
                    )
                    .on_hover_text(format!(
                        "Copy this portwise ({what}) to ~/.cache/portwise/ on {name} over the \
                         same ssh, only if {name} runs {what}; its sha256 is checked. Nothing \
                         else is installed or changed there."
                    ));
                if r.clicked() {
                    msg(out, HostsMsg::Install(host.clone()));
                }
            }
        }
    });
}

/// The host picker: a destination to type, the ssh_config's hosts and the
/// recent ones.
pub fn picker(ctx: &egui::Context, state: &AppState, out: &mut Vec<Action>) {
    let Some(p) = &state.hosts.picker else {
        return;
    };
    let resp = Modal::new(Id::unique("portwise.host_picker")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        ui.heading("Connect to a host");
        ui.label(
            RichText::new(
                "portwise runs `ssh HOST portwise agent` with your ssh config, agent and \
                 known_hosts, in batch mode: load your key into ssh-agent (ssh-add) first if \
                 it has a passphrase.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let label = ui.label("Host");
            let mut t = p.text.clone();
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut t)
                        .hint_text("alias, user@host or ssh://user@host:port")
                        .desired_width(300.0),
                )
                .labelled_by(label.id);
            if r.changed() {
                msg(out, HostsMsg::SetPickerText(t));
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Connect").clicked() || enter) && !p.text.trim().is_empty() {
                msg(out, HostsMsg::Connect(p.text.trim().to_string()));
            }
        });
        if let Some(e) = &p.error {
            ui.label(RichText::new(e).color(widgets::error_color(ui)));
        }
        ui.add_space(6.0);
        let from = p
            .config_file
            .as_ref()
            .map_or("your ssh config".to_string(), |f| f.display().to_string());
        ui.label(RichText::new(format!("Hosts in {from}")).strong());
        match &p.config_hosts {
            Pending::Done(names) if names.is_empty() => {
                ui.label(
                    RichText::new("none named there (patterns such as Host *.lan are left out)")
                        .weak(),
                );
            }
            Pending::Done(names) => host_buttons(ui, names, "config", out),
            _ => {
                ui.label(RichText::new("reading…").weak());
            }
        }
        let recent = &state.settings.recent_hosts;
        if !recent.is_empty() {
            ui.add_space(6.0);
            ui.label(RichText::new("Recent").strong());
            host_buttons(ui, recent, "recent", out);
        }
        ui.add_space(8.0);
        if ui.button("Cancel").clicked() {
            msg(out, HostsMsg::ClosePicker);
        }
    });
    if resp.should_close() {
        msg(out, HostsMsg::ClosePicker);
    }
}

fn host_buttons(ui: &mut egui::Ui, names: &[String], salt: &str, out: &mut Vec<Action>) {
    egui::ScrollArea::vertical()
        .id_salt(("hosts", salt))
        .max_height(160.0)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                for n in names {
                    let shown = crate::remote::shown(n, 60);
                    if ui
                        .button(&shown)
                        .on_hover_text(format!("Connect to {shown}"))
                        .clicked()
                    {
                        msg(out, HostsMsg::Connect(n.clone()));
                    }
                }
            });
        });
}

/// Draw the current view for the selected host when it is one that runs
/// there as a command (Free port, Bind test, Kernel tuning). False when
/// this machine is shown or the view is another.
pub fn show_remote(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Action>) -> bool {
    let h = &state.hosts;
    let Some(dest) = &h.selected else {
        return false;
    };
    let view = state.settings.view;
    if !matches!(view, View::FreePort | View::BindTest | View::Tuning) {
        return false;
    }
    let name = crate::remote::shown(dest.as_str(), 60);
    let results = h.selected_results();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.heading(format!("{} on {name}", view.title()));
            ui.label(
                RichText::new(format!(
                    "Runs on {name} through its ssh session: the same engine and words as \
                     `portwise … --host {name}`."
                ))
                .weak(),
            );
            ui.add_space(8.0);
            match view {
                View::FreePort => free(ui, h, results.map(|r| &r.free), out),
                View::BindTest => bind(ui, h, results.map(|r| &r.bind), out),
                _ => tuning(ui, results.map(|r| &r.tuning), out),
            }
        });
    true
}

fn proto_choice(ui: &mut egui::Ui, salt: &str, current: Proto) -> Option<Proto> {
    let mut p = current;
    let label = ui.label("Protocol");
    ui.radio_value(&mut p, Proto::Tcp, "TCP")
        .labelled_by(label.id);
    ui.radio_value(&mut p, Proto::Udp, "UDP")
        .labelled_by(label.id);
    let _ = salt;
    (p != current).then_some(p)
}

fn free(
    ui: &mut egui::Ui,
    h: &HostsState,
    result: Option<&Pending<Result<RemoteOutput, String>>>,
    out: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        if let Some(p) = proto_choice(ui, "free", h.forms.free_proto) {
            msg(out, HostsMsg::SetFreeProto(p));
        }
        ui.separator();
        let label = ui.label("How many");
        let mut n = h.forms.free_count;
        let r = ui
            .add(egui::DragValue::new(&mut n).range(1..=100))
            .labelled_by(label.id);
        if r.changed() {
            msg(out, HostsMsg::SetFreeCount(n));
        }
    });
    ui.add_space(6.0);
    let running = result.is_some_and(Pending::is_running);
    if ui
        .add_enabled(!running, egui::Button::new("Grab a free port there"))
        .on_hover_text("Pick ports that are free on that machine now, outside its ephemeral range")
        .clicked()
    {
        msg(out, HostsMsg::Free);
    }
    output(ui, result, out);
}

fn bind(
    ui: &mut egui::Ui,
    h: &HostsState,
    result: Option<&Pending<Result<RemoteOutput, String>>>,
    out: &mut Vec<Action>,
) {
    egui::Grid::new("remote.bind.form")
        .num_columns(2)
        .spacing([12.0, 8.0])
        .show(ui, |ui| {
            if let Some(t) =
                widgets::labelled_text(ui, "Port", &h.forms.bind_port, "e.g. 8080", 90.0)
            {
                msg(out, HostsMsg::SetBindPort(t));
            }
            ui.end_row();
            if let Some(t) = widgets::labelled_text(
                ui,
                "Address",
                &h.forms.bind_addr,
                "0.0.0.0, ::, 127.0.0.1 …",
                220.0,
            ) {
                msg(out, HostsMsg::SetBindAddr(t));
            }
            ui.end_row();
            ui.label("");
            ui.horizontal(|ui| {
                if let Some(p) = proto_choice(ui, "bind", h.forms.bind_proto) {
                    msg(out, HostsMsg::SetBindProto(p));
                }
            });
            ui.end_row();
        });
    ui.add_space(6.0);
    let running = result.is_some_and(Pending::is_running);
    if ui
        .add_enabled(!running, egui::Button::new("Test bind there"))
        .on_hover_text("Bind on that machine exactly so, close at once, and explain a failure")
        .clicked()
    {
        msg(out, HostsMsg::BindTest);
    }
    output(ui, result, out);
}

fn tuning(
    ui: &mut egui::Ui,
    result: Option<&Pending<Result<RemoteOutput, String>>>,
    out: &mut Vec<Action>,
) {
    let running = result.is_some_and(Pending::is_running);
    if ui
        .add_enabled(!running, egui::Button::new("Read again"))
        .on_hover_text("Read that machine's current kernel settings again")
        .clicked()
    {
        msg(out, HostsMsg::Tuning);
    }
    output(ui, result, out);
}

/// A command's result: its words, monospace, and the same command for a
/// terminal.
fn output(
    ui: &mut egui::Ui,
    result: Option<&Pending<Result<RemoteOutput, String>>>,
    out: &mut Vec<Action>,
) {
    ui.add_space(8.0);
    match result {
        None | Some(Pending::NotAsked) => {}
        Some(Pending::Running) => {
            ui.label("Waiting for the answer…");
        }
        Some(Pending::Done(Err(e))) => {
            ui.label(RichText::new(e).color(widgets::error_color(ui)));
        }
        Some(Pending::Done(Ok(o))) => {
            if !o.ports.is_empty() {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("Free there:").strong());
                    for p in &o.ports {
                        ui.label(RichText::new(p.to_string()).monospace().size(18.0));
                        if ui
                            .small_button("Copy")
                            .on_hover_text(format!("Copy {p}"))
                            .clicked()
                        {
                            out.push(Action::CopyText {
                                text: p.to_string(),
                                notice: format!("Copied {p}"),
                            });
                        }
                    }
                });
            } else {
                let color = if o.code == 0 {
                    ok_color(ui)
                } else {
                    widgets::error_color(ui)
                };
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.add(
                        egui::Label::new(
                            RichText::new(o.stdout.trim_end()).monospace().color(color),
                        )
                        .wrap(),
                    );
                });
            }
            if !o.stderr.trim().is_empty() {
                ui.add(
                    egui::Label::new(
                        RichText::new(o.stderr.trim_end()).color(widgets::warn_color(ui)),
                    )
                    .wrap(),
                );
            }
            ui.add_space(4.0);
            ui.horizontal(|ui| {
                ui.label(RichText::new("In a terminal:").weak());
                ui.monospace(&o.command);
                if ui.small_button("Copy command").clicked() {
                    out.push(Action::CopyText {
                        text: o.command.clone(),
                        notice: "Copied the command".into(),
                    });
                }
            });
        }
    }
}
