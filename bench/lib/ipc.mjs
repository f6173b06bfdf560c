// Request/response over a forked child's IPC channel: the orchestrator drives the servers under test
// and the load generator, each in its own process, with `call(child, cmd, args)`.
import { fork } from 'node:child_process';

/** Forks `modulePath` with IPC and returns a handle whose `call` resolves with the child's answer. */
export function spawnWorker(modulePath, { execArgv = [], env = {}, name = modulePath } = {}) {
  const child = fork(modulePath, [], {
    execArgv: ['--expose-gc', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let nextId = 1;
  let exited = false;
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`${name}: ${message.error}`));
  });
  child.on('exit', (code, signal) => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (${code ?? signal})`));
    pending.clear();
  });
  return {
    child,
    pid: child.pid,
    call(cmd, args = {}, timeoutMs = 120_000) {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, cmd, args });
      });
    },
    /** Asks the child to exit, then kills it (by its own pid) if it has not within `graceMs`. */
    async stop(graceMs = 5000) {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.send({ id: 0, cmd: 'exit', args: {} });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}

/** In a child: answers the parent's calls with `handlers[cmd](args)`; `exit` runs `onExit` then exits. */
export function serveWorker(handlers, onExit = async () => {}) {
  process.on('message', async ({ id, cmd, args }) => {
    if (cmd === 'exit') {
      try {
        await onExit();
      } finally {
        process.exit(0);
      }
    }
    const handler = handlers[cmd];
    try {
      if (!handler) throw new Error(`unknown command ${cmd}`);
      const result = await handler(args);
      process.send({ id, ok: true, result });
    } catch (error) {
      process.send({
        id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  });
  // The parent going away must not leave a benchmark server behind.
  process.on('disconnect', () => process.exit(0));
}
