-- Row bookkeeping shared by every shop table.
-- On UPDATE: version goes up by one and updated_at moves to now() unless the statement set it itself.
-- The shop sink guards its upserts on `version`, so nothing may change a row without bumping it.
CREATE OR REPLACE FUNCTION shopforce_bump_row_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION shopforce_bump_row_version() IS
  'BEFORE UPDATE trigger: version = old version + 1, updated_at = now() unless set explicitly';
