import { checkPostgres, DatabaseUnavailableError } from '@ibstack/db';

describe('Postgres connection errors', () => {
  it('never carry the password of the URL, in the message or in a field', () => {
    const error = new DatabaseUnavailableError('postgres://app:hunter2@db.internal:5432/ibstack', {
      cause: new Error('ECONNREFUSED'),
    });
    expect(error.message).toContain('db.internal');
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain('hunter2');
  });

  it('say a DATABASE_URL that is not a URL is wrong without echoing it', async () => {
    const problem = await checkPostgres('db.internal hunter2');
    expect(problem).toMatch(/DATABASE_URL is not a URL/);
    expect(problem).not.toContain('hunter2');
  });
});
