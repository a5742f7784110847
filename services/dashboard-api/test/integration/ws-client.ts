/** A WebSocket test client that records every frame and waits for the ones a test expects. */
import { eventually } from '@ibstack/test-kit';
import WebSocket, { type ClientOptions } from 'ws';

export interface Frame {
  type: string;
  channel?: string;
  payload?: unknown;
  snapshot?: boolean;
}

export class TestSocket {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
    ws.on('message', (data: Buffer) => this.frames.push(JSON.parse(data.toString('utf8')) as Frame));
    ws.on('error', () => undefined);
  }

  static async open(url: string, options: ClientOptions = {}): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(`${url.replace('http', 'ws')}/ws`, options));
    await socket.opened;
    return socket;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async authenticate(token?: string): Promise<void> {
    this.send({ type: 'authenticate', payload: token ? { token } : {} });
    await this.next((frame) => frame.type === 'authenticated');
  }

  async subscribe(channels: string[]): Promise<void> {
    this.send({ type: 'subscribe', payload: { channels } });
    await this.next((frame) => frame.type === 'subscribed');
  }

  async next(match: (frame: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    return eventually(
      () => {
        const frame = this.frames.find(match);
        if (!frame) throw new Error(`no such frame yet; got ${JSON.stringify(this.frames.slice(-3))}`);
        return frame;
      },
      { timeoutMs },
    );
  }

  events(channel: string): Frame[] {
    return this.frames.filter((frame) => frame.type === 'event' && frame.channel === channel);
  }

  close(): void {
    this.ws.terminate();
  }
}
