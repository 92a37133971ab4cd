/** Moved to test/helpers (shared by test/receiver, test/agent and test/faults). */
export * from '../helpers/receiver-harness.js';
