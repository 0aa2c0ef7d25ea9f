import { statementNamer } from './statement-names';

describe('naming SQL texts for prepared statements', () => {
  it('gives one text the same name on every call, and different texts different names', () => {
    const name = statementNamer();
    const insert = name({ sql: 'INSERT INTO orders (id) VALUES ($1)' });
    expect(name({ sql: 'INSERT INTO orders (id) VALUES ($1)' })).toBe(insert);
    expect(name({ sql: 'SELECT 1' })).not.toBe(insert);
    expect(insert).toMatch(/^q_[\w-]{22}$/);
  });

  it('names the same text alike in every process, so logs and pg_stat_statements agree', () => {
    expect(statementNamer()({ sql: 'SELECT 1' })).toBe(statementNamer()({ sql: 'SELECT 1' }));
  });

  it('sends texts past the limit unnamed and keeps the names it gave', () => {
    const name = statementNamer(2);
    const first = name({ sql: 'SELECT $1' });
    const second = name({ sql: 'SELECT $1, $2' });
    expect(name({ sql: 'SELECT $1, $2, $3' })).toBeUndefined();
    expect(name({ sql: 'SELECT $1' })).toBe(first);
    expect(name({ sql: 'SELECT $1, $2' })).toBe(second);
  });
});
