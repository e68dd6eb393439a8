/**
 * What to do when a session's WhatsApp socket closes, from Baileys' `DisconnectReason` codes
 * (`lastDisconnect.error.output.statusCode`):
 *
 * - 401 loggedOut: the number removed this device. Stop, forget the credentials (the stored copy
 *   stays), status `logged_out`.
 * - 515 restartRequired: WhatsApp asks for a fresh socket (right after pairing). Reconnect now.
 * - 440 connectionReplaced: another client opened the same credentials. Reconnecting would take
 *   the number back and forth between the two, so stop with status `disconnected`.
 * - 403 forbidden (banned or blocked account), 411 multideviceMismatch, 500 badSession (a stream
 *   error or failure WhatsApp sent): stop with status `failed`; retrying cannot fix them.
 * - anything else (408 timed out or connection lost, 428 closed, 503 unavailable, network
 *   errors): transient, reconnect with capped exponential backoff and jitter.
 *
 * Baileys reports every transport error as `WebSocket Error (…)` and gives those without an
 * errno code 500 too, so a transport error is always transient whatever its code: a network that
 * is down must never turn a session into `failed`.
 */

export type CloseAction = 'logged-out' | 'restart' | 'replaced' | 'failed' | 'retry';

const LOGGED_OUT = 401;
const FORBIDDEN = 403;
const MULTIDEVICE_MISMATCH = 411;
const CONNECTION_REPLACED = 440;
const BAD_SESSION = 500;
const RESTART_REQUIRED = 515;

interface CloseError {
  message?: unknown;
  output?: { statusCode?: unknown };
}

/** The Baileys close code of an error, when it carries one. */
export function closeCodeOf(error: unknown): number | null {
  const code = (error as CloseError | null | undefined)?.output?.statusCode;
  return typeof code === 'number' ? code : null;
}

export function classifyClose(error: unknown): CloseAction {
  const message = (error as CloseError | null | undefined)?.message;
  if (typeof message === 'string' && message.startsWith('WebSocket Error')) return 'retry';
  switch (closeCodeOf(error)) {
    case LOGGED_OUT:
      return 'logged-out';
    case RESTART_REQUIRED:
      return 'restart';
    case CONNECTION_REPLACED:
      return 'replaced';
    case FORBIDDEN:
    case MULTIDEVICE_MISMATCH:
    case BAD_SESSION:
      return 'failed';
    default:
      return 'retry';
  }
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before reconnect attempt `attempt` (0-based): `base · 2^attempt`, capped at `max`, of
 * which a random half is taken off ("equal jitter") so that sessions cut by one network outage do
 * not all come back in the same instant. `random` is in [0, 1).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: number): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
