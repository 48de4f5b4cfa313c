#!/usr/bin/env bash
# Serves the playground at http://127.0.0.1:8080, installing the web toolchain first if needed.
# trunk serve writes its development build (with autoreload) into dist/; scripts/test.sh
# builds into target/test-dist, so the two can run at the same time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh web
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec trunk serve index.html --address 127.0.0.1 --port "${PORT:-8080}"
