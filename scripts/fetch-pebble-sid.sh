#!/usr/bin/env bash
# Fetches Debian sid's `pebble` package (2.10+: ARI, profiles) and unpacks it into
# $PEBBLE_SID_DIR (default /opt/pebble-sid), WITHOUT switching the machine's apt suites: a
# one-line sources list for sid, private apt lists/cache dirs, used only for this download.
# Idempotent: does nothing when the unpacked binary is already there.
set -euo pipefail
dest="${PEBBLE_SID_DIR:-/opt/pebble-sid}"
if [ -x "$dest/usr/bin/pebble" ]; then
  echo "pebble (sid) already at $dest/usr/bin/pebble"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# The machine's own Debian mirror (deb822 or one-line format), else deb.debian.org.
mirror=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
  >"$work/sid.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sid.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Sandbox::User=root"
)
apt-get "${apt_opts[@]}" -q update
(cd "$work" && apt-get "${apt_opts[@]}" -q download pebble)
deb=$(ls "$work"/pebble_*.deb)
staging="$dest.tmp.$$"
$sudo rm -rf "$staging"
$sudo mkdir -p "$staging"
$sudo dpkg-deb -x "$deb" "$staging"
[ -x "$staging/usr/bin/pebble" ] || { echo "no usr/bin/pebble in $deb" >&2; exit 1; }
"$staging/usr/bin/pebble" -version >/dev/null 2>&1 || true
$sudo rm -rf "$dest"
$sudo mv "$staging" "$dest"
echo "pebble (sid) unpacked: $dest/usr/bin/pebble ($(basename "$deb"))"
