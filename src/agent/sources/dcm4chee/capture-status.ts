/** What inspectCapture finds in the PACS database (capture-objects.ts), shared with the requirement checks. */

/** new: the current queue; outdated: ours, missing later columns; legacy: the old study_service(study_pk). */
export type QueueShape = 'new' | 'outdated' | 'legacy' | 'missing';

export interface TriggerInfo {
  name: string;
  table: string;
  timing: string;
  event: string;
  /** `user@host` the trigger runs as. */
  definer: string;
}

export interface CaptureStatus {
  database: string;
  queue: QueueShape;
  stateTable: boolean;
  deadLetterTable: boolean;
  /** The legacy queue renamed aside by an install that has not finished migrating it. */
  legacyQueueTable: boolean;
  schemaVersion: number | null;
  presentTriggers: string[];
  /** The accounts (`user@host`) our present triggers run as. */
  definers: string[];
  missingTriggers: string[];
  legacyTrigger: boolean;
  /** Triggers on study or patient that are neither ours nor the legacy indexer's. */
  foreignTriggers: TriggerInfo[];
  /** Foreign triggers in a slot we need: install refuses rather than drop them. */
  conflicts: TriggerInfo[];
  /** Every object present. */
  installed: boolean;
  /** Installed and at this agent's schema version. */
  current: boolean;
}
