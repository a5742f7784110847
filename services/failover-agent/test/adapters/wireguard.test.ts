import { parseWgDump } from '@ibstack/failover-agent';

describe('wg show dump', () => {
  it('names each peer by its first allowed address and reads its latest handshake', () => {
    const dump = [
      'cHJpdmF0ZQ==\tcHVibGlj\t51820\toff',
      'c3RhbmRieQ==\t(none)\t10.0.0.2:51820\t10.77.0.2/32\t1764780000\t1200\t3400\t15',
      'd2l0bmVzcw==\t(none)\t(none)\t10.77.0.3/32,10.78.0.0/24\t0\t0\t0\toff',
      '',
    ].join('\n');
    expect(parseWgDump(dump)).toEqual([
      { address: '10.77.0.2', latestHandshake: 1764780000 },
      { address: '10.77.0.3', latestHandshake: 0 },
    ]);
  });
});
