import { smtpPoolOptions } from './mailer';

describe('SMTP transport options', () => {
  it('pools up to the configured number of connections to the host and port of the URL', () => {
    expect(smtpPoolOptions('smtp://127.0.0.1:2525', 8)).toMatchObject({
      pool: true,
      maxConnections: 8,
      host: '127.0.0.1',
      port: 2525,
      secure: false,
    });
  });

  it('uses implicit TLS on port 465 for an smtps URL without a port', () => {
    expect(smtpPoolOptions('smtps://mail.example', 4)).toMatchObject({
      host: 'mail.example',
      port: 465,
      secure: true,
    });
  });

  it('takes percent-encoded credentials from the URL', () => {
    expect(smtpPoolOptions('smtp://orders%40shop:p%40ss%3Aword@mail.example:587', 1).auth).toEqual({
      user: 'orders@shop',
      pass: 'p@ss:word',
    });
  });

  it('sends without authentication when the URL has no credentials', () => {
    expect(smtpPoolOptions('smtp://mail.example:25', 1).auth).toBeUndefined();
  });
});
