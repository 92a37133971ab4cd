#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runDemo } from './demo/demo-run.js';

/**
 * `npm run demo`: the whole system end to end on this machine, narrated. The only file of the demo
 * that touches argv, signals and the exit code.
 */
async function main(): Promise<number> {
  let studies = 2000;
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { studies: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write('Usage: npm run demo [-- --studies N]   (database: INDEXER_DEMO_MYSQL_URL, Docker, or a throwaway mariadbd)\n');
      return 0;
    }
    if (values.studies !== undefined) {
      studies = Number(values.studies);
      if (!Number.isInteger(studies) || studies < 10 || studies > 1_000_000) {
        throw new Error(`--studies ${values.studies}: expected a whole number from 10 to 1000000`);
      }
    }
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = () => {
    process.stdout.write('\ninterrupted: cleaning up…\n');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say('pacs-indexer demo: two dcm4chee centres → agents → central receiver → aggregate queries');
  try {
    const started = Date.now();
    await runDemo({ studies, env: process.env, say, signal: controller.signal });
    say(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    if (controller.signal.aborted) return 130;
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
