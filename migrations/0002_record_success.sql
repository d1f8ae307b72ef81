-- Recording a succeeded attempt in one round trip: the function creates the
-- output artifact versions (reusing the latest version when its content is
-- unchanged), the lineage edges, and marks the attempt and its step
-- succeeded. A single statement is one transaction, so it is all or nothing.
--
-- p_inputs:  [{"name": "...", "version_id": 12}, ...]
-- p_outputs: [{"name", "artifact", "type", "content_hash", "uri", "size_bytes", "metadata"}, ...]
CREATE FUNCTION twinflow_record_success(p_run_id bigint, p_step_id text, p_step_run_id bigint,
                                        p_inputs jsonb, p_outputs jsonb)
RETURNS TABLE (output_name text, version_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
  output jsonb;
  artifact bigint;
  latest integer;
  version bigint;
BEGIN
  FOR output IN SELECT value FROM jsonb_array_elements(p_outputs) LOOP
    INSERT INTO artifacts (name, type) VALUES (output->>'artifact', output->>'type')
      ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id INTO artifact;
    -- Locks the artifact: concurrent producers number their versions in turn.
    SELECT latest_version INTO latest FROM artifacts WHERE id = artifact FOR UPDATE;
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
