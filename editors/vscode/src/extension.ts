// The wikilsp extension: starts the wikilsp language server for markdown notes and adds a few
// commands around it. Everything else (definition, completion, diagnostics, hover, progress)
// comes from vscode-languageclient talking to the server.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ReferencesRequest,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
  WorkDoneProgressBegin,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';

const SERVER_NAME = 'wikilsp';

let client: LanguageClient | undefined;
let notifications: ProgressNotifications;
let output: vscode.OutputChannel;
/** Serialises starts, stops and restarts. */
let pending: Promise<void> = Promise.resolve();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for the server's stderr and for the protocol trace (`wikilsp.trace.server`).
  output = vscode.window.createOutputChannel(SERVER_NAME);
  notifications = new ProgressNotifications();
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand('wikilsp.restartServer', () => queue(() => restart())),
    vscode.commands.registerCommand('wikilsp.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('wikilsp.showBacklinks', () => showBacklinks()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('wikilsp.server.path')) {
        output.appendLine('wikilsp.server.path changed; restarting the server');
        void queue(() => restart());
      }
    }),
  );

  await queue(() => start());
}

export async function deactivate(): Promise<void> {
  await queue(() => stop());
}

function queue(job: () => Promise<void>): Promise<void> {
  pending = pending.then(job, job).catch((err) => {
    output.appendLine(`error: ${errorText(err)}`);
  });
  return pending;
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const c = client;
  client = undefined;
  notifications.clear();
  if (!c) {
    return;
  }
  try {
    if (c.state !== State.Stopped) {
      await c.stop(2000);
    }
  } catch (err) {
    output.appendLine(`stopping the server: ${errorText(err)}`);
  }
  try {
    await c.dispose(2000);
  } catch {
    // already stopped
  }
}

async function start(): Promise<void> {
  const command = await findServer();
  if (!command) {
    return;
  }
  output.appendLine(`starting ${command}`);

  const serverOptions: ServerOptions = {
    command,
    // vscode-languageclient adds `--stdio`; the server accepts it.
    transport: TransportKind.stdio,
    options: { env: { ...process.env } },
  };
  const clientOptions: LanguageClientOptions = {
    // Notes on disk. The server ignores documents that are not files (untitled, git diffs).
    documentSelector: [{ scheme: 'file', language: 'markdown' }],
    outputChannel: output,
    traceOutputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    // The server's configuration keys, as settings: sent at start and on every change. Unset
    // ones are null, and the server leaves them to the vault's `.wikilsp.toml`.
    initializationOptions: serverSettings(),
    synchronize: { configurationSection: 'wikilsp' },
    middleware: {
      // vscode-languageclient shows server-created progress in the status bar only, without
      // its percentage; show it as a notification with a progress bar instead.
      handleWorkDoneProgress: (token, params, next) => notifications.handle(token, params, next),
      // The server ranks notes itself and sets each item's filterText to the text typed so far,
      // which holds only if VS Code asks again on every keystroke. A list marked complete would
      // be filtered locally instead, and the next character typed would hide every item (wikilsp
      // 0.1.0 marks short lists complete). Asking again is cheap: answers take milliseconds.
      provideCompletionItem: async (document, position, context, token, next) => {
        const result = await next(document, position, context, token);
        if (Array.isArray(result)) {
          return new vscode.CompletionList(result, true);
        }
        if (result) {
          result.isIncomplete = true;
        }
        return result;
      },
      // The server's "N backlinks" lens runs VS Code's `editor.action.showReferences`, but its
      // arguments arrive as JSON (a URI string, an LSP position and LSP locations), which the
      // command rejects ("argument does not match one of these constraints"): a click did
      // nothing. Hand it a Uri, a Position and Locations instead.
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        const c = client;
        if (c) {
          for (const lens of lenses ?? []) {
            showReferencesArguments(lens, c);
          }
        }
        return lenses;
      },
    },
    // The server registers its own file watchers (workspace/didChangeWatchedFiles) at start.
  };

  // The id `wikilsp` makes the client read `wikilsp.trace.server` by itself.
  const c = new LanguageClient(SERVER_NAME, 'wikilsp', serverOptions, clientOptions);
  client = c;
  try {
    await c.start();
    const info = c.initializeResult?.serverInfo;
    output.appendLine(`started ${info?.name ?? SERVER_NAME} ${info?.version ?? ''}`.trimEnd());
  } catch (err) {
    output.appendLine(`the server did not start: ${errorText(err)}`);
    const choice = await vscode.window.showErrorMessage(
      `wikilsp: the language server (${command}) did not start: ${errorText(err)}`,
      'Show Output',
      'Open Settings',
    );
    if (choice === 'Show Output') {
      output.show(true);
    } else if (choice === 'Open Settings') {
      await openServerPathSetting();
    }
  }
}

/** The server's command: `wikilsp.server.path`, else `wikilsp` on PATH; undefined (and a
 * message to the user) when neither is there. */
async function findServer(): Promise<string | undefined> {
  const configured = vscode.workspace
    .getConfiguration('wikilsp')
    .get<string>('server.path', '')
    .trim();
  if (configured) {
    const resolved = expandPath(configured);
    if (isExecutableFile(resolved)) {
      return resolved;
    }
    const why = fs.existsSync(resolved) ? 'is not an executable file' : 'does not exist';
    output.appendLine(`wikilsp.server.path: ${resolved} ${why}`);
    await notFound(`The setting wikilsp.server.path points at ${resolved}, which ${why}.`);
    return undefined;
  }
  const onPath = searchPath(SERVER_NAME);
  if (onPath) {
    return onPath;
  }
  output.appendLine(`no ${SERVER_NAME} on PATH (${process.env.PATH ?? ''})`);
  await notFound(
    'The wikilsp language server was not found on PATH. Install it (cargo install --path . in ' +
      'a clone of wikilsp) or set wikilsp.server.path to the binary.',
  );
  return undefined;
}

async function notFound(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`wikilsp: ${message}`, 'Open Settings');
  if (choice === 'Open Settings') {
    await openServerPathSetting();
  }
}

/** Opens the settings at wikilsp.server.path. The setting is machine-scoped: in a remote window
 * (Remote-SSH, WSL, a container, code-server) it is read from the Remote settings only, where
 * the binary is, so open those there. */
async function openServerPathSetting(): Promise<void> {
  const query = 'wikilsp.server.path';
  if (vscode.env.remoteName) {
    try {
      await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query });
      return;
    } catch {
      // an editor without the command: the user settings below
    }
  }
  await vscode.commands.executeCommand('workbench.action.openSettings', query);
}

function expandPath(p: string): string {
  const home = os.homedir();
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  let out = p.replace(/\$\{userHome\}/g, home);
  if (folder) {
    out = out.replace(/\$\{workspaceFolder\}/g, folder);
  }
  if (out === '~' || out.startsWith('~/')) {
    out = path.join(home, out.slice(1));
  }
  if (!path.isAbsolute(out) && folder) {
    out = path.join(folder, out);
  }
  return out;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(p, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string): string | undefined {
  const exts =
    process.platform === 'win32'
      ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean)
      : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutableFile(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** Backlinks: the server's references to the note, asked at its title line, shown in the
 * references view. The server answers them once it advertises `referencesProvider`. */
async function showBacklinks(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'markdown') {
    void vscode.window.showInformationMessage('wikilsp: open a markdown note to see its backlinks.');
    return;
  }
  const c = client;
  if (!c || !c.isRunning()) {
    void vscode.window.showWarningMessage('wikilsp: the language server is not running.');
    return;
  }
  if (!c.initializeResult?.capabilities.referencesProvider) {
    void vscode.window.showInformationMessage(
      'wikilsp: backlinks arrive with a later version of the wikilsp server; this one does not ' +
        'answer references yet.',
    );
    return;
  }
  const doc = editor.document;
  const position = titlePosition(doc);
  // Ask wikilsp itself (not every references provider): the built-in markdown extension also
  // answers references in `.md` files and would mix its own results in.
  const params = {
    ...c.code2ProtocolConverter.asTextDocumentPositionParams(doc, position),
    context: { includeDeclaration: false },
  };
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'wikilsp: finding backlinks' },
    () => c.sendRequest(ReferencesRequest.type, params),
  );
  const locations = (await c.protocol2CodeConverter.asReferences(result)) ?? [];
  if (locations.length === 0) {
    void vscode.window.showInformationMessage(
      `wikilsp: no note links to ${path.basename(doc.uri.fsPath)}.`,
    );
    return;
  }
  await vscode.commands.executeCommand(
    'editor.action.showReferences',
    doc.uri,
    position,
    locations,
  );
}

/** Turns the JSON arguments of a lens's `editor.action.showReferences` into the Uri, Position
 * and Locations the command takes. Other lenses are left alone. */
function showReferencesArguments(lens: vscode.CodeLens, c: LanguageClient): void {
  const command = lens.command;
  const args = command?.arguments;
  if (command?.command !== 'editor.action.showReferences' || args?.length !== 3) {
    return;
  }
  const [uri, position, locations] = args;
  if (typeof uri !== 'string' || !Array.isArray(locations)) {
    return;
  }
  const p2c = c.protocol2CodeConverter;
  command.arguments = [
    p2c.asUri(uri),
    p2c.asPosition(position),
    locations.map((l) => p2c.asLocation(l)),
  ];
}

/** The server's configuration keys from the settings; null where unset. */
function serverSettings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration('wikilsp');
  const keys = ['extensions', 'ignore', 'timestamp_url', 'diagnostics', 'unlinked_mentions', 'completion'];
  return Object.fromEntries(keys.map((k) => [k, c.get(k) ?? null]));
}

/** Where a note's title is: its frontmatter `title:` line, else its first `# ` heading, else
 * the start of the file. */
function titlePosition(doc: vscode.TextDocument): vscode.Position {
  let line = 0;
  let frontmatterEnd = -1;
  if (doc.lineCount > 0 && doc.lineAt(0).text.replace(/^\uFEFF/, '').trimEnd() === '---') {
    for (let i = 1; i < doc.lineCount; i++) {
      const text = doc.lineAt(i).text;
      if (/^(---|\.\.\.)\s*$/.test(text)) {
        frontmatterEnd = i;
        break;
      }
      const m = /^title\s*:\s*/.exec(text);
      if (m && text.slice(m[0].length).trim()) {
        return new vscode.Position(i, m[0].length);
      }
    }
  }
  let inFence = false;
  for (line = frontmatterEnd + 1; line < doc.lineCount; line++) {
    const text = doc.lineAt(line).text;
    if (/^\s{0,3}(```|~~~)/.test(text)) {
      inFence = !inFence;
    } else if (!inFence && /^\s{0,3}# /.test(text)) {
      return new vscode.Position(line, text.indexOf('# ') + 2);
    }
  }
  return new vscode.Position(0, 0);
}

type WorkDoneParams = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

interface Shown {
  title: string;
  percentage: number;
  message?: string;
  timer?: ReturnType<typeof setTimeout>;
  progress?: vscode.Progress<{ message?: string; increment?: number }>;
  reported: number;
  finish?: () => void;
}

/** The server's work-done progress (indexing) as a notification with a percentage. Progress that
 * ends within DELAY_MS never shows, so a small vault opens without a flash. */
class ProgressNotifications {
  static readonly DELAY_MS = 400;
  private readonly shown = new Map<string | number, Shown>();

  handle(
    token: string | number,
    params: WorkDoneParams,
    next: (token: string | number, p: WorkDoneParams) => void,
  ): void {
    switch (params.kind) {
      case 'begin': {
        this.end(token);
        const s: Shown = {
          title: params.title,
          percentage: params.percentage ?? 0,
          message: params.message,
          reported: 0,
        };
        s.timer = setTimeout(() => this.show(s), ProgressNotifications.DELAY_MS);
        this.shown.set(token, s);
        break;
      }
      case 'report': {
        const s = this.shown.get(token);
        if (s) {
          s.percentage = params.percentage ?? s.percentage;
          s.message = params.message ?? s.message;
          this.update(s);
        }
        break;
      }
      case 'end':
        this.end(token);
        // Lets the client's own progress part clean up (it showed nothing: begin never reached it).
        next(token, params);
        break;
    }
  }

  private show(s: Shown): void {
    s.timer = undefined;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `wikilsp: ${s.title}` },
      (progress) =>
        new Promise<void>((resolve) => {
          s.progress = progress;
          s.finish = resolve;
          this.update(s);
        }),
    );
  }

  private update(s: Shown): void {
    if (!s.progress) {
      return;
    }
    const pct = Math.max(0, Math.min(100, s.percentage));
    const increment = Math.max(0, pct - s.reported);
    s.reported += increment;
    const message = s.message ? `${s.message} (${Math.round(pct)}%)` : `${Math.round(pct)}%`;
    s.progress.report({ message, increment });
  }

  private end(token: string | number): void {
    const s = this.shown.get(token);
    if (!s) {
      return;
    }
    this.shown.delete(token);
    if (s.timer) {
      clearTimeout(s.timer);
    }
    s.finish?.();
  }

  /** Closes every notification (the server stopped). */
  clear(): void {
    for (const token of [...this.shown.keys()]) {
      this.end(token);
    }
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}
