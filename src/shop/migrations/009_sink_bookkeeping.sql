-- The shop sink's bookkeeping: the last write applied to each shop row (by table and business key),
-- so a replayed command is applied once and an older change never overwrites a newer one.
-- Not in the publication: Debezium does not stream it.
CREATE TABLE shopforce_applied_writes (
  table_name      text        NOT NULL,
  row_key         text        NOT NULL,
  command_id      text        NOT NULL,
  source_position text        NOT NULL,
  source_version  bigint,
  event_time      timestamptz NOT NULL,
  applied_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (table_name, row_key)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON shopforce_applied_writes TO shopforce;
