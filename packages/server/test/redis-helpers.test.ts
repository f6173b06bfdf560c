import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, PrivateRedis, StartFailure } from './redis-helpers.js';

/** The private Redis servers the broker tests start: a server that cannot start says why at once. */
describe('PrivateRedis', () => {
  it('fails at once with Redis’s own reason when its port is taken, and on a free port starts elsewhere', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const startedAt = Date.now();
      const failure = await PrivateRedis.start({ port }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StartFailure);
      expect(String(failure)).toMatch(new RegExp(`port ${port} exited .*\\n.*(in use|bind)`, 's'));
      // Well inside the 10 s a silent wait would take (a bound, not a timing claim: the wait is skipped).
      expect(Date.now() - startedAt).toBeLessThan(9_000);
    } finally {
      holder.close();
    }
  });
});
