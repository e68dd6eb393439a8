/**
 * WhatsApp JIDs the stored copy accepts as chats: direct (`<digits>@s.whatsapp.net`), group
 * (`<digits>@g.us` or the older `<digits>-<digits>@g.us`) and hidden-number users
 * (`<digits>@lid`). Broadcast lists, status updates (`status@broadcast`) and newsletters are not
 * chats of this API: a provider leaves them out before ingesting.
 */
export const CHAT_JID_PATTERN = /^(?:[0-9]{1,24}@s\.whatsapp\.net|[0-9]{1,24}(?:-[0-9]{1,24})?@g\.us|[0-9]{1,24}@lid)$/;
/** A person: who sent a message in a group or a direct chat. */
export const USER_JID_PATTERN = /^[0-9]{1,24}@(?:s\.whatsapp\.net|lid)$/;

/** A group chat. */
export const GROUP_JID_PATTERN = /^[0-9]{1,24}(?:-[0-9]{1,24})?@g\.us$/;
/** A person's privacy id, which hides their number. */
export const LID_PATTERN = /^[0-9]{1,24}@lid$/;

export type ChatType = 'direct' | 'group';

export function isChatJid(value: unknown): value is string {
  return typeof value === 'string' && CHAT_JID_PATTERN.test(value);
}

export function isUserJid(value: unknown): value is string {
  return typeof value === 'string' && USER_JID_PATTERN.test(value);
}

/** The type of a chat, from its JID (which `isChatJid` accepted). */
export function chatTypeOf(jid: string): ChatType {
  return jid.endsWith('@g.us') ? 'group' : 'direct';
}

/** The JID of the person with phone number `digits`. */
export function userJidOf(digits: string): string {
  return `${digits}@s.whatsapp.net`;
}

/** The digits of a phone-number JID (`<digits>@s.whatsapp.net`); null for any other JID. */
export function phoneNumberOfJid(jid: string | null | undefined): string | null {
  return jid?.endsWith('@s.whatsapp.net') ? jid.slice(0, -'@s.whatsapp.net'.length) : null;
}
