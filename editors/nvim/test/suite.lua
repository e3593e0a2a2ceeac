-- End-to-end checks of wikilsp through Neovim's own LSP client. Run by test/run.sh:
--
--   nvim --headless -u NONE -i NONE -n -l editors/nvim/test/suite.lua
--
-- Environment (run.sh sets it):
--   WIKILSP_SERVER      the server binary (read by lsp/wikilsp.lua and lua/wikilsp)
--   WIKILSP_TEST_VAULT  a scratch copy of test/vault (absolute, symlinks resolved)
--   WIKILSP_TEST_LOOSE  a scratch folder with no root marker above it
--   WIKILSP_TEST_OBSIDIAN  an Obsidian vault (`.obsidian/` at its top, no other marker)
--   WIKILSP_TEST_FORM   'enable' (0.11: vim.lsp.enable) or 'setup' (0.10: require('wikilsp').setup)
--
-- Prints `PASS name`, `FAIL name: why` or `SKIP name: why` per check and ends with
-- `N passed, M failed`; exits 1 on any failure, 2 on the global timeout. Every wait is
-- `vim.wait(ms, condition, 20)` with a bound, so nothing hangs.
--
-- Adding a check: append `check(name, opts, fn)` below. `fn(S)` raises (error/ensure) to fail.
-- `opts.provider = 'renameProvider'` runs the check only when the server advertises that
-- capability and prints SKIP otherwise (how rename and quick-fix checks are meant to land).

local GLOBAL_TIMEOUT_MS = tonumber(os.getenv('WIKILSP_TEST_TIMEOUT_MS') or '') or 60000

local function out(s)
  io.stdout:write(s, '\n')
  io.stdout:flush()
end

local passed, failed, skipped = 0, 0, 0

local watchdog = assert(vim.uv.new_timer())
watchdog:start(GLOBAL_TIMEOUT_MS, 0, function()
  out(('FAIL global-timeout: the suite ran longer than %d s'):format(GLOBAL_TIMEOUT_MS / 1000))
  out(('%d passed, %d failed'):format(passed, failed + 1))
  pcall(function()
    for _, c in ipairs(vim.lsp.get_clients({ _uninitialized = true })) do
      c:stop(true)
    end
  end)
  os.exit(2)
end)

local function env(name)
  local v = os.getenv(name)
  if not v or v == '' then
    out(('FAIL setup: environment variable %s is not set (run test/run.sh)'):format(name))
    out(('%d passed, %d failed'):format(0, 1))
    os.exit(1)
  end
  return v
end

local VAULT = env('WIKILSP_TEST_VAULT')
local LOOSE = env('WIKILSP_TEST_LOOSE')
local OBSIDIAN = env('WIKILSP_TEST_OBSIDIAN')
local SERVER = env('WIKILSP_SERVER')
local FORM = os.getenv('WIKILSP_TEST_FORM') or 'enable'
local NVIM_DIR = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2))))
if not NVIM_DIR:match('^/') then
  NVIM_DIR = vim.fs.normalize(vim.fn.fnamemodify(NVIM_DIR, ':p'))
end

vim.opt.runtimepath:prepend(NVIM_DIR)
vim.opt.swapfile = false
vim.opt.shortmess:append('AFI')
vim.cmd('filetype on')
vim.lsp.set_log_level(os.getenv('WIKILSP_NVIM_LOG_LEVEL') or 'warn')

-- Helpers ---------------------------------------------------------------------------------

local function ensure(cond, fmt, ...)
  if not cond then
    error({ why = select('#', ...) > 0 and fmt:format(...) or fmt }, 0)
  end
  return cond
end

local function wait(ms, cond)
  return vim.wait(ms, cond, 20) == true
end

local function realpath(p)
  return vim.uv.fs_realpath(p) or vim.fs.normalize(p)
end

local function note(rel)
  return VAULT .. '/' .. rel
end

local function uri_of(path)
  return vim.uri_from_fname(path)
end

--- What the suite learned so far; each check reads and adds to it.
local S = {
  progress_end = {}, -- client id -> message of the `$/progress` end for wikilsp/indexing
  publishes = {}, -- uri -> number of publishDiagnostics received
}

vim.api.nvim_create_autocmd('LspProgress', {
  callback = function(ev)
    local p = ev.data and ev.data.params
    if p and p.token == 'wikilsp/indexing' and type(p.value) == 'table' and p.value.kind == 'end' then
      S.progress_end[ev.data.client_id] = p.value.message or ''
    end
  end,
})

do
  local orig = vim.lsp.handlers['textDocument/publishDiagnostics']
  vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
    if result and result.uri then
      S.publishes[result.uri] = (S.publishes[result.uri] or 0) + 1
    end
    return orig(err, result, ctx, config)
  end
end

local function client_for(buf, name)
  return vim.lsp.get_clients({ bufnr = buf, name = name or 'wikilsp' })[1]
end

--- Opens `path` in the current window and waits (up to `ms`) for wikilsp to attach.
local function open(path, ms)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  ensure(vim.bo[buf].filetype == 'markdown', 'filetype of %s is %q, not markdown', path, vim.bo[buf].filetype)
  ensure(wait(ms or 5000, function()
    return client_for(buf) ~= nil
  end), 'no wikilsp client attached to %s within %d ms', vim.fn.fnamemodify(path, ':t'), ms or 5000)
  return buf, client_for(buf)
end

--- 0-based row and byte column of the first plain occurrence of `needle` in `buf`.
local function locate(buf, needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(needle, 1, true)
    if col then
      return i - 1, col - 1
    end
  end
  error({ why = ('%q not found in the buffer'):format(needle) }, 0)
end

--- Position params for (row, byte col) in buf, converted by Neovim to the client's encoding.
--- (Not through the cursor: in normal mode it cannot sit after the last character.)
local function position_params(buf, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, true)[1]
  return {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = row, character = vim.str_utfindex(line, encoding, col, false) },
  }
end

--- Shows buf in the current window with the cursor on (row, byte col).
local function put_cursor(buf, row, col)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
end

--- A request through `client`; returns its result or raises with the error.
local function request(client, method, params, buf, ms)
  local resp, err = client:request_sync(method, params, ms or 2000, buf)
  ensure(resp ~= nil, '%s: no answer (%s)', method, tostring(err))
  ensure(resp.err == nil, '%s: error %s', method, vim.inspect(resp.err))
  return resp.result
end

--- The first location of a definition result, as { uri, range }.
local function first_location(result)
  if result == nil or result == vim.NIL then
    return nil
  end
  if result.uri or result.targetUri then
    result = { result }
  end
  local l = result[1]
  if not l then
    return nil
  end
  return { uri = l.uri or l.targetUri, range = l.range or l.targetSelectionRange, count = #result }
end

local function same_file(uri, path)
  if not uri then
    return false
  end
  return realpath(vim.uri_to_fname(uri)) == realpath(path)
end

local function diagnostics(buf, code, row)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if (code == nil or d.code == code) and (row == nil or d.lnum == row) then
      found[#found + 1] = d
    end
  end
  return found
end

local function describe(diags)
  local parts = {}
  for _, d in ipairs(diags) do
    parts[#parts + 1] = ('%d:%d %s %q'):format(d.lnum + 1, d.col + 1, tostring(d.code), d.message)
  end
  return #parts == 0 and 'none' or table.concat(parts, '; ')
end

local function append_line(buf, text)
  local n = vim.api.nvim_buf_line_count(buf)
  vim.api.nvim_buf_set_lines(buf, n, n, false, { text })
  return n
end

local function set_line(buf, row, text)
  vim.api.nvim_buf_set_lines(buf, row, row + 1, false, { text })
end

local function write_file(path, text)
  local f = assert(io.open(path, 'w'))
  f:write(text)
  f:close()
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  return lines
end

local function line_of(path, needle)
  for i, line in ipairs(read_lines(path)) do
    if line:find(needle, 1, true) then
      return i - 1
    end
  end
  error({ why = ('%q not in %s'):format(needle, path) }, 0)
end

local function hover_text(result)
  if result == nil or result == vim.NIL then
    return nil
  end
  local c = result.contents
  if type(c) == 'string' then
    return c
  elseif c.value then
    return c.value
  end
  local parts = {}
  for _, m in ipairs(c) do
    parts[#parts + 1] = type(m) == 'string' and m or m.value
  end
  return table.concat(parts, '\n')
end

--- Restores the source buffer to the text it had when it was opened (each check cleans up).
local function restore()
  if S.buf and vim.api.nvim_buf_is_valid(S.buf) then
    vim.api.nvim_set_current_buf(S.buf)
    if S.original and not vim.deep_equal(vim.api.nvim_buf_get_lines(S.buf, 0, -1, false), S.original) then
      vim.api.nvim_buf_set_lines(S.buf, 0, -1, false, S.original)
    end
  end
end

-- The check runner ------------------------------------------------------------------------

local checks = {}

local function check(name, opts, fn)
  if type(opts) == 'function' then
    fn, opts = opts, {}
  end
  checks[#checks + 1] = { name = name, opts = opts, fn = fn }
end

local function run_all()
  for _, c in ipairs(checks) do
    local provider = c.opts.provider
    local caps = S.client and S.client.server_capabilities or {}
    if provider and not caps[provider] then
      skipped = skipped + 1
      out(('SKIP %s: the server does not advertise %s'):format(c.name, provider))
    elseif c.opts.needs_client ~= false and not S.client then
      failed = failed + 1
      out(('FAIL %s: no wikilsp client (attach failed)'):format(c.name))
    else
      local ok, err = xpcall(c.fn, function(e)
        if type(e) == 'table' and e.why then
          return e.why
        end
        return debug.traceback(tostring(e), 2)
      end, S)
      if ok then
        passed = passed + 1
        out('PASS ' .. c.name)
      else
        failed = failed + 1
        out(('FAIL %s: %s'):format(c.name, tostring(err):gsub('\n', '\n    ')))
      end
      pcall(restore)
    end
  end
end

-- Fixture facts ---------------------------------------------------------------------------

local SOURCE = note('tidepools/tidepool_basics.md')
local TARGET = note('tidepools/reading_the_tide_tables.md')
local TARGET_STEM = 'reading_the_tide_tables'
local TARGET_TITLE = 'Reading the Tide Tables'
local TARGET_VIDEO = 'rTt4bLes9Qw'
local UTF_NOTE = note('sea_urchins.md')

-- The checks ------------------------------------------------------------------------------

check('attach', { needs_client = false }, function()
  if FORM == 'setup' then
    require('wikilsp').setup({})
  else
    vim.lsp.enable('wikilsp')
  end
  local t0 = vim.uv.hrtime()
  local buf, client = open(SOURCE, 5000)
  S.buf, S.client = buf, client
  S.original = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local attach_ms = (vim.uv.hrtime() - t0) / 1e6
  local total = #vim.fs.find(function(name)
    return name:match('%.md$') ~= nil
  end, { path = VAULT, type = 'file', limit = math.huge })
  ensure(wait(5000, function()
    return S.progress_end[client.id] ~= nil
  end), 'attached in %d ms, but no $/progress end for wikilsp/indexing within 5 s', attach_ms)
  local msg = S.progress_end[client.id]
  local n = tonumber(msg:match('indexed (%d+) notes'))
  ensure(n == total, 'the index is not the vault: progress ended with %q, the vault has %d notes', msg, total)
end)

check('root-marker', function(S)
  ensure(realpath(S.client.root_dir or '') == realpath(VAULT), 'root_dir is %s, expected the vault %s (it holds .wikilsp.toml)', tostring(S.client.root_dir), VAULT)
  local wf = S.client.workspace_folders or {}
  ensure(#wf == 1 and same_file(wf[1].uri, VAULT), 'workspace folders %s', vim.inspect(wf))
end)

check('clean-note-no-diagnostics', function(S)
  local uri = vim.uri_from_bufnr(S.buf)
  local ok = wait(2000, function()
    return (S.publishes[uri] or 0) > 0 and #vim.diagnostic.get(S.buf) == 0
  end)
  ensure(ok, 'expected no diagnostics on the fixture note, got: %s (%d publishes)', describe(vim.diagnostic.get(S.buf)), S.publishes[uri] or 0)
end)

check('definition', function(S)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. ' | ')
  local params = position_params(S.buf, row, col + 4, S.client.offset_encoding)
  local loc = first_location(request(S.client, 'textDocument/definition', params, S.buf))
  ensure(loc, 'no definition for [[%s]] at %d:%d', TARGET_STEM, row + 1, col + 5)
  ensure(same_file(loc.uri, TARGET), 'definition went to %s, expected %s', loc.uri, uri_of(TARGET))
end)

check('definition-heading', function(S)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. '#Spring')
  local params = position_params(S.buf, row, col + 4, S.client.offset_encoding)
  local loc = first_location(request(S.client, 'textDocument/definition', params, S.buf))
  ensure(loc and same_file(loc.uri, TARGET), 'definition went to %s, expected %s', loc and loc.uri, uri_of(TARGET))
  local heading = line_of(TARGET, '## Spring and neap tides')
  ensure(loc.range.start.line == heading, 'definition range starts on line %d, the heading is on line %d', loc.range.start.line + 1, heading + 1)
end)

check('definition-jump', function(S)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. ' | ')
  put_cursor(S.buf, row, col + 4)
  vim.lsp.buf.definition()
  local ok = wait(2000, function()
    return realpath(vim.api.nvim_buf_get_name(0)) == realpath(TARGET)
  end)
  ensure(ok, 'after vim.lsp.buf.definition() the current buffer is %s, expected %s', vim.api.nvim_buf_get_name(0), TARGET)
end)

check('gd-keymap', function(S)
  vim.api.nvim_set_current_buf(S.buf)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. ' | ')
  put_cursor(S.buf, row, col + 4)
  vim.cmd('normal gd')
  local ok = wait(2000, function()
    return realpath(vim.api.nvim_buf_get_name(0)) == realpath(TARGET)
  end)
  ensure(ok, 'after `gd` the current buffer is %s, expected %s', vim.api.nvim_buf_get_name(0), TARGET)
  vim.api.nvim_set_current_buf(S.buf)
end)

check('completion', function(S)
  local row = append_line(S.buf, 'Also see [[')
  local line = vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1]
  local params = position_params(S.buf, row, #line, S.client.offset_encoding)
  params.context = { triggerKind = 2, triggerCharacter = '[' }
  local result = request(S.client, 'textDocument/completion', params, S.buf)
  ensure(result and result ~= vim.NIL, 'no completion after [[')
  local items = result.items or result
  local labels = {}
  for _, item in ipairs(items) do
    labels[#labels + 1] = item.label
    if item.label == TARGET_TITLE then
      local edit = item.textEdit
      local text = edit and edit.newText or item.insertText or item.label
      ensure(text:sub(1, #TARGET_STEM) == TARGET_STEM, 'item %q inserts %q, expected the stem %s first', item.label, text, TARGET_STEM)
      ensure(not text:find('${', 1, true) or item.insertTextFormat == 2, 'item %q inserts the snippet %q without insertTextFormat = Snippet', item.label, text)
      ensure(text:sub(-2) == ']]', 'item %q inserts %q: no closing ]] although the link is not closed', item.label, text)
      if edit then
        local range = edit.range or edit.insert
        ensure(range.start.line == row and range.start.character == params.position.character, 'edit range %s does not start at the cursor %s', vim.inspect(range), vim.inspect(params.position))
      end
      return
    end
  end
  error({ why = ('no item labelled %q among %d: %s'):format(TARGET_TITLE, #items, table.concat(labels, ', ')) }, 0)
end)

check('completion-heading', function(S)
  local row = append_line(S.buf, 'Also see [[' .. TARGET_STEM .. '#')
  local line = vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1]
  local params = position_params(S.buf, row, #line, S.client.offset_encoding)
  params.context = { triggerKind = 2, triggerCharacter = '#' }
  local result = request(S.client, 'textDocument/completion', params, S.buf)
  local items = result and result ~= vim.NIL and (result.items or result) or {}
  local labels = {}
  for _, item in ipairs(items) do
    labels[#labels + 1] = item.label
    if item.label == 'Spring and neap tides' then
      return
    end
  end
  error({ why = ('no heading item "Spring and neap tides" among: %s'):format(table.concat(labels, ', ')) }, 0)
end)

check('diagnostics-broken-link', function(S)
  local row = append_line(S.buf, 'A broken [[no_such_note_here]] link.')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 1
  end), 'no broken-link on line %d within 2 s; diagnostics: %s', row + 1, describe(vim.diagnostic.get(S.buf)))
  set_line(S.buf, row, 'A fixed [[' .. TARGET_STEM .. ']] link.')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, nil, row) == 0
  end), 'the fixed link still has diagnostics after 2 s: %s', describe(diagnostics(S.buf, nil, row)))
end)

check('references', function(S)
  -- `grr` (vim.lsp.buf.references) on the link lists the links to its note: this one among them.
  vim.api.nvim_set_current_buf(S.buf)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. ' | ')
  put_cursor(S.buf, row, col + 4)
  local items
  vim.lsp.buf.references(nil, { on_list = function(t) items = t.items end })
  local ok = wait(2000, function() return items ~= nil end)
  ensure(ok, 'no answer to references')
  local found = false
  for _, item in ipairs(items) do
    if realpath(item.filename) == realpath(SOURCE) and item.lnum == row + 1 then
      found = true
    end
  end
  ensure(found, 'the link on line %d of %s is not among the %d references', row + 1, SOURCE, #items)
end)

check('code-lens', function(S)
  -- The target note's title carries "N backlinks"; its command lists them in the quickfix window.
  local tbuf = vim.fn.bufadd(TARGET)
  vim.fn.bufload(tbuf)
  local lenses = request(S.client, 'textDocument/codeLens', { textDocument = { uri = vim.uri_from_fname(TARGET) } }, tbuf)
  ensure(lenses and #lenses == 1, 'expected one code lens, got %s', vim.inspect(lenses))
  local cmd = lenses[1].command
  ensure(cmd and cmd.title:match('^%d+ backlinks?$'), 'lens title %q', cmd and cmd.title)
  ensure(vim.lsp.commands[cmd.command], 'no client handler for %s', cmd.command)
  vim.fn.setqflist({}, 'r', { title = '', items = {} })
  vim.lsp.commands[cmd.command](cmd, { client_id = S.client.id, bufnr = tbuf })
  local ok = wait(2000, function()
    local qf = vim.fn.getqflist({ title = 1, items = 1 })
    return qf.title == 'Backlinks' and #qf.items > 0
  end)
  ensure(ok, 'the quickfix list did not fill with backlinks')
  vim.cmd('cclose')
  vim.api.nvim_set_current_buf(S.buf)
end)

check('document-symbols', function(S)
  local result = request(S.client, 'textDocument/documentSymbol', { textDocument = vim.lsp.util.make_text_document_params(S.buf) }, S.buf)
  ensure(result and #result == 1, 'expected one note symbol, got %s', vim.inspect(result))
  ensure(result[1].children and #result[1].children > 0, 'the note symbol holds no headings: %s', vim.inspect(result))
end)

check('hover', function(S)
  local row, col = locate(S.buf, '[[' .. TARGET_STEM .. ' | ')
  local params = position_params(S.buf, row, col + 4, S.client.offset_encoding)
  local text = hover_text(request(S.client, 'textDocument/hover', params, S.buf))
  ensure(text, 'no hover on [[%s]]', TARGET_STEM)
  ensure(text:find(TARGET_TITLE, 1, true), 'hover lacks the title %q: %q', TARGET_TITLE, text)
  ensure(text:find('https://www%.youtube%.com/watch%?v=[%w_-]+&t=%d+s'), 'hover has no timestamp link: %q', text)
  local want = ('https://www.youtube.com/watch?v=%s&t=75s'):format(TARGET_VIDEO)
  ensure(text:find(want, 1, true), 'hover lacks %s (first moment of "Spring and neap tides"): %q', want, text)
end)

check('hover-timestamp', function(S)
  local row, col = locate(S.buf, '<a class="yt-timestamp" data-t="00:00:42">')
  local params = position_params(S.buf, row, col + 5, S.client.offset_encoding)
  local text = hover_text(request(S.client, 'textDocument/hover', params, S.buf))
  ensure(text and text:find('https://www.youtube.com/watch?v=tP00lBas1c9&t=42s', 1, true), 'hover on the 00:00:42 anchor: %q', tostring(text))
end)

check('utf8-negotiated', function(S)
  ensure(S.client.offset_encoding == 'utf-8', 'offset_encoding is %s; Neovim offers utf-8 first', tostring(S.client.offset_encoding))
end)

check('utf-definition', function(S)
  local buf = open(UTF_NOTE, 3000)
  local row, col = locate(buf, '[[' .. TARGET_STEM .. ' | the tide')
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
  ensure(#line:sub(1, col) > vim.str_utfindex(line:sub(1, col), 'utf-16'), 'fixture line has no multi-byte text before the link')
  local params = position_params(buf, row, col + 4, S.client.offset_encoding)
  local loc = first_location(request(S.client, 'textDocument/definition', params, buf))
  ensure(loc and same_file(loc.uri, TARGET), 'definition after Cyrillic/emoji at byte %d went to %s', col, loc and loc.uri)
end)

check('utf-diagnostic-range', function(S)
  local text = 'Тромсё 🌌🔭 ёж — [[missing_after_emoji]] ещё'
  local row = append_line(S.buf, text)
  -- The server marks the link's target (inside the brackets); compare in bytes.
  local start = text:find('missing_after_emoji', 1, true) - 1
  local finish = start + #'missing_after_emoji'
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 1
  end), 'no broken-link after emoji within 2 s; diagnostics: %s', describe(vim.diagnostic.get(S.buf)))
  local d = diagnostics(S.buf, 'broken-link', row)[1]
  ensure(d.col == start and d.end_col == finish, 'broken-link spans bytes %d-%d, the target is at bytes %d-%d', d.col, d.end_col, start, finish)
end)

check('utf16-client', function(S)
  local buf = open(UTF_NOTE, 3000)
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.general = caps.general or {}
  caps.general.positionEncodings = { 'utf-16' }
  local id = vim.lsp.start({
    name = 'wikilsp-utf16',
    cmd = { SERVER },
    root_dir = VAULT,
    capabilities = caps,
  }, { bufnr = buf, reuse_client = function() return false end })
  ensure(id, 'vim.lsp.start returned nil')
  local client = vim.lsp.get_client_by_id(id)
  local ok, err = pcall(function()
    ensure(wait(5000, function()
      return client.initialized and S.progress_end[id] ~= nil
    end), 'the utf-16 client did not finish indexing within 5 s')
    ensure(client.offset_encoding == 'utf-16', 'offset_encoding is %s', tostring(client.offset_encoding))
    local row, col = locate(buf, '[[' .. TARGET_STEM .. ' | the tide')
    local params = position_params(buf, row, col + 4, 'utf-16')
    local loc = first_location(request(client, 'textDocument/definition', params, buf))
    ensure(loc and same_file(loc.uri, TARGET), 'utf-16 definition went to %s', loc and loc.uri)
  end)
  client:stop(true)
  wait(2000, function()
    return client:is_stopped()
  end)
  if not ok then
    error(err, 0)
  end
end)

check('watch-create-modify-delete', function(S)
  local fresh = note('tidepools/rock_pool_etiquette.md')
  local row = append_line(S.buf, 'Next time: [[rock_pool_etiquette]] and [[rock_pool_etiquette#Leave no trace]].')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 2
  end), 'links to a note not yet written: expected 2 broken-link, got %s', describe(diagnostics(S.buf, nil, row)))
  local ok, err = pcall(function()
    write_file(fresh, '---\ntitle: Rock Pool Etiquette\n---\n\n# Rock Pool Etiquette\n\nLook, do not take.\n')
    ensure(wait(3000, function()
      local d = diagnostics(S.buf, nil, row)
      return #d == 1 and d[1].code == 'missing-heading'
    end), 'created on disk: expected only missing-heading within 3 s, got %s', describe(diagnostics(S.buf, nil, row)))
    write_file(fresh, '---\ntitle: Rock Pool Etiquette\n---\n\n# Rock Pool Etiquette\n\n## Leave no trace\n\nLook, do not take.\n')
    ensure(wait(3000, function()
      return #diagnostics(S.buf, nil, row) == 0
    end), 'modified on disk (heading added): still %s after 3 s', describe(diagnostics(S.buf, nil, row)))
  end)
  os.remove(fresh)
  if not ok then
    error(err, 0)
  end
  ensure(wait(3000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 2
  end), 'deleted on disk: expected 2 broken-link again within 3 s, got %s', describe(diagnostics(S.buf, nil, row)))
end)

-- Opens `note`, checks that its client's root is `root`, waits for that client's index, then
-- follows the link to `target` found at `link` in the note. Returns the buffer and the client.
local function open_in_root(S, note, root, link, target, what)
  local buf, client = open(note, 5000)
  ensure(realpath(client.root_dir or '') == realpath(root), 'root_dir for %s is %s, expected %s', what, tostring(client.root_dir), root)
  ensure(wait(5000, function()
    return S.progress_end[client.id] ~= nil
  end), 'no indexing end for %s within 5 s', what)
  local row, col = locate(buf, link)
  local params = position_params(buf, row, col + 3, client.offset_encoding)
  local loc = first_location(request(client, 'textDocument/definition', params, buf))
  ensure(loc and same_file(loc.uri, target), 'definition in %s went to %s', what, loc and loc.uri)
  return buf, client
end

check('root-obsidian', function(S)
  open_in_root(S, OBSIDIAN .. '/topics/deep_note.md', OBSIDIAN, '[[top_note', OBSIDIAN .. '/top_note.md',
    'a note in a subfolder of an Obsidian vault (the folder holding .obsidian)')
end)

check('root-fallback', function(S)
  local _, client = open_in_root(S, LOOSE .. '/stray.md', LOOSE, '[[other_stray', LOOSE .. '/other_stray.md',
    'a note with no marker above it (its own folder)')
  ensure(client.id ~= S.client.id, 'the vault client was reused for a note outside the vault')
end)

check('rename', { provider = 'renameProvider' }, function(S)
  -- `grn` (vim.lsp.buf.rename) on a link renames the person's note: the file moves to the new
  -- slug and the link in this buffer follows.
  vim.api.nvim_set_current_buf(S.buf)
  local row, col = locate(S.buf, '[[lena_voss]]')
  put_cursor(S.buf, row, col + 3)
  vim.lsp.buf.rename('Lena Voss-Berg', { filter = function(c) return c.id == S.client.id end })
  local new = note('people/lena_vossberg.md')
  local ok = wait(3000, function()
    local line = vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1] or ''
    return vim.uv.fs_stat(new) ~= nil and line:find('[[lena_vossberg]]', 1, true) ~= nil
  end)
  ensure(ok, 'after rename: %s exists: %s; line %d: %s', new, tostring(vim.uv.fs_stat(new) ~= nil), row + 1,
    vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1])
  ensure(vim.uv.fs_stat(note('people/lena_voss.md')) == nil, 'the old file is still there')
end)

--- The quick fixes wikilsp offers for the diagnostic `d` (a vim.diagnostic item) in buf.
local function quick_fixes(buf, d)
  local line = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1]
  local enc = S.client.offset_encoding
  local range = {
    start = { line = d.lnum, character = vim.str_utfindex(line, enc, d.col, false) },
    ['end'] = { line = d.end_lnum, character = vim.str_utfindex(line, enc, d.end_col, false) },
  }
  local lsp_diag = d.user_data and d.user_data.lsp
  local result = request(S.client, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = range,
    context = { diagnostics = { lsp_diag } },
  }, buf)
  local by_title = {}
  for _, a in ipairs(result ~= vim.NIL and result or {}) do
    by_title[a.title] = a
  end
  return by_title
end

check('quick-fix', { provider = 'codeActionProvider' }, function(S)
  local row = append_line(S.buf, 'See [[sea_urchin]] and [[rock_arch]] soon.')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 2
  end), 'expected 2 broken-link on line %d; diagnostics: %s', row + 1, describe(vim.diagnostic.get(S.buf)))
  local found = diagnostics(S.buf, 'broken-link', row)
  table.sort(found, function(a, b) return a.col < b.col end)

  -- "Change to": the nearest note's stem replaces the target.
  local fixes = quick_fixes(S.buf, found[1])
  local change = fixes['Change to `sea_urchins`']
  ensure(change, 'no "Change to `sea_urchins`" among %s', vim.inspect(vim.tbl_keys(fixes)))
  vim.lsp.util.apply_workspace_edit(change.edit, S.client.offset_encoding)
  local got = vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1]
  ensure(got == 'See [[sea_urchins]] and [[rock_arch]] soon.', 'after "Change to": %q', got)

  -- "Create note": the file appears beside the note, holding the frontmatter. (Asked with the
  -- diagnostic as published for the changed line.)
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'broken-link', row) == 1
  end), 'after "Change to": expected 1 broken-link; diagnostics: %s', describe(vim.diagnostic.get(S.buf)))
  local fresh = note('tidepools/rock_arch.md')
  fixes = quick_fixes(S.buf, diagnostics(S.buf, 'broken-link', row)[1])
  local create = fixes['Create note `rock_arch.md`']
  ensure(create, 'no "Create note `rock_arch.md`" among %s', vim.inspect(vim.tbl_keys(fixes)))
  local ok, err = pcall(function()
    vim.lsp.util.apply_workspace_edit(create.edit, S.client.offset_encoding)
    ensure(vim.uv.fs_stat(fresh), 'the new note %s was not created', fresh)
    local nbuf = vim.fn.bufnr(fresh)
    ensure(nbuf ~= -1, 'no buffer for the new note')
    local lines = vim.api.nvim_buf_get_lines(nbuf, 0, -1, false)
    ensure(vim.deep_equal(lines, { '---', 'title: Rock arch', '---', '' }), 'the new note holds %s', vim.inspect(lines))
  end)
  pcall(function()
    vim.api.nvim_buf_delete(vim.fn.bufnr(fresh), { force = true })
  end)
  os.remove(fresh)
  vim.api.nvim_set_current_buf(S.buf)
  if not ok then
    error(err, 0)
  end
end)

check('unlinked-mention', { provider = 'codeActionProvider' }, function(S)
  -- Plain text naming another note gets a hint whose quick fix links it.
  local row = append_line(S.buf, 'Read Sea Urchins Up Close first.')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'unlinked-mention', row) == 1
  end), 'expected an unlinked-mention hint on line %d; diagnostics: %s', row + 1, describe(vim.diagnostic.get(S.buf)))
  local d = diagnostics(S.buf, 'unlinked-mention', row)[1]
  ensure(d.severity == vim.diagnostic.severity.HINT, 'severity %s', tostring(d.severity))
  local fixes = quick_fixes(S.buf, d)
  local link = fixes['Link to `sea_urchins`']
  ensure(link, 'no "Link to `sea_urchins`" among %s', vim.inspect(vim.tbl_keys(fixes)))
  vim.lsp.util.apply_workspace_edit(link.edit, S.client.offset_encoding)
  local got = vim.api.nvim_buf_get_lines(S.buf, row, row + 1, false)[1]
  ensure(got == 'Read [[sea_urchins | Sea Urchins Up Close]] first.', 'after the fix: %q', got)
end)

check('workspace-symbols', function(S)
  local result = request(S.client, 'workspace/symbol', { query = 'tide tables' }, S.buf)
  ensure(result and #result > 0, 'no workspace symbols for "tide tables"')
  ensure(result[1].name == TARGET_TITLE and same_file(result[1].location.uri, TARGET),
    'first symbol %s', vim.inspect(result[1]))
end)

check('document-links', function(S)
  local result = request(S.client, 'textDocument/documentLink', { textDocument = vim.lsp.util.make_text_document_params(S.buf) }, S.buf)
  local video, note = false, false
  for _, l in ipairs(result or {}) do
    if l.target:match('^https://www%.youtube%.com/watch%?v=.*&t=%d+s$') then video = true end
    if l.target:match('^file://') and l.target:find(TARGET_STEM, 1, true) then note = true end
  end
  ensure(video and note, 'links to a video moment: %s, to the target note: %s (%s)', tostring(video), tostring(note), vim.inspect(result))
end)

check('folding', function(S)
  local result = request(S.client, 'textDocument/foldingRange', { textDocument = vim.lsp.util.make_text_document_params(S.buf) }, S.buf)
  ensure(result and #result >= 2, 'folding ranges: %s', vim.inspect(result))
  ensure(result[1].startLine == 0 and result[1].kind == 'comment', 'the frontmatter folds first: %s', vim.inspect(result[1]))
end)

check('configuration', function(S)
  -- Settings sent by the client win over the vault: turning unlinked mentions off clears them.
  local row = append_line(S.buf, 'Read Sea Urchins Up Close again.')
  ensure(wait(2000, function()
    return #diagnostics(S.buf, 'unlinked-mention', row) == 1
  end), 'expected an unlinked-mention hint first')
  S.client:notify('workspace/didChangeConfiguration', { settings = { wikilsp = { unlinked_mentions = false } } })
  local ok = wait(2000, function()
    return #diagnostics(S.buf, 'unlinked-mention', row) == 0
  end)
  S.client:notify('workspace/didChangeConfiguration', { settings = { wikilsp = { unlinked_mentions = true } } })
  ensure(ok, 'the hint stayed after unlinked_mentions = false')
end)

-- Run ---------------------------------------------------------------------------------------

out(('wikilsp Neovim suite: %s, form %s, server %s'):format(tostring(vim.version()), FORM, SERVER))
run_all()
watchdog:stop()
out(('%d passed, %d failed'):format(passed, failed))

-- Stop every server, killing those that do not exit (or never initialized) in time.
local function all_clients()
  return vim.lsp.get_clients({ _uninitialized = true })
end
for _, c in ipairs(all_clients()) do
  c:stop()
end
if not wait(2000, function()
  return #all_clients() == 0
end) then
  for _, c in ipairs(all_clients()) do
    c:stop(true)
  end
  wait(1000, function()
    return #all_clients() == 0
  end)
end
os.exit(failed > 0 and 1 or 0)
