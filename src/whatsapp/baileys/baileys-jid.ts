/**
 * A JID as WhatsApp addresses one device (`<user>:<device>@<server>`) or uses the legacy `c.us`
 * server, reduced to the JID of the user or group itself: `6281234567890:12@s.whatsapp.net` →
 * `6281234567890@s.whatsapp.net`. Group and `@lid` JIDs keep their form.
 */
export function normalizeJid(jid: string | null | undefined): string | null {
  if (!jid) return null;
  const at = jid.indexOf('@');
  if (at <= 0) return null;
  const server = jid.slice(at + 1);
  const user = jid.slice(0, at).split(':')[0];
  return `${user}@${server === 'c.us' ? 's.whatsapp.net' : server}`;
}

/** The digits of a phone-number JID (`<digits>[:<device>]@s.whatsapp.net`), else null. */
export function phoneNumberOf(jid: string | null | undefined): string | null {
  const normalized = normalizeJid(jid);
  const match = normalized ? /^(\d{1,24})@s\.whatsapp\.net$/.exec(normalized) : null;
  return match ? match[1] : null;
}
