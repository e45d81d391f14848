import { defineConfig } from 'vitest/config';

// The browser flows against the real stack, started by e2e/test_dashboard.py (which sets E2E_BASE_URL).
const specs = ['e2e/campaign-flow.e2e.ts', 'e2e/invalid-template.e2e.ts', 'e2e/sign-in-wrong-key.e2e.ts'];

export default defineConfig({
  test: {
    environment: 'node',
    include: specs,
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ['verbose'],
  },
});
