/** Types of test-database.js, for TypeScript scripts (benchmarks) that reuse it. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export function createTestDatabase(label?: string): Promise<TestDatabase>;
