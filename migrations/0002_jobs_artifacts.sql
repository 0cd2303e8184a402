CREATE TABLE `artifacts` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`job_id` text,
	`kind` text NOT NULL,
	`path` text NOT NULL,
	`is_dir` integer NOT NULL,
	`bytes` integer NOT NULL,
	`sha256` text NOT NULL,
	`verified` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `artifacts_run_idx` ON `artifacts` (`run_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `artifacts_run_path_unique` ON `artifacts` (`run_id`,`path`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`kind` text NOT NULL,
	`options` text NOT NULL,
	`status` text NOT NULL,
	`origin` text DEFAULT 'request' NOT NULL,
	`parent_job_id` text,
	`result` text,
	`error` text,
	`job_dir` text NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`worker` text,
	`cancel_requested_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `jobs_run_idx` ON `jobs` (`run_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`,`created_at`);