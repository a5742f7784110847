import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '@ibstack/test-kit';

import { alertmanagerConfigFor025 } from '../alertmanager';
import { REPO_ROOT } from '../paths';
import { type Daemon, startDaemon } from './daemon';

export interface LocalAlertmanagerOptions {
  /** Bot API root of the (fake) Telegram. */
  telegramApiUrl: string;
  botToken: string;
  chatId: number;
  /** Route timings multiplied by this. @default 1 (production) */
  timeScale?: number;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
}

export interface LocalAlertmanager {
  readonly url: string;
  /** host:port, for Prometheus's alerting config. */
  readonly address: string;
  alerts(): Promise<AmAlert[]>;
  stop(): Promise<void>;
}

/**
 * Debian's Alertmanager 0.25 on a free loopback port, started through alertmanager/entrypoint.sh (which
 * fills in the chat id, as in the container) on the production configuration with the token inline.
 */
export async function startAlertmanager(options: LocalAlertmanagerOptions): Promise<LocalAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    alertmanagerConfigFor025({
      botToken: options.botToken,
      apiUrl: options.telegramApiUrl,
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      name: 'alertmanager',
      command: 'sh',
      args: [
        join(REPO_ROOT, 'alertmanager', 'entrypoint.sh'),
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // No high-availability gossip port.
        '--cluster.listen-address=',
      ],
      env: {
        PATH: process.env.PATH,
        ALERTMANAGER_BIN: 'prometheus-alertmanager',
        ALERTMANAGER_CONFIG: config,
        ALERTMANAGER_RENDERED_CONFIG: join(dir, 'rendered.yml'),
        TELEGRAM_CHAT_ID: String(options.chatId),
      },
      readyUrl: `${url}/-/ready`,
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    address: `127.0.0.1:${port}`,
    alerts: async () => (await (await fetch(`${url}/api/v2/alerts`)).json()) as AmAlert[],
    stop: async () => {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
