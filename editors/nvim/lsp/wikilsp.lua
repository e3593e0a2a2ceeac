-- wikilsp for Neovim 0.11+: `vim.lsp.enable('wikilsp')` with `editors/nvim` on 'runtimepath'.
--
-- The server binary is, in order of preference:
--   1. `vim.g.wikilsp_cmd` (a string, or a list such as `{ '/path/to/wikilsp', 'serve' }`);
--   2. the environment variable `WIKILSP_SERVER` (a path to the binary);
--   3. `wikilsp` on $PATH.
-- Both are read when the config is first resolved (the first markdown buffer), so set them
-- before that. `vim.lsp.config('wikilsp', { cmd = { ... } })` works too and wins over both.
--
-- Root: the nearest folder above the note holding `.wikilsp.toml` or `.git`; when there is
-- none, the note's own folder (root_markers alone would start the server with no workspace
-- folder in 0.11, and it would index nothing).

local markers = { '.wikilsp.toml', '.git' }

local function server_cmd()
  local g = vim.g.wikilsp_cmd
  if type(g) == 'string' and g ~= '' then
    return { g }
  elseif type(g) == 'table' and #g > 0 then
    return vim.deepcopy(g)
  end
  local env = vim.env.WIKILSP_SERVER
  if env and env ~= '' then
    return { env }
  end
  return { 'wikilsp' }
end

---@type vim.lsp.Config
return {
  cmd = server_cmd(),
  filetypes = { 'markdown' },
  root_markers = markers, -- documentation only: the root_dir function below uses them
  -- `gd` follows links in notes (unless mapped already, or `vim.g.wikilsp_no_keymaps` is set).
  on_attach = function(_, buf)
    local ok, wikilsp = pcall(require, 'wikilsp')
    if ok then
      wikilsp.default_keymaps(buf)
    end
  end,
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    if name == '' or vim.bo[bufnr].buftype ~= '' or name:match('^%a[%w+.-]*://') then
      return -- not a file on disk: no server
    end
    on_dir(vim.fs.root(bufnr, markers) or vim.fs.dirname(vim.fs.normalize(name)))
  end,
}
