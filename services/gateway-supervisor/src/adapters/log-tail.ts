/**
 * Follows IBGA's log file (copied to a volume by the gateway's entrypoint) like `tail -F`: starts at the
 * end, reads whole lines as they are appended, starts over when the file shrinks (rotated), and waits
 * when it does not exist yet. Polling, so it works on any volume driver.
 */
import { open, stat } from 'node:fs/promises';

export class LogTail {
  private offset: number | undefined;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs: number,
  ) {}

  async start(): Promise<void> {
    try {
      this.offset = (await stat(this.file)).size;
    } catch {
      this.offset = 0; // not there yet: read it from its first line
    }
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads what was appended since the last poll. */
  async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      let size: number;
      try {
        size = (await stat(this.file)).size;
      } catch {
        this.offset = 0;
        return;
      }
      if (size < (this.offset ?? 0)) {
        this.offset = 0;
        this.partial = '';
      }
      if (size === this.offset) return;
      const handle = await open(this.file, 'r');
      try {
        const length = size - (this.offset ?? 0);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, this.offset ?? 0);
        this.offset = (this.offset ?? 0) + bytesRead;
        const lines = (this.partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) this.onLine(line.replace(/\r$/, ''));
      } finally {
        await handle.close();
      }
    } finally {
      this.reading = false;
    }
  }
}
