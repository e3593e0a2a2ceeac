#!/usr/bin/env bash
# wikilsp through Emacs's eglot, in batch: runs editors/other/emacs-check.el on a scratch copy
# of the Neovim suite's fixture vault (editors/nvim/test/vault).
#
#   editors/other/test-emacs.sh                       # builds the server (cargo build --release)
#   WIKILSP=/path/to/wikilsp editors/other/test-emacs.sh
#   EMACS=/path/to/emacs editors/other/test-emacs.sh
#
# Needs Emacs 29+ (eglot built in) or Emacs 28 with eglot (Debian: elpa-eglot); markdown-mode
# (elpa-markdown-mode) is used when present. Installs nothing, except when CI is set and apt-get
# can run as root: then it installs emacs-nox, elpa-eglot and elpa-markdown-mode when missing.
# Prints SKIP and exits 0 when Emacs or eglot is not available; otherwise exits non-zero when a
# check fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
say() { printf '%s\n' "$*" >&2; }

emacs_bin="${EMACS:-emacs}"

has_eglot() {
  command -v "$emacs_bin" >/dev/null 2>&1 || return 1
  timeout 60 "$emacs_bin" --batch -Q --eval '
    (progn
      (require (quote package))
      (when (file-directory-p "/usr/share/emacs/site-lisp/elpa")
        (add-to-list (quote package-directory-list) "/usr/share/emacs/site-lisp/elpa"))
      (package-initialize)
      (kill-emacs (if (require (quote eglot) nil t) 0 3)))' >/dev/null 2>&1
}

if ! has_eglot && [[ -n "${CI:-}" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  say "test-emacs.sh: CI is set; installing emacs-nox elpa-eglot elpa-markdown-mode"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q emacs-nox elpa-eglot elpa-markdown-mode >&2; then
    apt-get update -q >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q emacs-nox elpa-eglot elpa-markdown-mode >&2 || true
  fi
fi

if ! command -v "$emacs_bin" >/dev/null 2>&1; then
  echo "SKIP emacs: no Emacs found (apt-get install emacs-nox elpa-eglot elpa-markdown-mode)"
  exit 0
fi
if ! has_eglot; then
  echo "SKIP emacs: $("$emacs_bin" --version | head -n1) has no eglot (Emacs 29+, or apt-get install elpa-eglot)"
  exit 0
fi

# --- The server -------------------------------------------------------------------------------
if [[ -n "${WIKILSP:-}" ]]; then
  server="$WIKILSP"
else
  say "test-emacs.sh: cargo build --release in $repo"
  (cd "$repo" && cargo build --release --quiet) >&2
  server="$repo/target/release/wikilsp"
fi
[[ -x "$server" ]] || { say "test-emacs.sh: server $server is not executable"; exit 1; }
server="$(cd "$(dirname "$server")" && pwd)/$(basename "$server")"

# --- A scratch copy of the fixture vault and a scratch HOME -----------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/wikilsp-emacs.XXXXXX")"
work="$(cd "$work" && pwd -P)"
trap 'rm -rf "$work"' EXIT
cp -R "$repo/editors/nvim/test/vault" "$work/vault"
mkdir -p "$work/home"

rc=0
HOME="$work/home" WIKILSP_SERVER="$server" WIKILSP_TEST_VAULT="$work/vault" \
  timeout -k 5 120 "$emacs_bin" --batch -Q -l "$here/emacs-check.el" </dev/null || rc=$?
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "FAIL emacs: Emacs killed after 120 s"
fi
exit $rc
