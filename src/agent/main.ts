#!/usr/bin/env -S node --max-semi-space-size=4
// The flag above keeps V8's young generation small: the agent's live data is ~20 MB, and the
// default semi-spaces (16 MB blocks) alone pushed its peak RSS over the 150 MB budget. V8 reads it
// only at start-up, hence the shebang (docs/benchmark.md).
import { IndexerError, exitCodeFor } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { parseCommandLine, type ParsedCommandLine } from './cli.js';
import { COMMAND_SPECS } from './command-specs.js';
import { loadAgentConfig, type AgentConfig } from './config.js';

/** The agent's only entry point: the one place that reads argv, env, signals and sets the exit code. */

type RunCommandLine = Extract<ParsedCommandLine, { kind: 'run' }>;

function fail(err: unknown): number {
  const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
  process.stderr.write(`indexer: ${(err as Error).message}${hint}\n`);
  return exitCodeFor(err);
}

function loadConfig(cli: RunCommandLine): AgentConfig {
  return loadAgentConfig({
    configFile: cli.configFile,
    serverFile: cli.serverFile,
    env: process.env,
    overrides: cli.overrides,
    cwd: process.cwd(),
  });
}

/** First signal: abort the pass (it finishes or abandons its batch, keeping its place). Second: exit now. */
function trapSignals(log: Logger, controller: AbortController): () => void {
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
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}

async function runCommand(cli: RunCommandLine, config: AgentConfig): Promise<number> {
  const interactive = Boolean(process.stderr.isTTY);
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && interactive);
  const log = createLogger({ level: config.log.level, pretty, name: 'indexer' }).child({ center: config.center || undefined });
  const controller = new AbortController();
  const untrap = trapSignals(log, controller);
  try {
    const { run } = await COMMAND_SPECS[cli.command]!.load();
    const code = await run({
      config, log, flags: cli.flags, args: cli.args, signal: controller.signal, interactive,
      stdoutInteractive: Boolean(process.stdout.isTTY),
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
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
    untrap();
    log.flush?.();
  }
}

async function main(): Promise<number> {
  let cli: ParsedCommandLine;
  try {
    cli = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    return fail(err);
  }
  if (cli.kind !== 'run') {
    process.stdout.write(cli.text);
    return 0;
  }
  let config: AgentConfig;
  try {
    config = loadConfig(cli);
  } catch (err) {
    return fail(err);
  }
  return runCommand(cli, config);
}

// A reader that stops early (`audit | head`) closes the pipe: the rest of the output is simply not
// wanted, which is not a failure (exit 0, like other Unix tools), and never a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`indexer: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
