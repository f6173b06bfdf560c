import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { workspaceAliases } from '../../vitest.shared.js';

/**
 * The same @livedash/react suite, against React 18. React 18 lives in its own install
 * (`react18/`, see scripts/test-react18.mjs) so the workspace keeps React 19; these aliases point every
 * `react` and `react-dom` import at it. Testing Library is inlined so its imports are aliased too.
 */
const react18 = (path: string) => fileURLToPath(new URL(`./react18/node_modules/${path}`, import.meta.url));
// Testing Library's ESM build, so Vite processes it (and applies the aliases above to its imports).
const testingLibrary = fileURLToPath(
  new URL('../../node_modules/@testing-library/react/dist/@testing-library/react.esm.js', import.meta.url),
);

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: {
    alias: [
      ...Object.entries(workspaceAliases).map(([find, replacement]) => ({ find, replacement })),
      { find: /^@testing-library\/react$/, replacement: testingLibrary },
      { find: /^react$/, replacement: react18('react/index.js') },
      { find: /^react\/(.*)$/, replacement: react18('react/$1.js') },
      { find: /^react-dom$/, replacement: react18('react-dom/index.js') },
      { find: /^react-dom\/(.*)$/, replacement: react18('react-dom/$1.js') },
    ],
  },
  test: {
    include: ['packages/react/test/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    maxWorkers: 2,
    server: { deps: { inline: [/@testing-library[\\/]react/] } },
  },
});
