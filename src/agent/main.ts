#!/usr/bin/env node
import { IndexerError, exitCodeFor } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { COMMANDS, USAGE, parseCommandLine } from './cli.js';
import { loadAgentConfig } from './config.js';

/** The agent's only entry point: the one place that reads argv, env, signals and sets the exit code. */
async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`indexer: ${(err as Error).message}\n${USAGE}`);
    return exitCodeFor(err);
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  let config;
  try {
    config = loadAgentConfig({
      configFile: cli.configFile,
      serverFile: cli.serverFile,
      env: process.env,
      overrides: cli.overrides,
      cwd: process.cwd(),
    });
  } catch (err) {
    const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
    process.stderr.write(`indexer: ${(err as Error).message}${hint}\n`);
    return exitCodeFor(err);
  }

  const interactive = Boolean(process.stderr.isTTY);
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && interactive);
  const log = createLogger({ level: config.log.level, pretty, name: 'indexer' }).child({ center: config.center || undefined });

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'stopping: finishing the batch in flight');
    controller.abort(new IndexerError('INTERRUPTED', `stopped by ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    const { run } = await COMMANDS[cli.command]!();
    const code = await run({
      config,
      log,
      flags: cli.flags,
      args: cli.args,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      signal: controller.signal,
      interactive,
    });
    return code ?? 0;
  } catch (err) {
    if (err instanceof IndexerError) {
      log.error({ code: err.code, err: err.cause instanceof Error ? err.cause : undefined }, err.message);
      process.stderr.write(`indexer: ${err.message}${err.hint ? `\n  ${err.hint}` : ''}\n`);
    } else {
      log.error({ err }, 'unexpected failure');
    }
    return exitCodeFor(err);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    log.flush?.();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`indexer: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
