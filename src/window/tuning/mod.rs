//! State of the Kernel tuning view: the chosen goals and OS, the settings
//! table and the snippet preview (both recomputed by the engine on every
//! change: `tuning::plan`, `rows`, `export`, what `portwise tuning` runs),
//! the saved path, and the last audit.
//!
//! Current values are read once from the system (on a background task: on
//! Windows it runs `reg` and `netsh`) and kept as [`FixedValues`], so
//! re-planning on a click never touches the system. [`TuningAction`] is
//! this view's message, [`update`] handles it.

pub mod view;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::tuning::{
    ExportRequest, Finding, FixedValues, Goal, NoSystem, Os, PortList, SettingRow, Snippet,
    Sysctls, export, rows, snippet,
};
use crate::util::fs::{Overwrite, write_atomic};
use crate::window::ctx::{Ctx, Effect, ToastKind};
use crate::window::tasks::Pending;

/// The current values of the running OS: not read yet, being read, read.
pub type LiveValues = Pending<FixedValues>;

/// What the Kernel tuning view can ask for, and what its tasks bring back.
#[derive(Clone, Debug)]
pub enum TuningAction {
    SetGoal(Goal, bool),
    SetOs(Os),
    SetReservePorts(String),
    /// Switch one setting of the preview on or off.
    SetLine(String, bool),
    Copy,
    Save,
    Audit,
    /// Read the current values again.
    Reread,
    CloseAudit,
    /// The current values arrived.
    ValuesRead(FixedValues),
    /// Write the snippet to this path (chosen in a dialog).
    SaveTo {
        os: Os,
        text: String,
        path: PathBuf,
    },
    /// The snippet was written (or not).
    Saved {
        os: Os,
        path: PathBuf,
        result: Result<(), String>,
    },
    /// Audit this file (chosen in a dialog).
    AuditFile(PathBuf),
    /// An audit finished.
    Audited {
        path: PathBuf,
        result: Result<Vec<Finding>, String>,
    },
}

/// The last "Audit a file…".
#[derive(Clone, Debug, PartialEq)]
pub enum AuditState {
    Running {
        path: PathBuf,
    },
    Done {
        path: PathBuf,
        findings: Vec<Finding>,
    },
    Failed {
        path: PathBuf,
        error: String,
    },
}

/// The Kernel tuning view's state.
#[derive(Clone, Debug)]
pub struct TuningState {
    pub os: Os,
    /// In [`Goal::ALL`] order.
    pub goals: Vec<Goal>,
    /// The ports of the "keep my service ports free" goal, as typed.
    pub reserve_text: String,
    /// Per key: a setting switched on or off in the preview.
    pub toggles: BTreeMap<String, bool>,
    pub live: LiveValues,
    /// The snippet, or why there is none (no goal, bad ports).
    pub preview: Result<Snippet, String>,
    /// The settings that matter for the goals.
    pub rows: Vec<SettingRow>,
    /// Where the snippet was last saved, for which OS.
    pub saved: Option<(Os, PathBuf)>,
    pub save_error: Option<String>,
    pub audit: Option<AuditState>,
}

impl Default for TuningState {
    fn default() -> Self {
        let mut t = TuningState {
            os: Os::current(),
            goals: vec![Goal::Restart],
            reserve_text: String::new(),
            toggles: BTreeMap::new(),
            live: Pending::NotAsked,
            preview: Err(String::new()),
            rows: Vec::new(),
            saved: None,
            save_error: None,
            audit: None,
        };
        t.recompute();
        t
    }
}

impl TuningState {
    /// Where current values come from for the chosen OS: the values read
    /// from this machine, or none for another OS (or before they arrive).
    fn system(&self) -> &dyn Sysctls {
        match &self.live {
            Pending::Done(v) if self.os == Os::current() => v,
            _ => &NoSystem,
        }
    }

    /// The reserve ports as typed, parsed; empty when the goal is off.
    pub fn reserve_ports(&self) -> Result<PortList, String> {
        if !self.goals.contains(&Goal::Reserve) {
            return Ok(PortList::default());
        }
        PortList::parse(&self.reserve_text)
    }

    /// Plan, rows and snippet again from the choices.
    pub fn recompute(&mut self) {
        let reserve = match self.reserve_ports() {
            Ok(r) => r,
            Err(e) => {
                self.preview = Err(format!("Ports to keep free: {e}"));
                self.rows.clear();
                return;
            }
        };
        let req = ExportRequest {
            os: Some(self.os),
            goals: self.goals.clone(),
            reserve,
            toggles: self.toggles.clone(),
        };
        let sys = self.system();
        let preview = export(&req, sys);
        let rows = match &preview {
            Ok(s) => rows(&s.plan, sys),
            Err(_) => Vec::new(),
        };
        self.preview = preview;
        self.rows = rows;
    }

    pub fn set_goal(&mut self, goal: Goal, on: bool) {
        self.goals.retain(|g| *g != goal);
        if on {
            self.goals.push(goal);
            self.goals.sort();
        }
        self.recompute();
    }

    pub fn set_os(&mut self, os: Os) {
        if self.os != os {
            self.os = os;
            self.recompute();
        }
    }

    pub fn set_reserve_text(&mut self, text: String) {
        self.reserve_text = text;
        self.recompute();
    }

    pub fn set_toggle(&mut self, key: &str, on: bool) {
        self.toggles.insert(key.to_string(), on);
        self.recompute();
    }

    /// The values arrived from the reading thread.
    pub fn values_read(&mut self, values: FixedValues) {
        self.live = Pending::Done(values);
        self.recompute();
    }

    /// Start reading the values if nobody has yet; true when the caller
    /// must start the read.
    pub fn want_values(&mut self) -> bool {
        self.live.ask()
    }

    /// The command that applies the snippet: for the saved file when it was
    /// saved for this OS, else for the suggested name in the current
    /// directory.
    pub fn apply_command(&self) -> Option<String> {
        let s = self.preview.as_ref().ok()?;
        Some(match &self.saved {
            Some((os, path)) if *os == self.os => {
                snippet::apply_command(self.os, &path.to_string_lossy())
            }
            _ => s.apply_command.clone(),
        })
    }

    /// "Now" for a row: the value, "(empty)", what its absence means, or
    /// why it was not read.
    pub fn current_text(&self, row: &SettingRow) -> String {
        if self.os != Os::current() {
            return "not read: another OS".into();
        }
        match &self.live {
            Pending::Done(_) => row.current_text(),
            _ => "reading…".into(),
        }
    }
}

/// "Recommended" for a row: the plan's value (said to be switched off when
/// the preview has it off), or "leave as is".
pub fn recommended_text(row: &SettingRow, toggles: &BTreeMap<String, bool>) -> String {
    match &row.recommended {
        Some(r) => {
            let on = toggles.get(r.key).copied().unwrap_or(r.on_by_default);
            let v = if r.value.is_empty() {
                "(empty)"
            } else {
                r.value.as_str()
            };
            if on {
                v.to_string()
            } else {
                format!("{v} (optional, switched off below)")
            }
        }
        None => "leave as is".into(),
    }
}

/// Handle one message of the view.
pub fn update(t: &mut TuningState, a: TuningAction, ctx: &mut Ctx<'_, TuningAction>) {
    match a {
        TuningAction::SetGoal(g, on) => t.set_goal(g, on),
        TuningAction::SetOs(os) => t.set_os(os),
        TuningAction::SetReservePorts(text) => t.set_reserve_text(text),
        TuningAction::SetLine(key, on) => t.set_toggle(&key, on),
        TuningAction::Copy => {
            if let Ok(s) = &t.preview {
                let text = s.text();
                let n = s.enabled_settings().len();
                let notice = format!(
                    "Copied the {} snippet ({n} setting{})",
                    s.os.label(),
                    if n == 1 { "" } else { "s" }
                );
                ctx.copy(text, notice);
            }
        }
        TuningAction::Save => {
            if let Ok(s) = &t.preview {
                t.save_error = None;
                ctx.effects.push(Effect::SaveTuning {
                    os: s.os,
                    file_name: s.file_name.to_string(),
                    text: s.text(),
                });
            }
        }
        TuningAction::Audit => ctx.effects.push(Effect::OpenAudit),
        TuningAction::Reread => {
            if !t.live.is_running() {
                t.live = Pending::Running;
                read_values(ctx);
            }
        }
        TuningAction::CloseAudit => t.audit = None,
        TuningAction::ValuesRead(values) => t.values_read(values),
        TuningAction::SaveTo { os, text, path } => {
            // Writing (with fsync) is a worker's job.
            ctx.spawn(
                "portwise-save",
                move || {
                    let result = write_atomic(&path, text.as_bytes(), Overwrite::Allow)
                        .map_err(|e| e.to_string());
                    (path, result)
                },
                move |(path, result)| TuningAction::Saved { os, path, result },
            );
        }
        TuningAction::Saved { os, path, result } => match result {
            Ok(()) => {
                ctx.toast(ToastKind::Success, format!("Saved {}", path.display()));
                t.saved = Some((os, path));
                t.save_error = None;
            }
            Err(e) => {
                let msg = format!("Cannot save {}: {e}", path.display());
                t.save_error = Some(msg.clone());
                ctx.toast(ToastKind::Error, msg);
            }
        },
        TuningAction::AuditFile(path) => {
            // As `portwise tuning audit` does: keys are checked against this
            // machine (Windows has no sysctls to check against).
            t.audit = Some(AuditState::Running { path: path.clone() });
            let sys = ctx.workers.sysctls.clone();
            ctx.spawn(
                "portwise-audit",
                move || {
                    let result = crate::tuning::audit_file(&path, sys.as_ref());
                    (path, result)
                },
                |(path, result)| TuningAction::Audited { path, result },
            );
        }
        TuningAction::Audited { path, result } => {
            t.audit = Some(match result {
                Ok(findings) => AuditState::Done { path, findings },
                Err(error) => AuditState::Failed { path, error },
            });
        }
    }
}

/// The view is on screen: read the current values the first time.
pub fn on_show(t: &mut TuningState, ctx: &mut Ctx<'_, TuningAction>) {
    if t.want_values() {
        read_values(ctx);
    }
}

/// Read the running OS's tuning settings once (Windows runs `reg` and
/// `netsh` for them).
fn read_values(ctx: &mut Ctx<'_, TuningAction>) {
    let sys = ctx.workers.sysctls.clone();
    ctx.spawn(
        "portwise-sysctl",
        move || FixedValues::snapshot(Os::current(), sys.as_ref()),
        TuningAction::ValuesRead,
    );
}

#[cfg(test)]
mod tests;
