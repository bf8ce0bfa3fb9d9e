#!/usr/bin/env bash
# Installs the servers EcoMarket runs on, from Debian's packages, when they are
# missing. Safe to run again: it installs nothing that is already there.
set -euo pipefail

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian starts the services it installs; EcoMarket runs its own private ones,
  # so the machine-wide copies are left as the package set them up.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
