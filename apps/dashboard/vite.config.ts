import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The libraries are bundled from source, so the dashboard builds without building them first.
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: {
      '@livedash/protocol': source('../../packages/protocol/src/index.ts'),
      '@livedash/client': source('../../packages/client/src/index.ts'),
      '@livedash/react': source('../../packages/react/src/index.ts'),
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 400 },
  server: {
    // `npm run dev -w @livedash/dashboard` against a server on :8080.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/sse': 'http://127.0.0.1:8080',
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
