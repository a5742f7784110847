/**
 * Who the bot serves. Only chats listed in the configuration are answered; each has a role, and every
 * member of a group chat acts with the group's role. A `viewer` reads; an `operator` may also halt,
 * resume and reconcile.
 */
export const ROLES = ['viewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface ChatConfig {
  chatId: number;
  role: Role;
}

/**
 * Parses `123456789:operator,-1001234567890:viewer` (a private chat's id is the user's id; a group's is
 * negative). Returns the chats or every problem.
 */
export function parseChats(
  spec: string,
): { ok: true; chats: ChatConfig[] } | { ok: false; problems: string[] } {
  const chats: ChatConfig[] = [];
  const problems: string[] = [];
  const seen = new Set<number>();
  const parts = spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (parts.length === 0) problems.push('names no chat; e.g. 123456789:operator');
  for (const part of parts) {
    const [id, role, ...rest] = part.split(':').map((item) => item.trim());
    if (!id || !role || rest.length > 0) {
      problems.push(`"${part}" is not <chat id>:<role>, e.g. 123456789:operator`);
      continue;
    }
    if (!/^-?\d{1,20}$/.test(id) || !Number.isSafeInteger(Number(id))) {
      problems.push(`"${id}" is not a chat id (an integer; groups are negative)`);
      continue;
    }
    if (!(ROLES as readonly string[]).includes(role)) {
      problems.push(`"${role}" is not a role for chat ${id} (viewer or operator)`);
      continue;
    }
    const chatId = Number(id);
    if (seen.has(chatId)) {
      problems.push(`chat ${id} is listed twice`);
      continue;
    }
    seen.add(chatId);
    chats.push({ chatId, role: role as Role });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, chats };
}

/** A group chat (negative id): Telegram allows it about 20 messages a minute rather than one a second. */
export function isGroupChat(chatId: number): boolean {
  return chatId < 0;
}
