import { defineConfig } from 'vitest/config';

// Unit tests: pure parsers, rules and renderers over captured fixtures. No root, no network.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
  },
});
