/** Types of test-database.js, for TypeScript scripts (benchmarks) that reuse it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * `serverUrl`: any database URL of the server to create it on (default: TEST_DATABASE_URL,
 * DATABASE_URL, local). `durable: false` commits without waiting for the disk (tests).
 */
export function createTestDatabase(label?: string, serverUrl?: string, options?: { durable?: boolean }): Promise<TestDatabase>;
