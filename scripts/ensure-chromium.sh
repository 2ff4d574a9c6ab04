#!/bin/sh
# The browser tests drive Debian's Chromium (Playwright's own browser builds can't be
# downloaded here). Installs it on first use; needs root, as CI has.
set -e
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "the browser tests need Chromium: run 'apt-get install -y chromium' as root" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
