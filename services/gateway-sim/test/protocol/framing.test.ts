import {
  encodeFrame,
  InboundReader,
  MAX_FRAME_LENGTH,
  parseVersionRange,
  splitFields,
} from '../../src/protocol/framing';
import { ProtocolViolationError } from '../../src/errors';

function hello(text: string): Buffer {
  const version = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(version.length);
  return Buffer.concat([Buffer.from('API\0', 'latin1'), length, version]);
}

describe('TWS API framing', () => {
  it('reads the version announcement even when it arrives one byte at a time', () => {
    const reader = new InboundReader();
    const bytes = hello('v100..193');
    const events = [];
    for (let i = 0; i < bytes.length; i++) events.push(...reader.push(bytes.subarray(i, i + 1)));
    expect(events).toEqual([{ kind: 'hello', hello: { minVersion: 100, maxVersion: 193, options: '' } }]);
  });

  it('joins a large frame arriving in many small reads once, not once per read', () => {
    const reader = new InboundReader();
    reader.push(hello('v100..193'));
    const field = 'x'.repeat(15 * 1024 * 1024);
    const frame = encodeFrame([49, field]);
    const started = performance.now();
    const events = [];
    for (let offset = 0; offset < frame.length; offset += 512)
      events.push(...reader.push(frame.subarray(offset, offset + 512)));
    const elapsed = performance.now() - started;
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({ kind: 'frame', fields: ['49', field] });
    expect(reader.pendingBytes).toBe(0);
    // Joining at every read copies the growing buffer 30720 times (about 230 GiB); joining once copies 15 MiB.
    // The bound leaves a loaded machine two orders of magnitude of room.
    expect(elapsed).toBeLessThan(3_000);
  });

  it('reads the hello and several frames that arrive merged in one read', () => {
    const reader = new InboundReader();
    const events = reader.push(
      Buffer.concat([hello('v100..193'), encodeFrame([71, 2, 7, '']), encodeFrame([49, 1])]),
    );
    expect(events).toEqual([
      { kind: 'hello', hello: { minVersion: 100, maxVersion: 193, options: '' } },
      { kind: 'frame', fields: ['71', '2', '7', ''] },
      { kind: 'frame', fields: ['49', '1'] },
    ]);
  });

  it('keeps a frame split across reads until it is complete', () => {
    const reader = new InboundReader();
    reader.push(hello('v176'));
    const frame = encodeFrame([1, 11, 4, '', 'EUR']);
    expect(reader.push(frame.subarray(0, 3))).toEqual([]);
    expect(reader.push(frame.subarray(3, 9))).toEqual([]);
    expect(reader.push(frame.subarray(9))).toEqual([{ kind: 'frame', fields: ['1', '11', '4', '', 'EUR'] }]);
  });

  it('refuses a connection that does not start with API\\0', () => {
    const reader = new InboundReader();
    expect(() => reader.push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(ProtocolViolationError);
  });

  it('refuses a version string that is not a range', () => {
    expect(() => new InboundReader().push(hello('hello'))).toThrow(/not a version range/);
  });

  it('refuses a length prefix beyond 16 MiB without waiting for the bytes', () => {
    const reader = new InboundReader();
    reader.push(hello('v100..193'));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(MAX_FRAME_LENGTH + 1);
    expect(() => reader.push(prefix)).toThrow(/exceeds/);
  });

  it('parses version ranges with and without connect options', () => {
    expect(parseVersionRange('v100..193')).toEqual({ minVersion: 100, maxVersion: 193, options: '' });
    expect(parseVersionRange('v176')).toEqual({ minVersion: 176, maxVersion: 176, options: '' });
    expect(parseVersionRange('v100..176 +PACEAPI')).toEqual({
      minVersion: 100,
      maxVersion: 176,
      options: '+PACEAPI',
    });
    expect(parseVersionRange('v193..100')).toBeUndefined();
    expect(parseVersionRange('176')).toBeUndefined();
  });

  it('terminates every field with NUL, the last one too, and counts UTF-8 bytes in the length', () => {
    const frame = encodeFrame([4, 2, -1, 2104, 'Zürich']);
    const payload = 'Zürich';
    expect(frame.readUInt32BE(0)).toBe(Buffer.byteLength(`4\u00002\u0000-1\u00002104\u0000${payload}\u0000`));
    expect(frame.subarray(4).toString('utf8')).toBe(`4\u00002\u0000-1\u00002104\u0000${payload}\u0000`);
    expect(splitFields(frame.subarray(4))).toEqual(['4', '2', '-1', '2104', 'Zürich']);
  });
});
