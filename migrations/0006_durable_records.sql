-- Recording a succeeded attempt safely more than once, and never for an
-- attempt that is no longer running.
--
-- A scheduler that loses its database connection while committing a result
-- cannot know whether the commit happened ("in doubt"); it repeats the call
-- once the database is back (store/reconnect.h). A repeat must find the
-- result already recorded and record nothing twice. And a scheduler that was
-- frozen long enough for another to take its run over (its heartbeat went
-- stale, the attempt was recorded interrupted, the step ran again elsewhere)
-- must not record a late result over the new one: only a running attempt
-- can succeed.
CREATE OR REPLACE FUNCTION twinflow_record_success(p_run_id bigint, p_step_id text,
                                                   p_step_run_id bigint, p_inputs jsonb,
                                                   p_outputs jsonb)
RETURNS TABLE (output_name text, version_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
  output jsonb;
  artifact bigint;
  latest integer;
  version bigint;
  attempt_status text;
BEGIN
  SELECT s.status INTO attempt_status FROM step_runs s WHERE s.id = p_step_run_id FOR UPDATE;
  IF attempt_status = 'succeeded' THEN
    RETURN QUERY SELECT e.name, e.artifact_version_id FROM lineage_edges e
                  WHERE e.step_run_id = p_step_run_id AND e.direction = 'output' ORDER BY e.name;
    RETURN;
  END IF;
  IF attempt_status IS DISTINCT FROM 'running' THEN
    RAISE EXCEPTION 'attempt % is %, not running: its result is not recorded (another scheduler took the step over)',
      p_step_run_id, coalesce(attempt_status, 'unknown');
  END IF;
  FOR output IN SELECT value FROM jsonb_array_elements(p_outputs) LOOP
    INSERT INTO artifacts (name, type) VALUES (output->>'artifact', output->>'type')
      ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id INTO artifact;
    -- Locks the artifact: concurrent producers number their versions in turn.
    SELECT a.latest_version INTO latest FROM artifacts a WHERE a.id = artifact FOR UPDATE;
    version := NULL;
    IF latest > 0 THEN
      SELECT v.id INTO version FROM artifact_versions v
       WHERE v.artifact_id = artifact AND v.version = latest
         AND v.content_hash = output->>'content_hash' AND v.metadata = output->'metadata';
    END IF;
    IF version IS NULL THEN
      UPDATE artifacts SET latest_version = latest + 1 WHERE id = artifact;
      INSERT INTO artifact_versions (artifact_id, version, content_hash, uri, size_bytes, metadata,
                                     producer_step_run_id)
      VALUES (artifact, latest + 1, output->>'content_hash', output->>'uri',
              (output->>'size_bytes')::bigint, output->'metadata', p_step_run_id)
      RETURNING id INTO version;
    END IF;
    INSERT INTO lineage_edges (step_run_id, artifact_version_id, direction, name)
      VALUES (p_step_run_id, version, 'output', output->>'name');
    output_name := output->>'name';
    version_id := version;
    RETURN NEXT;
  END LOOP;
  INSERT INTO lineage_edges (step_run_id, artifact_version_id, direction, name)
    SELECT p_step_run_id, (i->>'version_id')::bigint, 'input', i->>'name'
      FROM jsonb_array_elements(p_inputs) AS i;
  UPDATE step_runs SET status = 'succeeded', exit_code = 0, finished_at = now()
   WHERE id = p_step_run_id;
  UPDATE run_steps SET status = 'succeeded', result_step_run_id = p_step_run_id, finished_at = now()
   WHERE run_id = p_run_id AND step_id = p_step_id;
END;
$$;
