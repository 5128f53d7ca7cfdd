// Builds the dashboard to web/dist, which the API serves at / (api/app.ts).
// `npx vite build --config web/vite.config.ts` (scripts/web-build.sh, run by setup, skips it
// when nothing changed); `npx vite --config web/vite.config.ts` serves it with live reload,
// proxying /v1 to the API (FLOTILLA_API, default http://127.0.0.1:8080).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const api = env.FLOTILLA_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/v1': api, '/dashboard-config.json': api } },
  logLevel: 'warn',
});
