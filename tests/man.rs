//! Man pages (`man/`) and shell completions (`completions/`) are generated from the clap
//! definitions in `src/cli/` and committed, so packaging needs no build step and reviews
//! show what users will read. This test regenerates everything in memory and fails when a
//! committed file differs, is missing, or belongs to a subcommand that no longer exists.
//!
//! Regenerate with `CERTWRIGHT_UPDATE_GENERATED=1 cargo test --test man`
//! (or `scripts/gen-docs.sh`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use clap_complete::Shell;

const UPDATE_VAR: &str = "CERTWRIGHT_UPDATE_GENERATED";
const REGENERATE: &str = "CERTWRIGHT_UPDATE_GENERATED=1 cargo test --test man";
const BIN: &str = "certwright";

/// The directories this generator owns: every `*.1` under `man/` and every file under
/// `completions/` must come from it.
const MAN_DIR: &str = "man";
const COMPLETIONS_DIR: &str = "completions";

#[test]
fn generated_files_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = generate_all();

    if std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1") {
        write_all(root, &generated);
        return;
    }

    let mut problems = Vec::new();
    for (rel, want) in &generated {
        match fs::read(root.join(rel)) {
            Ok(have) if &have == want => {}
            Ok(_) => problems.push(format!("stale:   {}", rel.display())),
            Err(_) => problems.push(format!("missing: {}", rel.display())),
        }
    }
    for rel in owned_files(root) {
        if !generated.contains_key(&rel) {
            problems.push(format!("extra:   {} (no such subcommand?)", rel.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "generated docs are out of date with src/cli/:\n  {}\nregenerate with:\n  {REGENERATE}\nand commit the result",
        problems.join("\n  "),
    );
}

/// A new subcommand must come with its own page; a generator that stopped iterating
/// subcommands would otherwise pass the staleness check by producing nothing.
#[test]
fn every_subcommand_has_a_man_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = generate_all();
    let updating = std::env::var_os(UPDATE_VAR).is_some_and(|v| v == "1");
    let mut missing = Vec::new();
    for sub in certwright::cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
    {
        let rel = Path::new(MAN_DIR).join(format!("{BIN}-{}.1", sub.get_name()));
        // While updating, the other test is writing these files, so only the generator's
        // output is checked.
        if !generated.contains_key(&rel) || (!updating && !root.join(&rel).is_file()) {
            missing.push(rel.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "subcommands without a man page: {missing:?}\nregenerate with:\n  {REGENERATE}",
    );
    assert!(generated.contains_key(&Path::new(MAN_DIR).join(format!("{BIN}.1"))));
}

/// Every generated file, keyed by its path relative to the crate root.
fn generate_all() -> BTreeMap<PathBuf, Vec<u8>> {
    let mut cmd = certwright::cli::command();
    // Building fills in what the pages need: subcommand display names
    // (`certwright-certonly`), bin names (`certwright certonly`) and global options
    // propagated into each subcommand.
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_owned();

    let mut out = BTreeMap::new();
    let mut man_cmd = cmd.clone();
    // `certwright help <sub>` is `--help` again; it gets no page and no listing.
    if man_cmd.find_subcommand("help").is_some() {
        man_cmd = man_cmd.mut_subcommand("help", |h| h.hide(true));
    }
    out.insert(
        Path::new(MAN_DIR).join(format!("{BIN}.1")),
        main_page(&man_cmd, &version),
    );
    add_subcommand_pages(&man_cmd, &version, &mut out);

    for (shell, file) in [
        (Shell::Bash, format!("{BIN}.bash")),
        (Shell::Zsh, format!("_{BIN}")),
        (Shell::Fish, format!("{BIN}.fish")),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), BIN, &mut buf);
        out.insert(Path::new(COMPLETIONS_DIR).join(file), buf);
    }
    out
}

/// One page per visible subcommand, recursively (`certwright-<sub>[-<subsub>].1`).
fn add_subcommand_pages(
    parent: &clap::Command,
    version: &str,
    out: &mut BTreeMap<PathBuf, Vec<u8>>,
) {
    for sub in parent.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_display_name().unwrap_or_else(|| sub.get_name());
        let mut parent_pages = vec![BIN.to_owned()];
        // `certwright-a-b` also points at `certwright-a`.
        if let Some((up, _)) = name.rsplit_once('-').filter(|(up, _)| *up != BIN) {
            parent_pages.push(up.to_owned());
        }
        let refs: Vec<&str> = parent_pages.iter().map(String::as_str).collect();
        out.insert(
            Path::new(MAN_DIR).join(format!("{name}.1")),
            page(sub, version, &see_also(&refs)),
        );
        add_subcommand_pages(sub, version, out);
    }
}

/// The top-level page, with the sections clap cannot derive.
fn main_page(cmd: &clap::Command, version: &str) -> Vec<u8> {
    let pages: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("{BIN}-{}", s.get_name()))
        .collect();
    let mut refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    refs.extend(["nginx(8)", "systemd.timer(5)"]);
    let extra = [
        EXIT_STATUS,
        FILES,
        ENVIRONMENT,
        &certbot_compatibility(),
        &see_also(&refs),
    ]
    .concat();
    page(cmd, version, &extra)
}

/// clap_mangen's sections in its order, with `extra` (raw roff) before VERSION.
///
/// The title line is written here because clap_mangen drops an empty date argument from
/// `.TH`, which shifts source and manual one place left; a date would make the pages
/// change on every regeneration.
fn page(cmd: &clap::Command, version: &str, extra: &str) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let mut page =
        format!(".TH {name} 1 \"\" \"{BIN} {version}\" \"certwright manual\"\n").into_bytes();
    let w = &mut page;
    let rendered = "render to memory";
    man.render_name_section(w).expect(rendered);
    man.render_synopsis_section(w).expect(rendered);
    man.render_description_section(w).expect(rendered);
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(w).expect(rendered);
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(w).expect(rendered);
    }
    if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
        man.render_extra_section(w).expect(rendered);
    }
    w.extend_from_slice(extra.as_bytes());
    if cmd.get_version().is_some() {
        man.render_version_section(w).expect(rendered);
    }
    page
}

/// `.SH "CERTBOT COMPATIBILITY"`: certbot's flags that every verb accepts, and why those
/// with no effect here have none (from `certwright::cli::certbot_flags::FLAGS`).
fn certbot_compatibility() -> String {
    let mut out = String::from(
        ".SH \"CERTBOT COMPATIBILITY\"\n\
         certbot parses every flag on every verb, so certwright accepts each of certbot's flags \
         on every subcommand: where a subcommand has no use for one it is dropped with a note on \
         stderr. \\fB\\-a\\fR/\\fB\\-\\-authenticator\\fR PLUGIN and \\fB\\-\\-configurator\\fR \
         PLUGIN select \\fB\\-\\-standalone\\fR, \\fB\\-\\-webroot\\fR, \\fB\\-\\-nginx\\fR, \
         \\fB\\-\\-manual\\fR or a DNS plugin (\\fBdns\\-\\fRPROVIDER, as \\fB\\-\\-dns\\fR \
         PROVIDER; certbot's \\fB\\-\\-dns\\-\\fRPROVIDER\\fB\\-credentials\\fR and \
         \\fB\\-propagation\\-seconds\\fR map the same way); \\fB\\-\\-dry\\-run\\fR and \
         \\fB\\-\\-csr\\fR are refused where they would be ignored. certbot's cli.ini keys are \
         read the same way: a key with no effect is a note, never an error. These have no effect \
         in certwright:\n",
    );
    for flag in certwright::cli::certbot_flags::FLAGS
        .iter()
        .filter(|f| !f.why.is_empty())
    {
        let value = if flag.value { " VALUE" } else { "" };
        out.push_str(&format!(
            ".TP\n\\fB\\-\\-{}\\fR{value}\n{}\n",
            escape(flag.long),
            flag.why.replace('-', "\\-")
        ));
    }
    out
}

/// `.SH SEE ALSO` with comma-separated references; bare names are section 1.
fn see_also(refs: &[&str]) -> String {
    let items: Vec<String> = refs
        .iter()
        .map(|r| match r.split_once('(') {
            Some((name, rest)) => format!("\\fB{}\\fR({rest}", escape(name)),
            None => format!("\\fB{}\\fR(1)", escape(r)),
        })
        .collect();
    format!(".SH \"SEE ALSO\"\n{}\n", items.join(", "))
}

/// roff reads `-` as a hyphen; option names and command names want a plain minus.
fn escape(s: &str) -> String {
    s.replace('-', "\\-")
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success, or nothing to do (for example no certificate was due for renewal).
.TP
\fB1\fR
Issuance or renewal failed (the CA refused, a challenge failed, the network failed).
.TP
\fB2\fR
Usage error or bad input (unknown option, invalid domain name); detected before any
network access.
.TP
\fB3\fR
Configuration, certificate store or permission problem.
.TP
\fB4\fR
Another certwright run holds the lock; nothing was changed.
.TP
\fB5\fR
nginx problem: its configuration could not be read, patched, tested or reloaded.
"#;

const FILES: &str = r#".SH FILES
.TP
\fI/etc/certwright/live/\fR
One directory per certificate lineage holding \fBcert.pem\fR, \fBchain.pem\fR,
\fBfullchain.pem\fR and \fBprivkey.pem\fR; point web servers here.
Each is swapped atomically to the newest version in the archive.
.TP
\fI/etc/certwright/archive/\fR
Every issued version of every lineage (mode 0700).
.TP
\fI/etc/certwright/renewal/\fR
Per-certificate renewal configuration: names, authenticator, key type, ACME server.
.TP
\fI/etc/certwright/accounts/\fR
ACME account credentials, per ACME server (mode 0700, files 0600).
.TP
\fI/var/lib/certwright/\fR
Working state: renewal bookkeeping and nginx configuration checkpoints.
.TP
\fI/var/log/certwright/certwright.log\fR
Log file (mode 0600).
.PP
The directories can be moved with \fB\-\-config\-dir\fR, \fB\-\-work\-dir\fR and
\fB\-\-logs\-dir\fR.
"#;

const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.TP
\fBCERTWRIGHT_CONFIG_DIR\fR, \fBCERTWRIGHT_WORK_DIR\fR, \fBCERTWRIGHT_LOGS_DIR\fR
Defaults for \fB\-\-config\-dir\fR, \fB\-\-work\-dir\fR and \fB\-\-logs\-dir\fR.
"#;

/// Writes everything and removes owned files the generator no longer produces.
fn write_all(root: &Path, generated: &BTreeMap<PathBuf, Vec<u8>>) {
    for rel in owned_files(root) {
        if !generated.contains_key(&rel) {
            fs::remove_file(root.join(&rel)).expect("remove stale generated file");
            eprintln!("removed {}", rel.display());
        }
    }
    for (rel, bytes) in generated {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("generated paths have a directory"))
            .expect("create output directory");
        if fs::read(&path).ok().as_ref() != Some(bytes) {
            fs::write(&path, bytes).expect("write generated file");
            eprintln!("wrote {}", rel.display());
        }
    }
}

/// Committed files the generator is responsible for (relative paths).
fn owned_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (dir, only_man) in [(MAN_DIR, true), (COMPLETIONS_DIR, false)] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry.expect("read directory entry").file_name();
            let name = name.to_string_lossy();
            if !only_man || name.ends_with(".1") {
                files.push(Path::new(dir).join(&*name));
            }
        }
    }
    files
}
