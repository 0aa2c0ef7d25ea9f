import { createServer, type AddressInfo, type Server } from 'node:net';
import { Client, DatabaseError } from 'pg';
import { isTransientDatabaseError, retryTransient } from './transient-errors';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function connectError(port: number): Promise<unknown> {
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: 'nobody',
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function postgresError(code: string, message: string): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  error.severity = 'FATAL';
  return error;
}

/**
 * What Prisma 7 with @prisma/adapter-pg throws, as recorded against a Postgres restarted under
 * load: a PrismaClientKnownRequestError whose meta carries the adapter's error, whose cause
 * holds the Postgres code or a kind.
 */
function prismaError(code: string, cause: Record<string, unknown>): Error {
  const adapterError = Object.assign(new Error(String(cause.message ?? cause.kind)), {
    name: 'DriverAdapterError',
    cause,
  });
  return Object.assign(new Error(`Invalid \`prisma.order.create()\` invocation: ${code}`), {
    name: 'PrismaClientKnownRequestError',
    code,
    clientVersion: '7.10.1',
    meta: { modelName: 'Order', driverAdapterError: adapterError },
  });
}

describe('isTransientDatabaseError', () => {
  it('recognises a refused connection from node-postgres (nothing listens on the port)', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const error = await connectError(port);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it('recognises a connection the server drops, which node-postgres reports without a code', async () => {
    const server = createServer((socket) => socket.destroy());
    const port = await listen(server);
    const error = await connectError(port);
    await new Promise((resolve) => server.close(resolve));
    expect((error as Error).message).toMatch(/Connection terminated/);
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it('recognises Postgres shutting down, starting up, and connection exceptions (class 08)', () => {
    expect(isTransientDatabaseError(postgresError('57P01', 'terminating connection'))).toBe(true);
    expect(
      isTransientDatabaseError(postgresError('57P03', 'the database system is starting up')),
    ).toBe(true);
    expect(isTransientDatabaseError(postgresError('08006', 'connection failure'))).toBe(true);
    expect(isTransientDatabaseError(postgresError('40001', 'could not serialize access'))).toBe(
      true,
    );
    expect(isTransientDatabaseError(postgresError('40P01', 'deadlock detected'))).toBe(true);
  });

  it('finds the Postgres code inside the error Prisma wraps it in', () => {
    const startingUp = prismaError('P2039', {
      originalCode: '57P03',
      kind: 'postgres',
      code: '57P03',
      severity: 'FATAL',
      message: 'the database system is starting up',
    });
    expect(isTransientDatabaseError(startingUp)).toBe(true);
    const unreachable = prismaError('P1001', { kind: 'DatabaseNotReachable', port: 5432 });
    expect(isTransientDatabaseError(unreachable)).toBe(true);
    const closed = prismaError('P1017', { kind: 'ConnectionClosed' });
    expect(isTransientDatabaseError(closed)).toBe(true);
  });

  it('retries a transaction that could not start in time (all connections busy, e.g. while reconnecting)', () => {
    const busy = Object.assign(
      new Error('Transaction API error: Unable to start a transaction in the given time.'),
      {
        name: 'PrismaClientKnownRequestError',
        code: 'P2028',
        meta: { error: 'Unable to start a transaction in the given time.' },
      },
    );
    expect(isTransientDatabaseError(busy)).toBe(true);
  });

  it('finds a transient error anywhere along a cause chain', () => {
    const inner = postgresError('57P01', 'terminating connection due to administrator command');
    const outer = new Error('placing the order failed', {
      cause: new Error('transaction failed', { cause: inner }),
    });
    expect(isTransientDatabaseError(outer)).toBe(true);
  });

  it('does not retry what a retry cannot cure: constraint violations, bad input, unknown errors', () => {
    expect(isTransientDatabaseError(postgresError('23505', 'duplicate key value'))).toBe(false);
    expect(
      isTransientDatabaseError(postgresError('22P02', 'invalid input syntax for type uuid')),
    ).toBe(false);
    expect(
      isTransientDatabaseError(
        prismaError('P2002', { kind: 'UniqueConstraintViolation', constraint: { fields: ['id'] } }),
      ),
    ).toBe(false);
    expect(isTransientDatabaseError(new Error('order 1 does not exist'))).toBe(false);
    expect(isTransientDatabaseError(undefined)).toBe(false);
    expect(isTransientDatabaseError('ECONNREFUSED')).toBe(false);
  });

  it('stops on a cause cycle', () => {
    const error: Error & { cause?: unknown } = new Error('loop');
    error.cause = error;
    expect(isTransientDatabaseError(error)).toBe(false);
  });
});

describe('retryTransient', () => {
  function clock() {
    let time = 0;
    const pauses: number[] = [];
    return {
      pauses,
      now: () => time,
      sleep: async (ms: number) => {
        pauses.push(ms);
        time += ms;
      },
    };
  }

  it('retries a transient failure and returns the result of the attempt that succeeds', async () => {
    const fake = clock();
    const attempts: number[] = [];
    const result = await retryTransient(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw postgresError('57P03', 'the database system is starting up');
        return 'placed';
      },
      { ...fake, random: () => 1 },
    );
    expect(result).toBe('placed');
    expect(attempts).toEqual([1, 2, 3]);
    expect(fake.pauses).toEqual([100, 200]);
  });

  it('throws a non-transient error at once, without retrying', async () => {
    const fake = clock();
    const failure = postgresError('23505', 'duplicate key value');
    let attempts = 0;
    await expect(
      retryTransient(async () => {
        attempts += 1;
        throw failure;
      }, fake),
    ).rejects.toBe(failure);
    expect(attempts).toBe(1);
  });

  it('gives up with the last error once the time budget is spent, pausing at most maxDelayMs', async () => {
    const fake = clock();
    const down = postgresError('57P01', 'terminating connection');
    await expect(
      retryTransient(
        async () => {
          throw down;
        },
        { ...fake, random: () => 1, budgetMs: 5_000 },
      ),
    ).rejects.toBe(down);
    expect(Math.max(...fake.pauses)).toBe(1_000);
    expect(fake.pauses.reduce((sum, pause) => sum + pause, 0)).toBeLessThanOrEqual(5_000);
    expect(fake.pauses.reduce((sum, pause) => sum + pause, 0)).toBeGreaterThan(4_000);
  });

  it('reports each retry before pausing', async () => {
    const fake = clock();
    const seen: Array<[number, number]> = [];
    await retryTransient(
      async (attempt) => {
        if (attempt === 1) throw postgresError('08006', 'connection failure');
        return attempt;
      },
      {
        ...fake,
        random: () => 0,
        onRetry: (_error, attempt, delayMs) => seen.push([attempt, delayMs]),
      },
    );
    expect(seen).toEqual([[1, 50]]);
  });
});
