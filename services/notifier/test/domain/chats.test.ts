import { parseChats } from '../../src/domain/chats';
import { DEFAULT_LEVELS, parseLevels } from '../../src/domain/notifications';

describe('parseChats', () => {
  it('reads private and group chats with their roles', () => {
    expect(parseChats(' 123456789:operator, -1001234567890:viewer ')).toEqual({
      ok: true,
      chats: [
        { chatId: 123456789, role: 'operator' },
        { chatId: -1001234567890, role: 'viewer' },
      ],
    });
  });

  it.each([
    ['', 'names no chat; e.g. 123456789:operator'],
    ['123', '"123" is not <chat id>:<role>, e.g. 123456789:operator'],
    ['abc:viewer', '"abc" is not a chat id (an integer; groups are negative)'],
    ['123:admin', '"admin" is not a role for chat 123 (viewer or operator)'],
    ['123:viewer,123:operator', 'chat 123 is listed twice'],
    ['123:viewer:extra', '"123:viewer:extra" is not <chat id>:<role>, e.g. 123456789:operator'],
  ])('rejects %j: %s', (spec, problem) => {
    expect(parseChats(spec)).toEqual({ ok: false, problems: [problem] });
  });
});

describe('parseLevels', () => {
  it('overrides the defaults it names and keeps the rest', () => {
    const parsed = parseLevels('fills=silent, daily_summary=off');
    expect(parsed).toEqual({
      ok: true,
      levels: { ...DEFAULT_LEVELS, fills: 'silent', daily_summary: 'off' },
    });
  });

  it('names every bad part', () => {
    expect(parseLevels('fills=loud,trades=on,gateway')).toEqual({
      ok: false,
      problems: [
        '"loud" is not a level for fills (on, silent or off)',
        '"trades" is not a notification (one of fills, rejections, trading_state, reconciliation, gateway, system, daily_summary, reauth_reminder)',
        '"gateway" is not <notification>=<level>',
      ],
    });
  });
});
