#!/usr/bin/env bash
# Regenerate the man pages (man/) and shell completions (completions/) from the clap
# definitions in src/cli.rs. tests/man.rs does the work; without the variable it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
CERTWRIGHT_UPDATE_GENERATED=1 cargo test --test man "$@"
git status --short -- man completions
