-- The transactions our shop sink made, by PostgreSQL transaction id (the 32-bit xid that Debezium
-- reports as source.txId). A row change whose transaction is listed here is our own write coming
-- back, and the reconciler takes it for an echo, never for a person's edit. The sink records its
-- transaction inside that same transaction, so the row is visible before Debezium can stream the
-- change. Rows older than a day are purged by the sink (an xid repeats only after 2^32 transactions).
-- Not in the publication: Debezium does not stream it.
CREATE TABLE shopforce_sink_transactions (
  xid         bigint      PRIMARY KEY,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON shopforce_sink_transactions TO shopforce;
