import type { Kafka } from 'kafkajs';

/**
 * Fails, naming them, when topics this client needs are missing or hidden from its principal.
 * Topics and ACLs are provisioned by an admin before anything starts; a service has no right to
 * create topics, so a missing one is a deployment mistake, not something to repair at boot.
 */
export async function requireTopics(
  kafka: Kafka,
  topics: readonly string[],
  principal: string,
): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const visible = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !visible.has(topic));
    if (missing.length > 0) {
      throw new Error(
        `Kafka topics missing or not granted to principal "${principal}": ${missing.join(', ')}. ` +
          'Topics and ACLs come from the Kafka provisioning step (compose: kafka-init; the local ' +
          'stack and tests run it when the broker starts) and the access table in @shop/kafka-access.',
      );
    }
  } finally {
    await admin.disconnect();
  }
}
