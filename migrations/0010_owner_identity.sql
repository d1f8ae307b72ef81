-- Who owns a run and who runs an attempt, precisely enough to tell them dead
-- (scheduler/recovery.h, scheduler/process_tree.h).
--
-- A pid alone is not an identity: once its process dies the kernel hands it
-- to another. pid_start is the process's start time (field 22 of
-- /proc/PID/stat, clock ticks after boot), which a reused pid does not share.
-- On the owner's host a reaper checks (pid, pid_start): a run whose owner is
-- gone is recorded interrupted at once, one whose owner lives never is (its
-- heartbeat may be stale only because the database was down). An attempt's
-- (pid, pid_start) is its step supervisor's: a retry, a takeover or a rerun
-- of the step on that host starts only once that process is known dead.
-- NULL: recorded before this migration, or not yet known.

ALTER TABLE runs ADD COLUMN pid_start bigint;
ALTER TABLE step_runs ADD COLUMN pid_start bigint;
