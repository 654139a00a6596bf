-- Database-level grants for the shopforce roles. Run as a superuser in the shop database AFTER the
-- migrations (the tables must exist); idempotent. Debezium gets SELECT on the synced tables and
-- nothing else: the publication is created by migration 008, so the connector runs with
-- publication.autocreate.mode=disabled and never needs to own the tables.
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO shopforce, debezium', current_database());
END
$$;

GRANT USAGE ON SCHEMA public TO shopforce, debezium;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  customers, addresses, products, warehouses, stock_levels, orders, order_lines,
  payments, invoices, support_tickets, customer_segments, segment_members
TO shopforce;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO shopforce;
GRANT SELECT ON schema_migrations TO shopforce;

GRANT SELECT ON
  customers, addresses, products, warehouses, stock_levels, orders, order_lines,
  payments, invoices, support_tickets, customer_segments, segment_members
TO debezium;
