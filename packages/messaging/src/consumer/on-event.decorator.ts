import { EventPattern } from '@nestjs/microservices';
import type { EventContract } from '@shop/contracts';

/** The Nest pattern of one contract: type and version, so a v2 gets its own handler. */
export function eventPattern(contract: Pick<EventContract, 'type' | 'version'>): string {
  return `${contract.type}.v${contract.version}`;
}

/**
 * Marks a method as the handler of one event contract. The KafkaEventServer subscribes to the
 * contract's topic, validates each message against the contract and passes the typed event.
 */
export function OnEvent(contract: EventContract): MethodDecorator {
  return EventPattern(eventPattern(contract));
}
