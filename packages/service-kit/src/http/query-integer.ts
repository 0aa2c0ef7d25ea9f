import { z } from 'zod';

const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

/**
 * A whole number from a query string, in plain decimal digits only: `z.coerce.number` would also
 * take "0x10", "0b11", "1e1", "+5" and " 5 ", since Number() reads them all.
 */
export function queryInteger(bounds: { min: number; max: number; fallback: number }) {
  return z
    .preprocess(
      (value) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value),
      z
        .number({ error: 'expected a whole number in decimal digits' })
        .int()
        .min(bounds.min)
        .max(bounds.max),
    )
    .default(bounds.fallback);
}
