#!/usr/bin/env bash
# Makes a fresh machine ready to build, test and run querygate: Debian packages for the servers and
# clients the tests drive, pnpm, the workspace's dependencies, and a build. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg -s "$1" >/dev/null 2>&1; }
# Servers the harness initialises in temp dirs, and the real clients the tests use.
for pkg in postgresql postgresql-client mariadb-server mariadb-client pgbouncer sysbench openssl maven default-jdk-headless chromium; do
  pkg_installed "$pkg" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${need_apt[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! have node || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js >= 20.19 is required" >&2
  exit 1
fi
if ! have pnpm || [ "$(pnpm --version)" != "10.34.9" ]; then
  npm install -g pnpm@10.34.9 >/dev/null 2>&1
fi

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build >/dev/null
echo "setup: ok" >&2
