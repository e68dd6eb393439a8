import fc from 'fast-check';
import { CHAT_ID_SCHEMA, chatJidOf } from '../../src/chats/chat-id';
import { furtherStatus } from '../../src/domain/message-status';
import { messageIdOf } from '../../src/messages/message-id';
import { isSessionId } from '../../src/sessions/session-id';
import { chatTypeOf, isUserJid } from '../../src/domain/jid';

describe('ids', () => {
  it('accepts only canonical upper-case ULIDs as session ids', () => {
    expect(isSessionId('01HF7Z3K8Q2V5N9T4W6X0Y1B2C')).toBe(true);
    expect(isSessionId('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(true);
    for (const bad of ['01hf7z3k8q2v5n9t4w6x0y1b2c', '01HF7Z3K8Q2V5N9T4W6X0Y1B2', '01HF7Z3K8Q2V5N9T4W6X0Y1B2CC', '8ZZZZZZZZZZZZZZZZZZZZZZZZZ', '01HF7Z3K8Q2V5N9T4W6X0Y1B2I', '01HF7Z3K8Q2V5N9T4W6X0Y1B2U', '']) {
      expect(isSessionId(bad)).toBe(false);
    }
  });

  it('reads chat JIDs and their type', () => {
    expect(chatJidOf('6281234567890@s.whatsapp.net')).toBe('6281234567890@s.whatsapp.net');
    expect(chatJidOf('6281234567890%40s.whatsapp.net')).toBeNull();
    expect(chatJidOf('status@broadcast')).toBeNull();
    expect(chatTypeOf('120363025246125888@g.us')).toBe('group');
    expect(chatTypeOf('6281234567890-1600000000@g.us')).toBe('group');
    expect(chatTypeOf('6281234567890@s.whatsapp.net')).toBe('direct');
    expect(chatTypeOf('123456789012345@lid')).toBe('direct');
    expect(isUserJid('123456789012345@lid')).toBe(true);
    expect(isUserJid('120363025246125888@g.us')).toBe(false);
  });

  it('documents the chat ids it accepts: the pattern and bounds of `cid` agree with the check', () => {
    const documented = new RegExp(CHAT_ID_SCHEMA.pattern);
    const digits = (max: number) => fc.stringMatching(new RegExp(`^[0-9]{0,${max}}$`));
    const jidLike = fc
      .tuple(digits(26), fc.constantFrom('', '-'), digits(26), fc.constantFrom('@s.whatsapp.net', '@g.us', '@lid', '@c.us', '@broadcast', ''))
      .map(([a, dash, b, server]) => `${a}${dash}${dash ? b : ''}${server}`);
    fc.assert(
      fc.property(fc.oneof(jidLike, fc.string({ maxLength: 60 })), (cid) => {
        const accepted = chatJidOf(cid) !== null;
        expect([cid, documented.test(cid)]).toEqual([cid, accepted]);
        if (accepted) expect(cid.length).toBeGreaterThanOrEqual(CHAT_ID_SCHEMA.minLength);
        if (accepted) expect(cid.length).toBeLessThanOrEqual(CHAT_ID_SCHEMA.maxLength);
      }),
      { numRuns: 2000 },
    );
    expect(chatJidOf(`${'9'.repeat(24)}-${'9'.repeat(24)}@g.us`)).not.toBeNull();
    expect(chatJidOf('0@lid')).not.toBeNull();
  });

  it('reads message ids', () => {
    expect(messageIdOf('3EB0C1A2B3C4D5E6')).toBe('3EB0C1A2B3C4D5E6');
    expect(messageIdOf('true_6281234567890@c.us_3EB0')).toBe('true_6281234567890@c.us_3EB0');
    expect(messageIdOf('a b')).toBeNull();
    expect(messageIdOf('a\u0000')).toBeNull();
  });

  it('moves message statuses forward only', () => {
    expect(furtherStatus(undefined, 'delivered')).toBe('delivered');
    expect(furtherStatus('read', 'delivered')).toBe('read');
    expect(furtherStatus('sent', 'played')).toBe('played');
    expect(furtherStatus('failed', 'sent')).toBe('sent');
    expect(furtherStatus('sent', 'failed')).toBe('sent');
    expect(furtherStatus('pending', 'failed')).toBe('failed');
  });
});
