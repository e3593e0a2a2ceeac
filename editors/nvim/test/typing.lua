-- Typing with completion as you type, the way editors/nvim/README.md sets it up: keys come from
-- timers, so Neovim's main loop handles them as it does a user's (the suite runs under
-- `nvim -l`, where typed keys are never processed). Run by test/run.sh:
--
--   nvim --headless -u NONE -i NONE -n -c 'luafile editors/nvim/test/typing.lua'
--
-- Environment: WIKILSP_SERVER (the server), WIKILSP_TEST_VAULT (a scratch copy of test/vault).
-- Prints `PASS name` or `FAIL name: why` per check and `N passed, M failed`; exits 1 on a
-- failure. Checks: what is typed after `[[` lands as typed, quickly or slowly, and no error or
-- warning reaches the user meanwhile (a stale completion is answered ContentModified, which
-- Neovim must take silently).

local here = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2)))
vim.opt.runtimepath:prepend(vim.fs.dirname(here))
vim.opt.swapfile = false
vim.opt.showmode = false
vim.opt.shortmess:append('AFIc')
vim.cmd('filetype on')

local function out(s)
  io.stdout:write(s, '\n')
  io.stdout:flush()
end

local passed, failed = 0, 0
local function finish()
  out(('%d passed, %d failed'):format(passed, failed))
  vim.cmd(failed == 0 and 'qall!' or 'cquit! 1')
end
local function check(name, ok, why)
  if ok then
    passed = passed + 1
    out('PASS ' .. name)
  else
    failed = failed + 1
    out(('FAIL %s: %s'):format(name, why))
  end
end

vim.defer_fn(function()
  out('FAIL typing-timeout: still typing after 60 s')
  failed = failed + 1
  finish()
end, 60000)

-- What the user would see.
local shown = {}
vim.notify = function(msg) table.insert(shown, msg) end
vim.notify_once = function(msg) table.insert(shown, msg) end

local indexed = false
vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local p = ev.data and ev.data.params
    if p and p.token == 'wikilsp/indexing' and type(p.value) == 'table' and p.value.kind == 'end' then
      indexed = true
    end
  end,
})

-- The README's recommended setup.
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if not client or client.name ~= 'wikilsp' then
      return
    end
    if vim.lsp.completion and client:supports_method('textDocument/completion') then
      vim.bo[args.buf].completeopt = 'menuone,noselect,popup'
      vim.lsp.completion.enable(true, client.id, args.buf, { autotrigger = true })
    end
  end,
})
vim.lsp.enable('wikilsp')

local vault = os.getenv('WIKILSP_TEST_VAULT')
vim.cmd.edit(vault .. '/index.md')
local buf = vim.api.nvim_get_current_buf()

-- Types `text` on a new last line, a key every `gap` ms, then calls `done`.
local function type_line(text, gap, done)
  vim.api.nvim_feedkeys('Go', 'n', false)
  local function key(i)
    if i > #text then
      vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<Esc>', true, false, true), 'n', false)
      -- Late answers arrive meanwhile: what they do to the text is checked too.
      vim.defer_fn(done, 800)
      return
    end
    vim.api.nvim_feedkeys(text:sub(i, i), 'n', false)
    vim.defer_fn(function() key(i + 1) end, gap)
  end
  vim.defer_fn(function() key(1) end, 50)
end

local typed = '[[lena and [[tide then more words, [[sea'
local rounds = { 2, 15, 60 }
local function round(r)
  if r > #rounds then
    check('no-message-while-typing', #shown == 0, 'shown: ' .. table.concat(shown, ' | '))
    finish()
    return
  end
  type_line(typed, rounds[r], function()
    local last = vim.api.nvim_buf_get_lines(buf, -2, -1, false)[1]
    check(('typed-as-is-%dms'):format(rounds[r]), last == typed, ('the line is %q'):format(last))
    round(r + 1)
  end)
end

local started = vim.uv.now()
local function wait_ready()
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'wikilsp' })[1]
  if client and client.initialized and indexed then
    check('attached-and-indexed', true)
    round(1)
  elseif vim.uv.now() - started > 20000 then
    check('attached-and-indexed', false, 'no client, or no end of indexing, within 20 s')
    finish()
  else
    vim.defer_fn(wait_ready, 50)
  end
end
wait_ready()
