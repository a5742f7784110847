// A bare TCP client that speaks the TWS framing by hand, for what `@stoqey/ib` cannot be made to do: split
// its hello, send garbage, announce other versions.
import { connect, type Socket } from 'node:net';

import { encodeFrame, type Field } from '../../src/protocol/framing';

export function helloBytes(versionRange = 'v100..193'): Buffer {
  const version = Buffer.from(versionRange, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(version.length);
  return Buffer.concat([Buffer.from('API\0', 'latin1'), length, version]);
}

export class RawClient {
  readonly frames: string[][] = [];
  private buffer = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 4) {
        const length = this.buffer.readUInt32BE(0);
        if (this.buffer.length < 4 + length) break;
        const text = this.buffer.subarray(4, 4 + length).toString('utf8');
        this.buffer = this.buffer.subarray(4 + length);
        this.frames.push(text.split('\0').slice(0, -1));
      }
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(fields: readonly Field[]): void {
    this.socket.write(encodeFrame(fields));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
