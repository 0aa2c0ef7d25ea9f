/** Who acts on orders: a customer touches only their own; staff (admins) every order. */
export type OrderActor = { kind: 'customer'; subject: string } | { kind: 'staff'; subject: string };

/** Who places an order: it becomes theirs, and is mailed to their address. */
export interface Customer {
  subject: string;
  email: string;
}

/** Whether the actor may see or change an order owned by `owner` (null: placed before sign-in). */
export function mayActOn(actor: OrderActor, owner: string | null): boolean {
  return actor.kind === 'staff' || owner === actor.subject;
}

/** The owner an actor's order lists are limited to; undefined for staff, who see every order. */
export function ownerFilter(actor: OrderActor): string | undefined {
  return actor.kind === 'customer' ? actor.subject : undefined;
}
