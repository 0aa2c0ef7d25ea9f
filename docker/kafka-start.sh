#!/usr/bin/env bash
# The kafka container's command: adds the SCRAM users, then starts the broker as the image does.
# KRaft keeps SCRAM credentials in its metadata log, and the first ones can only be written when
# the storage is formatted (the admin must exist before anyone can log in to add others; kafkajs
# cannot add users at all). The image formats storage itself but takes no credentials, so this
# formats it first, with one user per SCRAM_PASSWORD_<NAME> variable (ORDER_SERVICE becomes
# order-service); the image's own format then finds it "already formatted" and goes on.
set -euo pipefail

log_dir=${KAFKA_LOG_DIRS:?KAFKA_LOG_DIRS must name the data folder}
if [ ! -e "$log_dir/meta.properties" ]; then
  users=()
  for variable in $(compgen -e | grep '^SCRAM_PASSWORD_' || true); do
    name=$(printf '%s' "${variable#SCRAM_PASSWORD_}" | tr 'A-Z_' 'a-z-')
    users+=(--add-scram "SCRAM-SHA-256=[name=$name,password=${!variable}]")
  done
  if [ "${#users[@]}" -eq 0 ]; then
    echo "kafka-start: no SCRAM_PASSWORD_<NAME> variable: nobody could log in" >&2
    exit 1
  fi
  # Only what formatting reads; the broker's full configuration is the image's (KAFKA_* variables).
  format_config=$(mktemp)
  cat > "$format_config" <<PROPERTIES
process.roles=$KAFKA_PROCESS_ROLES
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_CONTROLLER_QUORUM_VOTERS
listeners=CLIENT://:9092,CONTROLLER://:9093
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENT
listener.security.protocol.map=CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$log_dir
PROPERTIES
  /opt/kafka/bin/kafka-storage.sh format --cluster-id="$CLUSTER_ID" -c "$format_config" "${users[@]}"
  rm -f "$format_config"
fi

# The healthcheck's login (kafka-broker-api-versions.sh --command-config).
umask 077
cat > /tmp/admin-client.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$SCRAM_PASSWORD_ADMIN";
PROPERTIES

exec /etc/kafka/docker/run
