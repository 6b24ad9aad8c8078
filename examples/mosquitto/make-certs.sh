#!/bin/sh
# A home certificate authority and a server certificate for the broker, with OpenSSL.
# Usage: make-certs.sh DIR HOSTNAME [IP]     e.g. make-certs.sh /etc/mosquitto/certs hub.lan 192.168.1.2
# Writes DIR/ca.crt (give it to every node and tool: --cafile), DIR/ca.key (keep it offline),
# DIR/server.crt and DIR/server.key (the broker's, for HOSTNAME and IP, valid 825 days).
set -eu
dir=$1 host=$2 ip=${3:-}
san="DNS:$host${ip:+,IP:$ip}"
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -sha256 -subj "/CN=IoTShield home CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:3072 -nodes -sha256 -subj "/CN=$host" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" > "$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 825 -sha256 -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
rm -f "$dir/server.csr" "$dir/server.ext" "$dir/ca.srl"
chmod 644 "$dir/ca.crt" "$dir/server.crt"
echo "make-certs: $dir/ca.crt, $dir/server.crt and $dir/server.key for $san"
