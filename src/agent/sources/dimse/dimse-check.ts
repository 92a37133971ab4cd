import { exitCodeFor, IndexerError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import type { CheckLine } from '../source-plugin.js';
import { dimseClient, planSettings } from './dimse-settings.js';
import { readDimseState } from './dimse-state.js';
import { dicomDate, localDay } from './study-days.js';

/** Answers the check's C-FIND asks for at most: enough to prove the query works, no load. */
const CHECK_ANSWERS = 5;

function failed(what: string, err: unknown): CheckLine {
  const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
  const code = exitCodeFor(err);
  return { ok: false, exit: code === 1 ? 3 : code, text: `${what}: ${(err as Error).message}${hint}` };
}

/**
 * What `indexer check` says of a DICOM network source: C-ECHO, then one small C-FIND of today's
 * studies (at most CHECK_ANSWERS answers), then the state file. Every failure names its repair.
 */
export async function dimseCheckLines(config: AgentConfig, signal: AbortSignal): Promise<CheckLine[]> {
  const d = config.dimse;
  const where = `PACS ${d.called_aet || '?'}@${d.host}:${d.port} (calling AE ${d.calling_aet}${d.tls.enabled ? ', TLS' : ''})`;
  // Sync compares each day with the receiver's holdings: the legacy protocol cannot tell them.
  const lines: CheckLine[] = config.protocol === 'v2' ? [] : [{ ok: false, exit: 2, text: 'source "dimse" needs protocol "v2": sync compares each day with the receiver (the legacy receiver cannot say what it holds)' }];
  let client;
  try {
    client = await dimseClient(d);
    planSettings(d);
  } catch (err) {
    return [...lines, { ...failed('dimse settings', err), exit: exitCodeFor(err) }];
  }
  try {
    await client.echo({ signal });
    lines.push({ ok: true, text: `${where} answers C-ECHO` });
  } catch (err) {
    return [...lines, failed(`${where} C-ECHO`, err)];
  }
  try {
    const result = await client.findStudies({ StudyDate: dicomDate(localDay(new Date())) }, { signal, maxAnswers: CHECK_ANSWERS });
    const refusal = client.failureOf(result);
    if (refusal) throw refusal;
    lines.push({ ok: true, text: `${where} answers a study-level C-FIND (${result.answers.length}${result.limited ? '+' : ''} studies today)` });
  } catch (err) {
    lines.push(failed(`${where} C-FIND`, err));
    return lines;
  }
  try {
    const state = await readDimseState(d.state_file);
    const incomplete = Object.keys(state.incomplete).length;
    lines.push(state.initial.done
      ? { ok: true, text: `state file ${d.state_file}: initial crawl done (${state.initial.crawled} studies)` }
      : { ok: true, warn: true, text: `state file ${d.state_file}: initial crawl not done yet${state.initial.next_day ? ` (next day ${state.initial.next_day})` : ''}: run \`indexer initial\`` });
    if (incomplete > 0) lines.push({ ok: true, warn: true, text: `${incomplete} day${incomplete === 1 ? '' : 's'} could not be read completely (see \`indexer status\`): they are retried, and never produce deletions` });
  } catch (err) {
    lines.push({ ok: false, exit: 3, text: `state file: ${(err as Error).message}` });
  }
  return lines;
}
