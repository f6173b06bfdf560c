import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The directory of the dashboard's build (`dist/` of the `@livedash/dashboard` package, found through
 * package resolution wherever it is installed), or undefined when the package is missing or not built:
 * then `/` serves the built-in page.
 *
 * @example
 * builtDashboardDir(); // '/…/node_modules/@livedash/dashboard/dist' once `npm run build` ran
 */
export function builtDashboardDir(): string | undefined {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('@livedash/dashboard/package.json');
  } catch {
    return undefined;
  }
  const dir = join(dirname(manifest), 'dist');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}
