-- Step runs on a Slurm cluster (scheduler/slurm_launcher.h).
--
-- slurm_job_id: the job an attempt runs as, recorded right after sbatch
-- accepted it, so a scheduler that restarts can find the job again.
-- adopted_by: the attempt of a resuming run that re-attached to this
-- (interrupted) attempt's job; set once, so a job's result is recorded by one
-- attempt only; an attempt that saw its own job end while it was watched (a
-- preempted job, recorded interrupted) points at itself. store/store_slurm.cc is the only C++ that reads or writes them.

ALTER TABLE step_runs
  ADD COLUMN slurm_job_id text CHECK (slurm_job_id <> ''),
  ADD COLUMN adopted_by bigint REFERENCES step_runs (id);

CREATE INDEX step_runs_adoptable ON step_runs (run_id, step_id)
  WHERE slurm_job_id IS NOT NULL AND status = 'interrupted' AND adopted_by IS NULL;
