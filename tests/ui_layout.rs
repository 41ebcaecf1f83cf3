//! Layouts that fit (issue 13): every view at 1280x800, 800x600 and the
//! minimum size 640x360, in the states the issue names (the Sockets table
//! with the Details panel open and a row selected; Free port with a range,
//! a count and UDP set and a history; Bind test with a result; Kernel
//! tuning). For each:
//! - no two labelled widgets' visible rectangles overlap (within one
//!   layer: toasts and menus float above on purpose);
//! - every labelled widget is inside the window, or is clipped only by a
//!   scroll area: scrolling it into view (as a screen reader would) shows
//!   all of it. A widget cut off with no way to reach it fails.
//!
//! Rectangles come from egui's own record of the frame (`WidgetRect`:
//! the full rect, and the part left after clipping), matched to the
//! accessibility tree's nodes, whose names are the labels.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;

use common::ui::*;
use egui::Rect;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use portwise::window::app::PortwiseApp;
use portwise::window::shell::{Action, BindAction, FreeAction, Settings, View};
use portwise::window::sockets::SocketsMsg;

type H = Harness<'static, PortwiseApp>;

const SIZES: [(f32, f32); 3] = [(1280.0, 800.0), (800.0, 600.0), (640.0, 360.0)];

/// A labelled widget of the last frame.
#[derive(Clone, Debug)]
struct Widget {
    node: u64,
    name: String,
    role: Role,
    layer: egui::LayerId,
    /// The whole widget.
    rect: Rect,
    /// What is left of it after clipping.
    visible: Rect,
}

/// Roles that are containers, not widgets a person reads or uses.
fn is_container(role: Role) -> bool {
    matches!(
        role,
        Role::GenericContainer
            | Role::Pane
            | Role::Window
            | Role::Dialog
            | Role::Tooltip
            | Role::Menu
            | Role::Grid
            | Role::Table
            | Role::Row
            | Role::Cell
            | Role::Group
            | Role::ScrollView
            | Role::Unknown
    )
}

/// egui's record of the last finished frame's widgets, by accesskit node
/// id. (`end_pass` swaps it into `prev_pass`; `this_pass` then holds the
/// frame before.)
fn widget_rects(h: &H) -> HashMap<u64, egui::WidgetRect> {
    h.ctx.viewport(|v| {
        v.prev_pass
            .widgets
            .layers()
            .flat_map(|(_, ws)| ws.iter())
            .map(|w| (w.id.value(), *w))
            .collect()
    })
}

/// The labelled widgets of the last frame, with egui's rects.
fn widgets(h: &H) -> Vec<Widget> {
    let rects = widget_rects(h);
    let mut out = Vec::new();
    for node in h.root().children_recursive() {
        let ak = node.accesskit_node();
        let role = ak.role();
        if is_container(role) {
            continue;
        }
        let name = ak
            .label()
            .or_else(|| ak.value())
            .unwrap_or_default()
            .trim()
            .to_string();
        if name.is_empty() {
            continue;
        }
        let id = ak.locate().0.0;
        let Some(w) = rects.get(&id) else { continue };
        out.push(Widget {
            node: id,
            name,
            role,
            layer: w.layer_id,
            rect: w.rect,
            visible: w.interact_rect,
        });
    }
    out
}

fn overlap_area(a: Rect, b: Rect) -> f32 {
    let i = a.shrink(0.5).intersect(b.shrink(0.5));
    if i.is_positive() { i.area() } else { 0.0 }
}

fn fully_shown(w: &Widget, window: Rect) -> bool {
    let r = w.rect.shrink(0.5);
    window.contains_rect(r) && w.visible.expand(0.5).contains_rect(r)
}

/// Check the current frame; `what` names the case in failures.
fn check(h: &mut H, what: &str) {
    let window = h.ctx.content_rect();
    let ws = widgets(h);
    assert!(
        ws.len() > 3,
        "{what}: found only {} labelled widgets",
        ws.len()
    );
    let mut problems = Vec::new();
    // 1. No overlaps between what is visible of two widgets.
    for (i, a) in ws.iter().enumerate() {
        for b in &ws[i + 1..] {
            // A panel's resize handle reaches a few points over the
            // content beside it on purpose (a grab margin), and menus and
            // toasts float on their own layers.
            if a.layer != b.layer || a.role == Role::Splitter || b.role == Role::Splitter {
                continue;
            }
            let area = overlap_area(a.visible, b.visible);
            if area > 2.0 {
                problems.push(format!(
                    "overlap {area:.0} px²: {:?} {:?} {:?} and {:?} {:?} {:?}",
                    a.role, a.name, a.visible, b.role, b.name, b.visible
                ));
            }
        }
    }
    // 2. Everything is in the window, or a scroll brings all of it there.
    let clipped: Vec<Widget> = ws
        .iter()
        .filter(|w| !fully_shown(w, window))
        .cloned()
        .collect();
    for w in clipped {
        // A panel's resize handle is egui's own, and as tall as the panel
        // is allowed to be; it is grabbed where it shows.
        if w.role == Role::Splitter {
            continue;
        }
        if let Some(n) = reveal(h, w.node, window) {
            problems.push(format!(
                "cut off (no scrolling shows it): {:?} {:?} at {:?}, visible {:?}, window {window:?}",
                n.role, n.name, n.rect, n.visible
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: {} layout problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scroll {
    IntoView,
    Up,
    Down,
    Left,
    Right,
}

/// Scroll as a person would: "scroll into view" through the
/// accessibility tree (what a screen reader or keyboard focus does), or one
/// mouse-wheel notch of 100 points with the pointer over what shows of the
/// widget (or, for a widget wholly scrolled away, the nearest point of the
/// window). False if the node is gone.
fn scroll(h: &mut H, node: u64, how: Scroll) -> bool {
    let window = h.ctx.content_rect();
    if how == Scroll::IntoView {
        let root = h.root();
        let Some(n) = root
            .children_recursive()
            .find(|n| n.accesskit_node().locate().0.0 == node)
        else {
            return false;
        };
        n.scroll_to_me();
    } else {
        let Some(w) = widgets(h).into_iter().find(|x| x.node == node) else {
            return false;
        };
        let at = window.shrink(4.0).clamp(pointer_spot(&w));
        let delta = match how {
            Scroll::Down => egui::vec2(0.0, -100.0),
            Scroll::Up => egui::vec2(0.0, 100.0),
            Scroll::Right => egui::vec2(-100.0, 0.0),
            _ => egui::vec2(100.0, 0.0),
        };
        h.hover_at(at);
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
    }
    h.run();
    true
}

/// Where to hold the pointer to scroll a widget: the middle of what shows
/// of it; for a widget wholly scrolled away, just inside the edge of the
/// area that clips it, on its side (egui's clipped rect of such a widget
/// is "inside out": its far corner is that edge).
fn pointer_spot(w: &Widget) -> egui::Pos2 {
    let axis = |lo: f32, hi: f32, rect_lo: f32| {
        if lo <= hi {
            (lo + hi) / 2.0
        } else if rect_lo >= hi {
            hi - 3.0 // beyond the far edge
        } else {
            lo + 3.0 // before the near edge
        }
    };
    egui::pos2(
        axis(w.visible.min.x, w.visible.max.x, w.rect.min.x),
        axis(w.visible.min.y, w.visible.max.y, w.rect.min.y),
    )
}

/// Try to bring all of a widget into view: first "scroll into view" (the
/// innermost scroll area takes both axes of that, so it cannot reach
/// through a table's vertical scroll to a horizontal one around it), then
/// 100-point scroll steps towards the clipped side, which go to the
/// nearest scroll area that scrolls that way, until it shows or nothing
/// moves any more. Returns the widget as last seen if it stays cut off;
/// `None` if it shows (or is no longer drawn: a table draws only the rows
/// in view).
fn reveal(h: &mut H, node: u64, window: Rect) -> Option<Widget> {
    let find = |h: &H| widgets(h).into_iter().find(|x| x.node == node);
    if !scroll(h, node, Scroll::IntoView) {
        return None;
    }
    let mut last = find(h)?;
    for _ in 0..60 {
        if fully_shown(&last, window) {
            return None;
        }
        let clip = last.visible;
        let r = last.rect;
        let how = if r.bottom() > clip.bottom().min(window.bottom()) + 0.5 {
            Scroll::Down
        } else if r.top() < clip.top().max(window.top()) - 0.5 {
            Scroll::Up
        } else if r.right() > clip.right().min(window.right()) + 0.5 {
            Scroll::Right
        } else {
            Scroll::Left
        };
        if !scroll(h, node, how) {
            return None;
        }
        let now = find(h)?;
        if now.rect == last.rect {
            return Some(now); // nothing scrolled: cut off for good
        }
        last = now;
    }
    Some(last)
}

fn harness(rig: &Rig, size: (f32, f32), view: View) -> H {
    rig.build(
        Rig::builder()
            .with_size(egui::vec2(size.0, size.1))
            .with_max_steps(200),
        Settings {
            view,
            ..Settings::default()
        },
    )
}

fn apply(h: &mut H, actions: Vec<Action>) {
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, actions);
    h.run();
}

/// The Sockets view with a row selected and the Details panel open.
fn sockets(rig: &Rig, size: (f32, f32)) -> H {
    sockets_with(rig, size, machine(T0))
}

/// [`sockets`] on `snap` (which has [`machine`]'s python3 listener).
fn sockets_with(rig: &Rig, size: (f32, f32), snap: portwise::sockets::Snapshot) -> H {
    let mut h = harness(rig, size, View::Sockets);
    refresh(rig, &mut h, snap);
    let key = {
        let st = &h.state().state.sockets;
        let e = st
            .snapshot
            .sockets
            .iter()
            .find(|e| e.local_port == 8080 && !e.processes.is_empty())
            .expect("the python3 listener");
        portwise::window::sockets::RowKey::of(e)
    };
    apply(&mut h, vec![Action::Sockets(SocketsMsg::Select(Some(key)))]);
    assert!(h.state().state.settings.details_open);
    h
}

/// Free port with a range, a count and UDP set, after one grab.
fn free_port(rig: &Rig, size: (f32, f32)) -> H {
    let mut h = harness(rig, size, View::FreePort);
    refresh(rig, &mut h, machine(T0));
    apply(
        &mut h,
        vec![
            Action::Free(FreeAction::SetProto(portwise::ports::ProtoChoice::Udp)),
            Action::Free(FreeAction::SetStrategy(
                portwise::window::free_port::StrategyKind::Range,
            )),
            Action::Free(FreeAction::SetRangeFrom("47000".into())),
            Action::Free(FreeAction::SetRangeTo("47999".into())),
            Action::Free(FreeAction::SetCount("3".into())),
            Action::Free(FreeAction::Grab),
        ],
    );
    assert!(
        !h.state().state.free.history.is_empty(),
        "the grab (real UDP binds on loopback) filled the history"
    );
    h
}

/// Bind test after testing a port a listener of this test holds.
fn bind_test(rig: &Rig, size: (f32, f32), port: u16) -> H {
    let mut h = harness(rig, size, View::BindTest);
    refresh(rig, &mut h, machine(T0));
    apply(
        &mut h,
        vec![
            Action::Bind(BindAction::SetAddr("127.0.0.1".into())),
            Action::Bind(BindAction::SetPort(port.to_string())),
            Action::Bind(BindAction::Test),
        ],
    );
    assert!(h.state().state.bind.result.is_some(), "a result is shown");
    h
}

fn tuning(rig: &Rig, size: (f32, f32)) -> H {
    let mut h = harness(rig, size, View::Tuning);
    refresh(rig, &mut h, machine(T0));
    h
}

#[test]
fn the_sockets_view_fits_at_every_size() {
    for size in SIZES {
        let rig = Rig::new();
        let mut h = sockets(&rig, size);
        check(&mut h, &format!("Sockets at {size:?}"));
    }
}

#[test]
fn the_free_port_view_fits_at_every_size() {
    for size in SIZES {
        let rig = Rig::new();
        let mut h = free_port(&rig, size);
        check(&mut h, &format!("Free port at {size:?}"));
    }
}

#[test]
fn the_bind_test_view_fits_at_every_size() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    for size in SIZES {
        let rig = Rig::new();
        let mut h = bind_test(&rig, size, port);
        check(&mut h, &format!("Bind test at {size:?}"));
    }
}

#[test]
fn the_kernel_tuning_view_fits_at_every_size() {
    for size in SIZES {
        let rig = Rig::new();
        let mut h = tuning(&rig, size);
        check(&mut h, &format!("Kernel tuning at {size:?}"));
    }
}

/// Views added later are checked too, in their first state.
#[test]
fn every_view_fits_in_its_first_state_at_every_size() {
    for size in SIZES {
        for view in View::ALL {
            let rig = Rig::new();
            let mut h = harness(&rig, size, *view);
            refresh(&rig, &mut h, machine(T0));
            check(&mut h, &format!("{view:?} (first state) at {size:?}"));
        }
    }
}

/// The checker itself: it must see an overlap and a cut-off widget when
/// there are some.
#[test]
fn the_checker_finds_overlaps_and_cut_off_widgets() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(300.0, 200.0))
        .build_ui(|ui| {
            ui.label("first label");
            // Paint a second label on top of the first.
            let r = ui.min_rect();
            ui.put(r, egui::Label::new("second label"));
            // A label far to the right, cut off, with no scroll area.
            ui.horizontal(|ui| {
                ui.add_space(280.0);
                ui.label("cut off on the right");
            });
        });
    h.run();
    let window = h.ctx.content_rect();
    let rects: HashMap<u64, egui::WidgetRect> = h.ctx.viewport(|v| {
        v.prev_pass
            .widgets
            .layers()
            .flat_map(|(_, ws)| ws.iter())
            .map(|w| (w.id.value(), *w))
            .collect()
    });
    let find = |name: &str| {
        let root = h.root();
        let n = root
            .children_recursive()
            .find(|n| {
                let ak = n.accesskit_node();
                ak.label().or_else(|| ak.value()).as_deref() == Some(name)
            })
            .unwrap_or_else(|| panic!("no node {name:?}"));
        let w = rects[&n.accesskit_node().locate().0.0];
        (w.rect, w.interact_rect)
    };
    let (a, av) = find("first label");
    let (b, bv) = find("second label");
    assert!(overlap_area(av, bv) > 2.0, "{a:?} {b:?}");
    let (c, cv) = find("cut off on the right");
    let w = Widget {
        node: 0,
        name: String::new(),
        role: Role::Label,
        layer: egui::LayerId::background(),
        rect: c,
        visible: cv,
    };
    assert!(!fully_shown(&w, window), "{c:?} in {window:?}");
}

/// At the size the window opens with, the Sockets toolbar is one line,
/// with every control it can have on a Linux machine ("All namespaces"
/// too) and the Details panel open.
#[test]
fn the_sockets_toolbar_is_one_line_at_the_default_size() {
    let rig = Rig::new();
    rig.source
        .set_netns_summary(Some(portwise::sockets::NetnsSummary {
            own: Some(1),
            others: 2,
            listed: vec![1],
            privileged: true,
            ..Default::default()
        }));
    let [w, hgt] = portwise::window::app::DEFAULT_SIZE;
    let mut h = sockets(&rig, (w, hgt));
    h.run();
    let controls = [
        "Listening",
        "TIME_WAIT",
        "All states",
        "TCP",
        "UDP",
        "All namespaces",
        "Columns",
        "Export…",
    ];
    let top_of = |h: &H, name: &str| {
        let nodes: Vec<_> = h
            .query_all_by_label(name)
            .filter(|n| !matches!(n.accesskit_node().role(), Role::Label | Role::Heading))
            .collect();
        assert_eq!(nodes.len(), 1, "one control named {name:?}");
        nodes[0].rect().center().y
    };
    let filter = h.get_by_role(Role::TextInput).rect().center().y;
    for name in controls.iter().chain(&["Details"]) {
        let y = top_of(&h, name);
        assert!(
            (y - filter).abs() < 4.0,
            "{name:?} is on another line than the filter ({y} vs {filter})"
        );
    }
    // The TIME_WAIT countdown's column is on screen, left of the panel,
    // without scrolling sideways.
    let details_left = details_left(&h);
    let right = h
        .query_all_by_label("TIME_WAIT left")
        .map(|n| n.rect().right())
        .fold(f32::MIN, f32::max);
    assert!(
        right <= details_left,
        "the TIME_WAIT left header ends at {right}, under the Details panel at {details_left}"
    );
}

/// The Details panel leaves most of the width to the table: at most 40%
/// of the view (200 px at least), even with a long value to show (it
/// wraps instead of widening the panel).
#[test]
fn the_details_panel_keeps_to_its_share_of_the_width() {
    for size in SIZES {
        let rig = Rig::new();
        let mut snap = machine(T0);
        for s in &mut snap.sockets {
            for p in &mut s.processes {
                p.cmdline = Some(vec![
                    "/usr/bin/python3".into(),
                    "--a-very-long-argument-without-any-space-to-wrap-at-".repeat(4),
                ]);
            }
        }
        let mut h = sockets_with(&rig, size, snap);
        h.run();
        let heading = details_left(&h);
        let widest = (size.0 * 0.4).max(200.0);
        assert!(
            heading >= size.0 - widest - 16.0,
            "at {size:?} the panel starts at {heading}, wider than {widest}"
        );
    }
}

/// Where the Details panel starts: its heading's left edge.
fn details_left(h: &H) -> f32 {
    h.query_all_by_label("Details")
        .find(|n| matches!(n.accesskit_node().role(), Role::Heading | Role::Label))
        .map(|n| n.rect().left())
        .expect("the Details heading")
}
