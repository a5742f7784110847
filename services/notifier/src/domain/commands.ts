import type { Role } from './chats';

export interface CommandSpec {
  name: string;
  /** The least role that may run it. */
  role: Role;
  arguments?: string;
  description: string;
}

/** Every command the bot answers, in the order /help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  { name: 'status', role: 'viewer', description: 'services, trading state, gateway, P&L, reconciliation' },
  { name: 'positions', role: 'viewer', description: 'open positions' },
  { name: 'orders', role: 'viewer', description: 'open orders' },
  { name: 'trades', role: 'viewer', arguments: '[n]', description: 'the last n fills (10)' },
  {
    name: 'pnl',
    role: 'viewer',
    arguments: '[days]',
    description: "today's P&L and the equity curve (1 day)",
  },
  { name: 'balance', role: 'viewer', description: 'NAV, cash, P&L, drawdown per account' },
  { name: 'gateway', role: 'viewer', description: 'gateway session: state, last login, 2FA pending' },
  { name: 'notify', role: 'viewer', arguments: '[kind level]', description: "this chat's notifications" },
  {
    name: 'halt',
    role: 'operator',
    arguments: '<reason>',
    description: 'stop all trading (asks to confirm)',
  },
  {
    name: 'resume',
    role: 'operator',
    arguments: '<reason>',
    description: 'let trading resume (asks to confirm)',
  },
  { name: 'reconcile', role: 'operator', description: 'reconcile with the broker now' },
  { name: 'help', role: 'viewer', description: 'this list' },
];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1 };

export function mayRun(role: Role, command: CommandSpec): boolean {
  return RANK[role] >= RANK[command.role];
}

export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
