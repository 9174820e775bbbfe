// The scheduler of scheduled checks (issue 14): the schedules a node runs,
// on time, with a flap guard on actions; local schedules from -checks-dir.
export { Scheduler, type ScheduleSet, type ScheduledRun, type ScheduleRunRecord, type ScheduledTransition, type SuppressedAction, type SchedulerOptions, type SchedulerCounters } from "./scheduler.js";
export { defaultSchedulerConfig, type SchedulerConfig } from "./config.js";
export { loadChecksDir, MAX_CHECKS_DIR_CHECKS, MAX_CHECKS_DIR_FILE_BYTES, type ChecksDir } from "./checks_dir.js";
