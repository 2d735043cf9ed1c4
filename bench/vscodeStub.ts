// A minimal stand-in of the `vscode` module: just enough for `activate()` to run outside VS Code. Records what the
// extension does with the status bar so the bench can tell when it first shows a value.
/* eslint-disable @typescript-eslint/no-explicit-any */
import Module from 'node:module';

export interface StubRecord {
  statusShownAt: number | null;
  statusText: string;
  commands: string[];
  views: string[];
}

export function installVscodeStub(record: StubRecord, storageDir: string): any {
  class Disposable {
    constructor(private readonly fn: () => void = () => undefined) {}
    static from(...items: Array<{ dispose(): unknown }>): Disposable {
      return new Disposable(() => items.forEach((i) => i.dispose()));
    }
    dispose(): void {
      this.fn();
    }
  }
  class EventEmitter<T> {
    private listeners: Array<(e: T) => void> = [];
    event = (l: (e: T) => void): Disposable => {
      this.listeners.push(l);
      return new Disposable();
    };
    fire(e: T): void {
      for (const l of this.listeners) l(e);
    }
    dispose(): void {
      this.listeners = [];
    }
  }
  class Uri {
    constructor(
      readonly scheme: string,
      readonly path: string,
      readonly authority = '',
      readonly query = '',
      readonly fragment = '',
    ) {}
    get fsPath(): string {
      return this.path;
    }
    static file(p: string): Uri {
      return new Uri('file', p);
    }
    static parse(s: string): Uri {
      const u = new URL(s);
      return new Uri(u.protocol.replace(':', ''), u.pathname, u.host, u.search.slice(1));
    }
    static from(c: { scheme: string; path?: string; authority?: string; query?: string }): Uri {
      return new Uri(c.scheme, c.path ?? '', c.authority ?? '', c.query ?? '');
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
      return new Uri(base.scheme, [base.path, ...parts].join('/'));
    }
    with(c: Partial<{ scheme: string; path: string; query: string }>): Uri {
      return new Uri(c.scheme ?? this.scheme, c.path ?? this.path, this.authority, c.query ?? this.query);
    }
    toString(): string {
      return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}`;
    }
  }
  class MarkdownString {
    isTrusted = false;
    supportThemeIcons = false;
    constructor(public value = '') {}
    appendMarkdown(s: string): this {
      this.value += s;
      return this;
    }
    appendText(s: string): this {
      this.value += s;
      return this;
    }
  }
  class ThemeColor {
    constructor(readonly id: string) {}
  }
  class CancellationError extends Error {}
  const noop = (): Disposable => new Disposable();
  const output = {
    name: 'Claude Code Telemetry',
    logLevel: 2,
    onDidChangeLogLevel: noop,
    append() {},
    appendLine() {},
    replace() {},
    clear() {},
    show() {},
    hide() {},
    dispose() {},
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error() {},
  };
  const statusItem = (): any => {
    const item: any = {
      text: '',
      tooltip: undefined,
      command: undefined,
      backgroundColor: undefined,
      name: '',
      dispose() {},
    };
    item.show = (): void => {
      if (record.statusShownAt === null && item.text) {
        record.statusShownAt = performance.now();
        record.statusText = item.text;
      }
    };
    item.hide = (): void => undefined;
    return item;
  };
  const config = {
    get: (_k: string, d?: unknown) => d,
    has: () => false,
    inspect: () => undefined,
    update: () => Promise.resolve(),
  };
  const vscode = {
    Disposable,
    EventEmitter,
    Uri,
    MarkdownString,
    ThemeColor,
    CancellationError,
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
    EnvironmentVariableMutatorType: { Replace: 1, Append: 2, Prepend: 3 },
    window: {
      state: { focused: true, active: true },
      activeTerminal: undefined,
      createOutputChannel: () => output,
      createStatusBarItem: statusItem,
      registerWebviewViewProvider: (id: string) => {
        record.views.push(id);
        return new Disposable();
      },
      onDidChangeWindowState: noop,
      showInformationMessage: () => Promise.resolve(undefined),
      showWarningMessage: () => Promise.resolve(undefined),
      showErrorMessage: () => Promise.resolve(undefined),
      showQuickPick: () => Promise.resolve(undefined),
      showInputBox: () => Promise.resolve(undefined),
      withProgress: (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) =>
        task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: noop }),
    },
    commands: {
      registerCommand: (id: string) => {
        record.commands.push(id);
        return new Disposable();
      },
      executeCommand: () => Promise.resolve(undefined),
    },
    workspace: {
      name: undefined,
      workspaceFolders: undefined,
      isTrusted: true,
      getConfiguration: () => config,
      onDidChangeConfiguration: noop,
      onDidGrantWorkspaceTrust: noop,
      registerTextDocumentContentProvider: noop,
    },
    env: {
      openExternal: () => Promise.resolve(true),
      asExternalUri: (u: unknown) => Promise.resolve(u),
      clipboard: { writeText: () => Promise.resolve(), readText: () => Promise.resolve('') },
      remoteName: undefined,
    },
  };
  // Events and registrations the extension adds later need nothing from a stand-in: any `onX` or `registerX` member
  // it lacks is a no-op that returns a Disposable, so the stand-in does not lag the code it stands in for.
  const lenient = <T extends object>(target: T): T =>
    new Proxy(target, {
      get: (obj, key, receiver) =>
        typeof key === 'string' && !(key in obj) && /^(on[A-Z]|register[A-Z])/.test(key)
          ? noop
          : Reflect.get(obj, key, receiver),
    });
  for (const ns of ['window', 'commands', 'workspace', 'env'] as const) vscode[ns] = lenient(vscode[ns]) as never;
  const mod = Module as unknown as { _load: (req: string, parent: unknown, isMain: boolean) => unknown };
  const load = mod._load;
  mod._load = function (req: string, parent: unknown, isMain: boolean): unknown {
    return req === 'vscode' ? vscode : load.call(this, req, parent, isMain);
  };
  const memento = (): any => {
    const m = new Map<string, unknown>();
    return {
      get: (k: string, d?: unknown) => (m.has(k) ? m.get(k) : d),
      update: (k: string, v: unknown) => {
        m.set(k, v);
        return Promise.resolve();
      },
      keys: () => [...m.keys()],
      setKeysForSync() {},
    };
  };
  const env = {
    replace() {},
    append() {},
    prepend() {},
    get() {
      return undefined;
    },
    forEach() {},
    delete() {},
    clear() {},
    persistent: true,
    description: '',
    getScoped() {
      return env;
    },
  };
  return {
    subscriptions: [] as Array<{ dispose(): unknown }>,
    extensionUri: Uri.file(process.cwd()),
    extensionPath: process.cwd(),
    globalState: memento(),
    workspaceState: memento(),
    secrets: {
      get: () => Promise.resolve(undefined),
      store: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      onDidChange: noop,
    },
    environmentVariableCollection: env,
    globalStorageUri: Uri.file(storageDir),
    storageUri: undefined,
    logUri: Uri.file(storageDir),
    extensionMode: 1,
    extension: { packageJSON: { version: '0.0.0-bench' } },
  };
}
