/** Unit tests (pure logic) and end-to-end tests (the real app on a real PostgreSQL). */
const tsJest = [
  'ts-jest',
  {
    tsconfig: 'tsconfig.json',
    diagnostics: false,
    // The same @nestjs/swagger plugin the build uses, so the tested OpenAPI document is the real one.
    astTransformers: { before: ['<rootDir>/test/support/swagger-plugin.transformer.js'] },
  },
];

const common = {
  rootDir: __dirname,
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};

// Unit tests need no type information (and no OpenAPI document): each file is transpiled on its
// own, without the language service that costs every worker seconds to start.
const transpileOnly = ['ts-jest', { tsconfig: { isolatedModules: true }, diagnostics: false }];

module.exports = {
  maxWorkers: 2,
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.spec.ts'], transform: { '^.+\\.ts$': transpileOnly } },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
};
