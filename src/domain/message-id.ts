/** Message ids as the stored copy accepts them (WhatsApp's ids, and the gateway's own). */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;
