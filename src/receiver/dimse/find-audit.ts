import type { DicomClientStore } from '../store/dicom-client-store.js';
import { keywordOf, type FindKeys } from './find-keys.js';
import type { LevelEnd } from './find-levels.js';
import { FindFailure, hex, STATUS } from './find-status.js';

/**
 * A C-FIND in the read audit, like an API read: who (the read token the calling AE title acts
 * as, and the AE title, address), what (the matching keys with their values, as the API's audit
 * keeps its query parameters), how many answers and how it ended. The row is written before the
 * first answer (status 102) and completed after the last.
 */

export interface FindCaller {
  tokenName: string;
  callingAet: string;
  calledAet: string;
  address: string;
}

/** Audit parameters are a TEXT column: values and key counts are bounded so a hostile identifier cannot overflow it. */
const MAX_VALUE = 2048;
const MAX_KEYS = 64;

function auditKeys(keys: FindKeys | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [tag, value] of Object.entries(keys?.matching ?? {}).slice(0, MAX_KEYS)) {
    out[keywordOf(tag)] = value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}… (${value.length} characters)` : value;
  }
  return out;
}

/** The HTTP-like status the audit column holds (the DIMSE status is in the parameters). */
function auditStatus(end: LevelEnd | FindFailure): number {
  if (end instanceof FindFailure) return end.auditStatus;
  return end.outcome === 'aborted' ? 499 : 200;
}

export function findAudit(store: DicomClientStore, caller: FindCaller, model: string, keys: FindKeys | null) {
  const base = {
    calling_aet: caller.callingAet, called_aet: caller.calledAet, address: caller.address,
    model, level: keys?.level || null, keys: auditKeys(keys),
    ...(keys && Object.keys(keys.matching).length > MAX_KEYS ? { keys_left_out: Object.keys(keys.matching).length - MAX_KEYS } : {}),
  };
  const route = `C-FIND ${model} ${keys?.level || '-'}`.slice(0, 128);
  let id: number | null = null;
  return {
    async start(): Promise<void> {
      id = await store.startFind({ token_name: caller.tokenName, route, parameters: JSON.stringify(base) });
    },
    async finish(end: LevelEnd | FindFailure, answers: number, ms: number): Promise<void> {
      if (id === null) return;
      const outcome = end instanceof FindFailure ? 'failed' : end.outcome;
      const status = end.status === STATUS.cancel && outcome === 'aborted' ? null : hex(end.status);
      await store.finishFind(id, JSON.stringify({ ...base, dimse_status: status, outcome, ms }), answers, auditStatus(end));
    },
  };
}
