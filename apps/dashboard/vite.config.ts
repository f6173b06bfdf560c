import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// The workspace libraries resolve to their sources (the `livedash-source` export condition), so the
// dashboard builds without building them first.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['livedash-source', ...defaultClientConditions] },
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
