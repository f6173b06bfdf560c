import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NGINX_PATH } from '../setup/nginx.js';

const SCALING_DOC = new URL('../../docs/scaling.md', import.meta.url);

/**
 * The nginx configuration docs/scaling.md documents (its `nginx` code block), made to run here: it listens
 * on `port` without TLS and balances over `upstreams`. Everything else is the documented text, so the
 * test fails when the documented configuration does not work.
 */
export function documentedNginxConfig(port: number, upstreams: readonly number[]): string {
  const block = /```nginx\n([\s\S]*?)```/.exec(readFileSync(SCALING_DOC, 'utf8'))?.[1];
  if (block === undefined) throw new Error('docs/scaling.md has no nginx code block');
  const replace = (text: string, pattern: RegExp, by: string) => {
    if (!pattern.test(text)) throw new Error(`docs/scaling.md's nginx block no longer matches ${pattern}`);
    return text.replace(pattern, by);
  };
  let config = replace(block, /^(\s*)listen 443 ssl;.*$/m, `$1listen 127.0.0.1:${port};`);
  config = replace(
    config,
    /^(\s*)server 127\.0\.0\.1:8080;.*$/m,
    upstreams.map((upstream) => `$1server 127.0.0.1:${upstream};`).join('\n'),
  );
  return config;
}

/**
 * nginx in the foreground (`-p <dir> -c <conf> -g 'daemon off;'`) with its own pid, logs and temp paths in a
 * temporary directory, stopped by its PID.
 */
export class Nginx {
  readonly port: number;
  readonly dir: string;
  readonly #child: ChildProcess;

  private constructor(port: number, dir: string, child: ChildProcess) {
    this.port = port;
    this.dir = dir;
    this.#child = child;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(port: number, httpBlock: string): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'livedash-nginx-'));
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      [
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'error.log')} warn;`,
        'events { worker_connections 4096; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (kind) => `  ${kind}_temp_path ${join(dir, kind)};`,
        ),
        httpBlock,
        '}',
        '',
      ].join('\n'),
    );
    const child = spawn(NGINX_PATH, ['-p', dir, '-c', conf, '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const nginx = new Nginx(port, dir, child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${output}`);
      const answer = await fetch(`${nginx.url}/nginx-probe`).catch(() => undefined);
      if (answer !== undefined) break; // any answer, even an upstream's 404, means nginx listens
      if (Date.now() > deadline) {
        await nginx.stop();
        throw new Error(`nginx did not listen on ${port}: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return nginx;
  }

  /** nginx's error log so far (for a failing test's message). */
  errors(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = once(this.#child, 'exit');
      this.#child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
