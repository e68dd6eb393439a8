import autocannon from 'autocannon';

/** One HTTP scenario: a fixed request, or requests built per call. */
export interface HttpScenario {
  name: string;
  method?: 'GET' | 'PATCH' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** Builds each request (path, body) when it must change from call to call. */
  setupRequest?: autocannon.Request['setupRequest'];
}

export interface HttpResult {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx, plus requests that got no answer (errors, timeouts). */
  errors: number;
}

/** Drives one scenario with autocannon, in this process, for `seconds` at `connections`. */
export async function runHttpScenario(
  baseUrl: string,
  scenario: HttpScenario,
  settings: { connections: number; seconds: number },
): Promise<HttpResult> {
  const request: autocannon.Request = { method: scenario.method ?? 'GET', path: scenario.path };
  // autocannon calls `setupRequest` whenever the key is present, even when undefined.
  if (scenario.setupRequest) request.setupRequest = scenario.setupRequest;
  const result = await autocannon({
    url: baseUrl,
    connections: settings.connections,
    duration: settings.seconds,
    timeout: 10,
    headers: scenario.headers,
    requests: [request],
  });
  return {
    name: scenario.name,
    requests: result.requests.total,
    seconds: settings.seconds,
    rps: result.requests.total / settings.seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.non2xx + result.errors,
  };
}

/**
 * One result from the rounds of a scenario: throughput over all of them, the median of the
 * medians, and the worst p99 (a slow round is not averaged away).
 */
export function combineRounds(rounds: HttpResult[]): HttpResult {
  const requests = rounds.reduce((sum, r) => sum + r.requests, 0);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const p50s = rounds.map((r) => r.p50Ms).sort((a, b) => a - b);
  return {
    name: rounds[0].name,
    requests,
    seconds,
    rps: requests / seconds,
    p50Ms: p50s[Math.floor(p50s.length / 2)],
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}
