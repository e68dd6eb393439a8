/**
 * The fault suite: the built gateway (`node dist/main.js`) as a child process on its own
 * PostgreSQL, which the tests stop, start and starve. One file at a time, with long timeouts.
 */
module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/ts-transformer.js' },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/faults/**/*.faults-spec.ts'],
  maxWorkers: 1,
  testTimeout: 180_000,
};
