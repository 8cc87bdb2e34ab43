#!/usr/bin/env bash
set -euo pipefail
USAGE=$(cat <<'EOF'
Makes a CA and per-peer certificates for a local TLS cluster (peer.tls.*):
for each NAME, NAME.pem / NAME.key with CN=NAME and a DNS SAN NAME (peers
check the name in DISC_HELLO against them), signed by ca.pem; and load.pem /
load.key for `weft load` (DNS SAN *.load.weft: run it with --id-domain load.weft).
An existing ca.pem/ca.key in the folder is reused, so peers can be added later.
  scripts/cluster/gen-certs.sh [--out DIR=./certs] [--days N=825] [--ca-name CN] [NAME ...=vp0 vp1 vp2 vp3]
Keys are EC P-256, certificates good for both TLS server and client use.
EOF
)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
lib_help "$@"

out=./certs days=825 ca_name="Weft local CA" names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out|--days|--ca-name) [ $# -ge 2 ] || lib_die "$1 needs a value" ;;&
    --out) out=$2; shift 2 ;;
    --days) [[ "$2" =~ ^[1-9][0-9]*$ ]] || lib_die "--days must be a positive number, not '$2'"
            days=$2; shift 2 ;;
    --ca-name) ca_name=$2; shift 2 ;;
    -*) lib_die "unknown option '$1'" ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(vp0 vp1 vp2 vp3)
command -v openssl >/dev/null || { echo "gen-certs.sh: needs the openssl command (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
lib_on_exit "rm -rf '$tmp'"

if [ -f "$out/ca.pem" ] && [ -f "$out/ca.key" ]; then
  echo "gen-certs: reusing the CA in $out/ca.pem" >&2
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/ca.key" -out "$out/ca.pem" -days "$days" -subj "/CN=$ca_name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "gen-certs: CA '$ca_name' in $out/ca.pem" >&2
fi

# issue FILE CN SAN
issue() {
  local file=$1 cn=$2 san=$3 ext=$tmp/$1.ext
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/$file.key" -out "$tmp/$file.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$tmp/$file.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -days "$days" -extfile "$ext" -out "$out/$file.pem" 2>/dev/null
  echo "gen-certs: $out/$file.pem ($san)" >&2
}
for name in "${names[@]}"; do issue "$name" "$name" "DNS:$name"; done
issue load load.weft "DNS:*.load.weft"
chmod 644 "$out"/*.pem
