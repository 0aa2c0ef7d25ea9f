#!/bin/sh
# Writes .env for docker-compose with a random password for Postgres, each service role and each
# Kafka principal. Refuses to overwrite an existing .env: its passwords are already in the Postgres
# volume and the broker's formatted storage.
set -eu
cd "$(dirname "$0")/.."
if [ -e .env ]; then
  echo ".env exists; delete it (and the volumes: docker compose down -v) to start over" >&2
  exit 1
fi
umask 077
for name in POSTGRES_PASSWORD \
  DB_PASSWORD_ORDER_SERVICE DB_PASSWORD_ORDER_OWNER \
  DB_PASSWORD_INVENTORY_SERVICE DB_PASSWORD_INVENTORY_OWNER \
  DB_PASSWORD_NOTIFICATION_SERVICE DB_PASSWORD_NOTIFICATION_OWNER \
  KAFKA_PASSWORD_ADMIN KAFKA_PASSWORD_CONTROLLER \
  KAFKA_PASSWORD_ORDER_SERVICE KAFKA_PASSWORD_INVENTORY_SERVICE KAFKA_PASSWORD_NOTIFICATION_SERVICE \
  KAFKA_PASSWORD_FLOW_CONSOLE KAFKA_PASSWORD_OPERATOR GRAFANA_ADMIN_PASSWORD; do
  # Hex, so the value needs no escaping inside a postgres:// URL, a JAAS line or kafka-storage's
  # --add-scram.
  echo "$name=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
done > .env
echo "wrote .env (keep it out of version control; .gitignore already does)"
