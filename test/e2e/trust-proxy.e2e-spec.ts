import request from 'supertest';
import { startTestApp, TestApp } from '../support/test-app';

describe('failed-authentication limit behind a proxy (TRUST_PROXY)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true', AUTH_FAILURE_LIMIT_PER_MINUTE: '2' });
  });
  afterAll(() => t.close());

  const attempt = (ip: string) =>
    request(t.http).get('/api/v1/sessions').set('X-Forwarded-For', ip).set('Authorization', 'Bearer not-a-credential');

  it('counts failures per forwarded client IP, not per proxy', async () => {
    expect((await attempt('203.0.113.7')).status).toBe(401);
    expect((await attempt('203.0.113.7')).status).toBe(401);
    const limited = await attempt('203.0.113.7');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect((await attempt('198.51.100.9')).status).toBe(401);
  });
});
