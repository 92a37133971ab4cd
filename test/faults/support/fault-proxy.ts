/** Moved to test/helpers (shared by test/faults and test/agent). */
export * from '../../helpers/fault-proxy.js';
