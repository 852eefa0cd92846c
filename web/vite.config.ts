/**
 * The web app's build: `npm run build:web` (from the repository root) writes dist/web,
 * which `skylark serve` serves at `/`. `npx vite --config web/vite.config.ts` serves it
 * with hot reload, proxying the API to a `skylark serve` on port 8080.
 */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = 'http://127.0.0.1:8080';

export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // One chunk per route family; the chat route stays small (see docs/benchmarks.md).
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/api': api, '/v1': api } },
});
