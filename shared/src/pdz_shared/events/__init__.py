"""Event backbone: CloudEvents on Kafka, transactional outbox, idempotent inbox, DLQ."""
