CREATE TABLE `worker_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE INDEX `worker_credentials_name_idx` ON `worker_credentials` (`name`);--> statement-breakpoint
ALTER TABLE `run_attempts` ADD `delivery_id` text;