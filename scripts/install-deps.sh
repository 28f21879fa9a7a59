#!/usr/bin/env bash
# Installs the Debian packages threat-report needs, when they are missing.
#   scripts/install-deps.sh report   build + sample report (Cairo, libcurl, fonts)
#   scripts/install-deps.sh test     also the real components the tests drive (Chromium, ...)
#   scripts/install-deps.sh bench    also the benchmark peers (GoAccess, jq, GNU time)
# As root it runs apt-get; otherwise it prints the exact command to run.
set -euo pipefail
want=(pkg-config libcairo2-dev libcurl4-openssl-dev libssl-dev zlib1g-dev fonts-dejavu-core)
if [ "${1:-report}" = test ] || [ "${1:-report}" = bench ]; then
  want+=(chromium prometheus python3)
  # Output formats: poppler-utils opens the PDF (pdfinfo, pdftotext, pdftoppm); python3-jsonschema
  # validates the SARIF against the official schema; python3-yaml parses the docs/recipes.
  want+=(poppler-utils python3-jsonschema python3-yaml)
  # WAF: a real NGINX + ModSecurity v3 + OWASP CRS on loopback, attack payloads from wfuzz's lists.
  want+=(nginx libnginx-mod-http-modsecurity modsecurity-crs wfuzz)
  # Gateway lab: HAProxy (httplog) in front of that NGINX.
  want+=(haproxy)
  # The Markdown escaping test renders report.md with markdown-it-py (PyPI), through pip.
  want+=(python3-pip)
  # The output folder keeps its POSIX ACLs across the atomic switch: setfacl/getfacl set and read them.
  want+=(acl)
fi
if [ "${1:-report}" = bench ]; then
  # make bench: the peers (GoAccess, jq) and whole-process timing (/usr/bin/time -v).
  want+=(goaccess jq time bc)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  else
    echo "missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi
if [ "${1:-report}" = test ] && ! /usr/bin/python3 -c 'import markdown_it' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: markdown-it-py (pip)" >&2
    /usr/bin/python3 -m pip install -q --break-system-packages 'markdown-it-py>=3,<5' >&2
  else
    echo "missing Python package; run:  sudo /usr/bin/python3 -m pip install --break-system-packages 'markdown-it-py>=3,<5'" >&2
    exit 1
  fi
fi
if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "Swift 6 is required (https://www.swift.org/install/linux/); swift is not on PATH" >&2
  fi
  exit 1
fi
