import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// campaign-api serves the build under /app/ (same origin as the API, so no CORS); `npm run dev` proxies the API
const API = process.env.API_URL ?? 'http://localhost:8080';

export default defineConfig({
  base: '/app/',
  plugins: [react()],
  server: {
    proxy: { '/campaigns': API, '/customers': API },
  },
  build: { sourcemap: true },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
