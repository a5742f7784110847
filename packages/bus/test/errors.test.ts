import { BusUnavailableError, checkNats } from '@ibstack/bus';
import { freePort } from '@ibstack/test-kit';

describe('NATS connection errors', () => {
  it('never carry the password of the URL, in the message or in a field', () => {
    const error = new BusUnavailableError('nats://bot:s3cr3t@nats.internal:4222', {
      cause: new Error('CONNECTION_REFUSED'),
    });
    expect(error.message).toContain('nats://bot:***@nats.internal:4222');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('s3cr3t');
  });

  it('name the unreachable server without its password', async () => {
    const port = await freePort();
    const problem = await checkNats(`nats://bot:s3cr3t@127.0.0.1:${port}`, 500);
    expect(problem).toContain(`nats://bot:***@127.0.0.1:${port}`);
    expect(problem).not.toContain('s3cr3t');
  });
});
