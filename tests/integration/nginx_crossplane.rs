//! crossplane (NGINX Inc.'s parser, PyPI, installed by scripts/install-crossplane.sh) as an
//! independent oracle: for every fixture, and for the installer's output on each installer
//! fixture, the directive tree certwright reads equals crossplane's; and the patched tree is
//! the original plus exactly the lines marked as certwright's.

use std::path::{Path, PathBuf};
use std::process::Command;

use certwright::nginx::{self, Body, Config, Directive, InstallRequest, Node, MARKER};
use serde_json::Value;

/// Directive name, arguments as crossplane spells them, line, children.
#[derive(Debug, PartialEq)]
struct Tree {
    name: String,
    args: Vec<String>,
    line: u64,
    block: Option<Vec<Tree>>,
}

/// crossplane's venv, installed once per test process.
fn venv() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(|| crate::support::pip_venv("crossplane", "CERTWRIGHT_CROSSPLANE_VENV"))
        .clone()
}

/// `crossplane.parse` on one file, includes not followed, no context checks (fixtures are
/// snippets nginx reads inside `http`), comments kept (marker lines are found by them).
fn crossplane(path: &Path) -> Value {
    let code = "import crossplane, json, sys\n\
                d = crossplane.parse(sys.argv[1], single=True, check_ctx=False, check_args=False, comments=True)\n\
                assert d['status'] == 'ok', d\n\
                print(json.dumps(d['config'][0]['parsed']))";
    let out = Command::new(venv().join("bin/python"))
        .args(["-c", code])
        .arg(path)
        .output()
        .expect("run crossplane");
    assert!(
        out.status.success(),
        "crossplane on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("crossplane JSON")
}

fn from_crossplane(v: &Value) -> Vec<Tree> {
    let list = v.as_array().expect("a list of directives");
    list.iter()
        .filter(|d| d["directive"] != "#")
        .map(|d| Tree {
            name: d["directive"].as_str().unwrap_or_default().to_string(),
            args: d["args"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            line: d["line"].as_u64().unwrap_or_default(),
            block: d.get("block").map(from_crossplane),
        })
        .collect()
}

/// A word as crossplane gives it: quotes off, only the quote char's own escape resolved
/// (crossplane keeps `\\`, `\t`, `\n`, where nginx resolves them; the token boundaries,
/// which are what is compared, come from certwright's tokenizer alone).
fn crossplane_spelling(raw: &str) -> String {
    // crossplane decodes as UTF-8 with replacement: a byte that is not UTF-8 becomes U+FFFD.
    let raw = String::from_utf8_lossy(&nginx::encode(raw)).into_owned();
    let raw = raw.as_str();
    match raw.chars().next() {
        Some(q @ ('"' | '\'')) if raw.len() >= 2 && raw.ends_with(q) => {
            raw[1..raw.len() - 1].replace(&format!("\\{q}"), &q.to_string())
        }
        _ => raw.to_string(),
    }
}

fn from_certwright(nodes: &[Node]) -> Vec<Tree> {
    nodes
        .iter()
        .filter_map(|n| match n {
            Node::Directive(d) => Some(tree(d)),
            Node::Trivia(_) => None,
        })
        .collect()
}

fn tree(d: &Directive) -> Tree {
    let mut args: Vec<String> = d.words[1..]
        .iter()
        .map(|w| crossplane_spelling(&w.raw))
        .collect();
    // crossplane takes the parentheses off `if` conditions.
    if d.name() == "if" {
        if let Some(first) = args.first_mut() {
            *first = first.trim_start_matches('(').to_string();
        }
        if let Some(last) = args.last_mut() {
            *last = last.trim_end_matches(')').to_string();
        }
        args.retain(|a| !a.is_empty());
    }
    Tree {
        name: d.name().to_string(),
        args,
        line: d.line as u64,
        block: match &d.body {
            Body::Block(children) => Some(from_certwright(children)),
            _ => None,
        },
    }
}

fn assert_same_tree(path: &Path, text: &str) {
    let config = Config::from_source(path, text).expect("certwright parses");
    let ours = from_certwright(&config.files[0].nodes);
    let theirs = from_crossplane(&crossplane(path));
    assert_eq!(ours, theirs, "{}", path.display());
}

#[test]
fn certwright_reads_every_fixture_as_crossplane_does() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nginx");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("list fixtures")
        .map(|e| e.expect("fixture entry").path())
        .collect();
    fixtures.sort();
    let mut compared = 0;
    for path in fixtures {
        // crossplane without its Lua extension cannot read `*_by_lua_block` bodies.
        if path.ends_with("lua.conf") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read fixture");
        assert_same_tree(&path, &nginx::decode(&path, &bytes).expect("decode"));
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} fixtures compared");
}

/// Each directive with its enclosing block names, in order, and whether it is certwright's:
/// `Some(true)` for a marked line, `Some(false)` for a directive inside one, `None` if not.
fn flatten(v: &Value, chain: &str, ours: bool, out: &mut Vec<(String, Option<bool>)>) {
    let list = v.as_array().expect("a list of directives");
    for (i, d) in list.iter().enumerate() {
        if d["directive"] == "#" {
            continue;
        }
        let line = d["line"].as_u64();
        let marked_here = list[i + 1..].iter().any(|c| {
            c["directive"] == "#"
                && c["line"].as_u64() == line
                && c["comment"]
                    .as_str()
                    .is_some_and(|t| format!("#{t}").starts_with(MARKER))
        });
        let text = format!("{chain}/{} {}", d["directive"], d["args"]);
        if let Some(block) = d.get("block") {
            flatten(block, &text, ours || marked_here, out);
        }
        let whose = match (ours, marked_here) {
            (true, _) => Some(false),
            (false, true) => Some(true),
            (false, false) => None,
        };
        out.push((text, whose));
    }
}

#[test]
fn installer_output_is_the_original_plus_exactly_the_marked_directives() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nginx");
    for (fixture, names) in [
        ("install-implicit-listen.conf", &["implicit.test"][..]),
        ("install-listen-addresses.conf", &["addr.test"]),
        ("install-unix-socket.conf", &["sock.test"]),
        ("install-one-line.conf", &["oneline.test"]),
        ("install-latin1.conf", &["latin1.test"]),
        ("debian-sites-default", &["_"]),
    ] {
        let path = dir.join(fixture);
        let text = nginx::decode(&path, &std::fs::read(&path).expect("read")).expect("decode");
        let original = tmp.path().join(format!("{fixture}.orig"));
        let wrapped = format!("http {{\n{text}}}\n");
        std::fs::write(&original, nginx::encode(&wrapped)).expect("write");
        let config = Config::from_source(&original, &wrapped).expect("parse");
        let req = InstallRequest {
            names: names
                .iter()
                .map(|n| n.replace('_', "default.test").parse().expect("name"))
                .collect(),
            fullchain: "/etc/certwright/live/x/fullchain.pem".into(),
            privkey: "/etc/certwright/live/x/privkey.pem".into(),
            http_port: 80,
            https_port: 443,
            redirect: true,
            hsts: true,
        };
        let config = if fixture == "debian-sites-default" {
            let named = wrapped.replace("server_name _;", "server_name default.test;");
            std::fs::write(&original, nginx::encode(&named)).expect("write");
            Config::from_source(&original, &named).expect("parse")
        } else {
            config
        };
        let edits = nginx::plan_install(&config, &req).expect("plan install");
        assert_eq!(edits.len(), 1, "{fixture}");
        let patched = tmp.path().join(fixture);
        std::fs::write(&patched, nginx::encode(&edits[0].after)).expect("write");
        assert_same_tree(&patched, &edits[0].after);

        let (mut before, mut after) = (Vec::new(), Vec::new());
        flatten(&crossplane(&original), "", false, &mut before);
        flatten(&crossplane(&patched), "", false, &mut after);
        let added = after.iter().filter(|(_, m)| *m == Some(true)).count();
        let kept: Vec<&String> = after
            .iter()
            .filter(|(_, m)| m.is_none())
            .map(|(t, _)| t)
            .collect();
        let was: Vec<&String> = before.iter().map(|(t, _)| t).collect();
        assert_eq!(kept, was, "{fixture}: the user's directives changed");
        let lines_added = edits[0]
            .after
            .lines()
            .filter(|l| l.contains(MARKER))
            .count();
        assert_eq!(added, lines_added, "{fixture}: {}", edits[0].after);
        assert!(added >= 4, "{fixture}: {added}");
    }
}
