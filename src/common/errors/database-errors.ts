/** SQLSTATE classes that mean "the database is not there right now", not "the query is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3])/;

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'the database system is',
];

const UNAVAILABLE_SYSCALL_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/** TypeORM's own errors for a connection that was lost under a running transaction. */
const UNAVAILABLE_ERROR_NAMES = new Set(['QueryRunnerAlreadyReleasedError', 'ConnectionIsNotSetError']);

/** True when an error (possibly wrapped by TypeORM) says PostgreSQL cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current !== 'object') return false;
    const e = current as { name?: unknown; code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof e.name === 'string' && UNAVAILABLE_ERROR_NAMES.has(e.name)) return true;
    if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_SYSCALL_CODES.has(e.code))) {
      return true;
    }
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => (e.message as string).includes(m))) {
      return true;
    }
    if (cannotServeNow(e.code, e.message)) return true;
    current = e.driverError ?? e.cause;
  }
  return false;
}

/**
 * SQLSTATEs by which PostgreSQL refuses a value rather than the query: text it cannot hold (NUL,
 * bytes that are not UTF-8), text too long for its column, a `\u0000` in `jsonb`, and a CHECK
 * constraint. Validation should have caught each; when it did not, the client sent the value,
 * so the answer is 422, not 500.
 */
const REFUSED_VALUE_SQLSTATES: Record<string, string> = {
  '22021': 'a value is not valid Unicode text or contains NUL',
  '22001': 'a value is too long',
  '22P05': 'a value contains a character the database cannot store',
  '23514': 'a value is out of range',
};

/** What the database refused about a value (possibly wrapped by TypeORM), or null. */
export function databaseRefusedValue(error: unknown): string | null {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current !== 'object') return null;
    const e = current as { code?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && Object.hasOwn(REFUSED_VALUE_SQLSTATES, e.code)) return REFUSED_VALUE_SQLSTATES[e.code];
    current = e.driverError ?? e.cause;
  }
  return null;
}

// --- The database answers but cannot serve now: refusals and timeouts (503 with Retry-After). ---

/**
 * `57014` query_canceled (`statement_timeout`), `55P03` lock_not_available (`lock_timeout`),
 * `57P04` database_dropped, `57P05` idle_session_timeout.
 */
const CANNOT_SERVE_NOW_SQLSTATE = new Set(['57014', '55P03', '57P04', '57P05']);
/** `55000` is also "object not in prerequisite state" for bugs; only this one is a refusal. */
const NOT_ACCEPTING_CONNECTIONS = 'is not currently accepting connections';

function cannotServeNow(code: unknown, message: unknown): boolean {
  if (typeof code !== 'string') return false;
  if (CANNOT_SERVE_NOW_SQLSTATE.has(code)) return true;
  return code === '55000' && typeof message === 'string' && message.includes(NOT_ACCEPTING_CONNECTIONS);
}
