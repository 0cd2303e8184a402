ALTER TABLE `runs` ADD `memory` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `peak_memory_gb` real;--> statement-breakpoint
ALTER TABLE `runs` ADD `out_of_memory` text;