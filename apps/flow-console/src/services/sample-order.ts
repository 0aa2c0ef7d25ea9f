import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ClientCredentialsToken } from '@shop/service-kit';
import type { SampleOrderResult } from '../views/view-models';
import { ServiceDirectory } from './service-directory';

const FALLBACK_SKU = 'KEYBOARD-01';

/**
 * Places an order through the public order API, as any client would, and times its 202. The
 * console orders as itself: the order is its own and is mailed to its own address.
 */
@Injectable()
export class SampleOrders {
  constructor(
    private readonly directory: ServiceDirectory,
    private readonly credentials: ClientCredentialsToken,
  ) {}

  async place(): Promise<SampleOrderResult> {
    const sku = await this.someProductInStock();
    const body = { items: [{ sku, quantity: 1 }] };
    const authorization = await this.credentials.header();
    const started = performance.now();
    const response = await fetch(`${this.directory.orderApiUrl()}/orders`, {
      method: 'POST',
      headers: {
        ...authorization,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const acceptedInMs = Math.round(performance.now() - started);
    const answer: unknown = await response.json().catch(() => null);
    const orderId =
      typeof answer === 'object' &&
      answer !== null &&
      'id' in answer &&
      typeof answer.id === 'string'
        ? answer.id
        : null;
    return { status: response.status, orderId, acceptedInMs, body: answer };
  }

  /** A product the inventory lists with stock left, so the sample order is confirmed. */
  private async someProductInStock(): Promise<string> {
    const [inventory] = this.directory.configuredUrls('inventory-service');
    try {
      const response = await fetch(`${inventory}/products?limit=100`, {
        headers: await this.credentials.header(),
        signal: AbortSignal.timeout(2_000),
      });
      const page = (await response.json()) as {
        items?: Array<{ sku?: unknown; available?: unknown }>;
      };
      const inStock = (page.items ?? []).filter(
        (item): item is { sku: string; available: number } =>
          typeof item.sku === 'string' && typeof item.available === 'number' && item.available > 0,
      );
      return inStock[Math.floor(Math.random() * inStock.length)]?.sku ?? FALLBACK_SKU;
    } catch {
      return FALLBACK_SKU;
    }
  }
}
