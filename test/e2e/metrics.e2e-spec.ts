import request from 'supertest';
import { startTestApp, TestApp } from '../support/test-app';

describe('metrics', () => {
  describe('with METRICS_TOKEN set', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ METRICS_TOKEN: 'scrape-secret' });
    });
    afterAll(() => t.close());

    it('answers 401 in the envelope without the token or with another one', async () => {
      for (const auth of [undefined, 'Bearer wrong', 'scrape-secret', 'Bearer scrape-secret2']) {
        const req = request(t.http).get('/metrics');
        const res = auth ? await req.set('Authorization', auth) : await req;
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('unauthorized');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    });

    it('serves Prometheus text whose request histogram moves with traffic, by route template', async () => {
      const scrape = () => request(t.http).get('/metrics').set('Authorization', 'Bearer scrape-secret');
      const count = (text: string, route: string, status: string): number => {
        const line = text
          .split('\n')
          .find(
            (l) =>
              l.startsWith('http_request_duration_seconds_count{') &&
              l.includes(`route="${route}"`) &&
              l.includes(`status_code="${status}"`) &&
              l.includes('method="GET"'),
          );
        return line ? Number(line.split(' ').pop()) : 0;
      };
      const before = await scrape();
      expect(before.status).toBe(200);
      expect(before.headers['content-type']).toMatch(/^text\/plain/);
      for (let i = 0; i < 3; i++) await request(t.http).get('/health/live');
      await request(t.http).get('/no/such/route');
      const after = await scrape();
      expect(count(after.text, '/health/live', '200') - count(before.text, '/health/live', '200')).toBe(3);
      expect(count(after.text, 'unmatched', '404')).toBeGreaterThanOrEqual(1);
      expect(after.text).not.toContain('/no/such/route');
      for (const name of ['http_requests_in_flight', 'db_pool_connections', 'process_resident_memory_bytes', 'gateway_sessions']) {
        expect(after.text).toContain(`# TYPE ${name} `);
      }
    });

    it('is not part of the public API document', async () => {
      const doc = await request(t.http).get('/docs-json');
      expect(Object.keys(doc.body.paths)).not.toContain('/metrics');
    });
  });

  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp();
    });
    afterAll(() => t.close());

    it('answers 404 as for any unknown route', async () => {
      const res = await request(t.http).get('/metrics').set('Authorization', 'Bearer anything');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: 'route not found', details: {} } });
    });
  });
});
