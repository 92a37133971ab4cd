import type { Command } from '../command-context.js';
import { runReconcile } from '../reconcile/reconcile-command.js';
import { openReconcileSession } from '../reconcile/reconcile-session.js';

/** `indexer reconcile [--dry-run]`: compare with the receiver day by day and repair drift (docs/reconcile.md). */
export const run: Command = async (ctx) => {
  const dryRun = ctx.flags['dry-run'] === true;
  const session = await openReconcileSession(ctx, dryRun);
  try {
    await runReconcile(ctx, session, dryRun);
  } finally {
    await session.close();
  }
};
