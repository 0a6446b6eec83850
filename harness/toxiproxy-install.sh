#!/usr/bin/env bash
# Builds Toxiproxy's server (the fault-injecting TCP proxy of the integration tests) from its Go
# module into ~/go/bin/toxiproxy-server, unless the pinned version is there already. Idempotent.
# Called by .ci/run and by ensureToxiproxyBinary() in harness/toxiproxy.ts; prints the binary's path.
set -euo pipefail

# The one Toxiproxy version pin (what the Go module proxy served as latest when this was written).
TOXIPROXY_VERSION=2.5.0
target="$HOME/go/bin/toxiproxy-server"

# The build stamps the version in, so `-version` tells whether the binary there is the pinned one.
if [ -x "$target" ] && [ "$("$target" -version 2>/dev/null || true)" = "toxiproxy-server version $TOXIPROXY_VERSION" ]; then
  echo "$target"
  exit 0
fi

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "Cannot build Toxiproxy $TOXIPROXY_VERSION: Go is not installed (no go on PATH nor /usr/local/go/bin/go); install Go or set TOXIPROXY_BIN to a toxiproxy-server binary." >&2
  exit 1
fi

# Install into a scratch GOBIN (its binary is named "server"), then move it in whole, so a build
# that fails or runs twice at once never leaves a half-written binary at $target.
gobin="$(mktemp -d)"
trap 'rm -rf "$gobin"' EXIT
echo "Building Toxiproxy $TOXIPROXY_VERSION with $(go version) ..." >&2
GOBIN="$gobin" go install \
  -ldflags "-X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION" \
  "github.com/Shopify/toxiproxy/v2/cmd/server@v$TOXIPROXY_VERSION" >&2
mkdir -p "$(dirname "$target")"
mv "$gobin/server" "$target.$$"
mv -f "$target.$$" "$target"
echo "$target"
