import { type FSWatcher, watch } from 'node:fs';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import {
  type DashboardConfig,
  type DashboardFileError,
  describeDashboardError,
  isValidDashboardName,
  RESERVED_DASHBOARD_NAMES,
} from '@livedash/dashboard-config';
import { MAX_DASHBOARD_FILE_BYTES, parseDashboardText } from '../dashboard-file.js';
import { consoleSourceLog, type SourceLog } from '../sources/source-hub.js';

/** One `<name>.json` of the folder: the last valid version and, while the file is invalid, why. */
export interface FolderDashboard {
  readonly name: string;
  readonly file: string;
  /** The last valid version; undefined when the file was never valid since the server started. */
  readonly config: DashboardConfig | undefined;
  /** Set while the file's current text is not a valid dashboard. */
  readonly error: DashboardFileError | undefined;
  /** Grows each time `config` or `error` changes. */
  readonly revision: number;
}

/** A `*.json` file of the folder that is not served, and why. */
export interface SkippedFile {
  file: string;
  reason: string;
}

/** What one read of the folder changed. */
export interface FolderChange {
  revision: number;
  added: string[];
  removed: string[];
  changed: string[];
}

export interface DashboardFolderOptions {
  /** Where loads, errors and recoveries are reported (default: stderr, `livedash: …`). */
  log?: SourceLog;
  /** How long the folder must be quiet after a change event before it is read (default 50 ms). */
  debounceMs?: number;
  /**
   * How often the folder is read whatever the events say (default 1000 ms): file systems where
   * watching does not work (network mounts, some containers) still update within this time.
   */
  pollMs?: number;
  /** At most this many dashboards are served; the rest are skipped with a reason (default 200). */
  maxDashboards?: number;
}

interface Tracked {
  name: string;
  file: string;
  config: DashboardConfig | undefined;
  error: DashboardFileError | undefined;
  revision: number;
  /** inode, size and times: a file whose signature did not change is not read again. */
  signature: string;
  text: string | undefined;
}

type FileCheck = { kind: 'file'; signature: string } | { kind: 'skip'; reason: string } | { kind: 'gone' };

const NAME_RULE = '1–64 letters, digits, _ and -, starting with a letter or digit';

/**
 * The dashboards folder (`--dashboards <dir>`): every `<name>.json` in it is a dashboard. The folder is
 * read again shortly after any change event (`fs.watch` on the directory, which also sees editors that
 * save by writing a new file and renaming it over the old one) and on a slow poll besides, so a missed
 * event costs at most `pollMs`. An invalid edit keeps the last valid version and records the error.
 *
 * @example
 * const folder = await DashboardFolder.open('dashboards');
 * folder.watch((change) => console.log(change.changed));
 * folder.get('checkout')?.config;
 * await folder.close();
 */
export class DashboardFolder {
  readonly dir: string;
  readonly #log: SourceLog;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  readonly #maxDashboards: number;
  #dashboards = new Map<string, Tracked>();
  #skipped: SkippedFile[] = [];
  #revision = 0;
  #realDir = '';
  #folderFailure: string | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #rescan = false;
  #closed = false;
  #onChange: ((change: FolderChange) => void) | undefined;

  private constructor(dir: string, options: DashboardFolderOptions) {
    this.dir = dir;
    this.#log = options.log ?? consoleSourceLog;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#pollMs = options.pollMs ?? 1000;
    this.#maxDashboards = options.maxDashboards ?? 200;
  }

  /** Reads the folder once. Rejects when `dir` is not a readable directory; invalid files do not. */
  static async open(dir: string, options: DashboardFolderOptions = {}): Promise<DashboardFolder> {
    let isDirectory = false;
    try {
      isDirectory = (await stat(dir)).isDirectory();
    } catch {
      isDirectory = false;
    }
    if (!isDirectory) throw new Error(`dashboards folder ${dir} is not a directory`);
    const folder = new DashboardFolder(dir, options);
    folder.#realDir = await realpath(dir);
    await folder.#scan();
    return folder;
  }

  get revision(): number {
    return this.#revision;
  }

  /** The dashboards, by name. */
  list(): FolderDashboard[] {
    return [...this.#dashboards.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(view);
  }

  get(name: string): FolderDashboard | undefined {
    const tracked = this.#dashboards.get(name);
    return tracked && view(tracked);
  }

  get skipped(): readonly SkippedFile[] {
    return this.#skipped;
  }

  /** Starts following the folder; `onChange` gets every read that changed something. */
  watch(onChange: (change: FolderChange) => void): void {
    if (this.#closed || this.#onChange) return;
    this.#onChange = onChange;
    this.#startWatcher();
    this.#poll = setInterval(() => this.refresh(), this.#pollMs);
    this.#poll.unref();
  }

  /** Reads the folder again now (after any read already under way). */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#scanning) {
      this.#rescan = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      try {
        do {
          this.#rescan = false;
          const change = await this.#scan();
          if (change && !this.#closed) this.#onChange?.(change);
        } while (this.#rescan && !this.#closed);
      } finally {
        this.#scanning = undefined;
      }
    })();
    return this.#scanning;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    await this.#scanning;
  }

  #startWatcher(): void {
    try {
      const watcher = watch(this.dir, { persistent: false }, () => {
        // Editors write in several steps (truncate, write, rename): read once the folder is quiet.
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.refresh(), this.#debounceMs);
        this.#debounce.unref();
      });
      watcher.on('error', (error) => {
        this.#log(
          `dashboards folder ${this.dir}: watching failed (${error.message}); reading it every ${this.#pollMs} ms`,
        );
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch (error) {
      this.#log(
        `dashboards folder ${this.dir}: cannot watch it (${(error as Error).message}); reading it every ${this.#pollMs} ms`,
      );
    }
  }

  /** One read of the folder: returns what changed, or undefined when nothing did. */
  async #scan(): Promise<FolderChange | undefined> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'error';
      // The dashboards shown stay as they were; the log says so once, until the folder is back.
      if (this.#folderFailure === undefined)
        this.#log(`dashboards folder ${this.dir}: cannot read it (${reason}); keeping the dashboards shown`);
      this.#folderFailure = reason;
      return undefined;
    }
    if (this.#folderFailure !== undefined) {
      this.#log(`dashboards folder ${this.dir}: readable again`);
      this.#folderFailure = undefined;
      this.#startWatcherAgain();
    }
    const files = entries.filter((file) => file.endsWith('.json') && !file.startsWith('.')).sort();
    const skipped: SkippedFile[] = [];
    const present = new Map<string, Tracked>();
    const change: FolderChange = { revision: this.#revision, added: [], removed: [], changed: [] };
    for (const file of files) {
      const name = file.slice(0, -'.json'.length);
      const refusal = this.#refuseName(name, present.size);
      if (refusal !== undefined) {
        skipped.push({ file, reason: refusal });
        continue;
      }
      const checked = await this.#check(join(this.dir, file));
      if (checked.kind === 'gone') continue;
      if (checked.kind === 'skip') {
        skipped.push({ file, reason: checked.reason });
        continue;
      }
      const known = this.#dashboards.get(name);
      if (known && known.signature === checked.signature) {
        present.set(name, known);
        continue;
      }
      const next = await this.#load(file, name, checked.signature, known);
      if (next === undefined) continue; // removed between the listing and the read
      present.set(name, next);
      if (!known) change.added.push(name);
      else if (next.revision !== known.revision) change.changed.push(name);
    }
    for (const name of this.#dashboards.keys()) {
      if (!present.has(name)) {
        change.removed.push(name);
        this.#log(`dashboard ${name} removed (its file is gone)`);
      }
    }
    this.#dashboards = present;
    const skippedChanged = JSON.stringify(skipped) !== JSON.stringify(this.#skipped);
    for (const entry of skipped) {
      if (!this.#skipped.some((old) => old.file === entry.file && old.reason === entry.reason))
        this.#log(`dashboards folder: ${entry.file} is not served: ${entry.reason}`);
    }
    this.#skipped = skipped;
    const changed = change.added.length + change.removed.length + change.changed.length > 0;
    if (!changed && !skippedChanged) return undefined;
    this.#revision++;
    change.revision = this.#revision;
    return change;
  }

  #refuseName(name: string, served: number): string | undefined {
    if (!isValidDashboardName(name)) return `"${name}" is not a dashboard name (${NAME_RULE})`;
    if (RESERVED_DASHBOARD_NAMES.includes(name)) {
      const owner = name === 'host' ? 'the built-in host dashboard' : 'the dashboard set by --dashboard';
      return `the name "${name}" belongs to ${owner}`;
    }
    if (served >= this.#maxDashboards) return `more than ${this.#maxDashboards} dashboards in the folder`;
    return undefined;
  }

  /** A regular file, or a link to one inside the folder (how mounted config maps look); nothing else. */
  async #check(path: string): Promise<FileCheck> {
    try {
      const link = await lstat(path);
      if (link.isSymbolicLink()) {
        const target = await realpath(path);
        if (!target.startsWith(this.#realDir + sep))
          return { kind: 'skip', reason: 'a link to a file outside the dashboards folder' };
      }
      const file = await stat(path);
      if (!file.isFile()) return { kind: 'skip', reason: 'not a regular file' };
      return {
        kind: 'file',
        signature: `${file.ino}:${file.size}:${file.mtimeMs}:${file.ctimeMs}:${link.ino}`,
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A dangling link is a problem to show; a file removed since the listing is simply gone.
      if (code === 'ENOENT') {
        try {
          await lstat(path);
          return { kind: 'skip', reason: 'a link to a file that does not exist' };
        } catch {
          return { kind: 'gone' };
        }
      }
      return { kind: 'skip', reason: `cannot read it (${code ?? 'error'})` };
    }
  }

  async #load(
    file: string,
    name: string,
    signature: string,
    known: Tracked | undefined,
  ): Promise<Tracked | undefined> {
    const read = await readText(join(this.dir, file));
    if (read === 'gone') return undefined;
    // Times changed but not the text (a save without edits, a touch): nothing to reload.
    if (known && known.text !== undefined && known.text === read.text) return { ...known, signature };
    let config = known?.config;
    let error: DashboardFileError | undefined;
    if (read.text === undefined) error = { file, problems: [{ key: '', reason: read.problem }] };
    else {
      const parsed = parseDashboardText(read.text);
      if (parsed.ok) config = parsed.value;
      else error = { file, problems: parsed.error };
    }
    if (error) {
      const kept = config ? 'the last valid version stays on screen' : 'nothing to show until it is fixed';
      this.#log(`dashboard ${file} is invalid (${kept}): ${describeDashboardError(error).join('; ')}`);
    } else if (known?.error) {
      this.#log(`dashboard ${file} is valid again; reloaded`);
    } else {
      this.#log(`dashboard ${name} ${known ? 'reloaded' : 'loaded'} from ${file}`);
    }
    const revision = (known?.revision ?? 0) + 1;
    return { name, file, config, error, revision, signature, text: read.text };
  }

  #startWatcherAgain(): void {
    if (!this.#onChange) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#startWatcher();
  }
}

/** The file's text, or why it cannot be read; 'gone' when it was removed meanwhile. */
async function readText(
  path: string,
): Promise<{ text: string } | { text: undefined; problem: string } | 'gone'> {
  try {
    const { size } = await stat(path);
    if (size > MAX_DASHBOARD_FILE_BYTES)
      return {
        text: undefined,
        problem: `file is ${size} bytes; a dashboard file may be at most ${MAX_DASHBOARD_FILE_BYTES}`,
      };
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'gone';
    return { text: undefined, problem: `cannot read it (${code ?? 'error'})` };
  }
}

function view(tracked: Tracked): FolderDashboard {
  const { name, file, config, error, revision } = tracked;
  return { name, file, config, error, revision };
}
