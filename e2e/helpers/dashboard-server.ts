import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createNetServer } from 'node:net';
import { type LivedashApp, type LivedashOptions, startLivedash } from 'livedash';

/** The built dashboard (`npm run test:e2e` builds it first). */
export const DASHBOARD_DIST = new URL('../../apps/dashboard/dist/', import.meta.url).pathname;
export const TOKEN = 'e2e-secret';

/** The livedash app in this process, serving the built dashboard (host metrics off unless asked for). */
export function startServer(options: LivedashOptions = {}): Promise<LivedashApp> {
  return startLivedash({
    port: 0,
    publishToken: TOKEN,
    metricsIntervalMs: 0,
    staticDir: DASHBOARD_DIST,
    ...options,
  });
}

export async function publish(url: string, channel: string, data: unknown): Promise<{ seq: number }> {
  const response = await fetch(`${url}/api/channels/${encodeURIComponent(channel)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(data),
  });
  if (!response.ok)
    throw new Error(`publish to ${channel} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { seq: number };
}

/** A port nobody listens on right now, so a server can be killed and started again on the same one. */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * The livedash app as a separate process (the built `livedash` package), so a test can kill it with SIGKILL —
 * no goodbye frame, no close code, as when a machine dies — and start a new one on the same port.
 */
export class ServerProcess {
  readonly port: number;
  readonly url: string;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(options: Record<string, unknown> = {}): Promise<void> {
    const fixture = new URL('../fixtures/server-process.mjs', import.meta.url).pathname;
    const config = JSON.stringify({
      port: this.port,
      publishToken: TOKEN,
      metricsIntervalMs: 0,
      staticDir: DASHBOARD_DIST,
      ...options,
    });
    const child = spawn(process.execPath, [fixture, config], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server process did not start: ${output}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server process exited with ${code}: ${output}`));
      });
    });
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
