//! `portwisew`: the same program as `portwise`, linked for the Windows GUI
//! subsystem, so that starting it from Explorer or the Start menu opens the
//! window without a console window beside it. (Like `pythonw`/`javaw`.)
//!
//! Why two executables rather than one GUI-subsystem exe that attaches to
//! its parent's console (`AttachConsole(ATTACH_PARENT_PROCESS)`): a shell
//! does not wait for a GUI-subsystem program, so cmd.exe would print its
//! prompt at once and read the keyboard at the same time as `portwise stop`
//! asks for confirmation, `%ERRORLEVEL%` would not be portwise's exit code
//! (scripts rely on 1 = "the answer is no", 2 = bad usage), and `list
//! --watch` would redraw over the prompt. `portwise.exe` stays a console
//! program and keeps all of that working; this one is what shortcuts start.
//!
//! The attribute has an effect only when linking for Windows (Rust
//! reference, "The windows_subsystem attribute"); elsewhere this binary is
//! the same as `portwise`. It is only built with `--features portwisew`.
#![windows_subsystem = "windows"]

// One entry point for both executables: main.rs, verbatim.
include!("../main.rs");
