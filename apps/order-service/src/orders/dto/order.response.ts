import type { OrderLine } from '@shop/contracts';
import type { OrderStatus } from '../order-status';

export interface OrderView {
  id: string;
  status: OrderStatus;
  customerEmail: string;
  items: OrderLine[];
  rejectionReason?: string;
  rejectionCode?: string;
  createdAt: string;
  updatedAt: string;
}

export interface OrderPage {
  items: OrderView[];
  nextCursor: string | null;
}
