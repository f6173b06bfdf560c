import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Tests import sibling workspaces from source, so no build is needed before `vitest`. */
export const workspaceAliases = {
  '@livedash/protocol': here('./packages/protocol/src/index.ts'),
  '@livedash/dashboard-config': here('./packages/dashboard-config/src/index.ts'),
  '@livedash/client': here('./packages/client/src/index.ts'),
  '@livedash/server': here('./packages/server/src/index.ts'),
  '@livedash/react': here('./packages/react/src/index.ts'),
  livedash: here('./apps/livedash/src/index.ts'),
};
