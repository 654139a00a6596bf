-- Cluster-level roles for the shopforce stack. Run as a superuser, once per cluster, before the
-- migrations; safe to run again, also concurrently (creates what is missing, fixes attributes only
-- when they differ, so parallel runs do not fight over the same catalog rows).
--   shopforce : the application role, reads and writes the shop tables (grants in grants.sql)
--   debezium  : the CDC role, REPLICATION + SELECT on the synced tables only (grants in grants.sql)
-- The passwords are the local stack's development defaults; a real deployment sets its own.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shopforce') THEN
    BEGIN
      CREATE ROLE shopforce LOGIN PASSWORD 'shopforce';
    EXCEPTION WHEN duplicate_object THEN NULL;  -- created concurrently
    END;
  ELSIF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'shopforce' AND rolcanlogin
                    AND NOT rolsuper AND NOT rolreplication) THEN
    ALTER ROLE shopforce WITH LOGIN NOSUPERUSER NOREPLICATION;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'debezium') THEN
    BEGIN
      CREATE ROLE debezium LOGIN REPLICATION PASSWORD 'debezium';
    EXCEPTION WHEN duplicate_object THEN NULL;
    END;
  ELSIF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'debezium' AND rolcanlogin
                    AND rolreplication AND NOT rolsuper) THEN
    ALTER ROLE debezium WITH LOGIN NOSUPERUSER REPLICATION;
  END IF;
END
$$;
