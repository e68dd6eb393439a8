import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The browser tests drive Debian's Chromium, which the machine provides (`.ci/run` installs it);
 * a test never installs anything itself.
 */
export function chromiumExecutable(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  throw new Error(
    `Chromium not found at ${CHROMIUM_PATH}: install Debian's "chromium" package (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
  );
}

/** Flags for a headless Chromium on a machine without a network or a display. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
