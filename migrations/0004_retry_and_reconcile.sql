ALTER TABLE `run_events` ADD `delay_ms` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `not_before` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `worker_errors` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Sweeps used to be marked done when someone read them; those whose runs all ended before this change are done now.
UPDATE `sweeps` SET `status` = 'done', `updated_at` = CAST(strftime('%s', 'now') AS INTEGER) * 1000
WHERE `status` = 'active' AND NOT EXISTS (
  SELECT 1 FROM `runs` WHERE `runs`.`sweep_id` = `sweeps`.`id` AND `runs`.`status` IN ('queued', 'running', 'interrupted')
);
