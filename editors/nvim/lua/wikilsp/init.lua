-- wikilsp for Neovim 0.10 (works on 0.11+ too, but there prefer `vim.lsp.enable('wikilsp')`).
--
--   require('wikilsp').setup {
--     cmd = { '/path/to/wikilsp' },   -- default: vim.g.wikilsp_cmd, $WIKILSP_SERVER, 'wikilsp'
--     on_attach = function(client, bufnr) ... end,
--     capabilities = nil,               -- passed to vim.lsp.start as is
--     filetypes = { 'markdown' },
--   }
--
-- Root: the nearest folder above the note holding `.wikilsp.toml`, `.obsidian` or `.git`, else
-- the note's own folder (the same rule as lsp/wikilsp.lua).

local M = {}

M.name = 'wikilsp'
-- `.obsidian`: an Obsidian vault's top folder holds it, often with no `.git` at all.
M.root_markers = { '.wikilsp.toml', '.obsidian', '.git' }

---@type table
M.options = {}

--- The command that starts the server.
---@param cmd? string|string[]
---@return string[]
function M.cmd(cmd)
  cmd = cmd or vim.g.wikilsp_cmd
  if type(cmd) == 'string' and cmd ~= '' then
    return { cmd }
  elseif type(cmd) == 'table' and #cmd > 0 then
    return vim.deepcopy(cmd)
  end
  local env = vim.env.WIKILSP_SERVER
  if env and env ~= '' then
    return { env }
  end
  return { 'wikilsp' }
end

--- The workspace folder for the note in `bufnr`, or nil when the buffer is not a file on disk.
---@param bufnr integer
---@return string?
function M.root_dir(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  return vim.fs.root(bufnr, M.root_markers) or vim.fs.dirname(vim.fs.normalize(name))
end

--- Starts (or reuses) the server for `bufnr` and attaches it. Returns the client id.
---@param bufnr? integer
---@param opts? table same keys as setup()
---@return integer?
function M.start(bufnr, opts)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  opts = vim.tbl_extend('force', M.options, opts or {})
  local root = M.root_dir(bufnr)
  if not root then
    return nil
  end
  return vim.lsp.start({
    name = M.name,
    cmd = M.cmd(opts.cmd),
    root_dir = root,
    on_attach = function(client, buf)
      M.register_commands()
      M.default_keymaps(buf)
      if opts.on_attach then
        opts.on_attach(client, buf)
      end
    end,
    capabilities = opts.capabilities,
    handlers = opts.handlers,
    settings = opts.settings,
    cmd_env = opts.cmd_env,
  }, { bufnr = bufnr })
end

--- `gd` follows the link under the cursor, in note buffers, unless the user mapped `gd` already
--- or set `vim.g.wikilsp_no_keymaps`. (Neovim's own LSP defaults cover `K`, `grr`, `grn`,
--- `gra` and `<C-]>`, but leave `gd` to the built-in "go to local declaration".)
---@param buf integer
function M.default_keymaps(buf)
  if vim.g.wikilsp_no_keymaps then
    return
  end
  if vim.fn.maparg('gd', 'n') ~= '' then
    return
  end
  vim.keymap.set('n', 'gd', vim.lsp.buf.definition, { buffer = buf, desc = 'wikilsp: go to the linked note' })
end

--- The client side of the server's commands: its code lens "N backlinks" runs
--- `wikilsp.showReferences`, which lists the backlinks in the quickfix window.
function M.register_commands()
  vim.lsp.commands['wikilsp.showReferences'] = function(command, ctx)
    local uri, pos = command.arguments[1], command.arguments[2]
    local buf = vim.uri_to_bufnr(uri)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    local encoding = client and client.offset_encoding or 'utf-16'
    local params = { textDocument = { uri = uri }, position = pos, context = { includeDeclaration = false } }
    vim.lsp.buf_request(buf, 'textDocument/references', params, function(err, result)
      if err or not result or #result == 0 then
        vim.notify('wikilsp: no note links here', vim.log.levels.INFO)
        return
      end
      local items = vim.lsp.util.locations_to_items(result, encoding)
      vim.fn.setqflist({}, ' ', { title = 'Backlinks', items = items })
      vim.cmd('botright copen')
    end)
  end
end

--- Starts the server for every markdown buffer, now and later.
---@param opts? { cmd?: string|string[], on_attach?: fun(client: vim.lsp.Client, bufnr: integer), capabilities?: table, filetypes?: string[], handlers?: table, settings?: table, cmd_env?: table }
function M.setup(opts)
  M.options = opts or {}
  local filetypes = M.options.filetypes or { 'markdown' }
  local group = vim.api.nvim_create_augroup('wikilsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
  })
  -- Buffers that were already open before setup().
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(filetypes, vim.bo[buf].filetype) then
      M.start(buf)
    end
  end
end

return M
