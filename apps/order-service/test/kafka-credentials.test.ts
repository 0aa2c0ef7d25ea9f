import { devstackKafkaEnv } from '@shop/devstack';
import { startServiceUnderTest } from '@shop/testing';
import { orderService } from '../src/service';

// The broker refuses anonymous clients and grants by principal (packages/kafka-access): a service
// given the wrong credentials must stop at boot with the reason, not run half-connected.
describe('order service with wrong Kafka credentials', () => {
  it('refuses to start with a wrong password, saying the login failed', async () => {
    await expect(
      startServiceUnderTest(orderService, { KAFKA_SASL_PASSWORD: 'not-the-password' }),
    ).rejects.toThrow(/SASL SCRAM SHA256 authentication failed/);
  });

  it("refuses to start as another service's principal, naming the topics that one may not use", async () => {
    await expect(
      startServiceUnderTest(orderService, devstackKafkaEnv('notification-service')),
    ).rejects.toThrow(
      'Kafka topics missing or not granted to principal "notification-service": inventory-events.dlq, inventory-events.',
    );
  });
});
