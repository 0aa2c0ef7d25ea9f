import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
  type Admin,
  type AclEntry,
} from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KAFKA_ACCESS,
  KAFKA_PRINCIPALS,
  KAFKA_TOPICS,
  type KafkaGrant,
  type KafkaPrincipal,
} from './access-table';
import { KAFKA_SASL_MECHANISM } from './passwords';

export interface ProvisionResult {
  createdTopics: string[];
  createdAcls: number;
  removedAcls: number;
}

/**
 * Makes the cluster match the access table: creates the topics that do not exist, adds the ACLs
 * the table grants and removes every other one, so an ACL added by hand does not outlive a run.
 * Idempotent. Needs a super user's admin client. SCRAM users are not created here: kafkajs has
 * no AlterUserScramCredentials, so they are added when the storage is formatted.
 */
export async function provisionKafka(admin: Admin): Promise<ProvisionResult> {
  const existing = new Set(await admin.listTopics());
  const missing = KAFKA_TOPICS.filter((topic) => !existing.has(topic.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(topic.config).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  const wanted = KAFKA_PRINCIPALS.flatMap(aclsOf);
  const present = await currentAcls(admin);
  const toCreate = wanted.filter((acl) => !present.some((other) => sameAcl(acl, other)));
  const toRemove = present.filter((acl) => !wanted.some((other) => sameAcl(acl, other)));
  if (toCreate.length > 0) await admin.createAcls({ acl: toCreate });
  if (toRemove.length > 0) await admin.deleteAcls({ filters: toRemove });
  await untilBrokerEnforces(admin, wanted);
  return {
    createdTopics: missing.map((topic) => topic.name),
    createdAcls: toCreate.length,
    removedAcls: toRemove.length,
  };
}

export interface AdminConnection {
  brokers: string[];
  username: string;
  password: string;
}

/** provisionKafka over a connection of its own, as a super user (compose's kafka-init). */
export async function provisionCluster(connection: AdminConnection): Promise<ProvisionResult> {
  const admin = new Kafka({
    clientId: 'kafka-provisioning',
    brokers: connection.brokers,
    sasl: {
      mechanism: KAFKA_SASL_MECHANISM,
      username: connection.username,
      password: connection.password,
    },
    logLevel: logLevel.WARN,
    // A broker that has just reported healthy may still be electing leaders.
    retry: { initialRetryTime: 300, retries: 10 },
  }).admin();
  await admin.connect();
  try {
    return await provisionKafka(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The ACLs one principal's grant becomes. */
export function aclsOf(principal: KafkaPrincipal): AclEntry[] {
  const grant: KafkaGrant = KAFKA_ACCESS[principal];
  const allow = (
    resourceType: AclResourceTypes,
    resourceName: string,
    resourcePatternType: ResourcePatternTypes,
    operation: AclOperationTypes,
  ): AclEntry => ({
    resourceType,
    resourceName,
    resourcePatternType,
    operation,
    principal: `User:${principal}`,
    host: '*',
    permissionType: AclPermissionTypes.ALLOW,
  });
  const { TOPIC, GROUP } = AclResourceTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  const { READ, WRITE, DELETE, DESCRIBE } = AclOperationTypes;
  return [
    ...grant.writes.map((topic) => allow(TOPIC, topic, LITERAL, WRITE)),
    ...grant.reads.map((topic) => allow(TOPIC, topic, LITERAL, READ)),
    ...grant.groupPrefixes.map((prefix) => allow(GROUP, prefix, PREFIXED, READ)),
    ...(grant.deletesOwnGroups
      ? grant.groupPrefixes.map((prefix) => allow(GROUP, prefix, PREFIXED, DELETE))
      : []),
    ...(grant.describesAllGroups ? [allow(GROUP, '*', LITERAL, DESCRIBE)] : []),
  ];
}

const ACL_PROPAGATION_TIMEOUT_MS = 30_000;

/**
 * The controller acknowledges ACL changes before the broker applies them; the broker answers
 * DescribeAcls from the authorizer that enforces them, so once it lists exactly the table, a
 * client that starts next is judged by the table.
 */
async function untilBrokerEnforces(admin: Admin, wanted: readonly AclEntry[]): Promise<void> {
  const deadline = Date.now() + ACL_PROPAGATION_TIMEOUT_MS;
  for (;;) {
    const present = await currentAcls(admin);
    const matches =
      present.length === wanted.length &&
      wanted.every((acl) => present.some((other) => sameAcl(acl, other)));
    if (matches) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the broker still does not enforce the access table after ${ACL_PROPAGATION_TIMEOUT_MS} ms`,
      );
    }
    await sleep(100);
  }
}

async function currentAcls(admin: Admin): Promise<AclEntry[]> {
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  return resources.flatMap(({ acls, resourceType, resourceName, resourcePatternType }) =>
    acls.map((acl) => ({ ...acl, resourceType, resourceName, resourcePatternType })),
  );
}

function sameAcl(a: AclEntry, b: AclEntry): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.resourcePatternType === b.resourcePatternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}
