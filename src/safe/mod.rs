//! The one way certwright touches what someone else may control, so a new module cannot
//! reopen an old hole: files read with privilege (`file`), programs run (`run`), HTTP bodies
//! from outside (`body`) and third-party text shown, logged or sent (`text`).
//! `tests/layers.rs` fails when `src/` reads a file, spawns a process or reads a body
//! anywhere else (a short allowlist there says why each exception is safe).

pub(crate) mod body;
pub(crate) mod file;
pub(crate) mod run;
pub(crate) mod text;
