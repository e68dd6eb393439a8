/** The event types of the event log (API.md §7). */
export const EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.deleted',
  'chat.created',
  'chat.updated',
  'chat.deleted',
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'session.created',
  'session.updated',
  'session.deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
