// One-shot Kafka provisioning for docker-compose (the `kafka-init` service), the same call the local
// stack and the tests make when their broker starts: creates the topics and makes the ACLs match
// the access table in @shop/kafka-access (the SCRAM users were added when the kafka container
// formatted its storage, see docker/kafka-start.sh). Authenticates as the admin. Idempotent, so it
// is safe on every `up`. Runs from /app of the order-service image, where `@shop/kafka-access`
// resolves.
'use strict';

const { KAFKA_ADMIN, provisionCluster } = require('@shop/kafka-access');

const brokers = (process.env.KAFKA_BROKERS || '').split(',').filter(Boolean);
const password = process.env.KAFKA_ADMIN_PASSWORD;
const missing = [
  ...(brokers.length > 0 ? [] : ['KAFKA_BROKERS (host:port,...)']),
  ...(password ? [] : ["KAFKA_ADMIN_PASSWORD (the admin principal's password)"]),
];
if (missing.length > 0) {
  console.error(`kafka-init: not set: ${missing.join(', ')}`);
  process.exit(1);
}

provisionCluster({ brokers, username: KAFKA_ADMIN, password }).then(
  ({ createdTopics, createdAcls, removedAcls }) => {
    const topics = createdTopics.length > 0 ? createdTopics.join(', ') : 'none';
    console.log(
      `kafka-init: topics created: ${topics}; ACLs added ${createdAcls}, removed ${removedAcls}`,
    );
    process.exit(0);
  },
  (error) => {
    console.error('kafka-init: failed', error.message);
    process.exit(1);
  },
);
