# Sourced by scripts/demo.sh and bench/lib.sh: a private Pebble ACME server and
# pebble-challtestsrv (DNS: every name -> 127.0.0.1) on free ports.

# free_port: a TCP port on 127.0.0.1 that was free a moment ago.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# pebble_start DIR CA_CN [VAR=VALUE...]: makes a throwaway CA (DIR/tls/ca.pem) for Pebble's
# own HTTPS, starts challtestsrv (unless PEBBLE_DNS_SERVER=HOST:PORT names the DNS server
# Pebble should ask instead) and Pebble (logs in DIR; VAR=VALUE added to Pebble's
# environment) and waits until Pebble's directory answers. Sets acme_port, mgmt_port,
# http_port (where Pebble's VA probes HTTP-01), tls_port, dns_pid and pebble_pid; the caller
# kills the two pids on exit.
pebble_start() {
  local dir=$1 ca_cn=$2; shift 2
  acme_port=$(free_port); mgmt_port=$(free_port); http_port=$(free_port); tls_port=$(free_port)
  local dns_port dns_mgmt
  dns_port=$(free_port); dns_mgmt=$(free_port)
  mkdir -p "$dir/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=$ca_cn" -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$dir/tls/localhost.key" -out "$dir/tls/localhost.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$dir/tls/ext"
  openssl x509 -req -in "$dir/tls/localhost.csr" -CA "$dir/tls/ca.pem" -CAkey "$dir/tls/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/tls/ext" -out "$dir/tls/localhost.pem" 2>/dev/null
  cat > "$dir/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$acme_port", "managementListenAddress": "127.0.0.1:$mgmt_port",
 "certificate": "$dir/tls/localhost.pem", "privateKey": "$dir/tls/localhost.key",
 "httpPort": $http_port, "tlsPort": $tls_port, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
  if [ -n "${PEBBLE_DNS_SERVER:-}" ]; then
    dns_server=$PEBBLE_DNS_SERVER
  else
    dns_server="127.0.0.1:$dns_port"
    pebble-challtestsrv -dns01 "$dns_server" -http01 "" -https01 "" -tlsalpn01 "" \
      -management "127.0.0.1:$dns_mgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 "" >"$dir/challtestsrv.log" 2>&1 &
    dns_pid=$!
  fi
  env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 "$@" \
    pebble -config "$dir/pebble.json" -dnsserver "$dns_server" >"$dir/pebble.log" 2>&1 &
  pebble_pid=$!
  for _ in $(seq 200); do
    curl -fsS --cacert "$dir/tls/ca.pem" "https://localhost:$acme_port/dir" >/dev/null 2>&1 && break
    sleep 0.1
  done
}
