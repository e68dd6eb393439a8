import { groupAnswer, inviteLinkAnswer, lookupAnswer, participantsAnswer, pictureAnswer } from '../../src/whatsapp/external/connector-answers';

const GROUP = '120363025246125486@g.us';
const unavailable = expect.objectContaining({ code: 'unavailable', message: expect.stringMatching(/^the connector gave a malformed answer: /) });

function problem(parse: () => unknown): unknown {
  try {
    parse();
  } catch (error) {
    return error;
  }
  return 'no error';
}

describe("connector answers (API.md §4, §10)", () => {
  it('takes a lookup answer in any order and serves it in the order asked', () => {
    const body = {
      data: [
        { phoneNumber: '6289999999999', exists: false, jid: null },
        { phoneNumber: '6281234567890', exists: true, jid: '6281234567890@s.whatsapp.net' },
      ],
    };
    expect(lookupAnswer(body, ['6281234567890', '6289999999999'])).toEqual([body.data[1], body.data[0]]);
  });

  it.each([
    ['not an object', []],
    ['no data', {}],
    ['a number missing', { data: [{ phoneNumber: '6281234567890', exists: false, jid: null }] }],
    ['a number not asked', { data: [{ phoneNumber: '6281234567890', exists: false, jid: null }, { phoneNumber: '1', exists: false, jid: null }] }],
    ['a number twice', { data: [{ phoneNumber: '6281234567890', exists: false, jid: null }, { phoneNumber: '6281234567890', exists: false, jid: null }] }],
    ['exists without a JID', { data: [{ phoneNumber: '6281234567890', exists: true, jid: null }, { phoneNumber: '6289999999999', exists: false, jid: null }] }],
    ['a JID without an account', { data: [{ phoneNumber: '6281234567890', exists: false, jid: '6281234567890@s.whatsapp.net' }, { phoneNumber: '6289999999999', exists: false }] }],
    ['exists as text', { data: [{ phoneNumber: '6281234567890', exists: 'yes', jid: null }, { phoneNumber: '6289999999999', exists: false, jid: null }] }],
  ])('refuses a lookup answer with %s', (_, body) => {
    expect(problem(() => lookupAnswer(body, ['6281234567890', '6289999999999']))).toEqual(unavailable);
  });

  it('takes pictures and invite links only as URLs', () => {
    expect(pictureAnswer({ url: 'https://pps.whatsapp.net/v/x.jpg' })).toBe('https://pps.whatsapp.net/v/x.jpg');
    expect(pictureAnswer({ url: null })).toBeNull();
    expect(problem(() => pictureAnswer({ url: 'javascript:alert(1)' }))).toEqual(unavailable);
    expect(problem(() => pictureAnswer('https://x'))).toEqual(unavailable);
    expect(inviteLinkAnswer({ url: 'https://chat.whatsapp.com/AbC123' })).toBe('https://chat.whatsapp.com/AbC123');
    expect(problem(() => inviteLinkAnswer({ url: 'https://evil.example/AbC123' }))).toEqual(unavailable);
  });

  it('takes a group as §10 shows it, defaulting what may be left out', () => {
    const participants = [{ id: '215492034568291@lid', phoneNumber: null, role: 'superadmin' }, { id: '6281234567890@s.whatsapp.net', phoneNumber: '6281234567890', role: 'member' }];
    expect(groupAnswer({ id: GROUP, subject: 'Keluarga', participants }, GROUP)).toEqual({
      id: GROUP,
      subject: 'Keluarga',
      description: null,
      ownerId: null,
      createdAt: null,
      announce: false,
      restrict: false,
      participants,
    });
  });

  it.each([
    ['another group', { id: '120363000000000001@g.us', participants: [] }],
    ['a person as the group', { id: '6281234567890@s.whatsapp.net', participants: [] }],
    ['no participants', { id: GROUP }],
    ['a participant that is not a person', { id: GROUP, participants: [{ id: GROUP, role: 'member' }] }],
    ['an unknown role', { id: GROUP, participants: [{ id: '6281234567890@s.whatsapp.net', role: 'owner' }] }],
    ['a subject with a NUL', { id: GROUP, subject: 'a\u0000b', participants: [] }],
    ['a subject too long', { id: GROUP, subject: 'x'.repeat(257), participants: [] }],
    ['a float createdAt', { id: GROUP, createdAt: 1.5, participants: [] }],
  ])('refuses a group answer with %s', (_, body) => {
    expect(problem(() => groupAnswer(body, GROUP))).toEqual(unavailable);
  });

  it('takes participant results that fit the action', () => {
    const body = { data: [{ phoneNumber: '6281234567890', result: 'invited', reason: 'privacy' }] };
    expect(participantsAnswer(body, 'add', ['6281234567890'])).toEqual(body.data);
    expect(problem(() => participantsAnswer(body, 'remove', ['6281234567890']))).toEqual(unavailable);
    expect(participantsAnswer({ data: [{ phoneNumber: '6281234567890', result: 'removed' }] }, 'remove', ['6281234567890'])).toEqual([
      { phoneNumber: '6281234567890', result: 'removed', reason: null },
    ]);
  });
});
