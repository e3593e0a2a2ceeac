-- wikilsp for Neovim 0.11+: `vim.lsp.enable('wikilsp')` with `editors/nvim` on 'runtimepath'.
--
-- The server binary is, in order of preference:
--   1. `vim.g.wikilsp_cmd` (a string, or a list such as `{ '/path/to/wikilsp', 'serve' }`);
--   2. the environment variable `WIKILSP_SERVER` (a path to the binary);
--   3. `wikilsp` on $PATH.
-- Both are read when the config is first resolved (the first markdown buffer), so set them
-- before that. `vim.lsp.config('wikilsp', { cmd = { ... } })` works too and wins over both.
--
-- Root: the nearest folder above the note holding `.wikilsp.toml`, `.obsidian` or `.git`; when
-- there is none, the note's own folder (root_markers alone would start the server with no workspace
-- folder in 0.11, and it would index nothing). The rules live in lua/wikilsp/init.lua, shared
-- with the 0.10 `require('wikilsp').setup{}` form.

local wikilsp = require('wikilsp')

---@type vim.lsp.Config
return {
  cmd = wikilsp.cmd(),
  filetypes = { 'markdown' },
  root_markers = wikilsp.root_markers, -- documentation only: root_dir below uses them
  root_dir = function(bufnr, on_dir)
    local root = wikilsp.root_dir(bufnr)
    if root then -- nil: not a file on disk, no server
      on_dir(root)
    end
  end,
  -- `gd` follows links in notes (unless mapped already, or `vim.g.wikilsp_no_keymaps` is set).
  on_attach = function(_, buf)
    wikilsp.register_commands()
    wikilsp.default_keymaps(buf)
  end,
}
