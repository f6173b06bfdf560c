// The client of another git ref, for benchmarks that compare it with the working tree's in one run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** packages/client and packages/protocol sources of `ref`, unpacked into a fresh temporary directory. */
export function checkoutClientSources(root, ref, prefix = 'livedash-client-baseline-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const archive = execFileSync('git', ['archive', ref, 'packages/client/src', 'packages/protocol/src'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return dir;
}

/** Bundles `packages/client` (protocol inlined) from `sourceRoot` into one ES module at `out`, for Node. */
export async function bundleClient(sourceRoot, out) {
  const { build } = await import('rolldown');
  await build({
    input: join(sourceRoot, 'packages/client/src/index.ts'),
    platform: 'node',
    resolve: { alias: { '@livedash/protocol': join(sourceRoot, 'packages/protocol/src/index.ts') } },
    output: { file: out, format: 'esm' },
    logLevel: 'warn',
  });
  return out;
}
