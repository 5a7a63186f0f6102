#!/usr/bin/env bash
# Build the .deb with cargo-deb, install it, and check what it installed: the binary
# runs, man finds the page, and systemd-analyze accepts the installed units. Check the
# release binary's newest glibc symbol (Amazon Linux 2023 / RHEL 9 ship 2.34). Build the
# RPM with cargo-generate-rpm from the same binary, inspect it, install it into a scratch
# root and compare its files and modes with the .deb's list.
# Runs as root on Debian (CI calls it from .ci/run). Leaves certwright installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/sbin:/sbin:$HOME/.cargo/bin"

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

# man-db: `man -w`; systemd: `systemd-analyze` (the container need not boot systemd).
need=()
command -v man >/dev/null || need+=(man-db)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev) # cargo-deb's $auto depends
command -v rpm >/dev/null || need+=(rpm)                  # rpm -qpl / --root install
command -v objdump >/dev/null || need+=(binutils)         # the glibc symbol check
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if ! cargo deb --version >/dev/null 2>&1; then
  # A source build of cargo-deb: about 2.5 minutes on 2 shared cores.
  step "cargo install cargo-deb"
  cargo install cargo-deb --locked
fi

if ! cargo generate-rpm --version >/dev/null 2>&1; then
  # Builds an .rpm from Cargo.toml metadata without rpmbuild or a spec file (the rpm crate):
  # the counterpart of cargo-deb. About 1 minute on 2 shared cores.
  step "cargo install cargo-generate-rpm"
  cargo install cargo-generate-rpm --locked
fi

step "cargo deb"
cargo deb --locked
deb=$(ls -t target/debian/certwright_*.deb | head -n 1)
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

step "glibc symbols of the release binary"
# Amazon Linux 2023 and RHEL 9 ship glibc 2.34: a dependency that needs newer fails here.
max_glibc=2.34
newest=$(objdump -T target/release/certwright | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
echo "newest glibc symbol version: $newest (allowed: $max_glibc)"
if [ -z "$newest" ] || [ "$(printf '%s\n%s\n' "$newest" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
  echo "FAIL: target/release/certwright needs glibc $newest, newer than $max_glibc:" >&2
  objdump -T target/release/certwright | grep -E "GLIBC_$newest([^0-9.]|\$)" >&2 || true
  exit 1
fi

step "cargo generate-rpm"
bash scripts/check-rpm.sh "$deb"

step "dpkg -i $deb"
dpkg -i "$deb"

step "installed files"
certwright --version
man -w certwright
for page in /usr/share/man/man1/certwright-*.1.gz; do man -w "$(basename "$page" .1.gz)"; done
test -f /usr/share/bash-completion/completions/certwright
test -f /usr/share/zsh/vendor-completions/_certwright
test -f /usr/share/fish/vendor_completions.d/certwright.fish
test -f /etc/cron.d/certwright
# The cron entry must stay silent where systemd timers are in charge, and the line must
# parse as a cron.d entry (5 time fields, a user, a command).
grep -Eq '^0 \*/12 \* \* \* root test -x /usr/bin/certwright && ! \[ -d /run/systemd/system \]' /etc/cron.d/certwright

step "systemd-analyze verify"
units=(/usr/lib/systemd/system/certwright.service
  /usr/lib/systemd/system/certwright-renew.service
  /usr/lib/systemd/system/certwright-renew.timer)
# verify prints problems but can exit 0 on some of them: fail on any output.
out=$(systemd-analyze verify "${units[@]}" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "$out"; exit 1; fi
# The timer is enabled by the package (a symlink, even without a running systemd).
test -L /etc/systemd/system/timers.target.wants/certwright-renew.timer
test ! -e /etc/systemd/system/multi-user.target.wants/certwright.service

step "done"
