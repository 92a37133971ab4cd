import type { Agent } from 'undici';
import { DeliveryError } from '../../shared/errors.js';
import { MAX_SOURCE_SEQ, MAX_VERSION_FLOOR } from '../../shared/record-limits.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import { requestWithRetry } from '../http/http-transport.js';

type FloorConfig = Pick<AgentConfig, 'url' | 'center' | 'key' | 'http'>;

export function versionFloorUrl(baseUrl: string, center: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v2/centers/${encodeURIComponent(center)}/source-seq`;
}

function offContract(why: string): DeliveryError {
  return new DeliveryError('RECEIVER_PROTOCOL', `receiver answered the version floor request ${why}`, {
    hint: 'check `url`: it must be the receiver\'s base URL',
  });
}

export const ABSURD_VERSIONS_HINT = 'a client with this centre\'s key posted an absurd source_seq; the central team must reset the centre\'s versions '
  + '(docs/receiver.md, "Absurd versions") and rotate its key, then reset the agent\'s version_high (docs/agent.md, "Absurd versions")';

/**
 * Refuses a version the receiver would reject (above MAX_SOURCE_SEQ): the agent's own counter
 * was raised by an absurd floor or edited. Nothing carrying it has been sent.
 */
export function checkAllocatedVersion(version: number): number {
  if (version <= MAX_SOURCE_SEQ) return version;
  throw new DeliveryError('VERSIONS_BEHIND', `the next version would be ${version}, above the highest the receiver stores (${MAX_SOURCE_SEQ} = 2^53-2^32): nothing sent`, {
    hint: ABSURD_VERSIONS_HINT,
  });
}

/** `{highest_source_seq: n | null}`; a receiver without the route (404) cannot tell: null. */
export function parseFloor(text: string): number | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw offContract('with a body that is not JSON');
  }
  const high = (v as { highest_source_seq?: unknown } | null)?.highest_source_seq;
  if (high === null) return null;
  if (typeof high !== 'number' || !Number.isSafeInteger(high)) throw offContract('without an integer highest_source_seq');
  if (high > MAX_VERSION_FLOOR) {
    // Allocating above it would leave too few versions below the receiver's maximum (or none):
    // every record would be rejected.
    throw new DeliveryError('RECEIVER_PROTOCOL', `receiver holds version ${high} for this centre, above the highest floor the agent allocates above (${MAX_VERSION_FLOOR} = 2^53-2^32-2^31): nothing sent`, {
      hint: ABSURD_VERSIONS_HINT,
    });
  }
  return high < 0 ? null : high;
}

/**
 * Asks the receiver for the centre's highest version, with delivery's transport (bounded retries,
 * overall deadline, response cap). Null when it holds none, or is older and has no such route
 * (404): then the pass relies on the stale check alone (deliver-chunk.ts) and says so.
 */
export async function fetchVersionFloor(config: FloorConfig, agent: Agent, log: Logger, signal: AbortSignal): Promise<number | null> {
  const url = versionFloorUrl(config.url, config.center);
  const res = await requestWithRetry(url, { method: 'GET', headers: { authorization: `Bearer ${config.key}`, accept: 'application/json' } }, {
    agent, http: config.http, log, signal, what: { version_floor: true },
    failedMessage: 'receiver version floor request failed',
    unavailableHint: 'nothing was sent or acknowledged: the next run starts from the same position',
  });
  if (res.status === 404) {
    log.warn({ path: '/api/v2/centers/{center}/source-seq' }, 'receiver has no version floor endpoint (older receiver): versions are not raised to its highest');
    return null;
  }
  if (res.status !== 200) throw offContract(`with HTTP ${res.status}`);
  const floor = parseFloor(res.text);
  log.info({ version_floor: floor }, 'receiver version floor');
  return floor;
}
