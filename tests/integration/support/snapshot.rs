//! A record of a directory tree (contents, modes, symlink targets) to assert "nothing changed".

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, contents: Vec<u8> },
    Symlink { target: PathBuf },
}

/// Relative path -> entry, for everything below a root (the root itself excluded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(pub BTreeMap<PathBuf, Entry>);

impl Snapshot {
    /// Records `root`; a missing root gives an empty snapshot.
    pub fn of(root: &Path) -> Snapshot {
        let mut map = BTreeMap::new();
        walk(root, root, &mut map, false);
        Snapshot(map)
    }

    /// `of`, with certwright's run lock file too (for "byte-identical" checks).
    pub fn of_all(root: &Path) -> Snapshot {
        let mut map = BTreeMap::new();
        walk(root, root, &mut map, true);
        Snapshot(map)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Relative paths of regular files and symlinks (what a "no file written" check wants).
    pub fn non_dirs(&self) -> Vec<&Path> {
        self.0
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Dir { .. }))
            .map(|(p, _)| p.as_path())
            .collect()
    }

    /// Human-readable differences from `self` to `after`; empty if identical.
    pub fn diff(&self, after: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        for (path, before) in &self.0 {
            match after.0.get(path) {
                None => out.push(format!("removed: {}", path.display())),
                Some(now) if now != before => out.push(format!(
                    "changed: {}: {} -> {}",
                    path.display(),
                    describe(before),
                    describe(now)
                )),
                Some(_) => {}
            }
        }
        for (path, now) in &after.0 {
            if !self.0.contains_key(path) {
                out.push(format!("added: {} ({})", path.display(), describe(now)));
            }
        }
        out
    }

    /// Panics listing every difference.
    pub fn assert_unchanged(&self, after: &Snapshot, context: &str) {
        let diff = self.diff(after);
        assert!(
            diff.is_empty(),
            "{context}: the tree changed:\n  {}",
            diff.join("\n  ")
        );
    }
}

fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Dir { mode } => format!("dir {mode:04o}"),
        Entry::File { mode, contents } => format!(
            "file {mode:04o}, {} bytes, fnv {:016x}",
            contents.len(),
            fnv1a(contents)
        ),
        Entry::Symlink { target } => format!("symlink -> {}", target.display()),
    }
}

/// A short fingerprint for messages only; equality compares full contents.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn walk(root: &Path, dir: &Path, map: &mut BTreeMap<PathBuf, Entry>, lock: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).expect("below root").to_path_buf();
        // certwright's run lock: created by the first run, bookkeeping rather than state.
        if !lock && rel.as_os_str() == ".certwright.lock" {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path)
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        let mode = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)
                .unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
            map.insert(rel, Entry::Symlink { target });
        } else if meta.is_dir() {
            map.insert(rel, Entry::Dir { mode });
            walk(root, &path, map, lock);
        } else {
            let contents =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            map.insert(rel, Entry::File { mode, contents });
        }
    }
}
