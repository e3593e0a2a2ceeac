// End-to-end checks of the wikilsp extension in code-server, driven through headless Chromium
// like a person at the keyboard. Started by test/run.sh, which serves the workbench and sets:
//   E2E_URL        the workbench URL (with ?folder=<copy of test/vault>)
//   E2E_VAULT      that copy of the vault
//   E2E_USER_DATA  code-server's --user-data-dir (its logs hold the output channels)
//   E2E_ARTIFACTS  where screenshots go (test-artifacts/vscode)
// Prints `PASS name` / `FAIL name: why` per check and `N passed, M failed`; exits 1 on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const url = process.env.E2E_URL;
const vault = process.env.E2E_VAULT;
const userData = process.env.E2E_USER_DATA;
const artifacts = process.env.E2E_ARTIFACTS ?? 'test-artifacts/vscode';
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const GLOBAL_TIMEOUT_MS = 5 * 60 * 1000;
// E2E_ONLY=regex runs only the checks whose names match (for working on one check).
const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : undefined;

let passed = 0;
let failed = 0;
const results = [];
function pass(name) {
  passed++;
  results.push(name);
  console.log(`PASS ${name}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL ${name}: ${String(why).replace(/\s+/g, ' ').slice(0, 400)}`);
}
function finish(code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed ? 1 : 0));
}

const globalTimer = setTimeout(() => {
  fail('e2e', `global timeout of ${GLOBAL_TIMEOUT_MS / 1000} s`);
  finish(1);
}, GLOBAL_TIMEOUT_MS);
globalTimer.unref();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `ms` pass; returns the value or undefined. */
async function until(fn, ms, every = 100) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // page in flux; try again
    }
    if (Date.now() > end) return undefined;
    await sleep(every);
  }
}

/** 1-based line and column of `needle` in a vault note, plus `extra` columns. */
function where(file, needle, extra = 0) {
  const lines = fs.readFileSync(path.join(vault, file), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const c = lines[i].indexOf(needle);
    if (c >= 0) return { line: i + 1, col: c + 1 + extra };
  }
  throw new Error(`${needle} not in ${file}`);
}

async function main() {
  if (!url || !vault) {
    console.error('e2e.mjs: run me through test/run.sh (E2E_URL and E2E_VAULT unset)');
    process.exit(2);
  }
  fs.mkdirSync(artifacts, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wikilsp-chromium-'));
  // A persistent context is Chromium with a --user-data-dir of our own (a fresh folder).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 760 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    await run(context);
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function run(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
  const shot = (name) =>
    page.screenshot({ path: path.join(artifacts, `${name}.png`) }).catch(() => {});

  // Watch for the indexing notification from the very start (it lasts as long as indexing).
  const progressSeen = [];
  let progressShot = false;
  let watching = true;
  const progressWatch = (async () => {
    while (watching) {
      const texts = await page
        .$$eval('.notifications-toasts .notification-toast', (els) =>
          els.filter((e) => e.checkVisibility()).map((e) => e.innerText ?? ''),
        )
        .catch(() => []);
      for (const t of texts.map((x) => x.replace(/\s+/g, ' ').trim())) {
        if (/wikilsp: Indexing notes/.test(t) && progressSeen.at(-1) !== t) {
          progressSeen.push(t);
          if (!progressShot && /[1-9]\d*%/.test(t)) {
            progressShot = true;
            await shot('5-progress-notification');
          }
        }
      }
      await sleep(50);
    }
  })();

  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
  await page.waitForSelector('.part.statusbar', { timeout: 60000 });
  // The explorer shows the vault once the workbench is ready for input.
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60000 });
  console.log(`workbench loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const activeTab = () =>
    page
      .$eval('.tabs-container .tab.active', (e) => e.getAttribute('aria-label') ?? e.innerText)
      .catch(() => '');

  async function quickOpen(text) {
    await page.keyboard.press('Control+P');
    await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', {
      state: 'visible',
    });
    await page.keyboard.type(text, { delay: 10 });
    await sleep(400);
  }

  async function openNote(file) {
    await quickOpen(file);
    // Wait for the file to be listed, then open it.
    await until(
      () =>
        page
          .$eval('.quick-input-list', (e) => e.innerText ?? '')
          .then((t) => t.includes(path.basename(file))),
      10000,
    );
    await page.keyboard.press('Enter');
    const ok = await until(async () => (await activeTab()).includes(path.basename(file)), 10000);
    if (!ok) throw new Error(`${file} did not open (active tab: ${await activeTab()})`);
    await page.waitForSelector('.editor-group-container.active .monaco-editor .view-lines');
    await sleep(300);
  }

  async function goTo(line, col) {
    await page.keyboard.press('Control+G');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
    await page.keyboard.type(`${line}:${col}`, { delay: 10 });
    await sleep(200);
    await page.keyboard.press('Enter');
    await sleep(300);
  }

  const check = async (name, fn) => {
    if (only && !only.test(name)) return;
    try {
      await fn();
      pass(name);
    } catch (err) {
      fail(name, err instanceof Error ? err.message : err);
      await shot(`${name}-failure`);
      await page.keyboard.press('Escape').catch(() => {});
    }
  };

  // -- 1. Diagnostics: the broken link shows in the Problems panel ------------------------------
  await check('problems-broken-link', async () => {
    await openNote('hive_inspection.md');
    const squiggle = await until(
      () => page.$('.editor-group-container.active .monaco-editor .squiggly-warning'),
      20000,
    );
    await page.keyboard.press('Control+Shift+M');
    const panel = () => page.$eval('.markers-panel', (e) => e.innerText ?? '');
    // Until the index is built the server reports every link of the note as broken; once it is,
    // only the link to the missing note is left.
    const text = await until(async () => {
      const t = await panel();
      return /no note for .?queen_rearing/.test(t) && !/clara_hopkins|smoker_basics/.test(t)
        ? t
        : undefined;
    }, 20000);
    await sleep(300);
    await shot('1-problems');
    if (!text) {
      throw new Error(
        `want exactly the broken link to queen_rearing in the Problems panel: ${await panel().catch(() => '?')}`,
      );
    }
    if (!/wikilsp/.test(text)) throw new Error(`problem without source wikilsp: ${text}`);
    if (!squiggle) throw new Error('no warning squiggle in the editor');
    // Back to the editor.
    await page.keyboard.press('Control+Shift+M');
  });

  // -- 2. Go to Definition (F12) opens the linked note -------------------------------------------
  await check('definition-f12', async () => {
    await openNote('hive_inspection.md');
    const at = where('hive_inspection.md', '[[smoker_basics', 4);
    await goTo(at.line, at.col);
    await page.keyboard.press('F12');
    const ok = await until(async () => (await activeTab()).includes('smoker_basics.md'), 10000);
    await shot('2-definition');
    if (!ok) throw new Error(`active tab is "${await activeTab()}", not smoker_basics.md`);
  });

  // -- 3. Completion after [[ -------------------------------------------------------------------
  await check('completion-after-brackets', async () => {
    await openNote('scratch.md');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('See [[', { delay: 50 });
    const widget = '.editor-widget.suggest-widget.visible';
    const listed = await until(async () => {
      const t = await page.$eval(widget, (e) => e.innerText ?? '');
      return t.includes('Using the Smoker') ? t : undefined;
    }, 10000);
    if (!listed) {
      const t = await page.$eval(widget, (e) => e.innerText ?? '').catch(() => '(no widget)');
      await shot('3-completion');
      throw new Error(`the suggestion widget does not offer "Using the Smoker": ${t}`);
    }
    // Narrow it down as a person would, then look at it.
    await page.keyboard.type('smok', { delay: 50 });
    await sleep(500);
    await shot('3-completion');
    const t = await page.$eval(widget, (e) => e.innerText ?? '');
    if (!t.includes('Using the Smoker')) throw new Error(`after typing "smok": ${t}`);
    await page.keyboard.press('Escape');
    // Leave scratch.md as it was.
    for (let i = 0; i < 3; i++) await page.keyboard.press('Control+Z');
  });

  // -- 4. Hover preview of a link ---------------------------------------------------------------
  await check('hover-preview', async () => {
    await openNote('hive_inspection.md');
    const at = where('hive_inspection.md', '[[smoker_basics', 4);
    await goTo(at.line, at.col);
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const text = await until(async () => {
      const t = await page.$$eval('.monaco-hover', (els) =>
        els.map((e) => e.innerText ?? '').join('\n'),
      );
      return t.includes('Using the Smoker') ? t : undefined;
    }, 10000);
    await sleep(300);
    await shot('4-hover');
    if (!text) {
      const t = await page
        .$$eval('.monaco-hover', (els) => els.map((e) => e.innerText ?? '').join('|'))
        .catch(() => '');
      throw new Error(`no preview with "Using the Smoker" in the hover: ${t || '(no hover)'}`);
    }
    if (!/Fuel/.test(text)) throw new Error(`the preview lacks the note's sections: ${text}`);
    await page.keyboard.press('Escape');
  });

  // -- 5. The server started (output channel) and indexing showed its progress -----------------
  await check('server-started', async () => {
    const log = await until(() => findOutputLog(), 10000);
    if (!log) throw new Error(`no wikilsp output channel log under ${userData}/logs`);
    const text = fs.readFileSync(log, 'utf8');
    if (!/started wikilsp/.test(text)) throw new Error(`output channel: ${text.slice(0, 300)}`);
    await page.keyboard.press('Control+Shift+P');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
    await page.keyboard.type('wikilsp: Show Output', { delay: 10 });
    await sleep(400);
    await page.keyboard.press('Enter');
    await until(
      () => page.$eval('.part.panel', (e) => (e.innerText ?? '').includes('wikilsp')),
      5000,
    );
    await sleep(500);
    await shot('5-output');
  });

  watching = false;
  await progressWatch;
  await check('progress-notification', async () => {
    if (!progressSeen.length) throw new Error('no "wikilsp: Indexing notes" notification seen');
    if (!progressSeen.some((t) => /[1-9]\d*%/.test(t))) {
      throw new Error(`no percentage in the notification: ${progressSeen.join(' | ')}`);
    }
    console.log(`  seen: ${progressSeen.slice(0, 6).join(' | ')}`);
  });

  await check('backlinks-command', async () => {
    await openNote('smoker_basics.md');
    await page.keyboard.press('Control+Shift+P');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
    await page.keyboard.type('wikilsp: Show Backlinks', { delay: 10 });
    await sleep(400);
    await page.keyboard.press('Enter');
    // The references view lists the notes that link here: hive_inspection.md does.
    const seen = await until(async () => {
      const refs = await page.$('.zone-widget .reference-tree, .reference-zone-widget');
      if (!refs) return undefined;
      const text = await refs.innerText().catch(() => '');
      return /hive_inspection/.test(text) ? text : undefined;
    }, 10000);
    await shot('6-backlinks');
    if (!seen) throw new Error('no references view listing hive_inspection.md');
    console.log(`  ${seen.replace(/\s+/g, ' ').slice(0, 160)}`);
    await page.keyboard.press('Escape');
  });

  const startedCount = () => {
    const log = findOutputLog();
    return log ? (fs.readFileSync(log, 'utf8').match(/^started wikilsp/gm) ?? []).length : 0;
  };
  const palette = async (command) => {
    await page.keyboard.press('Control+Shift+P');
    await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
    await page.keyboard.type(command, { delay: 10 });
    await sleep(400);
    await page.keyboard.press('Enter');
  };

  // -- 7. wikilsp: Restart Server ---------------------------------------------------------------
  await check('restart-command', async () => {
    await openNote('hive_inspection.md');
    const before = startedCount();
    await palette('wikilsp: Restart Server');
    const after = await until(() => startedCount() > before && startedCount(), 20000);
    if (!after) throw new Error(`no new "started wikilsp" in the output channel (${before} before)`);
  });

  // -- 9. Quick fix (Ctrl+.) on the broken link offers to create the note --------------------
  await check('quick-fix', async () => {
    await openNote('hive_inspection.md');
    const at = where('hive_inspection.md', '[[queen_rearing', 4);
    await goTo(at.line, at.col);
    // Wait for the light bulb (the server's actions have arrived), then open the menu.
    await page
      .waitForSelector('.lightBulbWidget, .codicon-lightbulb, .codicon-light-bulb', { timeout: 10000 })
      .catch(() => {});
    const menuText = () =>
      page
        .$$eval('.action-widget', (els) => els.map((e) => e.innerText ?? '').join('\n'))
        .catch(() => '');
    let menu;
    for (let attempt = 0; attempt < 3 && !menu; attempt++) {
      await page.keyboard.press('Control+.');
      menu = await until(async () => {
        const t = await menuText();
        return /Create note .?queen_rearing\.md/.test(t) ? t : undefined;
      }, 4000);
    }
    await shot('9-quick-fix');
    await page.keyboard.press('Escape');
    if (!menu) throw new Error('no "Create note `queen_rearing.md`" quick fix');
  });

  // -- 10. Rename (F2) on a link renames the note's file and the link ------------------------
  await check('rename', async () => {
    await openNote('hive_inspection.md');
    const at = where('hive_inspection.md', '[[smoker_basics', 4);
    await goTo(at.line, at.col);
    await sleep(300);
    await page.keyboard.press('F2');
    const box = page.locator('.rename-box input').first();
    await box.waitFor({ state: 'visible', timeout: 10000 });
    // The box holds the placeholder the server proposed (the note's title).
    await box.fill('Smoking Bees');
    await box.press('Enter');
    const renamed = await until(
      () => fs.existsSync(path.join(vault, 'smoking_bees.md')) && !fs.existsSync(path.join(vault, 'smoker_basics.md')),
      10000,
    );
    const line = await until(async () => {
      const t = await page.$eval('.monaco-editor .view-lines', (e) => e.innerText ?? '').catch(() => '');
      return /\[\[smoking_bees \| the smoker\]\]/.test(t.replace(/\u00a0/g, ' ')) ? t : undefined;
    }, 10000);
    await shot('10-rename');
    if (!renamed) throw new Error('smoker_basics.md was not renamed to smoking_bees.md');
    if (!line) throw new Error('the link in hive_inspection.md does not read [[smoking_bees | the smoker]]');
  });

  // -- 8. A wrong wikilsp.server.path: a clear message whose button opens the setting; the
  //       server comes back when the setting is fixed ------------------------------------------
  await check('server-not-found', async () => {
    // A machine-scoped setting: code-server reads it from the Remote (Machine) settings.
    const machine = path.join(userData, 'Machine', 'settings.json');
    const good = fs.readFileSync(machine, 'utf8');
    const before = startedCount();
    fs.writeFileSync(machine, JSON.stringify({ 'wikilsp.server.path': '/nonexistent/wikilsp' }));
    try {
      const toast = page
        .locator('.notifications-toasts .notification-toast')
        .filter({ hasText: '/nonexistent/wikilsp' });
      await toast.waitFor({ state: 'visible', timeout: 20000 }).catch(() => {});
      if (!(await toast.isVisible())) throw new Error('no message about /nonexistent/wikilsp');
      const msg = (await toast.innerText()).replace(/\s+/g, ' ');
      if (!/does not exist/.test(msg)) throw new Error(`message: ${msg}`);
      await shot('8-server-not-found');
      await toast.getByRole('button', { name: 'Open Settings' }).click();
      const shown = await until(
        () =>
          page.$eval('.settings-editor', (e) =>
            /Server: Path/.test(e.innerText ?? '') ? e.innerText : undefined,
          ),
        10000,
      );
      await sleep(500);
      await shot('8-open-settings');
      if (!shown) throw new Error('"Open Settings" did not show the wikilsp.server.path setting');
    } finally {
      fs.writeFileSync(machine, good);
    }
    const back = await until(() => startedCount() > before, 20000);
    if (!back) throw new Error('the server did not start again once the setting was fixed');
  });


}

function findOutputLog() {
  const root = path.join(userData ?? '', 'logs');
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop();
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (/^\d+-wikilsp\.log$/.test(e.name)) return p;
    }
  }
  return undefined;
}

main().then(
  () => finish(),
  (err) => {
    fail('e2e', err instanceof Error ? err.stack : err);
    finish(1);
  },
);
