#!/usr/bin/env bash
# Brings up what the tests need on this machine: installs the Debian packages a fresh
# machine lacks (InfluxDB for the tests; fail2ban and sshguard for the acceptance
# comparison and the benchmark; python3-sklearn for the anomaly evaluation), then starts any service that is not answering
# (PostgreSQL, Redis, NATS JetStream, InfluxDB). Idempotent; needs root for apt-get.
# `npm run test:full` runs this, then `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
APT_PACKAGES=(influxdb fail2ban sshguard python3-sklearn)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "    all present: ${APT_PACKAGES[*]}"
else
  echo "    installing: ${missing[*]}"
  # Keep the packages' maintainer scripts from starting their daemons (fail2ban and
  # sshguard must not run here; InfluxDB is started by scripts/services.sh), unless the
  # machine already has such a policy.
  policy=/usr/sbin/policy-rc.d
  made_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=true
    trap 'rm -f "$policy"' EXIT
  fi
  apt_status=0
  {
    apt-get update -qq &&
      apt-get install -y -qq -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 "${missing[@]}"
  } </dev/null || apt_status=$?
  if $made_policy; then
    rm -f "$policy"
    trap - EXIT
  fi
  if ((apt_status != 0)); then
    echo "apt-get failed (exit $apt_status) installing: ${missing[*]}" >&2
    exit "$apt_status"
  fi
fi

step "Services (PostgreSQL, Redis, NATS JetStream, InfluxDB)"
bash scripts/services.sh
