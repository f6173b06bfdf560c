#!/usr/bin/env node
/**
 * Measures the browser build of @livedash/client: esbuild bundles it (with @livedash/protocol, its only
 * dependency, inlined), minified for browsers, then gzip -9. Two entries:
 *  - `LiveClient`: the client with every transport (ws, sse, poll), what an app importing only it ships;
 *  - `everything`: every export of the package (stores, buffering utilities, DashboardWebSocket).
 *
 *   node packages/client/scripts/bundle-size.mjs           # prints the sizes as JSON
 *   node packages/client/scripts/bundle-size.mjs --write   # also writes them into docs/client.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const repoDir = fileURLToPath(new URL('../../..', import.meta.url));
/** The budget for LiveClient with all transports, minified + gzipped. */
export const BUDGET_BYTES = 10 * 1024;

const sizeOf = (code) => ({ minified: code.length, gzipped: gzipSync(code, { level: 9 }).length });

/**
 * What a page loads up front for `contents`: code split as an app bundler would (the worker link is
 * a dynamic import, its own chunk loaded only when a worker is used), so the entry chunk and the chunks
 * it imports statically count; `lazy` is the size of the chunks loaded only on demand.
 */
async function bundle(contents) {
  const result = await build({
    stdin: { contents, resolveDir: packageDir, sourcefile: 'entry.js', loader: 'js' },
    bundle: true,
    write: false,
    splitting: true,
    outdir: '/bundle',
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { '@livedash/protocol': `${repoDir}packages/protocol/src/index.ts` },
    metafile: true,
    logLevel: 'silent',
  });
  // Metafile paths are relative to the working directory; the file names are unique.
  const base = (path) => path.slice(path.lastIndexOf('/') + 1);
  const byPath = new Map(result.outputFiles.map((file) => [base(file.path), file.contents]));
  const outputs = result.metafile.outputs;
  const entry = Object.keys(outputs).find((path) => outputs[path].entryPoint);
  const upFront = new Set();
  const visit = (path) => {
    if (upFront.has(path)) return;
    upFront.add(path);
    for (const imported of outputs[path].imports)
      if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(entry);
  const joined = (paths) => Buffer.concat(paths.map((path) => Buffer.from(byPath.get(base(path)))));
  const lazy = Object.keys(outputs).filter((path) => !upFront.has(path) && path.endsWith('.js'));
  return { ...sizeOf(joined([...upFront])), lazy: sizeOf(joined(lazy)) };
}

/** The worker script itself (`worker/live-worker.ts`), loaded by the browser only in worker mode. */
async function bundleWorker() {
  const result = await build({
    entryPoints: [`${packageDir}src/worker/live-worker.ts`],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    alias: { '@livedash/protocol': `${repoDir}packages/protocol/src/index.ts` },
    logLevel: 'silent',
  });
  return sizeOf(result.outputFiles[0].contents);
}

/** Sizes in bytes of the minified and the minified+gzipped bundles. */
export async function measureBundle() {
  return {
    liveClient: await bundle("export { LiveClient } from './src/index.ts';"),
    everything: await bundle("export * from './src/index.ts';"),
    worker: await bundleWorker(),
  };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** A plain list (not a table), so the formatter leaves the doc as the script wrote it. */
function table(sizes) {
  return [
    `- \`LiveClient\` with ws, sse and poll transports: ${kb(sizes.liveClient.minified)} minified, **${kb(sizes.liveClient.gzipped)} minified + gzip** (budget ${kb(BUDGET_BYTES)})`,
    `- everything the package exports: ${kb(sizes.everything.minified)} minified, ${kb(sizes.everything.gzipped)} minified + gzip`,
    `- worker mode, loaded only when a worker is used: the page's link to it ${kb(sizes.liveClient.lazy.minified)} minified, ${kb(sizes.liveClient.lazy.gzipped)} minified + gzip, and the worker script (its own file, fetched by the worker) ${kb(sizes.worker.minified)} minified, ${kb(sizes.worker.gzipped)} minified + gzip`,
  ].join('\n');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const sizes = await measureBundle();
  console.log(JSON.stringify(sizes, null, 2));
  if (process.argv.includes('--write')) {
    const docPath = `${repoDir}docs/client.md`;
    const doc = readFileSync(docPath, 'utf8');
    const start = '<!-- bundle-size:start -->';
    const end = '<!-- bundle-size:end -->';
    const from = doc.indexOf(start);
    const to = doc.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/client.md has no ${start} … ${end} section`);
    const measured = `${table(sizes)}\n\nMeasured ${new Date().toISOString().slice(0, 10)} with esbuild (minify, es2022, browser) and gzip -9 by \`node packages/client/scripts/bundle-size.mjs --write\`.`;
    writeFileSync(docPath, `${doc.slice(0, from + start.length)}\n${measured}\n${doc.slice(to)}`);
    console.log(`wrote ${docPath}`);
  }
  if (sizes.liveClient.gzipped > BUDGET_BYTES) {
    console.error(
      `LiveClient is ${sizes.liveClient.gzipped} bytes gzipped, over the ${BUDGET_BYTES}-byte budget`,
    );
    process.exitCode = 1;
  }
}
