#!/usr/bin/env bash
# Installs everything rwmeta needs to build and test on a fresh Debian 12 machine.
# Safe to re-run: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang-format clang-tidy
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev sqlite3
  libpg-query-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libtomlplusplus-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev
  libzstd-dev libxxhash-dev
  libcurl4-openssl-dev libssl-dev
  libpq-dev libmariadb-dev
  # test peers: real servers and independent clients, started on 127.0.0.1 by the tests
  postgresql-client postgresql-15 mariadb-server mariadb-client etcd-server etcd-client
  awscli s3cmd nodejs
  # GNU time: the peak RSS of the peers bench/perf compares with (pg_dump, sqlite3, etcdctl)
  time
)
# npm test tools (npm comes with the machine's Node.js), installed into tools/node_modules
# (not committed).
NPM_TOOLS=(s3rver@3.7.1)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The tests start their own servers on loopback ports; the packaged services stay down.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/tools"
for t in "${NPM_TOOLS[@]}"; do
  name="${t%@*}"
  if [ ! -d "$root/tools/node_modules/$name" ]; then
    echo "setup: npm install $t"
    (cd "$root/tools" && npm install --no-audit --no-fund --no-save --silent "$t")
  fi
done
echo "setup: done"
