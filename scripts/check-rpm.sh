#!/usr/bin/env bash
# Build the RPM with cargo-generate-rpm (from the release binary already built), inspect it
# with rpm -qpi / -qpl, install it into a scratch root with rpm --root (no scripts: nothing
# runs in the scratch root), and fail on any file, mode or path that differs from what the
# .deb given as $1 installs (man pages there are gzipped; here they are not).
# Needs: rpm (Debian package `rpm`), cargo-generate-rpm.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:?usage: check-rpm.sh CERTWRIGHT.deb}

cargo generate-rpm
rpm_file=$(ls -t target/generate-rpm/certwright-*.rpm | head -n 1)
rpm -qpi "$rpm_file"
rpm -qpl "$rpm_file"

fail() { echo "FAIL: $*" >&2; exit 1; }

# Mode and path of every regular file, from each package.
want=$(mktemp) got=$(mktemp) listed=$(mktemp) root=$(mktemp -d)
trap 'rm -rf "$want" "$got" "$listed" "$root"' EXIT
dpkg-deb --contents "$deb" | awk '$1 ~ /^-/ {print $1, substr($6, 2)}' | sed 's/\.1\.gz$/.1/' | grep -v ' /usr/share/doc/' | sort -k2 >"$want"
[ -s "$want" ] || fail "no files listed in $deb"

rpm -qpl "$rpm_file" | sort >"$listed"
diff -u <(awk '{print $2}' "$want") "$listed" || fail "rpm -qpl differs from the .deb's file list"

# Debian's rpm keeps its database in ~/.rpmdb by default: put it under var/ in the root.
rpm --root "$root" --dbpath /var/lib/rpm --initdb
rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --noscripts "$rpm_file"
rpm --root "$root" --dbpath /var/lib/rpm -q certwright
# Everything but the rpm database (under var/ or usr/lib/sysimage/, by rpm version).
(cd "$root" && find . -type f ! -path './var/*' ! -path './usr/lib/sysimage/*' -printf '%M /%P\n' |
  sort -k2) >"$got"
# dpkg prints -rwxr-xr-x for a 0755 file, find the same: the lists compare directly.
diff -u "$want" "$got" ||
  fail "files installed by the RPM into $root differ (path or mode) from the .deb's"
"$root/usr/bin/certwright" --version
grep -q '^version' <(rpm -qp --queryformat 'version %{VERSION}\n' "$rpm_file")
echo "RPM OK: $rpm_file"
