/** Injection tokens of what the platform module provides. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const LOGGER = Symbol('LOGGER');
export const KAFKA = Symbol('KAFKA');
export const PG_POOL = Symbol('PG_POOL');
