import { spawn } from 'node:child_process';
import { join } from 'node:path';

const FIXTURE = join(__dirname, 'fixtures', 'signalled-service.ts');

async function runAndSignal(env: Record<string, string>, signals: NodeJS.Signals[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (!output.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const signal of signals) child.kill(signal);
  return { code: await exited, output };
}

describe('stopOnSignals', () => {
  it('stops once on SIGTERM, even when a second signal arrives while stopping, and exits 0', async () => {
    const { code, output } = await runAndSignal({}, ['SIGTERM', 'SIGINT']);
    expect(output.match(/stop \d/g)).toEqual(['stop 1']);
    expect(code).toBe(0);
  });

  it('exits 1 when stopping fails', async () => {
    const { code, output } = await runAndSignal({ STOP_FAILS: '1' }, ['SIGINT']);
    expect(output).toContain('stop 1');
    expect(code).toBe(1);
  });

  it('stops on SIGHUP, as when the terminal running it closes', async () => {
    const { code, output } = await runAndSignal({}, ['SIGHUP']);
    expect(output).toContain('stop 1');
    expect(code).toBe(0);
  });

  it('stops by itself when the process that supervises it is gone', async () => {
    // The test runner is its parent, not this pid: the same view as after the runner died.
    const { code, output } = await runAndSignal({ IBSTACK_PARENT_PID: String(process.pid + 1_000_000) }, []);
    expect(output).toContain('stop 1');
    expect(code).toBe(0);
  });

  it('keeps running while its supervisor is alive', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, IBSTACK_PARENT_PID: String(process.pid) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(output).toContain('ready');
    expect(output).not.toContain('stop');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
