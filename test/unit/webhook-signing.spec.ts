import { Webhook } from 'standardwebhooks';
import { parseDeliveryId, toDeliveryId } from '../../src/webhooks/delivery-id';
import { generateWebhookSecret, webhookSignature } from '../../src/webhooks/webhook-signer';
import { backoffDelayMs, DEFAULT_WEBHOOK_TUNING } from '../../src/webhooks/webhook-tuning';

describe('webhook signing', () => {
  it('signs exactly as the reference implementation does', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = '{"id":"evt_1","data":{"text":"halo 😀"}}';
    const at = new Date(1_732_400_000_000);
    expect(webhookSignature([secret], 'evt_1', 1_732_400_000, body)).toBe(new Webhook(secret).sign('evt_1', at, body));
  });

  it('puts one signature per secret, space-separated, and each verifies', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = webhookSignature([current, previous], 'evt_2', timestamp, '{}');
    expect(signature.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'evt_2', 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
    for (const secret of [current, previous]) expect(new Webhook(secret).verify('{}', headers)).toEqual({});
    expect(() => new Webhook(generateWebhookSecret()).verify('{}', headers)).toThrow();
  });
});

describe('webhook backoff', () => {
  it('follows the schedule, repeats its last step, and jitters within ±20 %', () => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempts) => backoffDelayMs(DEFAULT_WEBHOOK_TUNING, attempts, () => 0.5));
    expect(steps).toEqual([5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 7_200_000, 7_200_000]);
    expect(backoffDelayMs(DEFAULT_WEBHOOK_TUNING, 1, () => 0)).toBe(4_000);
    expect(backoffDelayMs(DEFAULT_WEBHOOK_TUNING, 1, () => 1)).toBe(6_000);
    // The schedule keeps retrying for a day before a delivery may be given up.
    const total = Array.from({ length: 18 }, (_, i) => backoffDelayMs(DEFAULT_WEBHOOK_TUNING, i + 1, () => 0.5)).reduce((a, b) => a + b);
    expect(total).toBeGreaterThan(24 * 3_600_000);
  });
});

describe('delivery ids', () => {
  it('round-trips a sequence number and refuses anything else', () => {
    expect(parseDeliveryId(toDeliveryId('4821'))).toBe('4821');
    for (const id of ['dlv_0', 'dlv_01', 'dlv_', 'dlv_1e3', 'DLV_1', '1', 'dlv_1234567890123456789', 'dlv_-1']) {
      expect([id, parseDeliveryId(id)]).toEqual([id, null]);
    }
  });
});
