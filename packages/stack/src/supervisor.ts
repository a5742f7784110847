/**
 * Runs one service as a child process: prefixes and colours its output, restarts it with backoff when it
 * dies (and says so), and stops it with SIGTERM, then SIGKILL if it does not exit in time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** sysexits' EX_CONFIG: what our services exit with on invalid configuration. */
const EX_CONFIG = 78;
/** A service that dies this often before it is first ready is not going to start. */
const STARTUP_RESTART_LIMIT = 3;

export interface ServiceSpec {
  name: string;
  /** TypeScript entry point, run with tsx. */
  entry: string;
  args?: readonly string[];
  env: NodeJS.ProcessEnv;
  /** `http://127.0.0.1:<port>`: where /readyz answers. */
  healthUrl: string;
}

export interface SupervisorOptions {
  print: (line: string, stream: 'out' | 'err') => void;
  /** Announces restarts and stops (the runner's own voice). */
  announce: (message: string) => void;
  /** First restart delay; doubles up to 30 s, and resets after a minute of running. @default 1000 */
  restartDelayMs?: number;
  /** Grace between SIGTERM and SIGKILL on stop. @default 10000 */
  stopTimeoutMs?: number;
}

export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private exitedResolve: (() => void) | undefined;
  /** Why the supervisor stopped restarting, if it did. */
  private gaveUp: string | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly options: SupervisorOptions,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get restartCount(): number {
    return this.restarts;
  }

  start(): void {
    this.stopping = false;
    this.gaveUp = undefined;
    this.launch();
  }

  private launch(): void {
    this.startedAt = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', this.spec.entry, ...(this.spec.args ?? [])], {
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: Ctrl-C reaches the runner only, which then stops the services in
      // reverse dependency order (execution first, the gateway last), instead of all at once.
      detached: true,
    });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => this.options.print(line, 'out'));
    createInterface({ input: child.stderr }).on('line', (line) => this.options.print(line, 'err'));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      this.exitedResolve?.();
      if (this.stopping) return;
      if (code === EX_CONFIG) {
        // A configuration error stays one until someone edits the configuration: restarting cannot help.
        this.gaveUp = `${this.spec.name} exited with a configuration error (code ${EX_CONFIG}); not restarting it — fix the configuration it printed above`;
        this.options.announce(this.gaveUp);
        return;
      }
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      const delay = Math.min((this.options.restartDelayMs ?? 1_000) * 2 ** this.restarts, 30_000);
      this.restarts += 1;
      this.options.announce(
        `${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)} s (restart #${this.restarts})`,
      );
      this.restartTimer = setTimeout(() => this.launch(), delay);
    });
  }

  /**
   * Waits for /readyz to answer 200; rejects if the process gave up (a configuration error), kept dying
   * (STARTUP_RESTART_LIMIT restarts), the signal aborts, or the timeout passes.
   */
  async waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.gaveUp) throw new Error(this.gaveUp);
      if (signal?.aborted) throw new Error(`${this.spec.name}: start-up interrupted`);
      if (this.restarts >= STARTUP_RESTART_LIMIT)
        throw new Error(`${this.spec.name} died ${this.restarts} times while starting; see its output above`);
      try {
        const response = await fetch(`${this.spec.healthUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${this.spec.name} not ready within ${timeoutMs / 1000} s (${last})`);
  }

  /** Last resort when the runner itself is going away: no grace, no order. */
  killNow(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => (this.exitedResolve = resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.options.announce(
        `${this.spec.name} did not stop within ${(this.options.stopTimeoutMs ?? 10_000) / 1000} s; killing it`,
      );
      child.kill('SIGKILL');
    }, this.options.stopTimeoutMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  }
}
