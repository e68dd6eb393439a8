/**
 * The replica suite: several built gateways (`dist/gateway.js` through a test-only entry with
 * stand-in WhatsApp sockets) on one PostgreSQL of their own, which the tests kill, freeze and
 * add to. One file at a time, with long timeouts.
 */
module.exports = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/ts-transformer.js' },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/replicas/**/*.replicas-spec.ts'],
  maxWorkers: 1,
  testTimeout: 600_000,
};
