#!/usr/bin/env bash
# Writes a variant of conf/local-3node for A/B runs with bench/scripts/ab-jars.sh (FOLDER=...):
#   tls         mutual TLS on the client and peer ports, with a CA and certificates made here by
#               openssl (EC P-256, SAN 127.0.0.1) under run/bench-conf/tls-certs; the client flags
#               to pass to bench kv are printed (use them as EXTRA=...); no resp-address (the RESP
#               endpoint has no TLS yet, and a store refuses the two together)
#   no-metrics  without metrics-address (no HTTP endpoint, no registry)
# The variant lands in run/bench-conf/<variant>-3node, its data in run/<variant>-3node.
# usage: bench/scripts/variant-conf.sh tls|no-metrics
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
variant="${1:-}"
[[ "$variant" == tls || "$variant" == no-metrics ]] || { echo "usage: $0 tls|no-metrics" >&2; exit 2; }
out="run/bench-conf/$variant-3node"
rm -rf "$out" && mkdir -p "$out"
extra=()
if [[ "$variant" == tls ]]; then
  command -v openssl >/dev/null || { echo "variant-conf: openssl is needed to make the certificates" >&2; exit 1; }
  certs="$PWD/run/bench-conf/tls-certs"
  rm -rf "$certs" && mkdir -p "$certs"
  openssl ecparam -name prime256v1 -genkey -noout -out "$certs/ca-key.sec1.pem" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$certs/ca-key.sec1.pem" -out "$certs/ca-key.pem"
  openssl req -x509 -new -key "$certs/ca-key.pem" -subj "/CN=loomkv bench CA" -days 30 -out "$certs/ca.pem" 2>/dev/null
  for name in store client; do
    openssl ecparam -name prime256v1 -genkey -noout -out "$certs/$name-key.sec1.pem" 2>/dev/null
    openssl pkcs8 -topk8 -nocrypt -in "$certs/$name-key.sec1.pem" -out "$certs/$name-key.pem"
    openssl req -new -key "$certs/$name-key.pem" -subj "/CN=loomkv bench $name" -out "$certs/$name.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$certs/$name.ext"
    openssl x509 -req -in "$certs/$name.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca-key.pem" -CAcreateserial -days 30 \
        -extfile "$certs/$name.ext" -out "$certs/$name.pem" 2>/dev/null
  done
  extra=("client-cert-file=$certs/store.pem" "client-key-file=$certs/store-key.pem" "client-trusted-ca-file=$certs/ca.pem"
         "client-cert-auth=true" "peer-cert-file=$certs/store.pem" "peer-key-file=$certs/store-key.pem"
         "peer-trusted-ca-file=$certs/ca.pem")
fi
for f in conf/local-3node/node*.properties; do
  name="$(basename "$f")"
  sed -e "s|^data-dir=run/local-3node/|data-dir=run/$variant-3node/|" -e "s|^cluster-id=.*|cluster-id=loomkv-$variant-3|" "$f" \
      | { if [[ "$variant" == no-metrics ]]; then grep -v '^metrics-address='; else grep -v '^resp-address='; fi; } > "$out/$name"
  for line in "${extra[@]+"${extra[@]}"}"; do echo "$line" >> "$out/$name"; done
done
echo "variant-conf: wrote $out"
if [[ "$variant" == tls ]]; then
  echo "bench kv flags: --cacert $certs/ca.pem --cert $certs/client.pem --key $certs/client-key.pem"
fi
