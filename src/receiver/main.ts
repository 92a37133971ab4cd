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
import type { DicomService } from './dimse/dicom-server.js';
import { DicomClientStore } from './store/dicom-client-store.js';
import { createStore, type ReceiverStore } from './store/receiver-store.js';

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

/** A listen failure as a message naming the address and the system error (exit 2, a configuration problem). */
function listenError(err: unknown, address: string, variables: [port: string, host: string]): unknown {
  const why = LISTEN_ERRORS[(err as { code?: string }).code ?? ''];
  if (!why) return err;
  return new ConfigError(`cannot listen on ${address}: the address ${why.replace('RECEIVER_PORT', variables[0]).replace('RECEIVER_HOST', variables[1])}`, { cause: err });
}

async function listen(app: ReturnType<typeof buildApp>, config: ReceiverConfig): Promise<void> {
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw listenError(err, `${config.host}:${config.port}`, ['RECEIVER_PORT', 'RECEIVER_HOST']);
  }
}

/** The DICOM query service on its own listener (docs/dimse.md). */
async function startDicom(config: ReceiverConfig, store: ReceiverStore, pool: Pool, log: Logger): Promise<DicomService> {
  const d = config.dicom;
  // Loaded only by the commands that serve DICOM: the administrative ones stay quick to start.
  const { startDicomService } = await import('./dimse/dicom-server.js');
  try {
    return await startDicomService({ store, clients: new DicomClientStore(pool), log }, {
      host: d.host, port: d.port, aet: d.aet, maxResults: d.maxResults, maxAssociations: d.maxAssociations,
      associationTimeoutMs: d.associationTimeoutMs, idleTimeoutMs: d.idleTimeoutMs, ...(d.tls ? { tls: d.tls } : {}),
    });
  } catch (err) {
    // OpenSSL refusing the files (not PEM, a key that does not match the certificate): a setting.
    if (/^ERR_(OSSL|SSL)/.test((err as { code?: string }).code ?? '')) {
      throw new ConfigError(`RECEIVER_DICOM_TLS_CERT, RECEIVER_DICOM_TLS_KEY or RECEIVER_DICOM_TLS_CA is not usable: ${(err as Error).message}`, { cause: err });
    }
    throw listenError(err, `${d.host}:${d.port} (DICOM)`, ['RECEIVER_DICOM_PORT', 'RECEIVER_DICOM_HOST']);
  }
}

/** `indexer-receiver dicom`: the DICOM service alone, until SIGTERM. */
async function serveDicom(config: ReceiverConfig, pool: Pool, log: Logger): Promise<number> {
  await assertSchemaCurrent(pool);
  const stopped = stopSignal(log);
  const dicom = await startDicom(config, createStore(pool, { queryTimeLimitMs: config.reads.timeLimitMs }), pool, log);
  const signal = await stopped;
  log.info({ signal }, 'stopping: no new associations, finishing queries in flight');
  await dicom.close();
  log.info('stopped');
  return 0;
}

async function serve(config: ReceiverConfig, pool: Pool, log: Logger): Promise<number> {
  await assertSchemaCurrent(pool);
  const store = createStore(pool, { queryTimeLimitMs: config.reads.timeLimitMs, heartbeatHistoryDays: config.heartbeats.historyDays });
  const app = buildApp({
    store,
    log,
    limits: config.limits,
    reads: config.reads,
    heartbeats: config.heartbeats,
    rateLimits: config.rateLimits,
    timeouts: config.timeouts,
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    version: packageVersion(),
    ...(config.tls ? { https: config.tls } : {}),
  });
  const stopped = stopSignal(log);
  await listen(app, config);
  let dicom: DicomService | null = null;
  try {
    if (config.dicom.enabled) dicom = await startDicom(config, store, pool, log);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const signal = await stopped;
  log.info({ signal }, 'stopping: no new connections, finishing requests in flight');
  await Promise.all([app.close(), dicom?.close()]);
  log.info('stopped');
  return 0;
}

async function run(cli: ReceiverCommandLine, config: ReceiverConfig, log: Logger): Promise<number> {
  const pool = createPool(config.databaseUrl, config.dbPoolSize);
  try {
    await pingDatabase(pool, config.databaseUrl);
    if (cli.command === 'serve') return await serve(config, pool, log);
    if (cli.command === 'dicom') return await serveDicom(config, pool, log);
    if (cli.command === 'migrate') {
      const r = await migrate(pool);
      process.stdout.write(r.from === r.to ? `schema already at version ${r.to}\n` : `schema upgraded from version ${r.from} to ${r.to}\n`);
      return 0;
    }
    return await runAdminCommand(cli, { access: createStore(pool).access, dicomClients: new DicomClientStore(pool), stdout: (t) => process.stdout.write(t) });
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
    config = loadReceiverConfig(process.env, cli.command === 'serve' ? true : cli.command === 'dicom' ? 'dicom' : false);
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
