#!/usr/bin/env bash
# DNS-01 side by side: one `*.NAME` + `NAME` issuance over RFC 2136 (TSIG) against a local
# bind9 that this script starts, by certwright, certbot with certbot-dns-rfc2136 and lego
# `--dns rfc2136`, in one run, against one Pebble whose VA reads the TXT records from that
# bind9 (`pebble -dnsserver`). Prints a markdown table of medians (wall, CPU, peak RSS).
#
#   bench/dns.sh [N_FAST] [N_SLOW]
#     N_FAST  issuances per client that takes seconds: certwright, certbot with
#             --dns-rfc2136-propagation-seconds 0 (default 10)
#     N_SLOW  issuances per client that sleeps or polls for a minute: certbot as installed
#             (its 60 s propagation sleep), lego (default 3)
#
# Every client runs as a user would with only the server given: certwright checks that bind9
# serves the values (--dns-resolver is how it is told where bind9 listens on this free port),
# certbot sleeps its default 60 s, lego polls its resolver (--dns.resolvers, the same bind9;
# --dns.disable-cp, else it also looks up the zone's NS names through the system resolver,
# which cannot know ns1.bench.test).
# Needs bind9 (named, nsupdate), pebble, lego (Debian), GNU time, and the certbot venv of
# scripts/install-certbot.sh (installed if missing). CW=path benchmarks another certwright.
n_fast=${1:-10}
n_slow=${2:-3}
source "$(dirname "$0")/lib.sh"

for bin in named nsupdate lego; do
  command -v "$bin" >/dev/null 2>&1 || { echo "missing: $bin (apt-get install bind9 bind9-dnsutils lego)" >&2; exit 1; }
done
bash "$here/scripts/install-certbot.sh" >&2
certbot="${CERTWRIGHT_CERTBOT_VENV:-/tmp/certwright-certbot-venv}/bin/certbot"

# --- bind9: zone bench.test, TXT updates signed with one TSIG key ------------------------
zone=bench.test
key=certwright-bench
secret=$(head -c 32 /dev/urandom | base64)
dns_port=$(free_port)
mkdir -p "$bench/named"
cat >"$bench/named/named.conf" <<CONF
options {
	directory "$bench/named";
	pid-file "$bench/named/named.pid";
	session-keyfile "$bench/named/session.key";
	managed-keys-directory "$bench/named";
	listen-on port $dns_port { 127.0.0.1; };
	listen-on-v6 { none; };
	dnssec-validation no;
	recursion no;
	notify no;
	allow-query { any; };
};
controls { };
key "$key." { algorithm hmac-sha256; secret "$secret"; };
zone "$zone" {
	type primary;
	file "$bench/named/$zone.zone";
	update-policy { grant $key. subdomain $zone. TXT; };
};
CONF
cat >"$bench/named/$zone.zone" <<ZONE
\$TTL 60
@ IN SOA ns1.$zone. hostmaster.$zone. 1 3600 600 86400 60
@ IN NS ns1.$zone.
ns1 IN A 127.0.0.1
ZONE
named -g -c "$bench/named/named.conf" >"$bench/named/named.log" 2>&1 &
named_pid=$!
trap 'kill "$named_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do
  dig +short -p "$dns_port" @127.0.0.1 SOA "$zone" 2>/dev/null | grep -q . && break
  sleep 0.1
done
dig +short -p "$dns_port" @127.0.0.1 SOA "$zone" | grep -q . || { cat "$bench/named/named.log" >&2; exit 1; }

PEBBLE_DNS_SERVER="127.0.0.1:$dns_port" start_pebble
url="https://localhost:$acme_port/dir"
ca="$bench/tls/ca.pem"

# certbot's credentials file; certwright reads the same format.
creds="$bench/rfc2136.ini"
cat >"$creds" <<INI
dns_rfc2136_server = 127.0.0.1
dns_rfc2136_port = $dns_port
dns_rfc2136_name = $key.
dns_rfc2136_secret = $secret
dns_rfc2136_algorithm = HMAC-SHA256
INI
chmod 600 "$creds"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
secs() { awk -v s="$1" 'BEGIN { printf "%.2f s", s }'; }
declare -A cell

# Each client its own names (LABEL.bench.test): nothing one leaves can help another.
cw_issue=("$cw" certonly --dns-rfc2136 --dns-rfc2136-credentials "$creds"
  --dns-resolver "127.0.0.1:$dns_port" -d "*.cw.$zone" -d "cw.$zone" --force-renewal
  "${common[@]}" "${acme[@]}")
cb_issue() { # cb_issue LABEL: certbot's certonly for LABEL's names in LABEL's own dirs
  cb=(env "REQUESTS_CA_BUNDLE=$ca" "$certbot" certonly --dns-rfc2136 --dns-rfc2136-credentials "$creds"
    -d "*.$1.$zone" -d "$1.$zone" --force-renewal --config-dir "$bench/$1/config"
    --work-dir "$bench/$1/work" --logs-dir "$bench/$1/logs" --server "$url"
    -n --agree-tos --register-unsafely-without-email)
}
cb_issue cb; cb_default=("${cb[@]}")
cb_issue cb0; cb_zero=("${cb[@]}" --dns-rfc2136-propagation-seconds 0)
lego_issue=(env "LEGO_CA_CERTIFICATES=$ca" "RFC2136_NAMESERVER=127.0.0.1:$dns_port"
  "RFC2136_TSIG_KEY=$key." "RFC2136_TSIG_SECRET=$secret" "RFC2136_TSIG_ALGORITHM=hmac-sha256."
  lego --server "$url" --path "$bench/lego" --accept-tos --email bench@example.com --key-type ec256
  --dns rfc2136 --dns.resolvers "127.0.0.1:$dns_port" --dns.disable-cp --domains "*.lego.$zone" --domains "lego.$zone" run)

# issue LABEL N CMD...: one warm-up (registers the account; not counted), then N runs; no
# TXT record may be left at the name afterwards.
issue() {
  local label=$1 n=$2; shift 2
  echo "==> $label: warm-up + $n issuances" >&2
  if ! "$@" >"$bench/$label.warmup.log" 2>&1; then
    echo "$label warm-up failed:" >&2; tail -20 "$bench/$label.warmup.log" >&2
    cell[$label]="failed | failed | failed"; return 0
  fi
  for _ in $(seq "$n"); do
    measure "$bench/$label.txt" "$@" || { cell[$label]="failed | failed | failed"; return 0; }
  done
  local left
  left=$(dig +short -p "$dns_port" @127.0.0.1 TXT "_acme-challenge.$label.$zone" 2>/dev/null | wc -l)
  [ "$left" -eq 0 ] || echo "$label left $left TXT value(s) behind" >&2
  cell[$label]="$(secs "$(median "$bench/$label.txt" 1)") | $(secs "$(median "$bench/$label.txt" 3)") | $(mib "$(median "$bench/$label.txt" 2)")"
}
issue cw "$n_fast" "${cw_issue[@]}"
issue cb0 "$n_fast" "${cb_zero[@]}"
issue cb "$n_slow" "${cb_default[@]}"
issue lego "$n_slow" "${lego_issue[@]}"

# --- table ----------------------------------------------------------------------------------
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo
echo "Machine: $(nproc) CPUs, $model, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Versions: certwright $("$cw" --version | awk '{print $2}'), certbot $("$certbot" --version 2>&1 | awk '{print $2}') + certbot-dns-rfc2136 (venv, pip), lego $(dpkg-query -W -f '${Version}' lego 2>/dev/null || echo '?') (Debian), bind9 $(named -v | awk '{print $2}'), pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')"
echo
echo "| \`*.NAME\` + \`NAME\` over RFC 2136 (medians) | wall | CPU user+sys | peak RSS |"
echo "|---|---|---|---|"
echo "| certwright --dns-rfc2136 (n=$n_fast) | ${cell[cw]} |"
echo "| certbot --dns-rfc2136 --dns-rfc2136-propagation-seconds 0 (n=$n_fast) | ${cell[cb0]} |"
echo "| certbot --dns-rfc2136, default 60 s propagation sleep (n=$n_slow) | ${cell[cb]} |"
echo "| lego --dns rfc2136 (n=$n_slow) | ${cell[lego]} |"
echo
if [ -s "$bench/cw.txt" ]; then
  awk -v w="$(median "$bench/cw.txt" 1)" -v r="$(median "$bench/cw.txt" 2)" 'BEGIN {
    printf "Target: certwright wall < 0.5 s: %.2f s: %s\n", w, (w < 0.5 ? "met" : "MISSED")
    printf "Target: certwright peak RSS < 15 MiB: %.1f MiB: %s\n", r / 1024, (r / 1024 < 15 ? "met" : "MISSED")
  }'
fi
