CREATE TABLE `datasets` (
	`sha256` text PRIMARY KEY NOT NULL,
	`name` text,
	`files` text NOT NULL,
	`bytes` integer NOT NULL,
	`rows` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `datasets_created_idx` ON `datasets` (`created_at`,`sha256`);--> statement-breakpoint
CREATE TABLE `log_lines` (
	`run_id` text NOT NULL,
	`seq` integer NOT NULL,
	`stream` text NOT NULL,
	`text` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`run_id`, `seq`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `metrics` (
	`run_id` text NOT NULL,
	`iteration` integer NOT NULL,
	`split` text NOT NULL,
	`name` text NOT NULL,
	`value` real,
	`attempt` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`run_id`, `name`, `split`, `iteration`, `attempt`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `run_attempts` (
	`run_id` text NOT NULL,
	`attempt` integer NOT NULL,
	`worker` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`outcome` text,
	`resumed_from` text,
	`start_iteration` integer,
	`exit_code` integer,
	`signal` text,
	`error` text,
	PRIMARY KEY(`run_id`, `attempt`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `run_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`from_status` text,
	`to_status` text NOT NULL,
	`attempt` integer NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `run_events_run_idx` ON `run_events` (`run_id`,`id`);--> statement-breakpoint
CREATE TABLE `run_tags` (
	`run_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`tag`, `run_id`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `run_tags_run_idx` ON `run_tags` (`run_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`method` text NOT NULL,
	`train_mode` text NOT NULL,
	`model` text NOT NULL,
	`data` text NOT NULL,
	`status` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`request` text NOT NULL,
	`argv` text NOT NULL,
	`config_yaml` text NOT NULL,
	`warnings` text DEFAULT '[]' NOT NULL,
	`run_dir` text NOT NULL,
	`adapter_path` text NOT NULL,
	`adapter_file` text,
	`checkpoints` text DEFAULT '[]' NOT NULL,
	`sweep_id` text,
	`sweep_index` integer,
	`sweep_values` text,
	`idempotency_key` text,
	`attempt` integer DEFAULT 0 NOT NULL,
	`progress_iteration` integer,
	`progress_total` integer,
	`latest_loss` real,
	`latest_val_loss` real,
	`error` text,
	`exit_code` integer,
	`signal` text,
	`mlx_version` text,
	`worker` text,
	`trainer_pid` integer,
	`log_bytes` integer DEFAULT 0 NOT NULL,
	`log_lines` integer DEFAULT 0 NOT NULL,
	`cancel_requested_at` integer,
	`stop_reason` text,
	`dataset_sha` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`queued_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`duration_ms` integer,
	FOREIGN KEY (`sweep_id`) REFERENCES `sweeps`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_idempotency_key_unique` ON `runs` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `runs_status_created_idx` ON `runs` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_method_created_idx` ON `runs` (`method`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_model_created_idx` ON `runs` (`model`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_sweep_idx` ON `runs` (`sweep_id`,`sweep_index`);--> statement-breakpoint
CREATE INDEX `runs_created_idx` ON `runs` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_dataset_sha_idx` ON `runs` (`dataset_sha`);--> statement-breakpoint
CREATE TABLE `sweeps` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text,
	`spec` text NOT NULL,
	`metric_name` text,
	`metric_goal` text,
	`status` text DEFAULT 'active' NOT NULL,
	`run_count` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sweeps_created_idx` ON `sweeps` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `sweeps_status_created_idx` ON `sweeps` (`status`,`created_at`,`id`);