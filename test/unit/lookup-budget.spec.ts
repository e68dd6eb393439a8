import { LookupBudget } from '../../src/contacts/lookup-budget';

describe('lookup budget (LOOKUP_RATE_PER_MINUTE)', () => {
  let now = 1_732_400_000_000 - (1_732_400_000_000 % 60_000) + 15_000;
  const budget = new LookupBudget(3, () => now);

  it('grants a session numbers all or none, up to the limit per clock minute, each session its own', () => {
    expect(budget.take('a', 2)).toEqual({ granted: true, retryAfterSeconds: 45 });
    expect(budget.take('a', 2)).toEqual({ granted: false, retryAfterSeconds: 45 });
    expect(budget.take('a', 1).granted).toBe(true);
    expect(budget.take('a', 1).granted).toBe(false);
    expect(budget.take('b', 3).granted).toBe(true);
    now += 44_500;
    expect(budget.take('a', 1)).toEqual({ granted: false, retryAfterSeconds: 1 });
    now += 1_000;
    expect(budget.take('a', 3).granted).toBe(true);
  });

  it('counts nothing with limit 0', () => {
    const unlimited = new LookupBudget(0, () => now);
    for (let i = 0; i < 10; i++) expect(unlimited.take('a', 50).granted).toBe(true);
  });
});
