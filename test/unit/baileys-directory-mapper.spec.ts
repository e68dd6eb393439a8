import type { BaileysEventMap, BinaryNode, Contact, GroupMetadata } from 'baileys';
import {
  addRequestOf,
  alignAnswers,
  mapContacts,
  mapContactUpdates,
  mapGroupParticipantsUpdate,
  mapGroupsUpsert,
  mapGroupUpdates,
  mapHistoryDirectory,
  mapLidMapping,
  matchLookups,
  participantResult,
  toProviderGroup,
  whatsappErrorCode,
} from '../../src/whatsapp/baileys/baileys-directory-mapper';
import { loadFixture } from '../fixtures/baileys/load-fixture';

const FAMILY = '120363025246125486@g.us';

describe('Baileys directory mapping: contacts and LID mappings', () => {
  it('keys a contact by its number, with the LID beside it, and leaves out what is not a person', () => {
    expect(mapContacts(loadFixture<Contact[]>('contacts-upsert.json'))).toEqual([
      { type: 'contact.upsert', contact: { id: '6281234567890@s.whatsapp.net', lid: '215492034568291@lid', name: 'Budi Santoso', pushName: 'Budi' } },
      // A LID contact whose number Baileys knows: keyed by the number; a verified name is a business.
      { type: 'contact.upsert', contact: { id: '6285711223344@s.whatsapp.net', lid: '102938475610293@lid', pushName: 'Toko Sari', isBusiness: true } },
      // The number is hidden: the LID is the key until it is revealed.
      { type: 'contact.upsert', contact: { id: '998877665544332@lid', pushName: 'Anon' } },
    ]);
  });

  it('maps contact updates to what they change, without device suffixes, and skips a picture change alone', () => {
    expect(mapContactUpdates(loadFixture<Partial<Contact>[]>('contacts-update.json'))).toEqual([
      { type: 'contact.upsert', contact: { id: '6281234567890@s.whatsapp.net', pushName: 'Budi S.' } },
    ]);
  });

  it('maps a revealed LID to its number (device suffixes dropped), and nothing for a half mapping', () => {
    expect(mapLidMapping(loadFixture<{ lid: string; pn: string }>('lid-mapping-update.json'))).toEqual({
      type: 'contact.upsert',
      contact: { id: '6289900112233@s.whatsapp.net', lid: '998877665544332@lid' },
    });
    expect(mapLidMapping({ lid: '998877665544332@lid', pn: '' })).toBeNull();
    expect(mapLidMapping({ lid: '6289900112233@s.whatsapp.net', pn: '6289900112233@s.whatsapp.net' })).toBeNull();
  });

  it('takes the contacts and LID mappings of a history sync', () => {
    const payload = {
      chats: [],
      messages: [],
      contacts: [{ id: '6281234567890@s.whatsapp.net', name: 'Budi' }],
      lidPnMappings: [{ lid: '215492034568291@lid', pn: '6281234567890@s.whatsapp.net' }],
    } as unknown as BaileysEventMap['messaging-history.set'];
    expect(mapHistoryDirectory(payload)).toEqual([
      { type: 'contact.upsert', contact: { id: '6281234567890@s.whatsapp.net', name: 'Budi' } },
      { type: 'contact.upsert', contact: { id: '6281234567890@s.whatsapp.net', lid: '215492034568291@lid' } },
    ]);
  });
});

describe('Baileys directory mapping: groups', () => {
  const groups = loadFixture<GroupMetadata[]>('groups-upsert.json');

  it('maps whole group metadata: owner by number, creation in ms, roles, and numbers of LID participants when revealed', () => {
    expect(toProviderGroup(groups[0])).toEqual({
      id: FAMILY,
      subject: 'Keluarga Besar 2025',
      description: 'Grup keluarga',
      ownerId: '6281234567890@s.whatsapp.net',
      createdAt: 1_732_300_000_000,
      announce: false,
      restrict: true,
      participants: [
        { id: '215492034568291@lid', phoneNumber: '6281234567890', role: 'superadmin' },
        { id: '102938475610293@lid', phoneNumber: null, role: 'admin' },
        { id: '6285611112222@s.whatsapp.net', phoneNumber: '6285611112222', role: 'member' },
      ],
    });
    expect(toProviderGroup({ ...groups[0], id: '6281234567890@s.whatsapp.net' })).toBeNull();
  });

  it('maps groups.upsert to the LID mappings its participants reveal, then the whole group', () => {
    const events = mapGroupsUpsert(groups);
    expect(events.slice(0, 2)).toEqual([
      { type: 'contact.upsert', contact: { id: '6281234567890@s.whatsapp.net', lid: '215492034568291@lid' } },
      { type: 'contact.upsert', contact: { id: '6285611112222@s.whatsapp.net', lid: '554433221100998@lid' } },
    ]);
    expect(events[2]).toEqual({ type: 'group.upsert', group: toProviderGroup(groups[0]) });
    expect(events).toHaveLength(3);
  });

  it('maps groups.update to the fields each update carries', () => {
    expect(mapGroupUpdates(loadFixture<Partial<GroupMetadata>[]>('groups-update.json'))).toEqual([
      { type: 'group.upsert', group: { id: FAMILY, subject: 'Keluarga Besar 2025' } },
      { type: 'group.upsert', group: { id: FAMILY, announce: true } },
    ]);
    expect(mapGroupUpdates([{ id: FAMILY, author: '6285611112222@s.whatsapp.net' }])).toEqual([]);
  });

  it('maps group-participants.update, and leaves out number changes (modify)', () => {
    const update = loadFixture<BaileysEventMap['group-participants.update']>('group-participants-update.json');
    expect(mapGroupParticipantsUpdate(update)).toEqual([
      { type: 'contact.upsert', contact: { id: '6287712345678@s.whatsapp.net', lid: '443322110099887@lid' } },
      {
        type: 'group.participants',
        groupId: FAMILY,
        action: 'add',
        participants: [
          { id: '443322110099887@lid', phoneNumber: '6287712345678' },
          { id: '6285611112222@s.whatsapp.net', phoneNumber: '6285611112222' },
        ],
      },
    ]);
    expect(mapGroupParticipantsUpdate({ ...update, action: 'modify' })).toEqual([]);
  });
});

describe('Baileys directory answers', () => {
  it('matches lookups by JID; a missing answer is no account; rewritten numbers are left to ask alone', () => {
    const { results, leftOver } = matchLookups(['6281234567890', '6289999999999'], [{ jid: '6281234567890@s.whatsapp.net', exists: true }]);
    expect([...results.values()]).toEqual([
      { phoneNumber: '6281234567890', exists: true, jid: '6281234567890@s.whatsapp.net' },
      { phoneNumber: '6289999999999', exists: false, jid: null },
    ]);
    expect(leftOver).toEqual([]);
    // One unmatched number and one unmatched answer can only be each other.
    expect(matchLookups(['5511987654321'], [{ jid: '551187654321@s.whatsapp.net', exists: true }]).results.get('5511987654321')).toEqual({
      phoneNumber: '5511987654321',
      exists: true,
      jid: '551187654321@s.whatsapp.net',
    });
    const ambiguous = matchLookups(['5511987654321', '5511912345678', '6281234567890'], [
      { jid: '551187654321@s.whatsapp.net', exists: true },
      { jid: '6281234567890@s.whatsapp.net', exists: true },
    ]);
    expect(ambiguous.leftOver).toEqual(['5511987654321', '5511912345678']);
    expect(ambiguous.results.get('6281234567890')?.exists).toBe(true);
  });

  it('aligns participant answers by JID, and an answer by LID by position', () => {
    const answers = [
      { status: '200', jid: '6281234567890@s.whatsapp.net' },
      { status: '403', jid: '443322110099887@lid' },
    ];
    expect(alignAnswers(['6281234567890', '6287712345678'], answers)).toEqual(answers);
    expect(alignAnswers(['6287712345678', '6281234567890'], answers)).toEqual([answers[1], answers[0]]);
    expect(alignAnswers(['6281234567890', '6287712345678'], [answers[0]])).toEqual([answers[0], undefined]);
  });

  it('reads an add_request and maps each status to a result with a reason', () => {
    const node: BinaryNode = { tag: 'participant', attrs: { jid: '6287712345678@s.whatsapp.net', error: '403' }, content: [{ tag: 'add_request', attrs: { code: 'AbC123', expiration: '1733000000' } }] };
    expect(addRequestOf(node)).toEqual({ code: 'AbC123', expiration: 1_733_000_000 });
    expect(addRequestOf({ tag: 'participant', attrs: {} })).toBeNull();
    expect(participantResult('add', '1', { status: '200' })).toEqual({ phoneNumber: '1', result: 'added', reason: null });
    expect(participantResult('remove', '1', { status: '200' })).toEqual({ phoneNumber: '1', result: 'removed', reason: null });
    expect(participantResult('promote', '1', { status: '200' }).result).toBe('promoted');
    expect(participantResult('demote', '1', { status: '200' }).result).toBe('demoted');
    expect(participantResult('add', '1', { status: '403' }, true)).toEqual({ phoneNumber: '1', result: 'invited', reason: expect.stringContaining('invitation') });
    expect(participantResult('add', '1', { status: '409' })).toEqual({ phoneNumber: '1', result: 'failed', reason: 'already a participant' });
    expect(participantResult('add', '1', { status: '418' })).toEqual({ phoneNumber: '1', result: 'failed', reason: 'WhatsApp refused it (code 418)' });
    expect(participantResult('add', '1', undefined).result).toBe('failed');
  });

  it("reads WhatsApp's code from a Boom error", () => {
    expect(whatsappErrorCode({ isBoom: true, data: 404, output: { statusCode: 500 } })).toBe(404);
    expect(whatsappErrorCode({ isBoom: true, data: { tag: 'error' }, output: { statusCode: 403 } })).toBe(403);
    expect(whatsappErrorCode(new Error('Connection Closed'))).toBeNull();
    expect(whatsappErrorCode(undefined)).toBeNull();
  });
});
