import { EventPattern } from '@nestjs/microservices';
import type { EventContract } from '@shop/contracts';

/** The Nest pattern of one contract: type and version, so a v2 gets its own handler. */
export function eventPattern(contract: Pick<EventContract, 'type' | 'version'>): string {
  return `${contract.type}.v${contract.version}`;
}

/** The Nest pattern of a contract's batch handler. */
export function batchPattern(contract: Pick<EventContract, 'type' | 'version'>): string {
  return `${eventPattern(contract)}[]`;
}

/**
 * Marks a method as the handler of one event contract. The KafkaEventServer subscribes to the
 * contract's topic, validates each message against the contract and passes the typed event.
 */
export function OnEvent(contract: EventContract): MethodDecorator {
  return EventPattern(eventPattern(contract));
}

/**
 * Marks a method `(events: EventOf<C>[]) => Promise<void>` as the batch handler of a contract:
 * it gets the consecutive messages of that contract from one fetch of a partition, validated, in
 * offset order, without repeated event ids. It must apply them all or none (one transaction) and
 * end as handling them one by one would. When it throws, each event is handed to it again alone,
 * under the usual retry and dead-letter policy, so one bad event cannot hold back the rest.
 */
export function OnEvents(contract: EventContract): MethodDecorator {
  return EventPattern(batchPattern(contract));
}
