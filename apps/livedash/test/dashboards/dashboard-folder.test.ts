import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DashboardFolder, type FolderChange } from '../../src/dashboards/dashboard-folder.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'livedash-dashboards-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const dashboard = (title: string) =>
  JSON.stringify({
    title,
    panels: [{ type: 'stat', title: `${title} panel`, channel: 'sensors', field: 't' }],
  });

async function open(dir: string, options: Parameters<typeof DashboardFolder.open>[1] = {}) {
  const log: string[] = [];
  const folder = await DashboardFolder.open(dir, { log: (line) => log.push(line), ...options });
  cleanups.push(() => folder.close());
  const changes: FolderChange[] = [];
  return { folder, log, changes, watch: () => folder.watch((change) => changes.push(change)) };
}

describe('names', () => {
  it('serves every <name>.json under its name, sorted, and ignores other and hidden files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checkout.json'), dashboard('Checkout'));
    writeFileSync(join(dir, 'Edge_2-b.json'), dashboard('Edge'));
    writeFileSync(join(dir, 'notes.txt'), 'not a dashboard');
    writeFileSync(join(dir, '.checkout.json.swp'), 'editor swap file');
    writeFileSync(join(dir, '.hidden.json'), dashboard('Hidden'));
    const { folder } = await open(dir);
    expect(folder.list().map((entry) => [entry.name, entry.file, entry.config?.title])).toEqual([
      ['Edge_2-b', 'Edge_2-b.json', 'Edge'],
      ['checkout', 'checkout.json', 'Checkout'],
    ]);
    expect(folder.skipped).toEqual([]);
  });

  it('skips, with the reason, names outside the grammar and the reserved names', async () => {
    const dir = tempDir();
    for (const file of [
      'two words.json',
      'a.b.json',
      '-dash.json',
      `${'x'.repeat(65)}.json`,
      'host.json',
      'default.json',
    ])
      writeFileSync(join(dir, file), dashboard('x'));
    const { folder, log } = await open(dir);
    expect(folder.list()).toEqual([]);
    const reasons = Object.fromEntries(folder.skipped.map((entry) => [entry.file, entry.reason]));
    expect(reasons['two words.json']).toBe(
      '"two words" is not a dashboard name (1–64 letters, digits, _ and -, starting with a letter or digit)',
    );
    expect(reasons['a.b.json']).toMatch(/^"a\.b" is not a dashboard name/);
    expect(reasons['-dash.json']).toMatch(/is not a dashboard name/);
    expect(reasons[`${'x'.repeat(65)}.json`]).toMatch(/is not a dashboard name/);
    expect(reasons['host.json']).toBe('the name "host" belongs to the built-in host dashboard');
    expect(reasons['default.json']).toBe('the name "default" belongs to the dashboard set by --dashboard');
    expect(log.filter((line) => line.includes('is not served'))).toHaveLength(6);
  });

  it('follows a link inside the folder (a mounted config map) and refuses one that leads out of it', async () => {
    const dir = tempDir();
    const outside = tempDir();
    mkdirSync(join(dir, '..data'));
    writeFileSync(join(dir, '..data', 'inside.json'), dashboard('Inside'));
    symlinkSync(join(dir, '..data', 'inside.json'), join(dir, 'inside.json'));
    writeFileSync(join(outside, 'secret.json'), dashboard('Secret'));
    symlinkSync(join(outside, 'secret.json'), join(dir, 'secret.json'));
    symlinkSync(join(dir, 'nowhere.json'), join(dir, 'dangling.json'));
    mkdirSync(join(dir, 'folder.json'));
    const { folder } = await open(dir);
    expect(folder.list().map((entry) => entry.name)).toEqual(['inside']);
    expect(folder.skipped).toEqual([
      { file: 'dangling.json', reason: 'a link to a file that does not exist' },
      { file: 'folder.json', reason: 'not a regular file' },
      { file: 'secret.json', reason: 'a link to a file outside the dashboards folder' },
    ]);
  });

  it('serves at most maxDashboards and says why the rest are not served', async () => {
    const dir = tempDir();
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.json`), dashboard(name));
    const { folder } = await open(dir, { maxDashboards: 2 });
    expect(folder.list().map((entry) => entry.name)).toEqual(['a', 'b']);
    expect(folder.skipped).toEqual([{ file: 'c.json', reason: 'more than 2 dashboards in the folder' }]);
  });

  it('refuses a path that is not a directory', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    await expect(DashboardFolder.open(join(dir, 'file'))).rejects.toThrow(/is not a directory/);
    await expect(DashboardFolder.open(join(dir, 'missing'))).rejects.toThrow(/is not a directory/);
  });
});

describe('invalid files', () => {
  it('reports every problem of a file that was never valid, with its key, and shows nothing', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ panels: [{ type: 'pie', channel: 'x' }], colour: 1 }),
    );
    writeFileSync(join(dir, 'broken.json'), '{"panels": [');
    const { folder, log } = await open(dir);
    const bad = folder.get('bad');
    expect(bad?.config).toBeUndefined();
    expect(bad?.error).toEqual({
      file: 'bad.json',
      problems: [
        { key: '(root).colour', reason: expect.stringMatching(/^unknown key/) },
        {
          key: 'panels[0].type',
          reason: 'expected one of gauge, timeseries, stat, table, log, alerts, got "pie"',
        },
      ],
    });
    expect(folder.get('broken')?.error?.problems).toEqual([
      { key: '', reason: expect.stringMatching(/^not valid JSON/) },
    ]);
    expect(log).toContainEqual(
      expect.stringMatching(
        /^dashboard bad\.json is invalid \(nothing to show until it is fixed\): bad\.json: \(root\)\.colour: unknown key/,
      ),
    );
  });

  it('keeps the last valid version while the file is invalid, and clears the error once it is fixed', async () => {
    const dir = tempDir();
    const path = join(dir, 'ops.json');
    writeFileSync(path, dashboard('Ops'));
    const { folder, log } = await open(dir);
    writeFileSync(path, JSON.stringify({ title: 'Ops 2', panels: [{ type: 'gauge', channel: 'x' }] }));
    await folder.refresh();
    const invalid = folder.get('ops');
    expect(invalid?.config?.title).toBe('Ops');
    expect(invalid?.error?.problems).toEqual([{ key: 'panels[0].field', reason: expect.any(String) }]);
    expect(log.at(-1)).toMatch(/^dashboard ops\.json is invalid \(the last valid version stays on screen\)/);
    writeFileSync(path, dashboard('Ops fixed'));
    await folder.refresh();
    expect(folder.get('ops')?.config?.title).toBe('Ops fixed');
    expect(folder.get('ops')?.error).toBeUndefined();
    expect(log.at(-1)).toBe('dashboard ops.json is valid again; reloaded');
  });

  it('refuses a file over the size limit without reading it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'huge.json'), `{"title": "${'x'.repeat(1024 * 1024)}"}`);
    const { folder } = await open(dir);
    expect(folder.get('huge')?.error?.problems[0]?.reason).toMatch(/a dashboard file may be at most 1048576/);
  });
});

describe('following the folder', () => {
  it('announces an edit, an added file and a removed file, each with a new revision', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), dashboard('A'));
    const { folder, changes, watch } = await open(dir);
    watch();
    writeFileSync(join(dir, 'a.json'), dashboard('A2'));
    await vi.waitFor(() => expect(folder.get('a')?.config?.title).toBe('A2'), { timeout: 3000 });
    writeFileSync(join(dir, 'b.json'), dashboard('B'));
    await vi.waitFor(() => expect(folder.get('b')?.config?.title).toBe('B'), { timeout: 3000 });
    rmSync(join(dir, 'a.json'));
    await vi.waitFor(() => expect(folder.get('a')).toBeUndefined(), { timeout: 3000 });
    const all = changes.flatMap((change) => [
      ...change.changed.map((name) => `changed ${name}`),
      ...change.added.map((name) => `added ${name}`),
      ...change.removed.map((name) => `removed ${name}`),
    ]);
    expect(all).toEqual(['changed a', 'added b', 'removed a']);
    const revisions = changes.map((change) => change.revision);
    expect(revisions).toEqual([...revisions].sort((x, y) => x - y));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(folder.revision).toBe(revisions.at(-1));
  });

  it('sees a rename as the old name removed and the new one added', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'old.json'), dashboard('Moving'));
    const { folder, changes, watch } = await open(dir);
    watch();
    renameSync(join(dir, 'old.json'), join(dir, 'new.json'));
    await vi.waitFor(() => expect(folder.list().map((entry) => entry.name)).toEqual(['new']), {
      timeout: 3000,
    });
    expect(
      changes.flatMap((change) => [...change.added, ...change.removed.map((name) => `-${name}`)]),
    ).toEqual(['new', '-old']);
  });

  it('sees an editor that saves by writing a new file and renaming it over the old one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vim.json'), dashboard('Before'));
    const { folder, watch } = await open(dir);
    watch();
    for (const title of ['After 1', 'After 2']) {
      writeFileSync(join(dir, '.vim.json.tmp'), dashboard(title));
      renameSync(join(dir, '.vim.json.tmp'), join(dir, 'vim.json'));
      await vi.waitFor(() => expect(folder.get('vim')?.config?.title).toBe(title), { timeout: 3000 });
    }
  });

  it('still updates on the poll when no change event arrives', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'polled.json'), dashboard('Before'));
    // Events would only act after a minute: only the poll can pick the edit up.
    const { folder, watch } = await open(dir, { debounceMs: 60_000, pollMs: 100 });
    watch();
    writeFileSync(join(dir, 'polled.json'), dashboard('After'));
    await vi.waitFor(() => expect(folder.get('polled')?.config?.title).toBe('After'), { timeout: 2000 });
  });

  it('announces nothing when a file is touched or saved without edits', async () => {
    const dir = tempDir();
    const path = join(dir, 'same.json');
    writeFileSync(path, dashboard('Same'));
    const { folder, changes } = await open(dir);
    const revision = folder.get('same')?.revision;
    writeFileSync(path, dashboard('Same'));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    await folder.refresh();
    expect(changes).toEqual([]);
    expect(folder.get('same')?.revision).toBe(revision);
  });

  it('stops reading the folder once closed', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.json'), dashboard('X'));
    const { folder, changes, watch } = await open(dir, { pollMs: 50 });
    watch();
    await folder.close();
    writeFileSync(join(dir, 'x.json'), dashboard('Y'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toEqual([]);
    expect(folder.get('x')?.config?.title).toBe('X');
  });
});
