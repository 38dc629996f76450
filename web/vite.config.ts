import { defineConfig } from 'vitest/config';

// The Rust server serves `dist/` from its own origin: `index.html` for every page path, and the
// hashed bundles under `/static/` with a year-long cache. (`/assets/` is the server's, for uploads.)
const server = process.env.SHOWRUNNER_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'static',
    emptyOutDir: true,
    target: 'es2022',
    // The IVS SDKs are big, and only ever loaded on demand in AWS mode (`src/video/sdk.ts`).
    chunkSizeWarningLimit: 800,
  },
  // `npm run dev`: Vite on :5173 with the API of a running server behind it.
  server: {
    proxy: {
      '/api': server,
      '/assets': server,
      '/ws': { target: server, ws: true },
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
