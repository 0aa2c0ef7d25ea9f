import { AclOperationTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { ALL_TOPICS, deadLetterTopic, Topics } from '@shop/contracts';
import { KAFKA_ACCESS, KAFKA_PRINCIPALS, KAFKA_TOPICS, topicsOf } from './access-table';
import { derivedKafkaPasswords, scramCredentialArgument } from './passwords';
import { aclsOf } from './provision';

const provisioned = KAFKA_TOPICS.map((topic) => topic.name);
const SERVICES = ['order-service', 'inventory-service', 'notification-service'] as const;

describe('the Kafka access table', () => {
  it('names only topics that provisioning creates', () => {
    for (const principal of KAFKA_PRINCIPALS) {
      expect({
        principal,
        unknown: topicsOf(principal).filter((t) => !provisioned.includes(t)),
      }).toEqual({ principal, unknown: [] });
    }
  });

  it('gives each event topic exactly one publishing service, its owner', () => {
    const publishers = (topic: string) =>
      SERVICES.filter((service) =>
        (KAFKA_ACCESS[service].writes as readonly string[]).includes(topic),
      );
    expect(publishers(Topics.orderEvents)).toEqual(['order-service']);
    expect(publishers(Topics.inventoryEvents)).toEqual(['inventory-service']);
  });

  it('lets each service dead-letter exactly the topics it consumes', () => {
    for (const service of SERVICES) {
      const { reads, writes } = KAFKA_ACCESS[service];
      const deadLetters = writes.filter((topic) => topic.endsWith('.dlq'));
      expect(deadLetters).toEqual(reads.map(deadLetterTopic));
    }
  });

  it('keeps the console read-only', () => {
    expect(KAFKA_ACCESS['flow-console'].writes).toEqual([]);
    expect(aclsOf('flow-console').map((acl) => acl.operation)).not.toContain(
      AclOperationTypes.WRITE,
    );
  });

  it('lets the operator replay onto every source topic and read only dead letters', () => {
    expect(KAFKA_ACCESS.operator.writes).toEqual(ALL_TOPICS);
    expect(KAFKA_ACCESS.operator.reads.every((topic) => topic.endsWith('.dlq'))).toBe(true);
  });

  it("turns a service's grant into literal topic ACLs and a prefixed group ACL", () => {
    expect(aclsOf('notification-service')).toEqual([
      expect.objectContaining({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'order-events.dlq',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        operation: AclOperationTypes.WRITE,
        principal: 'User:notification-service',
      }),
      expect.objectContaining({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'order-events',
        operation: AclOperationTypes.READ,
      }),
      expect.objectContaining({
        resourceType: AclResourceTypes.GROUP,
        resourceName: 'notification-service',
        resourcePatternType: ResourcePatternTypes.PREFIXED,
        operation: AclOperationTypes.READ,
      }),
    ]);
  });
});

describe('derived Kafka passwords', () => {
  it('differ per principal, repeat for the same admin password and change with it', () => {
    const passwords = derivedKafkaPasswords('admin-secret');
    expect(new Set(Object.values(passwords)).size).toBe(KAFKA_PRINCIPALS.length + 1);
    expect(derivedKafkaPasswords('admin-secret')).toEqual(passwords);
    expect(derivedKafkaPasswords('other')['order-service']).not.toBe(passwords['order-service']);
  });

  it('are accepted by the storage tool, and a password it would misread is refused', () => {
    const { operator } = derivedKafkaPasswords('admin-secret');
    expect(scramCredentialArgument('operator', operator)).toBe(
      `SCRAM-SHA-256=[name=operator,password=${operator}]`,
    );
    expect(() => scramCredentialArgument('operator', 'a,b]')).toThrow(/letters, digits/);
  });
});
