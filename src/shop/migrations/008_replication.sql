-- Change data capture: full before-images on every synced table (updates and deletes carry all
-- columns, so a delete of an order line still names its order and sku), and a publication limited
-- to exactly these tables. Debezium (pgoutput) reads this publication; its role needs only
-- REPLICATION and SELECT (see src/shop/bootstrap/grants.sql). Adding a synced table later means a
-- new migration with REPLICA IDENTITY FULL and ALTER PUBLICATION shopforce_publication ADD TABLE.

ALTER TABLE customers         REPLICA IDENTITY FULL;
ALTER TABLE addresses         REPLICA IDENTITY FULL;
ALTER TABLE products          REPLICA IDENTITY FULL;
ALTER TABLE warehouses        REPLICA IDENTITY FULL;
ALTER TABLE stock_levels      REPLICA IDENTITY FULL;
ALTER TABLE orders            REPLICA IDENTITY FULL;
ALTER TABLE order_lines       REPLICA IDENTITY FULL;
ALTER TABLE payments          REPLICA IDENTITY FULL;
ALTER TABLE invoices          REPLICA IDENTITY FULL;
ALTER TABLE support_tickets   REPLICA IDENTITY FULL;
ALTER TABLE customer_segments REPLICA IDENTITY FULL;
ALTER TABLE segment_members   REPLICA IDENTITY FULL;

CREATE PUBLICATION shopforce_publication FOR TABLE
  customers, addresses, products, warehouses, stock_levels, orders, order_lines,
  payments, invoices, support_tickets, customer_segments, segment_members;
