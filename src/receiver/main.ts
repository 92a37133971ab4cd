#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ConfigError, IndexerError, exitCodeFor } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { buildApp } from './app.js';
import { USAGE, parseCommandLine, type ReceiverCommandLine } from './cli.js';
import { runAdminCommand } from './commands.js';
import { loadReceiverConfig, type ReceiverConfig } from './config.js';
import { createPool, pingDatabase, safeError, type Pool } from './store/db.js';
import { assertSchemaCurrent, migrate } from './store/migrations.js';
import { createStore } from './store/receiver-store.js';

/** The receiver's only entry point: the one place that reads argv, env, signals and sets the exit code. */

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function stopSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received += 1;
      if (received > 1) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'is already in use (EADDRINUSE): stop the process holding it or set RECEIVER_PORT',
  EACCES: 'needs privileges this user lacks (EACCES): use a port above 1023 or a reverse proxy',
  EADDRNOTAVAIL: 'is not an address of this host (EADDRNOTAVAIL): check RECEIVER_HOST',
  // A host name that does not resolve: a configuration problem, not an unexpected failure.
  ENOTFOUND: 'does not resolve to an address (ENOTFOUND): check RECEIVER_HOST',
  EAI_AGAIN: 'could not be resolved now (EAI_AGAIN, DNS unavailable): check RECEIVER_HOST and the resolver',
};

/** Listens, or fails with a message naming the address and the system error (exit 2, a configuration problem). */
async function listen(app: ReturnType<typeof buildApp>, config: ReceiverConfig): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    const why = LISTEN_ERRORS[code];
    if (!why) throw err;
    await app.close().catch(() => undefined);
    throw new ConfigError(`cannot listen on ${config.host}:${config.port}: the address ${why}`, { cause: err });
  }
}

async function serve(config: ReceiverConfig, pool: Pool, log: Logger): Promise<number> {
  await assertSchemaCurrent(pool);
  const app = buildApp({
    store: createStore(pool, { queryTimeLimitMs: config.reads.timeLimitMs }),
    log,
    limits: config.limits,
    reads: config.reads,
    rateLimits: config.rateLimits,
    timeouts: config.timeouts,
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    version: packageVersion(),
    ...(config.tls ? { https: config.tls } : {}),
  });
  const stopped = stopSignal(log);
  await listen(app, config);
  const signal = await stopped;
  log.info({ signal }, 'stopping: no new connections, finishing requests in flight');
  await app.close();
  log.info('stopped');
  return 0;
}

async function run(cli: ReceiverCommandLine, config: ReceiverConfig, log: Logger): Promise<number> {
  const pool = createPool(config.databaseUrl, config.dbPoolSize);
  try {
    await pingDatabase(pool, config.databaseUrl);
    if (cli.command === 'serve') return await serve(config, pool, log);
    if (cli.command === 'migrate') {
      const r = await migrate(pool);
      process.stdout.write(r.from === r.to ? `schema already at version ${r.to}\n` : `schema upgraded from version ${r.from} to ${r.to}\n`);
      return 0;
    }
    return await runAdminCommand(cli, { access: createStore(pool).access, stdout: (t) => process.stdout.write(t) });
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function main(): Promise<number> {
  let cli: ReceiverCommandLine;
  let config: ReceiverConfig;
  try {
    cli = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`indexer-receiver: ${(err as Error).message}\n${USAGE}`);
    return exitCodeFor(err);
  }
  if (cli.command === 'help' || cli.command === 'version') {
    process.stdout.write(cli.text ?? USAGE);
    return 0;
  }
  try {
    config = loadReceiverConfig(process.env, cli.command === 'serve');
  } catch (err) {
    process.stderr.write(`indexer-receiver: ${(err as Error).message}\n`);
    return exitCodeFor(err);
  }
  const log = createLogger({ level: config.logLevel, name: 'indexer-receiver' });
  try {
    return await run(cli, config, log);
  } catch (err) {
    if (err instanceof IndexerError) {
      process.stderr.write(`indexer-receiver: ${err.message}${err.hint ? `\n  ${err.hint}` : ''}\n`);
    } else {
      log.error({ err: safeError(err) }, 'unexpected failure');
      process.stderr.write('indexer-receiver: unexpected failure (see the log)\n');
    }
    return exitCodeFor(err);
  } finally {
    log.flush?.();
  }
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
  (err: unknown) => {
    process.stderr.write(`indexer-receiver: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
