import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';

// `livedash serve` on its default settings runs as a child process, so its resident memory is its
// own; the requests come from here. Linux only: the child's RSS is read from /proc.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'apps/livedash/dist/cli.js');
const TOKEN = 'bounded-memory-publish-token';
const COUNT = 20_000;
/** Growth allowed for COUNT of either kind of request, bytes (unbounded state grew by ~175–200 MB). */
const BOUND = 48 * 1024 * 1024;
const children = new Set<ChildProcess>();

beforeAll(() => {
  try {
    execFileSync(process.execPath, ['scripts/build.mjs', '--cli', '--quiet'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    if (!existsSync(cli)) throw error;
  }
}, 180_000);

afterEach(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
});

async function startServe(): Promise<{ url: string; pid: number }> {
  const env = { ...process.env, LIVEDASH_PUBLISH_TOKEN: TOKEN, PORT: undefined, HOST: undefined };
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--metrics-interval', '0'], {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" in 20 s: ${out}`)), 20_000);
    child.stdout?.on('data', (chunk) => {
      out += String(chunk);
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (url && child.pid !== undefined) {
        clearTimeout(timer);
        resolve({ url, pid: child.pid });
      }
    });
    child.once('exit', (code) => reject(new Error(`livedash serve exited with ${code}: ${out}`)));
  });
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** Runs `request(i)` for i in 0..count-1, `parallel` at a time. */
async function runAll(count: number, parallel: number, request: (i: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < count) await request(next++);
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** RSS once the server has settled (a warm-up round first, so lazy start-up costs are not counted). */
async function settledRss(pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return rssOf(pid);
}

describe.runIf(process.platform === 'linux')('livedash serve memory under made-up channel names', () => {
  test(`${COUNT} reads of channels never published leave no state behind`, async () => {
    const { url, pid } = await startServe();
    const read = async (i: number) => {
      const path = i % 2 === 0 ? `made.up.${i}` : `made.up.${i}/messages?since=0`;
      const response = await fetch(`${url}/api/channels/${path}`);
      await response.arrayBuffer();
      expect(response.status).toBe(i % 2 === 0 ? 404 : 200);
    };
    await runAll(2000, 8, (i) => read(COUNT + i));
    const before = await settledRss(pid);
    await runAll(COUNT, 8, read);
    const growth = (await settledRss(pid)) - before;
    console.log(`RSS growth after ${COUNT} made-up reads: ${(growth / 1048576).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(BOUND);
    const listed = (await (await fetch(`${url}/api/channels`)).json()) as { channels: unknown[] };
    expect(listed.channels).toEqual([]);
  }, 180_000);

  test(`${COUNT} one-message channels stay within maxChannels`, async () => {
    const { url, pid } = await startServe();
    const publish = async (i: number) => {
      const response = await fetch(`${url}/api/channels/spray.${i}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ i, pad: 'x'.repeat(64) }),
      });
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    };
    await runAll(2000, 8, (i) => publish(COUNT + i));
    const before = await settledRss(pid);
    await runAll(COUNT, 8, publish);
    const growth = (await settledRss(pid)) - before;
    console.log(`RSS growth after ${COUNT} one-message channels: ${(growth / 1048576).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(BOUND);
    // The newest channels are kept (the default maxChannels is 10,000); the oldest idle ones were evicted.
    const newest = await fetch(`${url}/api/channels/spray.${COUNT - 1}`);
    expect(newest.status).toBe(200);
    const oldest = await fetch(`${url}/api/channels/spray.0`);
    expect(oldest.status).toBe(404);
  }, 180_000);
});
