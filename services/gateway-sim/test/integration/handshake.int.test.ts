import { setTimeout as delay } from 'node:timers/promises';

import { EventName } from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import {
  connectApiNext,
  connectClient,
  RecordingClient,
  startTestSim,
  TUESDAY_MORNING,
} from '../support/harness';
import { helloBytes, RawClient } from '../support/raw-client';

describe.each([176, 193] as const)('handshake and sessions at server version %i', (serverVersion) => {
  let sim: GatewaySim;
  const clients: RecordingClient[] = [];
  const raws: RawClient[] = [];

  beforeEach(async () => {
    sim = await startTestSim({ serverVersion });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    for (const raw of raws.splice(0)) raw.destroy();
    await sim.close();
  });

  const client = async (clientId: number) => {
    const connected = await connectClient(sim, clientId);
    clients.push(connected);
    return connected;
  };

  it('connects an IBApi client with managedAccounts, nextValidId and the farm notices, and tells the time', async () => {
    const recorder = new RecordingClient(sim.port);
    clients.push(recorder);
    const accounts: string[] = [];
    const times: number[] = [];
    recorder.api.on(EventName.managedAccounts, (list: string) => accounts.push(list));
    recorder.api.on(EventName.currentTime, (time: number) => times.push(time));
    await recorder.connect(3);
    expect(recorder.serverVersion).toBe(serverVersion);
    expect(accounts).toEqual(['DU1234567']);
    expect(recorder.nextValidId).toBe(1);
    await eventually(() =>
      expect(recorder.infos.map((info) => info.code)).toEqual(expect.arrayContaining([2104, 2106, 2158])),
    );
    recorder.api.reqCurrentTime();
    await eventually(() => expect(times).toHaveLength(1));
    expect(times[0]! * 1000).toBeGreaterThanOrEqual(Date.parse(TUESDAY_MORNING) - 1000);
    expect(times[0]! * 1000).toBeLessThan(Date.parse(TUESDAY_MORNING) + 60_000);
    expect(recorder.decodingErrors()).toEqual([]);
  });

  it('serves IBApiNext: managed accounts and the current time', async () => {
    const api = await connectApiNext(sim.port, 4);
    try {
      expect(await api.getManagedAccounts()).toEqual(['DU1234567']);
      expect(await api.getCurrentTime()).toBeGreaterThan(Date.parse(TUESDAY_MORNING) / 1000 - 1);
    } finally {
      api.disconnect();
    }
  });

  it('answers only after the whole hello has arrived, sent one byte at a time, then sends 15, 9 and the farms in order', async () => {
    const raw = await RawClient.open(sim.port);
    raws.push(raw);
    const hello = helloBytes();
    for (let i = 0; i < hello.length - 1; i++) {
      raw.write(hello.subarray(i, i + 1));
      await delay(2);
    }
    await delay(50);
    expect(raw.frames).toEqual([]);
    raw.write(hello.subarray(hello.length - 1));
    await eventually(() => expect(raw.frames).toHaveLength(1));
    expect(raw.frames[0]![0]).toBe(String(serverVersion));
    expect(raw.frames[0]![1]).toMatch(/^20260303 10:00:\d\d E[SD]T$/);
    raw.send([71, 2, 9, '']);
    await eventually(() => expect(raw.frames.length).toBeGreaterThanOrEqual(9));
    expect(raw.frames.slice(1, 4).map((frame) => frame.slice(0, 4))).toEqual([
      ['15', '1', 'DU1234567'],
      ['9', '1', '1'],
      ['4', '2', '-1', '2104'],
    ]);
  });

  it('refuses a second connection with a client id in use (326, id -1) and closes it, keeping the first', async () => {
    const first = await client(5);
    const second = new RecordingClient(sim.port);
    clients.push(second);
    second.api.connect(5);
    await eventually(() => expect(second.infos.map((info) => info.code)).toContain(326));
    expect(second.infos.find((info) => info.code === 326)?.message).toBe(
      'Unable to connect as the client id is already in use. Retry with a unique client id.',
    );
    await eventually(() => expect(second.disconnects).toBe(1));
    const times: number[] = [];
    first.api.on(EventName.currentTime, (time: number) => times.push(time));
    first.api.reqCurrentTime();
    await eventually(() => expect(times).toHaveLength(1));
  });

  it('serves several clients with distinct ids at once and lets a client reconnect with its id', async () => {
    const all = await Promise.all([client(1), client(2), client(3)]);
    expect(
      sim
        .clients()
        .map((info) => info.clientId)
        .sort(),
    ).toEqual([1, 2, 3]);
    all[0].disconnect();
    await eventually(() =>
      expect(
        sim
          .clients()
          .map((info) => info.clientId)
          .sort(),
      ).toEqual([2, 3]),
    );
    await all[0].connect(1);
    expect(
      sim
        .clients()
        .map((info) => info.clientId)
        .sort(),
    ).toEqual([1, 2, 3]);
  });

  it('closes a client whose version range leaves out the server version, without an answer', async () => {
    const raw = await RawClient.open(sim.port);
    raws.push(raw);
    raw.write(helloBytes('v100..150'));
    await eventually(() => expect(raw.closed).toBe(true));
    expect(raw.frames).toEqual([]);
  });

  it('closes a connection that sends garbage and keeps serving the others', async () => {
    const good = await client(8);
    const raw = await RawClient.open(sim.port);
    raws.push(raw);
    raw.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await eventually(() => expect(raw.closed).toBe(true));
    const times: number[] = [];
    good.api.on(EventName.currentTime, (time: number) => times.push(time));
    good.api.reqCurrentTime();
    await eventually(() => expect(times).toHaveLength(1));
  });
});

describe('connections that never start', () => {
  let sim: GatewaySim | undefined;
  const raws: RawClient[] = [];
  const clients: RecordingClient[] = [];

  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.destroy();
    for (const client of clients.splice(0)) client.disconnect();
    await sim?.close();
  });

  it('are closed after the handshake timeout, silent or stuck before startApi, while a started client stays', async () => {
    sim = await startTestSim({ handshakeTimeoutMs: 300 });
    const silent = await RawClient.open(sim.port);
    const stuck = await RawClient.open(sim.port);
    raws.push(silent, stuck);
    stuck.write(helloBytes());
    await eventually(() => expect(stuck.frames.length).toBeGreaterThan(0));
    const started = await connectClient(sim, 5);
    clients.push(started);
    await eventually(() => expect([silent.closed, stuck.closed]).toEqual([true, true]), { timeoutMs: 5_000 });
    await delay(500);
    expect(started.api.isConnected).toBe(true);
    expect(started.disconnects).toBe(0);
  });
});
